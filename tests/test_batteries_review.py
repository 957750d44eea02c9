"""Review of vehicle batteries and charging (docs/modelling.md, Batteries and charging):
hand traces with constant times and powers, energy-balance identities, policy edge cases,
interplay with failures, calendars, initial WIP, rework and fleets without a battery, the
load-time checks, the JSON Schema, compare and the reports."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

import twin
from twin.analysis import energy
from twin.analysis.compare import compare, replication_kpis
from twin.errors import ScenarioError
from twin.model import VEHICLE_STATES
from twin.scenario.load import load, scenario_json_schema

H = 3600.0
ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def fleet(res: twin.Results, entity: str = "agv", replication: int = 0) -> dict[str, float]:
    """measure -> value of one fleet (and the system measures) in one replication."""
    m = res.measures
    m = m[(m.replication == replication)
          & (((m.kind == "fleet") & (m.entity == entity)) | (m.kind == "system"))]
    return dict(zip(m["measure"], m["value"]))


def failed(res: twin.Results) -> list:
    return res.summary()["run"]["failed_replications"]


def check_identities(res: twin.Results, entity: str, efficiency: float, charge_kw: float) -> None:
    """The identities every run of a battery fleet must satisfy, replication by replication."""
    timeline = res.timeline
    for r in sorted(res.measures.replication.unique()):
        m = fleet(res, entity, r)
        drawn = sum(m[f"energy_{s}_kwh"] for s in VEHICLE_STATES)
        assert m["battery_end_kwh"] - m["battery_start_kwh"] == pytest.approx(
            m["charged_kwh"] - drawn, abs=1e-9)
        assert sum(m[f"{s}_h"] for s in VEHICLE_STATES) == pytest.approx(
            m["vehicles"] * m["period_h"], rel=1e-12)
        assert m["charged_kwh"] == pytest.approx(charge_kw * m["charging_h"], rel=1e-12)
        assert m["charger_kwh"] == pytest.approx(m["charged_kwh"] / efficiency, rel=1e-12)
        assert 0 <= m["battery_end_kwh"] <= m["battery_capacity_kwh"] + 1e-9
        tl = timeline[(timeline.replication == r) & (timeline.kind == "fleet")
                      & (timeline.entity == entity) & (timeline.measure == "energy_kwh")]
        assert tl["value"].sum() == pytest.approx(m["charger_kwh"], rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------------------
# Hand traces: two AGVs that start low, one charging place at home, one unit to carry.
# Powers: 36 kW driving (0.01 kWh per metre at 1 m/s), nothing else; 3.6 kW charger at 90 %.
# From 0.1 kWh each charge takes 0.9 kWh / 3.6 kW = 900 s.

TRACE = """\
    name: two AGVs that start low
    run: {horizon: "1 h", seed: 1}
    products:
      tray: {route: [a, b], release: {interarrival: "1000 h"}, transport: agv}
    initial_wip: {a: {tray: 1}}
    stations:
      a: {process_time: "100 s"}
      b: {process_time: "10 s"}
    logistics:
      points: {home: [0, 0], a: [10, 0], b: [20, 0]}
      paths: [[home, a], [a, b]]
      fleets:
        agv:
          vehicles: 2
          speed_loaded: 1
          speed_empty: 1
          home: home
          power_kw: {moving_loaded: 36, moving_empty: 36}
          battery: {capacity_kwh: 1, initial: 0.1, recharge_below: 0.45, charge_kw: 3.6,
                    efficiency: 0.9, chargers: {home: 1}}
    """


def test_a_move_waits_for_the_first_vehicle_to_finish_charging(tmp_path) -> None:
    """agv/0 charges 0-900 s, agv/1 waits in line and charges 900-1800 s. The unit is done
    at a at 100 s: no vehicle is free (charging is never cut short), so the move waits
    until 900 s; agv/0 drives 10 m to a, loads and drives 10 m to b (910-920 s)."""
    res = twin.run(load(write(tmp_path, TRACE)), event_log=True)
    m = fleet(res)
    assert m["charges"] == 2
    assert m["waiting_charger_h"] * H == pytest.approx(900)
    assert m["charging_h"] * H == pytest.approx(1800)
    assert m["to_charger_h"] == 0 and m["to_charger_km"] == 0
    assert m["response_h"] * H == pytest.approx(810)  # asked at 100 s, loading at 910 s
    assert m["trip_h"] * H == pytest.approx(10)
    assert m["moving_empty_h"] * H == pytest.approx(10)
    assert m["moving_loaded_h"] * H == pytest.approx(10)
    assert m["battery_start_kwh"] == pytest.approx(0.2)
    assert m["battery_end_kwh"] == pytest.approx(1.0 - 0.2 + 1.0)
    assert m["charger_kwh"] == pytest.approx(3.6 * 0.5 / 0.9)
    doc = res.summary()
    assert doc["energy"]["peak_kw"]["mean"] == pytest.approx(3.6 / 0.9)  # one place
    assert doc["energy"]["total_kwh"]["mean"] == pytest.approx(2.0)
    battery = doc["fleets"]["agv"]["battery"]
    assert battery["charge_wait_h"]["mean"] == pytest.approx(0.125)  # 900 s / 2 charges
    assert battery["charger_utilization"]["mean"] == pytest.approx(0.5)
    ev = res.events
    move = ev[ev.activity == "transport"].iloc[0]
    assert (move.start_h * H, move.end_h * H) == pytest.approx((100, 920))
    check_identities(res, "agv", 0.9, 3.6)


def test_warm_up_ending_in_the_middle_of_a_charge(tmp_path) -> None:
    """Warm-up 450 s: agv/0 is half charged (0.55 kWh), agv/1 waits with 0.1 kWh. Only the
    charge begun at 900 s counts; charging and waiting hours are the measured parts."""
    res = twin.run(load(write(tmp_path, TRACE), overrides=["run.warmup=450 s"]))
    m = fleet(res)
    assert m["charges"] == 1
    assert m["battery_start_kwh"] == pytest.approx(0.55 + 0.1)
    assert m["waiting_charger_h"] * H == pytest.approx(450)
    assert m["charging_h"] * H == pytest.approx(450 + 900)
    assert m["battery_end_kwh"] == pytest.approx(1.8)
    assert m["charged_kwh"] == pytest.approx(1.35)
    # the fleet is active (working or recharging, both vehicles) from 450 s to 920 s
    assert m["bottleneck_sole_h"] * H == pytest.approx(470)
    tl = res.timeline
    tl = tl[(tl.kind == "fleet") & (tl.measure == "energy_kwh")].sort_values("time_h")
    assert tl["value"].tolist()[:3] == pytest.approx([3.6 * 0.25 / 0.9, 3.6 * 0.125 / 0.9, 0])
    check_identities(res, "agv", 0.9, 3.6)


def test_three_vehicles_charge_one_after_another_at_one_place(tmp_path) -> None:
    """Three AGVs start at 0.1 kWh next to one place: they charge one after the other, the
    second waits one charge (900 s), the third two."""
    text = TRACE.replace("vehicles: 2", "vehicles: 3").replace('horizon: "1 h"',
                                                               'horizon: "2 h"')
    m = fleet(twin.run(load(write(tmp_path, text))))
    assert m["charges"] == 3
    assert m["charging_h"] * H == pytest.approx(2700)
    assert m["waiting_charger_h"] * H == pytest.approx(900 + 1800)


def test_a_battery_that_runs_flat_waiting_in_line_is_reported_when_it_ran_flat(tmp_path) -> None:
    """As before with 1 kW while waiting for a place: agv/1 (0.1 kWh) is flat after 360 s in
    line, agv/2 too; the replication stops naming the vehicle, the time and the state."""
    text = TRACE.replace("vehicles: 2", "vehicles: 3").replace(
        "moving_empty: 36}", "moving_empty: 36, waiting_charger: 1}")
    res = twin.run(load(write(tmp_path, text)))
    (fail,) = failed(res)
    assert "vehicle agv/1 ran flat at t = 0.1 h while waiting for a charging place" \
        in fail["error"]


def test_threshold_reached_exactly_after_a_drop_sends_the_vehicle_to_charge(tmp_path) -> None:
    """Each loaded metre takes exactly 0.25 kWh (900 kW at 1 m/s, binary-exact): after two
    moves the charge is exactly the 0.5 kWh threshold, "at or below" sends it to charge
    (11 m back home, then 500 s from 0.5 to 1 kWh), not after a third move."""
    text = """\
        name: exactly at the threshold
        run: {horizon: "1 h", seed: 1}
        products:
          tray: {route: [a, b], release: {interarrival: "1000 h"}, transport: agv}
        initial_wip: {a: {tray: 3}}
        stations:
          a: {process_time: "100 s"}
          b: {process_time: "1 s"}
        logistics:
          points: {home: [0, 0], a: [10, 0], b: [11, 0]}
          paths: [[home, a], [a, b]]
          fleets:
            agv:
              vehicles: 1
              speed_loaded: 1
              home: home
              power_kw: {moving_loaded: 900}
              battery: {capacity_kwh: 1, recharge_below: 0.5, charge_kw: 3.6, chargers: [home]}
        """
    m = fleet(twin.run(load(write(tmp_path, text))))
    assert m["charges"] == 1
    assert m["to_charger_km"] == pytest.approx(0.011)
    assert m["charging_h"] * H == pytest.approx(500)
    # a holds each unit until it is loaded: units done at 100, 210 and 311 s (loaded at 110
    # and 211 s); the AGV drives 11 m home (212-223 s), charges 223-723 s, fetches the third
    assert m["response_h"] * H == pytest.approx((10 + 1 + (723 + 10 - 311)) / 3)


def test_ties_between_charging_points_go_to_the_one_listed_first(tmp_path) -> None:
    """c1 and c2 are both 10 m from home; from c1 the pickup is 10 m away, from c2 30 m.
    The AGV starts at the threshold: where it charged shows in its next empty run."""
    text = """\
        name: two chargers at the same distance
        run: {horizon: "1 h", seed: 1}
        products:
          tray: {route: [a, b], release: {interarrival: "1000 h"}, transport: agv}
        initial_wip: {a: {tray: 1}}
        stations:
          a: {process_time: "1000 s"}
          b: {process_time: "10 s"}
        logistics:
          points: {home: [0, 0], c1: [0, 10], c2: [0, -10], a: [0, 20], b: [0, 30]}
          paths: [[home, c1], [home, c2], [c1, a], [a, b]]
          fleets:
            agv:
              vehicles: 1
              speed_loaded: 1
              home: home
              power_kw: {moving_loaded: 3.6, moving_empty: 3.6}
              battery: {capacity_kwh: 1, initial: 0.5, recharge_below: 0.5, charge_to: 0.6,
                        charge_kw: 3.6, chargers: CHARGERS}
        """
    for chargers, empty_m in (("[c2, c1]", 30), ("[c1, c2]", 10)):
        m = fleet(twin.run(load(write(tmp_path, text.replace("CHARGERS", chargers)))))
        assert m["to_charger_km"] == pytest.approx(0.010)
        assert m["moving_empty_h"] * H == pytest.approx(empty_m), chargers
        assert m["charging_h"] * H == pytest.approx((0.6 - 0.49) / 0.001)


def test_a_vehicle_waiting_loaded_for_a_repair_checks_its_charge_after_the_wait(tmp_path) -> None:
    """b breaks down at 100 s for 1000 s (constant). The AGV arrives loaded at 115 s with
    0.8 kWh and waits loaded until 1100 s at 1.8 kW (0.4925 kWh): below the 0.45 kWh
    threshold it drives 20 m home (0.2 kWh) and charges 0.8925 kWh at 3.6 kW."""
    text = """\
        name: a vehicle waits loaded for a repair, then recharges
        run: {horizon: "1 h", seed: 1}
        products:
          tray: {route: [a, b], release: {interarrival: "1000 h"}, transport: agv}
        initial_wip: {a: {tray: 1}}
        stations:
          a: {process_time: "95 s"}
          b: {process_time: "10 s", buffer: 0, failures: {mtbf: "100 s", mttr: "1000 s"}}
        logistics:
          points: {home: [0, 0], a: [10, 0], b: [20, 0]}
          paths: [[home, a], [a, b]]
          fleets:
            agv:
              vehicles: 1
              speed_loaded: 1
              speed_empty: 1
              home: home
              power_kw: {moving_loaded: 36, moving_empty: 36, waiting: 1.8}
              battery: {capacity_kwh: 1, recharge_below: 0.45, charge_kw: 3.6, chargers: [home]}
        """
    res = twin.run(load(write(tmp_path, text)))
    assert failed(res) == []
    m = fleet(res)
    assert m["waiting_h"] * H == pytest.approx(985)
    assert m["charges"] == 1
    assert m["to_charger_h"] * H == pytest.approx(20)
    assert m["charging_h"] * H == pytest.approx(892.5)
    assert m["battery_end_kwh"] == pytest.approx(1.0)
    check_identities(res, "agv", 1.0, 3.6)


# --------------------------------------------------------------------------------------
# A random shop: failures, rework by vehicle, warm-up, idle drain.

SHOP = """\
    name: a shop with a battery fleet
    run: {horizon: "30 h", warmup: "3 h", replications: 2, seed: 9}
    products:
      tray: {route: [a, {station: b, rework: {p: 0.1, to: a}}, c], release: saturated,
             transport: agv}
    stations:
      a: {process_time: {exponential: "50 s"}}
      b: {process_time: {exponential: "40 s"}, buffer: 0,
          failures: {mtbf: {exponential: "1 h"}, mttr: {exponential: "5 min"}}}
      c: {process_time: {uniform: ["30 s", "50 s"]}}
    logistics:
      points: {depot: [0, 0], a: [20, 0], b: [20, 30], c: [50, 30], dock: [50, 0]}
      paths: [[depot, a], [a, b], [b, c], [c, dock], [dock, depot]]
      fleets:
        agv:
          vehicles: 3
          speed_loaded: 1.2
          speed_empty: 1.8
          load_time: {uniform: ["5 s", "15 s"]}
          unload_time: "8 s"
          home: depot
          power_kw: {moving_loaded: 3, moving_empty: 2, loading: 1, unloading: 1,
                     waiting: 0.5, idle: 0.4, charging: 0.2}
    """
BATTERY = """\
          battery: {capacity_kwh: CAP, initial: INITIAL, recharge_below: 0.3, charge_to: 0.9,
                    charge_kw: 4, efficiency: 0.8, chargers: {depot: 1, dock: 1}}
    """


def shop(capacity: str = "3", initial: str = "0.6") -> str:
    return SHOP.rstrip() + "\n" + BATTERY.replace("CAP", capacity).replace("INITIAL", initial)


def test_a_battery_too_large_to_run_low_changes_nothing_in_a_random_shop(tmp_path) -> None:
    """Idle drain (timers that never fire), warm-up, failures, rework, initial < 1: the
    shop with a 1e9 kWh battery gives the plain shop's measures exactly, and its event
    log; only the grid sees a difference (chargers instead of vehicles)."""
    plain = twin.run(load(write(tmp_path, SHOP, "plain.yaml")), event_log=True)
    big = twin.run(load(write(tmp_path, shop("1.0e9", "0.7"), "big.yaml")), event_log=True)
    key = ["replication", "kind", "entity", "measure"]
    joined = plain.measures.merge(big.measures, on=key, how="left", suffixes=("", "_b"))
    same = (joined["value"] == joined["value_b"]) | (
        joined["value"].isna() & joined["value_b"].isna())
    assert same.all(), joined[~same]
    assert plain.events.equals(big.events)
    assert fleet(big)["charges"] == 0
    a, b = plain.summary(), big.summary()
    assert a["products"] == b["products"] and a["stations"] == b["stations"]
    assert a["bottleneck"] == b["bottleneck"]
    assert b["energy"]["total_kwh"]["mean"] == 0.0  # no charger ever drew


def test_identities_hold_in_the_random_shop_with_charging(tmp_path) -> None:
    res = twin.run(load(write(tmp_path, shop())))
    assert failed(res) == []
    for r in (0, 1):
        assert fleet(res, "agv", r)["charges"] > 5
    check_identities(res, "agv", 0.8, 4)
    doc = res.summary()
    assert sum(doc["fleets"]["agv"]["states"].values()) == pytest.approx(1, abs=1e-12)
    assert doc["checks"]["littles_law_wip"]["mean"] == pytest.approx(doc["wip"]["mean"],
                                                                     rel=0.05)
    # two charging places at 4 kW / 0.8: the peak can never exceed 10 kW from chargers
    assert 0 < doc["energy"]["peak_kw"]["mean"] <= 10 + 1e-9


# --------------------------------------------------------------------------------------
# Interplay: shift calendars, initial WIP, rework, and a second fleet without a battery.

COMBO = """\
    name: calendars, initial WIP, rework and two fleets
    run: {horizon: "40 h", warmup: "5 h", replications: 2, seed: 4}
    calendars:
      day: {shifts: [["6 h", "22 h"]]}
    products:
      tray:
        route: [a, {station: b, rework: {p: 0.15, to: a}}, c]
        release: saturated
        transport: agv
      box: {route: [d, e], release: {interarrival: {exponential: "3 min"}}, transport: cart}
    initial_wip: {b: {tray: 2}, c: {tray: 1}}
    stations:
      a: {process_time: {exponential: "45 s"}, calendar: day}
      b: {process_time: {exponential: "40 s"}, buffer: 1,
          failures: {mtbf: {exponential: "2 h"}, mttr: {exponential: "10 min"}}}
      c: {process_time: {uniform: ["30 s", "50 s"]}, buffer: 2}
      d: {process_time: "60 s"}
      e: {process_time: "60 s"}
    logistics:
      points: {depot: [0, 0], a: [20, 0], b: [20, 30], c: [50, 30], dock: [50, 0],
               d: [0, 60], e: [40, 60]}
      paths: [[depot, a], [a, b], [b, c], [c, dock], [dock, depot], [d, e], [depot, d]]
      fleets:
        agv:
          vehicles: 3
          speed_loaded: 1.2
          speed_empty: 1.8
          load_time: {uniform: ["5 s", "15 s"]}
          unload_time: "8 s"
          home: depot
          power_kw: {moving_loaded: 3, moving_empty: 2, loading: 1, unloading: 1,
                     waiting: 0.5, idle: 0.4, charging: 0.2, waiting_charger: 0.1}
          battery: {capacity_kwh: 2, initial: 0.1, recharge_below: 0.3, charge_to: 0.85,
                    charge_kw: 3, efficiency: 0.85, chargers: {depot: 1, dock: 1}}
        cart:
          vehicles: 1
          speed_loaded: 1.0
          load_time: "5 s"
          unload_time: "5 s"
          home: d
          power_kw: {moving_loaded: 2.0, moving_empty: 1.0, idle: 0.1}
    """


@pytest.fixture(scope="module")
def combo(tmp_path_factory) -> twin.Results:
    return twin.run(load(write(tmp_path_factory.mktemp("combo"), COMBO)))


def test_identities_hold_with_calendars_initial_wip_rework_and_a_plain_fleet(combo) -> None:
    assert failed(combo) == []
    check_identities(combo, "agv", 0.85, 3)
    doc = combo.summary()
    for name in ("agv", "cart"):
        assert sum(doc["fleets"][name]["states"].values()) == pytest.approx(1, abs=1e-12)
    assert doc["checks"]["littles_law_wip"]["mean"] == pytest.approx(doc["wip"]["mean"],
                                                                     rel=0.05)
    # the grid: the agv's chargers plus the cart's vehicles' own energy, in "logistics"
    totals = energy.totals(combo.measures, combo.meta, combo.timeline)
    for r in (0, 1):
        grid = fleet(combo, "agv", r)["charger_kwh"] + sum(
            fleet(combo, "cart", r)[f"energy_{s}_kwh"] for s in VEHICLE_STATES)
        assert totals.loc[r, "total_kwh"] == pytest.approx(grid, rel=1e-9)
    assert "battery" in doc["fleets"]["agv"] and "battery" not in doc["fleets"]["cart"]


def test_same_seed_same_results_with_one_or_two_workers(tmp_path, combo) -> None:
    two = twin.run(load(write(tmp_path, COMBO)), workers=2)
    a = combo.measures.sort_values(["replication", "kind", "entity", "measure"])
    b = two.measures.sort_values(["replication", "kind", "entity", "measure"])
    assert a["value"].reset_index(drop=True).equals(b["value"].reset_index(drop=True))


def test_compare_reports_no_charging_share_for_a_fleet_without_battery(combo) -> None:
    """(Was a bug.) docs/experiments.md gives `fleet_charging_share:F` for fleets with a battery;
    the cart has none, yet gets a KPI of 0 next to the agv's."""
    kpis = replication_kpis(combo.measures, combo.meta)
    assert "fleet_charging_share:agv" in kpis
    assert "fleet_charging_share:cart" not in kpis


def test_fleets_table_leaves_charging_figures_empty_for_a_fleet_without_battery(combo) -> None:
    """(Was a bug.) fleet_table's charging columns are "NaN for fleets without one" (its
    docstring; results.md: "for fleets with a battery the charging figures"), but the
    cart's charging_share and charger_queue_mean are 0."""
    cart = combo.fleets().xs("cart", level="entity")
    for column in ("charges_per_h", "charging_share", "charge_wait_h", "charger_utilization",
                   "charger_queue_mean"):
        assert cart[column].isna().all(), column


def test_reports_show_charging_only_for_the_battery_fleet(combo) -> None:
    from twin.report.html import fleets_table
    from twin.report.text import text_summary
    doc = combo.summary()
    table = fleets_table(combo, doc).set_index("fleet")
    assert table.loc["cart", "charges/h"] == "–"
    assert table.loc["agv", "charges/h"] != "–"
    text = text_summary(doc)
    charging = text[text.index("charging "):].splitlines()
    assert any(line.startswith("agv ") for line in charging[:3])
    assert not any(line.startswith("cart ") for line in charging[:3])


SHIFT = """\
    name: a battery AGV feeding a station that works days only
    run: {horizon: "48 h", seed: 1}
    calendars:
      day: {shifts: [["6 h", "22 h"]]}
    products:
      tray: {route: [a, b], release: saturated, transport: agv}
    stations:
      a: {process_time: "60 s", buffer: 0}
      b: {process_time: "10 s", buffer: 0, calendar: day}
    logistics:
      points: {a: [0, 0], b: [30, 0]}
      paths: [[a, b]]
      fleets:
        agv:
          vehicles: 1
          speed_loaded: 1
          home: a
          power_kw: {moving_loaded: 1, moving_empty: 1, waiting: 0.5, idle: 0.1}
          battery: {capacity_kwh: 2, recharge_below: 0.3, charge_kw: 2, chargers: [a]}
    """


def test_a_vehicle_is_not_sent_loaded_to_a_station_that_is_off_shift(tmp_path) -> None:
    """(Was a bug.) Constant times, no failures, and the load check passes. An idle machine
    off shift is no free place for a new move (the move waits at a, the vehicle stays
    free); a vehicle already on its way to a machine reserved on shift sets its unit on
    that machine, where it waits for the next shift. Either way no vehicle waits loaded
    all night (it once did, via the breakdown path, until its battery ran flat)."""
    res = twin.run(load(write(tmp_path, SHIFT)))
    assert failed(res) == []
    m = fleet(res)
    assert m["waiting_h"] == 0.0  # no breakdowns: no vehicle ever waits loaded


# --------------------------------------------------------------------------------------
# Load-time checks and the JSON Schema.

IDLE_FLEET = """\
    name: the reach check by hand
    run: {horizon: "1 h"}
    products:
      tray: {route: [a, b], release: {interarrival: "1000 h"}, transport: agv}
    stations:
      a: {process_time: "10 s"}
      b: {process_time: "10 s"}
    logistics:
      points: {a: [0, 0], b: [100, 0], charge-1: [0, 10], charge-2: [0, 50]}
      paths: [[a, b], [a, charge-1], [a, charge-2]]
      fleets:
        agv:
          vehicles: 1
          speed_loaded: 1
          speed_empty: 2
          load_time: {uniform: ["2 s", "4 s"]}
          unload_time: {exponential: "6 s"}
          home: a
          power_kw: {moving_loaded: 1, moving_empty: 1, loading: 1.8, unloading: 0.6,
                     to_charger: 2}
          battery:
            capacity_kwh: CAP
            recharge_below: THRESHOLD
            chargers: CHARGERS
            charge_kw: 3
    """


def reach(tmp_path: Path, capacity: float, threshold: float,
          chargers: str = "[charge-1, charge-2]") -> Path:
    return write(tmp_path, IDLE_FLEET.replace("CAP", str(capacity)).replace(
        "THRESHOLD", str(threshold)).replace("CHARGERS", chargers))


# Worst case by hand: from b (the drop) empty 100 m at 2 m/s (50 s at 1 kW), load at its
# longest 4 s at 1.8 kW, loaded 100 m (100 s at 1 kW), unload at its mean 6 s at 0.6 kW,
# then 110 m to charge-1 at 2 m/s (55 s at 2 kW): 50 + 7.2 + 100 + 3.6 + 110 = 270.8 kW·s.
WORST_KWH = 270.8 / H


def test_the_reach_check_finds_the_worst_sequence_and_the_least_threshold(tmp_path) -> None:
    with pytest.raises(ScenarioError) as e:
        load(reach(tmp_path, 1, 0.05))
    text = str(e.value)
    assert "logistics.fleets.agv.battery.recharge_below" in text
    assert f"{WORST_KWH:.4g} kWh" in text
    assert "a move from a to b started at b, then the run to a charger" in text
    least = math.ceil(WORST_KWH * 1000) / 1000  # 0.076
    assert f"at least {least:g}" in text
    load(reach(tmp_path, 1, least))  # and that is indeed enough
    with pytest.raises(ScenarioError):
        load(reach(tmp_path, 1, least - 0.001))


def test_the_reach_check_never_suggests_a_threshold_the_schema_refuses(tmp_path) -> None:
    """With a battery smaller than the worst sequence (0.0752 kWh > 0.05 kWh) no threshold
    helps (it must stay below charge_to): the message says to raise capacity_kwh (it once
    said "Raise recharge_below to at least 1.505", a value recharge_below cannot take)."""
    with pytest.raises(ScenarioError) as e:
        load(reach(tmp_path, 0.05, 0.5))
    text = str(e.value)
    assert "recharge_below to at least" not in text, text
    # the worst sequence needs 0.0752 kWh at the threshold, charge_to is 1
    assert "raise capacity_kwh above 0.076 kWh" in text, text


def test_unknown_charging_point_is_named_with_a_suggestion(tmp_path) -> None:
    with pytest.raises(ScenarioError) as e:
        load(reach(tmp_path, 1, 0.2, "[charge-1, charge-3]"))
    text = str(e.value)
    assert "logistics.fleets.agv.battery.chargers" in text
    assert "unknown charging point 'charge-3'. Did you mean 'charge-2'?" in text


def _battery_doc() -> dict:
    import yaml
    return yaml.safe_load((ROOT / "scenarios/validation/agv_battery.yaml").read_text())


def _accepted_by_loader(tmp_path: Path, doc: dict) -> bool:
    import yaml
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        load(path)
    except ScenarioError:
        return False
    return True


@pytest.mark.parametrize("change, ok", [
    (lambda b: None, True),
    (lambda b: b.update(chargers={"a": 2}, initial=0, charge_to=1, efficiency=1), True),
    (lambda b: b.update(chargers=["a", "a"]), False),
    (lambda b: b.update(chargers=[]), False),
    (lambda b: b.update(chargers={"a": 0}), False),
    (lambda b: b.update(recharge_below=1), False),
    (lambda b: b.update(efficiency=0), False),
    (lambda b: b.update(initial=1.5), False),
    (lambda b: b.update(charge_kwh=2), False),
    (lambda b: b.pop("recharge_below"), False),
    (lambda b: b.update(chargers={"a": 200_000}), False),  # (was a bug: the schema had no maximum)
], ids=["valid", "valid-mapping", "listed-twice", "no-chargers", "zero-places",
        "threshold-1", "efficiency-0", "initial-1.5", "misspelt-key", "no-threshold",
        "too-many-places"])
def test_the_json_schema_agrees_with_the_loader_on_battery_keys(tmp_path, change, ok) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    doc = _battery_doc()
    change(doc["logistics"]["fleets"]["agv"]["battery"])
    assert _accepted_by_loader(tmp_path, doc) == ok
    errors = list(jsonschema.Draft202012Validator(scenario_json_schema()).iter_errors(doc))
    assert (errors == []) == ok, errors


def test_compare_calls_the_stronger_charger_better(tmp_path) -> None:
    """1.1 kW vs 2.1 kW chargers on the validation shuttle: less time recharging and more
    units per hour, both significant with constant times."""
    path = ROOT / "scenarios/validation/agv_battery.yaml"
    common = ["run.horizon=20 h", "run.replications=2"]
    slow = twin.run(load(path, overrides=common))
    fast = twin.run(load(path, overrides=[*common, "logistics.fleets.agv.battery.charge_kw=2.1"]))
    doc = compare({"slow": slow.measures, "fast": fast.measures},
                  {"slow": slow.meta, "fast": fast.meta})
    assert doc["kpis"]["fleet_charging_share:agv"]["verdict"]["fast"] == "fast is better"
    assert doc["kpis"]["throughput_per_h:tray"]["verdict"]["fast"] == "fast is better"


def test_vehicles_starting_below_the_threshold_must_reach_a_charger_from_home(tmp_path) -> None:
    """initial 0 with the nearest charger 10 m from home at 2 kW and 2 m/s: 10/3600 kWh
    needed, none there."""
    text = IDLE_FLEET.replace("CAP", "1").replace("THRESHOLD", "0.1").replace(
        "CHARGERS", "[charge-1]").replace("charge_kw: 3", "charge_kw: 3\n            initial: 0")
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as e:
        load(path)
    text = str(e.value)
    assert "logistics.fleets.agv.battery.initial" in text
    assert f"{10 / H:.4g} kWh to drive to the nearest charger" in text


def test_two_fleets_naming_one_point_have_their_own_charging_places(tmp_path) -> None:
    """Both fleets' AGVs start low at home, next to one place each at `home`: nobody waits."""
    other = textwrap.indent(textwrap.dedent("""\
        other:
          vehicles: 1
          speed_loaded: 1
          home: home
          battery: {capacity_kwh: 1, initial: 0.1, recharge_below: 0.45, charge_kw: 3.6,
                    chargers: {home: 1}}
        """), " " * 8)
    text = TRACE.replace("vehicles: 2", "vehicles: 1").rstrip() + "\n" + other
    res = twin.run(load(write(tmp_path, text)))
    for name in ("agv", "other"):
        m = fleet(res, name)
        assert m["charges"] == 1 and m["waiting_charger_h"] == 0.0
        assert m["charging_h"] * H == pytest.approx(900)
    assert res.summary()["energy"]["peak_kw"]["mean"] == pytest.approx(3.6 / 0.9 + 3.6)


def test_twin_run_json_and_vary_of_a_battery_key(tmp_path) -> None:
    import json
    import subprocess
    import sys
    exe = Path(sys.executable).with_name("twin")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "twin.cli"]
    path = ROOT / "scenarios/validation/agv_battery.yaml"
    proc = subprocess.run([*command, "run", str(path), "--horizon", "5 h", "--json", "--quiet",
                           "--workers", "1", "--vary",
                           "logistics.fleets.agv.battery.charge_kw=1.1,2.1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    points = json.loads(proc.stdout)["points"]
    assert [p["factors"]["logistics.fleets.agv.battery.charge_kw"] for p in points] == [1.1, 2.1]
    shares = []
    for p in points:
        agv = p["summary"]["fleets"]["agv"]
        assert set(agv["states"]) == set(VEHICLE_STATES)
        assert set(agv["battery"]) == {"charges_per_h", "charging_share", "charge_wait_h",
                                       "charger_utilization", "charger_queue_mean",
                                       "charged_kwh", "charger_kwh"}
        shares.append(agv["battery"]["charging_share"]["mean"])
    assert shares[1] < shares[0]
