"""An AGV riding a lift between floors against hand computation (validation.md, Logistics:
floors and lifts): scenarios/validation/agv_lift.yaml, every time constant."""

from __future__ import annotations

import pytest

# by hand, from the scenario's comment: seconds
LOAD = UNLOAD = 5.0
DRIVE_IN = DRIVE_OUT = 4.0
LIFT_TRAVEL = 6.0 / 0.5  # 6 m at 0.5 m/s
RIDE = DRIVE_IN + LIFT_TRAVEL + DRIVE_OUT
TO_LIFT, FROM_LIFT = 20.0, 10.0  # metres on the ground and on the first floor
LOADED_TRIP = LOAD + TO_LIFT / 1.0 + RIDE + FROM_LIFT / 1.0 + UNLOAD
EMPTY_BACK = FROM_LIFT / 2.0 + RIDE + TO_LIFT / 2.0
CYCLE = LOADED_TRIP + EMPTY_BACK
HOURS = 19.0


def test_agv_with_lift_cycle_throughput_and_lift_use_are_exact(cases) -> None:
    doc = cases.summary("agv_lift.yaml")
    assert CYCLE == 95.0
    # the AGV limits the flow: one unit per cycle (+-1 unit over the horizon)
    assert doc["products"]["tray"]["throughput_per_h"]["mean"] == pytest.approx(
        3600 / CYCLE, abs=1 / HOURS)
    agv = doc["fleets"]["agv"]
    assert agv["trip_h"]["mean"] * 3600 == pytest.approx(LOADED_TRIP, rel=1e-12)
    assert agv["states"]["riding_lift"] == pytest.approx(2 * RIDE / CYCLE, abs=2e-3)
    assert agv["states"]["waiting_lift"] == 0.0  # the car waits where the AGV left it
    assert sum(agv["states"].values()) == pytest.approx(1.0, abs=1e-12)
    lift = doc["lifts"]["lift"]
    assert lift["cars"] == 1
    # two rides per cycle, never an empty car run
    assert lift["rides_per_h"]["mean"] == pytest.approx(2 * 3600 / CYCLE, abs=2 / HOURS)
    assert lift["utilization"]["mean"] == pytest.approx(2 * RIDE / CYCLE, abs=2e-3)
    states = lift["states"]
    assert states["moving_loaded"] == pytest.approx(2 * LIFT_TRAVEL / CYCLE, abs=2e-3)
    assert states["loading"] == pytest.approx(2 * DRIVE_IN / CYCLE, abs=2e-3)
    assert states["unloading"] == pytest.approx(2 * DRIVE_OUT / CYCLE, abs=2e-3)
    assert states["moving_empty"] == 0.0
    assert sum(states.values()) == pytest.approx(1.0, abs=1e-12)
    assert lift["wait_h"]["mean"] == 0.0
    assert lift["ride_h"]["mean"] * 3600 == pytest.approx(RIDE, rel=1e-12)
    # energy: power per state x time, exactly (kW from the scenario)
    kw = {"moving_loaded": 10, "moving_empty": 6, "loading": 1, "unloading": 1, "idle": 0.5}
    assert lift["energy_kwh"]["mean"] == pytest.approx(
        HOURS * sum(kw[s] * states[s] for s in kw), rel=1e-9)
    # the lift is in the plant's electricity, area logistics, with the AGV
    logistics = doc["energy"]["by_area"]["logistics"]["kwh"]["mean"]
    assert logistics == pytest.approx(lift["energy_kwh"]["mean"] + agv["energy_kwh"]["mean"])
    assert doc["energy"]["total_kwh"]["mean"] == pytest.approx(logistics)  # stations draw 0
    # Little's law; the AGV (active riding too) is the bottleneck, not the lift
    assert doc["checks"]["littles_law_wip"]["mean"] == pytest.approx(doc["wip"]["mean"],
                                                                     rel=0.01)
    assert doc["bottleneck"]["resource"] == "agv"
