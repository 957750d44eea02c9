"""Vehicle batteries and charging: hand traces of the charging policy, the battery's energy
balance, the chargers in the energy accounting, and the scenario keys."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import twin
from twin.analysis import energy
from twin.model import VEHICLE_STATES, build
from twin.scenario.load import load, scenario_json_schema

H = 3600.0


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def measures(res, replication: int = 0) -> dict[str, float]:
    """measure -> value of the fleet `agv` (and the system) in one replication."""
    m = res.measures
    m = m[(m.replication == replication) & m.kind.isin(["fleet", "system"])]
    return dict(zip(m["measure"], m["value"]))


IDLE_FLEET = """\
    name: an idle AGV that runs low
    run: {{horizon: "{horizon}"}}
    products:
      tray: {{route: [a, b], release: {{interarrival: "1000 h"}}, transport: agv}}
    stations:
      a: {{process_time: "10 s"}}
      b: {{process_time: "10 s"}}
    logistics:
      points: {{a: [0, 0], b: [100, 0], charge-1: [0, 10], charge-2: [0, 50]}}
      paths: [[a, b], [a, charge-1], [a, charge-2]]
      fleets:
        agv:
          vehicles: {vehicles}
          speed_loaded: 1
          speed_empty: {speed}
          home: a
          power_kw: {{moving_loaded: 1, moving_empty: 1, idle: 0.5, waiting_charger: 0}}
          battery:
            capacity_kwh: {capacity}
            initial: {initial}
            recharge_below: 0.2
            charge_to: 0.9
            charge_kw: 3
            chargers: {chargers}
    """


def idle_fleet(tmp_path: Path, horizon: str = "40 h", vehicles: int = 1, speed: float = 2,
               capacity: float = 10, initial: float = 1, chargers: str = "[charge-1]") -> Path:
    return write(tmp_path, IDLE_FLEET.format(horizon=horizon, vehicles=vehicles, speed=speed,
                                             capacity=capacity, initial=initial,
                                             chargers=chargers))


def test_an_idle_vehicle_goes_to_charge_when_it_reaches_the_threshold(tmp_path) -> None:
    """Hand trace (no request ever comes): idle at 0.5 kW from 10 kWh, the AGV reaches the
    2 kWh threshold at 16 h, drives 10 m at 2 m/s (5 s at 1 kW) to the charger, charges to
    9 kWh gaining 3 - 0.5 kW, stays there idle until it is at 2 kWh again (14 h), charges
    again without moving, and is idle until the end at 40 h."""
    m = measures(twin.run(load(idle_fleet(tmp_path))))
    drive = 5 / H  # h
    first = (9 - (2 - 1 * drive)) / 2.5  # h charging, from what is left after the run
    second = (9 - 2) / 2.5
    second_start = 16 + drive + first + (9 - 2) / 0.5
    assert m["charges"] == 2
    assert m["to_charger_h"] == pytest.approx(drive, rel=1e-9)
    assert m["charging_h"] == pytest.approx(first + second, rel=1e-9)
    assert m["idle_h"] == pytest.approx(40 - drive - first - second, rel=1e-9)
    assert m["to_charger_km"] == pytest.approx(0.010)
    assert m["distance_km"] == pytest.approx(0.010)  # the only metres driven
    assert m["battery_start_kwh"] == 10.0
    assert m["battery_end_kwh"] == pytest.approx(9 - 0.5 * (40 - second_start - second),
                                                 rel=1e-9)
    assert m["charged_kwh"] == pytest.approx(3 * (first + second), rel=1e-9)
    assert m["charger_kwh"] == m["charged_kwh"]  # efficiency 1 by default


def test_vehicles_wait_in_line_for_a_charging_place(tmp_path) -> None:
    """Two AGVs start at 1 kWh (at or below the threshold) next to one charging place: the
    first charges (8 kWh at 2.5 kW), the second waits that long in line (drawing nothing),
    then charges."""
    path = idle_fleet(tmp_path, horizon="10 h", vehicles=2, initial=0.1, chargers="{a: 1}")
    res = twin.run(load(path))
    m = measures(res)
    one = (9 - 1) / 2.5
    assert m["charges"] == 2
    assert m["waiting_charger_h"] == pytest.approx(one, rel=1e-9)
    assert m["charging_h"] == pytest.approx(2 * one, rel=1e-9)
    assert m["to_charger_h"] == 0.0
    battery = res.summary()["fleets"]["agv"]["battery"]
    assert battery["charge_wait_h"]["mean"] == pytest.approx(one / 2, rel=1e-9)
    assert battery["charger_queue_mean"]["mean"] == pytest.approx(one / 10, rel=1e-9)
    assert battery["charger_utilization"]["mean"] == pytest.approx(2 * one / 10, rel=1e-9)


def test_a_vehicle_takes_the_nearest_charger_with_a_free_place(tmp_path) -> None:
    """charge-1 (10 m from a) has one place, charge-2 (50 m): the first AGV takes charge-1;
    the second finds it taken and drives to charge-2, which its charge reaches."""
    path = idle_fleet(tmp_path, horizon="1 h", vehicles=2, speed=1, capacity=1, initial=0.2,
                      chargers="[charge-2, charge-1]")
    m = measures(twin.run(load(path)))
    assert m["to_charger_km"] == pytest.approx(0.060)
    assert m["waiting_charger_h"] == 0.0


def test_a_vehicle_that_cannot_reach_a_free_charger_waits_at_the_nearest(tmp_path) -> None:
    """As before, but with 0.01 kWh the second AGV cannot drive 50 m (1 kW at 1 m/s, 0.0139
    kWh): it waits at charge-1 for the first to finish (0.89 kWh at 2.5 kW)."""
    path = idle_fleet(tmp_path, horizon="1 h", vehicles=2, speed=1, capacity=1, initial=0.01,
                      chargers="[charge-2, charge-1]")
    m = measures(twin.run(load(path)))
    assert m["to_charger_km"] == pytest.approx(0.020)
    first = (0.9 - (0.01 - 10 / H)) / 2.5
    assert m["waiting_charger_h"] == pytest.approx(first, rel=1e-9)


SHOP = """\
    name: a shop with a battery fleet
    run: {horizon: "40 h", warmup: "3 h", replications: 2, seed: 9}
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
          battery: {capacity_kwh: 3, initial: 0.6, recharge_below: 0.3, charge_to: 0.9,
                    charge_kw: 4, efficiency: 0.8, chargers: {depot: 1, dock: 1}}
    """


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> twin.Results:
    return twin.run(load(write(tmp_path_factory.mktemp("shop"), SHOP)))


def test_the_battery_balance_holds_exactly(shop) -> None:
    """Random times, failures, rework, two chargers, warm-up: for every replication the
    charge at the end less the charge at the start is what the chargers delivered less
    what the vehicles drew (power x time in every state); state times add up."""
    for r in (0, 1):
        m = measures(shop, r)
        drawn = sum(m[f"energy_{s}_kwh"] for s in VEHICLE_STATES)
        assert m["charges"] > 5  # it does charge, many times
        assert m["battery_end_kwh"] - m["battery_start_kwh"] == pytest.approx(
            m["charged_kwh"] - drawn, abs=1e-9)
        assert sum(m[f"{s}_h"] for s in VEHICLE_STATES) == pytest.approx(3 * 40, rel=1e-12)
        assert m["energy_charging_kwh"] == pytest.approx(0.2 * m["charging_h"], rel=1e-12)
        assert m["energy_to_charger_kwh"] == pytest.approx(2 * m["to_charger_h"], rel=1e-12)
        assert m["charger_kwh"] == pytest.approx(m["charged_kwh"] / 0.8, rel=1e-12)
        assert 0 <= m["battery_end_kwh"] <= 3 * 3


def test_the_grid_sees_the_chargers_not_the_vehicles(shop) -> None:
    """In the energy accounting a battery fleet draws what its chargers take from the grid
    (state "charger"), and the power timeline carries that draw, interval by interval."""
    table = energy.breakdown(shop.measures, shop.meta)
    fleet = table[table.source == "fleet"]
    assert list(fleet["state"].unique()) == ["charger"]
    m = shop.measures
    grid = m[(m.kind == "fleet") & (m.measure == "charger_kwh")].set_index("replication")["value"]
    assert fleet.set_index("replication")["kwh"].to_dict() == pytest.approx(grid.to_dict())
    series = energy.power_series(shop.timeline, shop.meta)
    per_rep = (series["charger_kw"] * series["interval_h"]).groupby(series["replication"]).sum()
    assert per_rep.to_dict() == pytest.approx(grid.to_dict(), rel=1e-9)
    assert (series["net_kw"] == series["station_kw"] + series["charger_kw"]).all()
    # two charging places at 4 kW / 0.8: no 15-minute interval can average more than 10 kW
    assert series["charger_kw"].max() <= 10 + 1e-9
    totals = energy.totals(shop.measures, shop.meta)
    assert totals["total_kwh"].to_dict() == pytest.approx(grid.to_dict())


def test_summary_and_tables_report_the_battery(shop) -> None:
    doc = shop.summary()
    agv = doc["fleets"]["agv"]
    assert set(agv["states"]) == set(VEHICLE_STATES)
    assert sum(agv["states"].values()) == pytest.approx(1.0, abs=1e-12)
    battery = agv["battery"]
    share = agv["states"]["to_charger"] + agv["states"]["waiting_charger"] + \
        agv["states"]["charging"]
    assert battery["charging_share"]["mean"] == pytest.approx(share)
    assert 0 < battery["charger_utilization"]["mean"] < 1
    table = shop.fleets()
    assert {"charges_per_h", "charging_share", "charger_utilization"} <= set(table.columns)
    # Little's law with units waiting for vehicles that are away charging
    assert doc["checks"]["littles_law_wip"]["mean"] == pytest.approx(doc["wip"]["mean"],
                                                                     rel=0.05)


def test_a_battery_that_runs_flat_stops_the_replication_with_a_clear_error(tmp_path) -> None:
    """Load times are exponential: the load-time check counts them at their mean, and a long
    draw at 60 kW of loading power empties the battery; the replication fails, it does not
    carry on with a negative charge."""
    text = SHOP.replace('load_time: {uniform: ["5 s", "15 s"]}', 'load_time: {exponential: "60 s"}')
    text = text.replace("loading: 1,", "loading: 60,").replace("recharge_below: 0.3",
                                                                "recharge_below: 0.4")
    res = twin.run(load(write(tmp_path, text)))
    failed = res.summary()["run"]["failed_replications"]
    assert len(failed) == 2
    assert "the battery of vehicle agv/" in failed[0]["error"]
    assert "ran flat at t = " in failed[0]["error"]
    assert "logistics.fleets.agv.battery.recharge_below" in failed[0]["error"]


def test_charging_state_powers_default_to_the_states_they_resemble(tmp_path) -> None:
    """Left out, driving to a charger draws moving_empty's power; waiting for a place and
    charging draw idle's. Given, a power is taken as it is."""
    model = build(load(write(tmp_path, SHOP)))  # sets charging: 0.2 only
    kw = dict(zip(VEHICLE_STATES, model.fleets[0].power_kw))
    assert (kw["to_charger"], kw["waiting_charger"], kw["charging"]) == (2, 0.4, 0.2)
    model = build(load(idle_fleet(tmp_path)))
    kw = dict(zip(VEHICLE_STATES, model.fleets[0].power_kw))
    assert (kw["to_charger"], kw["waiting_charger"], kw["charging"]) == (1, 0, 0.5)
    b = model.fleets[0].battery
    assert (b.capacity, b.initial, b.threshold, b.charge_to) == (10, 10, 2, 9)
    assert b.efficiency == 1.0  # default
    assert len(b.chargers) == 1 and b.chargers[0][1] == 1  # a listed point: one place


def test_every_battery_key_is_described_with_an_example_in_the_json_schema() -> None:
    schema = scenario_json_schema()
    battery = schema["$defs"]["Battery"]
    assert set(battery["properties"]) == {"capacity_kwh", "initial", "recharge_below",
                                          "charge_to", "charge_kw", "efficiency", "chargers",
                                          "opportunity"}
    for key, prop in battery["properties"].items():
        assert prop.get("description"), key
        assert prop.get("examples"), key
    fleet = schema["$defs"]["Fleet"]["properties"]["battery"]
    assert fleet["description"] and fleet["examples"]
    power = schema["$defs"]["VehiclePower"]["properties"]
    for state in ("to_charger", "waiting_charger", "charging"):
        assert power[state]["description"] and power[state]["examples"]


@pytest.mark.parametrize("chargers, ok", [
    (["depot"], True), ({"depot": 2, "dock": 1}, True), ([], False), ({"depot": 0}, False),
    ({"depot": "two"}, False)])
def test_the_json_schema_takes_both_forms_of_chargers(chargers, ok) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml
    doc = yaml.safe_load(textwrap.dedent(SHOP))
    doc["logistics"]["fleets"]["agv"]["battery"]["chargers"] = chargers
    errors = list(jsonschema.Draft202012Validator(scenario_json_schema()).iter_errors(doc))
    assert (errors == []) == ok


def test_compare_reports_the_charging_share_of_battery_fleets_only(shop) -> None:
    from twin.analysis.compare import replication_kpis
    kpis = replication_kpis(shop.measures, shop.meta)
    share = shop.fleets().xs("agv", level="entity")["charging_share"]
    assert kpis["fleet_charging_share:agv"].tolist() == pytest.approx(share.tolist())
    plain = twin.run(load(Path(__file__).parents[1] / "scenarios/validation/agv_shuttle.yaml"))
    assert "fleet_charging_share:agv" not in replication_kpis(plain.measures, plain.meta)
