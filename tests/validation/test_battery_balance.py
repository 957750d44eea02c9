"""Vehicle batteries against an energy balance worked out by hand, and flow identities."""

from __future__ import annotations

import math

import pytest

import twin
from twin.scenario.load import load

# scenarios/validation/agv_battery.yaml, in seconds, kW and kWh
LOAD = UNLOAD = 5.0
LOADED_S, EMPTY_S = 30 / 1.5, 30 / 2.0
CYCLE_S = LOAD + LOADED_S + UNLOAD + EMPTY_S  # 45 s
TO_DROP_KWH = (0.5 * LOAD + 2.0 * LOADED_S + 0.5 * UNLOAD) / 3600  # load, drive, unload
CYCLE_KWH = TO_DROP_KWH + 1.0 * EMPTY_S / 3600  # and back: 1/60 kWh
GAIN_KW = 1.1 - 0.1  # charger power less the vehicle's own (idle) draw while charging
CHARGE_S = CYCLE_KWH / GAIN_KW * 3600  # charging time that pays for one cycle: 60 s
CAPACITY, THRESHOLD, CHARGE_TO = 2.0, 0.25 * 2.0, 0.95 * 2.0
# The AGV charges after the j-th unloading since the last charge, the first at which
# CHARGE_TO - (j - 1) * CYCLE_KWH - TO_DROP_KWH <= THRESHOLD; it arrives at the charger (at a,
# the run back) with CHARGE_TO - j * CYCLE_KWH and charges j cycles' energy.
J = math.ceil((CHARGE_TO - TO_DROP_KWH - THRESHOLD) / CYCLE_KWH) + 1  # 85
PERIOD_S = J * (CYCLE_S + CHARGE_S)  # j units, one charge
HORIZON_S = 500 * 3600.0


def test_throughput_and_charging_follow_the_energy_balance(cases) -> None:
    """Every cycle's energy is paid back by CHARGE_S of charging: 3600 / 105 units per hour,
    a charge every J units, and the shares of vehicle time per state accordingly. The
    measured window cuts one period anywhere: counts are right within one period."""
    doc = cases.summary("agv_battery.yaml")
    edge = PERIOD_S / HORIZON_S  # one period, as a share of the horizon
    throughput = doc["products"]["tray"]["throughput_per_h"]["mean"]
    assert throughput == pytest.approx(3600 / (CYCLE_S + CHARGE_S), rel=edge)
    agv = doc["fleets"]["agv"]
    battery = agv["battery"]
    assert battery["charges_per_h"]["mean"] == pytest.approx(3600 / PERIOD_S, abs=3600 / HORIZON_S)
    states = agv["states"]
    assert states["charging"] == pytest.approx(CHARGE_S / (CYCLE_S + CHARGE_S), abs=edge)
    assert states["to_charger"] == pytest.approx(EMPTY_S / PERIOD_S, abs=edge)
    assert states["moving_empty"] == pytest.approx((J - 1) * EMPTY_S / PERIOD_S, abs=edge)
    assert states["moving_loaded"] == pytest.approx(J * LOADED_S / PERIOD_S, abs=edge)
    assert states["waiting_charger"] == 0.0 and states["idle"] == pytest.approx(0.0, abs=1e-12)
    assert sum(states.values()) == pytest.approx(1.0, abs=1e-12)
    assert battery["charging_share"]["mean"] == pytest.approx(
        states["to_charger"] + states["charging"], abs=1e-12)
    assert battery["charger_utilization"]["mean"] == pytest.approx(states["charging"], rel=1e-12)
    # the chargers' grid energy: 1.1 kW while charging, at 90 % efficiency
    hours = HORIZON_S / 3600
    grid = 1.1 / 0.9 * states["charging"] * hours
    assert battery["charger_kwh"]["mean"] == pytest.approx(grid, rel=1e-9)
    assert doc["energy"]["total_kwh"]["mean"] == pytest.approx(grid, rel=1e-9)
    assert doc["energy"]["peak_kw"]["mean"] == pytest.approx(1.1 / 0.9, rel=1e-9)
    # always working or recharging: the AGV is the bottleneck all the time (charging is active)
    assert doc["bottleneck"]["resource"] == "agv"
    assert doc["bottleneck"]["fleets"]["agv"] == pytest.approx(1.0, abs=1e-9)


def test_battery_balance_and_littles_law_hold(cases) -> None:
    """Charge at the end - charge at the start = delivered - drawn, exactly; the units on
    vehicles and waiting for charged vehicles still obey Little's law."""
    res = cases.results("agv_battery.yaml")
    m = res.measures.set_index("measure")["value"]
    drawn = sum(m[f"energy_{s}_kwh"] for s in twin.model.VEHICLE_STATES)
    assert m["battery_end_kwh"] - m["battery_start_kwh"] == pytest.approx(
        m["charged_kwh"] - drawn, abs=1e-9)
    assert m["charged_kwh"] == pytest.approx(1.1 * m["charging_h"], rel=1e-12)
    doc = cases.summary("agv_battery.yaml")
    assert doc["checks"]["littles_law_wip"]["mean"] == pytest.approx(doc["wip"]["mean"], rel=0.01)


def test_a_battery_that_never_runs_low_changes_nothing(cases) -> None:
    """The shuttle without a battery and with one too big to run low give the same results:
    the same random streams and events, only the battery's own measures added."""
    plain = cases.results("agv_shuttle.yaml").measures
    big = twin.run(load(cases.path("agv_shuttle.yaml"), overrides=[
        "logistics.fleets.agv.battery={capacity_kwh: 1.0e9, recharge_below: 0.5, "
        "charge_kw: 5, chargers: [depot]}"])).measures
    key = ["replication", "kind", "entity", "measure"]
    joined = plain.merge(big, on=key, how="left", suffixes=("", "_battery"))
    assert len(joined) == len(plain)
    same = (joined["value"] == joined["value_battery"]) | (
        joined["value"].isna() & joined["value_battery"].isna())
    assert same.all(), joined[~same]
    extra = set(big["measure"]) - set(plain["measure"])
    assert extra == {"charges", "charger_places", "charged_kwh", "charger_kwh", "to_charger_km",
                     "battery_capacity_kwh", "battery_start_kwh", "battery_end_kwh",
                     "lift_to_charger_h"}
    assert big.set_index("measure").loc["charges", "value"] == 0
