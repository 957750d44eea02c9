"""Opportunity charging (`battery.opportunity`, docs/modelling.md, Batteries and charging):
the key, and hand traces of the policy with constant times and powers.

The shuttle below: tray units arrive at station a every `every`, take 10 s there and are
carried 100 m to b by AGV: loaded at 1 m/s (100 s, 3.6 kW: 0.1 kWh), empty or to a charger
at 2 m/s (50 s between a and b: 0.05 kWh; as much between h and a). Loading and unloading
take no time and no energy, idle and charging vehicles draw nothing. A battery holds 2 kWh;
the threshold is 0.4 kWh, charge_to 1.8 kWh, and a charger delivers 1.6 kW, so every kWh
takes 2250 s. The first unit is asked for at 610 s, the next ones every 600 s after it.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import twin
from twin.errors import ScenarioError
from twin.scenario.load import load, scenario_json_schema

H = 3600.0
ROOT = Path(__file__).resolve().parents[1]
KWH_S = 2250.0  # seconds of charging per kWh delivered (1.6 kW)

SHUTTLE = """\
    name: opportunity shuttle
    run: {{horizon: "{horizon}"}}
    products:
      tray: {{route: [a, b], release: {{interarrival: "{every}"}}, transport: agv}}
    stations:
      a: {{process_time: "10 s"}}
      b: {{process_time: "10 s"}}
    logistics:
      points: {{h: [-100, 0], a: [0, 0], b: [100, 0]}}
      paths: [[h, a], [a, b]]
      fleets:
        agv:
          vehicles: {vehicles}
          speed_loaded: 1
          speed_empty: 2
          home: {home}
          power_kw: {{moving_loaded: 3.6, moving_empty: 3.6{power}}}
          battery:
            capacity_kwh: 2
            initial: {initial}
            recharge_below: 0.2
            charge_to: 0.9
            charge_kw: 1.6
            chargers: {chargers}
    {opportunity}"""


def shuttle(tmp_path: Path, horizon: str = "1 h", every: str = "600 s", vehicles: int = 1,
            home: str = "a", initial: float = 0.5, chargers: str = "[a]",
            opportunity: str | None = "true", power: str = "") -> Path:
    """The shuttle's file; `opportunity` None leaves the key out; `power` adds to power_kw."""
    key = "" if opportunity is None else f"        opportunity: {opportunity}\n"
    path = tmp_path / "shuttle.yaml"
    path.write_text(textwrap.dedent(SHUTTLE.format(
        horizon=horizon, every=every, vehicles=vehicles, home=home, initial=initial,
        chargers=chargers, opportunity=key, power=power)))
    return path


def fleet(res: twin.Results) -> dict[str, float]:
    """measure -> value of fleet agv in the first replication."""
    m = res.measures
    m = m[(m.replication == 0) & (m.kind == "fleet")]
    return dict(zip(m["measure"], m["value"]))


def run(path: Path, *overrides: str) -> dict[str, float]:
    res = twin.run(load(path, overrides=list(overrides)))
    assert res.summary()["run"]["failed_replications"] == []
    return fleet(res)


# --- the key -----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["1", "0", "'true'", "null", "[true]"])
def test_opportunity_takes_only_true_or_false(tmp_path, value) -> None:
    with pytest.raises(ScenarioError) as e:
        load(shuttle(tmp_path, opportunity=value))
    assert "logistics.fleets.agv.battery.opportunity" in str(e.value)


def test_opportunity_defaults_to_false_and_reaches_the_model(tmp_path) -> None:
    off = load(shuttle(tmp_path, opportunity=None))
    assert off.logistics.fleets["agv"].battery.opportunity is False
    on = load(shuttle(tmp_path, opportunity="true"))
    assert twin.model.build(on).fleets[0].battery.opportunity is True


def test_the_json_schema_describes_opportunity_as_a_boolean() -> None:
    prop = scenario_json_schema()["$defs"]["Battery"]["properties"]["opportunity"]
    assert prop["type"] == "boolean" and prop["default"] is False
    assert prop["description"] and prop["examples"] == [True]
    jsonschema = pytest.importorskip("jsonschema")
    import yaml
    doc = yaml.safe_load((ROOT / "scenarios/validation/agv_battery.yaml").read_text())
    battery = doc["logistics"]["fleets"]["agv"]["battery"]
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    for value, ok in [(True, True), (False, True), (1, False), ("true", False)]:
        battery["opportunity"] = value
        assert (list(validator.iter_errors(doc)) == []) == ok, value


# --- hand traces -------------------------------------------------------------------------

def test_an_idle_vehicle_below_charge_to_goes_to_charge(tmp_path) -> None:
    """No unit comes (every 1000 h). The AGV starts at b with 1 kWh: without opportunity
    charging it stays idle there; with it, it drives 100 m to a (50 s, 0.05 kWh) and
    charges 0.85 kWh (1912.5 s) to 1.8 kWh, then is idle at the charger."""
    off = run(shuttle(tmp_path, horizon="2 h", every="1000 h", home="b", opportunity="false"))
    assert off["charges"] == 0 and off["idle_h"] == 2.0 and off["battery_end_kwh"] == 1.0
    assert "opportunity_charges" not in off  # only fleets with opportunity charging
    m = run(shuttle(tmp_path, horizon="2 h", every="1000 h", home="b"))
    assert m["to_charger_h"] == pytest.approx(50 / H, rel=1e-12)
    assert m["to_charger_km"] == pytest.approx(0.1, rel=1e-12)
    assert m["charging_h"] == pytest.approx(0.85 * KWH_S / H, rel=1e-12)
    assert m["idle_h"] == pytest.approx(2 - (50 + 0.85 * KWH_S) / H, rel=1e-12)
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (1, 1, 0)
    assert m["battery_end_kwh"] == pytest.approx(1.8, rel=1e-12)
    assert m["charged_kwh"] == pytest.approx(0.85, rel=1e-12)


def test_an_idle_vehicle_never_waits_for_a_place_but_takes_one_that_frees(tmp_path) -> None:
    """Two AGVs with 1 kWh at a, one charging place there: the first charges 0.8 kWh
    (1800 s); the second stays idle (not waiting_charger) and charges when the place
    frees. Both are then idle to the end at 2 h."""
    m = run(shuttle(tmp_path, horizon="2 h", every="1000 h", vehicles=2))
    assert m["waiting_charger_h"] == 0.0
    assert m["charging_h"] == pytest.approx(1.0, rel=1e-12)
    assert m["idle_h"] == pytest.approx(3.0, rel=1e-12)
    assert (m["charges"], m["opportunity_charges"]) == (2, 2)
    assert m["battery_end_kwh"] == pytest.approx(3.6, rel=1e-12)


def test_a_move_cuts_an_opportunity_charge_short_and_the_energy_counts_exactly(tmp_path) -> None:
    """One AGV with 1 kWh charging at a from time 0. Each unit asked for (610, 1210, ...,
    3010 s) takes it off the charger at once (no idle vehicle; it stands at the pickup:
    response 0); it carries the unit (0.1 kWh), drives back to a (0.05 kWh) and charges
    again until the next unit: 610 s, then 450 s four times, then 440 s to the end at
    3600 s. Never full: every charge but the last is cut short."""
    m = run(shuttle(tmp_path))
    charging = 610 + 4 * 450 + 440
    assert m["trips"] == 5 and m["response_h"] == 0.0
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (6, 6, 5)
    assert m["charging_h"] == pytest.approx(charging / H, rel=1e-12)
    assert m["charged_kwh"] == pytest.approx(charging / KWH_S, rel=1e-12)
    end = 1.0 + charging / KWH_S - 5 * 0.1 - 5 * 0.05
    assert m["battery_end_kwh"] == pytest.approx(end, rel=1e-12)
    assert m["to_charger_h"] == pytest.approx(5 * 50 / H, rel=1e-12)
    assert m["idle_h"] == pytest.approx(0.0, abs=1e-12)
    # for Roser's method a vehicle charging by opportunity is spare capacity, inactive: the
    # AGV is active only for its five trips and drives to the charger, 150 s each
    assert m["bottleneck_sole_h"] == pytest.approx(5 * 150 / H, rel=1e-12)


def test_a_charge_begun_at_the_threshold_is_never_cut_short(tmp_path) -> None:
    """The AGV starts at a with 0.2 kWh, at or below the 0.4 kWh threshold: it charges the
    full 1.6 kWh (3600 s) although unit 1 is asked for at 610 s; then it carries unit 1
    (response 2990 s; station a, blocked by it meanwhile, finishes unit 2 at 3610 s) and
    unit 2 (empty back to a: response 3750 - 3610 s) before 3960 s. Started above the
    threshold (0.5 kWh), the same charge is cut short at 610 s."""
    m = run(shuttle(tmp_path, horizon="3960 s", initial=0.1))
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (1, 0, 0)
    assert m["charging_h"] == pytest.approx(1.0, rel=1e-12)
    assert m["trips"] == 2
    assert m["response_h"] == pytest.approx((2990 + 140) / 2 / H, rel=1e-12)
    # a forced charge is active (it holds the flow up): the AGV is the bottleneck throughout
    assert m["bottleneck_sole_h"] == pytest.approx(1.1, rel=1e-12)
    above = run(shuttle(tmp_path, horizon="3960 s", initial=0.25))
    assert above["interrupted_charges"] >= 1
    assert above["response_h"] == 0.0


def test_a_vehicle_reaching_the_charger_at_the_threshold_charges_in_full(tmp_path) -> None:
    """The AGV starts at b with 0.42 kWh, sets out by opportunity and reaches a with 0.37
    kWh, at or below the threshold: that charge is the threshold's kind, 1.43 kWh (3217.5 s)
    in one go from 50 s, although unit 1 is asked for at 610 s (response 2657.5 s; unit 2,
    asked for at 3277.5 s, waits for the AGV to come back empty: 140 s)."""
    m = run(shuttle(tmp_path, home="b", initial=0.21))
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (1, 0, 0)
    assert m["charging_h"] == pytest.approx(1.43 * KWH_S / H, rel=1e-12)
    assert m["trips"] == 2  # unit 1 from 3267.5 s, unit 2 (waiting) after it
    assert m["response_h"] == pytest.approx((2657.5 + 140) / 2 / H, rel=1e-12)


def test_a_vehicle_at_the_threshold_takes_the_place_of_an_opportunity_charge(tmp_path) -> None:
    """Two AGVs with 0.5 kWh at a, one place there, no units; idle vehicles draw 0.36 kW
    (0.1 kWh in 1000 s), charging ones nothing. The first tops up from time 0; the second,
    idle, reaches the 0.4 kWh threshold at 1000 s, finds no free place and cuts the first's
    charge short (at 0.9444 kWh): it charges 1.4 kWh (3150 s) at once, without waiting.
    The place then goes to the first, idle and below charge_to (0.6294 kWh): 1.1706 kWh,
    2633.75 s, to 6783.75 s."""
    m = run(shuttle(tmp_path, horizon="2 h", every="1000 h", vehicles=2, initial=0.25,
                    power=", idle: 0.36, charging: 0"))
    assert m["waiting_charger_h"] == 0.0
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (3, 2, 1)
    charging = 1000 + 3150 + 2633.75
    assert m["charging_h"] == pytest.approx(charging / H, rel=1e-12)
    assert m["idle_h"] == pytest.approx(4 - charging / H, rel=1e-12)
    end = 2 * 0.5 + charging / KWH_S - 0.36 * (4 - charging / H)
    assert m["battery_end_kwh"] == pytest.approx(end, rel=1e-12)
    assert m["battery_end_kwh"] == pytest.approx(1.495 + 1.758375, rel=1e-12)


def test_a_vehicle_on_its_way_to_an_opportunity_charge_leaves_its_place_to_one_in_line(
        tmp_path) -> None:
    """Two AGVs with 0.5 kWh at b, one place at a; idle ones draw 9 kW (0.0025 kWh/s),
    charging or waiting ones nothing. The first sets out at once by opportunity (50 s).
    The second, idle, reaches the threshold at 40 s and sets out too, in line for the
    place. The first arrives at 50 s with 0.45 kWh, leaves the place to it and is idle at
    a until it reaches the threshold (70 s); it then waits in line to the end (3000 s).
    The second arrives at 90 s and charges (it would need 3262.5 s)."""
    m = run(shuttle(tmp_path, horizon="3000 s", every="1000 h", vehicles=2, home="b",
                    initial=0.25, power=", idle: 9, charging: 0, waiting_charger: 0"))
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (1, 0, 0)
    assert m["charging_h"] == pytest.approx((3000 - 90) / H, rel=1e-12)
    assert m["waiting_charger_h"] == pytest.approx((3000 - 70) / H, rel=1e-12)
    assert m["to_charger_h"] == pytest.approx(2 * 50 / H, rel=1e-12)


def test_a_move_takes_the_fullest_vehicle_charging_not_the_nearest(tmp_path) -> None:
    """Two AGVs with 1 kWh at h, one place at h and one at a: the first charges at h from
    time 0, the second drives to a (0.05 kWh) and charges from 50 s. At 610 s unit 1 at a
    takes the fuller, at h (response 50 s), not the one at the pickup."""
    m = run(shuttle(tmp_path, horizon="800 s", vehicles=2, home="h", chargers="[h, a]"))
    assert m["trips"] == 1
    assert m["response_h"] == pytest.approx(50 / H, rel=1e-12)
    assert m["interrupted_charges"] == 1


# --- unchanged without it ----------------------------------------------------------------

def _without_timing(doc: dict) -> str:
    doc = dict(doc)
    doc.pop("timing")
    return json.dumps(doc, sort_keys=True)


@pytest.mark.parametrize("name", ["scenarios/examples/electrode_shop_agv_battery.yaml",
                                  "scenarios/validation/agv_battery.yaml"])
def test_opportunity_false_gives_the_results_of_the_file_without_the_key(name) -> None:
    """Bit for bit: the same summary (apart from timing) and the same measures."""
    path = ROOT / name
    short = ["run.horizon=3 d", "run.warmup=1 d", "run.replications=2"]
    plain = twin.run(load(path, overrides=short))
    off = twin.run(load(path, overrides=[*short, "logistics.fleets.agv.battery.opportunity=false"]))
    assert _without_timing(off.summary()) == _without_timing(plain.summary())
    assert off.measures.equals(plain.measures)
    on = twin.run(load(path, overrides=[*short, "logistics.fleets.agv.battery.opportunity=true"]))
    assert _without_timing(on.summary()) != _without_timing(plain.summary())


def test_the_summary_reports_opportunity_and_cut_short_charges_per_hour(tmp_path) -> None:
    doc = twin.run(load(shuttle(tmp_path))).summary()
    battery = doc["fleets"]["agv"]["battery"]
    assert battery["opportunity_charges_per_h"]["mean"] == pytest.approx(6.0)
    assert battery["interrupted_charges_per_h"]["mean"] == pytest.approx(5.0)
    plain = twin.run(load(shuttle(tmp_path, opportunity=None))).summary()
    assert "opportunity_charges_per_h" not in plain["fleets"]["agv"]["battery"]


def test_the_report_shows_opportunity_columns_only_with_opportunity_charging(tmp_path) -> None:
    from twin.report.html import fleets_table
    res = twin.run(load(shuttle(tmp_path)))
    table = fleets_table(res, res.summary()).set_index("fleet")
    assert table.loc["agv", "opportunity charges/h"] == "6"
    assert table.loc["agv", "cut short/h"] == "5"
    res = twin.run(load(shuttle(tmp_path, opportunity=None)))
    assert "cut short/h" not in fleets_table(res, res.summary())


def test_an_idle_vehicle_rides_a_lift_to_charge_by_opportunity(tmp_path) -> None:
    """The shuttle on two floors, b on the first: the AGV, idle at b with 1 kWh, drives 10 m
    to the lift (5 s), waits 12 s for the car coming up empty, rides 20 s (in 4 s, 6 m at
    0.5 m/s, out 4 s, at 1.8 kW) and drives 20 m to the charger at a (10 s): it arrives
    with 0.975 kWh and charges 0.825 kWh. The lift time counts as recharging."""
    path = shuttle(tmp_path, every="1000 h", home="b", power=", riding_lift: 1.8")
    m = run(path, "logistics.points={a: [0, 0], lift-0: [20, 0], lift-1: [20, 0], b: [30, 0]}",
            "logistics.paths=[[a, lift-0], [lift-1, b]]",
            "logistics.floors={ground: {height: 0, points: [a, lift-0]}, "
            "first: {height: 6, points: [lift-1, b]}}",
            "logistics.lifts={lift: {points: [lift-0, lift-1], home: ground, speed: 0.5, "
            "load_time: 4, unload_time: 4}}")
    assert (m["charges"], m["opportunity_charges"]) == (1, 1)
    assert m["lift_to_charger_h"] == pytest.approx((12 + 20) / H, rel=1e-12)
    assert m["to_charger_km"] == pytest.approx(0.030, rel=1e-12)
    assert m["charging_h"] == pytest.approx(0.825 * KWH_S / H, rel=1e-12)
    assert m["battery_end_kwh"] == pytest.approx(1.8, rel=1e-12)
