"""Congestion on limited paths against hand computation and queueing theory.

(1) Two AGVs shuttling over one single-lane aisle with constant times: the schedule is
worked out by hand (scenarios/validation/traffic_shuttle.yaml). (2) A capacity-1 segment
fed by a Poisson stream of vehicles is an M/D/1 queue at its entry; the scenario route is
used (scenarios/validation/traffic_md1.yaml: open exponential arrivals, vehicles always at
hand), not a harness of the segment class, so the whole path from release to the lane is
checked. (3) Little's law on a segment: mean vehicles on it = passes per hour × mean time
on it, and likewise for the line waiting at its ends.
"""

from __future__ import annotations

import pytest

PATH = "a <-> b"

# --- (1) the shuttle, by hand --------------------------------------------------------
LOAD = UNLOAD = 5.0
LOADED = 30 / 1.5  # 20 s a -> b
EMPTY = 30 / 2.0  # 15 s b -> a
# Steady state (each 1 s process time at a and b never binds): vehicle X loads at a
# [0, 5], takes the free lane [5, 25] and unloads [25, 30]. Station a asks for its next
# move 1 s after X loaded it (t = 6); the other vehicle Y, idle at b since its last unload,
# is sent and waits at b for the lane until X leaves it (t = 25), drives back [25, 40] and
# loads [40, 45]: one unit every 40 s, the lane busy 35 s of them.
PERIOD = LOADED + EMPTY + LOAD  # 40 s per unit
EMPTY_WAIT = LOADED - 1.0  # 19 s: from a's request (1 s after loading) until X leaves
NO_LIMIT_PERIOD = (LOAD + LOADED + UNLOAD + EMPTY) / 2  # 22.5 s: two vehicles, no lane


def test_two_agvs_on_one_lane_match_the_hand_computed_schedule(cases, check) -> None:
    doc = cases.summary("traffic_shuttle.yaml")
    hours = doc["horizon_h"]
    # +-1 unit in 10 h at the ends of the period
    assert doc["products"]["tray"]["throughput_per_h"]["mean"] == pytest.approx(
        3600 / PERIOD, abs=1.01 / hours)
    lane = doc["paths"][PATH]
    assert lane["capacity"] == 1 and lane["length_m"] == 30.0
    check.exact(lane["passes_per_h"], 2 * 3600 / PERIOD, "passes per hour", rel=2e-3)
    # every empty run back waits 19 s, no loaded run waits: one wait per unit
    check.exact(lane["waits"], hours * 3600 / PERIOD, "waits", rel=2e-3)
    check.exact(lane["wait_h"], EMPTY_WAIT / 2 / 3600, "mean wait per entry", rel=2e-3)
    check.exact(lane["utilization"], (LOADED + EMPTY) / PERIOD, "lane utilisation", rel=1e-3)
    check.exact(lane["time_on_h"], (LOADED + EMPTY) / 2 / 3600, "time on the lane", rel=1e-3)
    check.exact(lane["queue_mean"], EMPTY_WAIT / PERIOD, "vehicles waiting", rel=2e-3)
    check.exact(lane["queue_max"], 1, "longest line")
    agv = doc["fleets"]["agv"]
    # a loaded trip never waits for the lane: load + drive + unload
    check.exact(agv["trip_h"], (LOAD + LOADED + UNLOAD) / 3600, "trip", rel=1e-9)
    # the request 1 s after loading, the vehicle there 19 + 15 s later
    check.exact(agv["response_h"], (EMPTY_WAIT + EMPTY) / 3600, "response", rel=1e-3)
    # the wait for the lane counts in the driving state (docs/modelling.md, Congestion):
    # per vehicle and 80 s, 20 s loaded, 19 + 15 s empty, 5 + 5 s handling, 16 s idle
    states = agv["states"]
    cycle = 2 * PERIOD
    assert states["moving_loaded"] == pytest.approx(LOADED / cycle, abs=2e-3)
    assert states["moving_empty"] == pytest.approx((EMPTY_WAIT + EMPTY) / cycle, abs=2e-3)
    assert states["idle"] == pytest.approx(
        (cycle - LOADED - EMPTY_WAIT - EMPTY - LOAD - UNLOAD) / cycle, abs=2e-3)
    assert states["waiting"] == 0.0


def test_without_the_lane_limit_two_agvs_carry_a_unit_every_22_5_s(cases) -> None:
    doc = cases.summary("traffic_shuttle.yaml", "logistics.paths[0]=[a, b]")
    assert "paths" not in doc
    assert doc["products"]["tray"]["throughput_per_h"]["mean"] == pytest.approx(
        3600 / NO_LIMIT_PERIOD, abs=1.01 / doc["horizon_h"])


# --- (2) M/D/1 at the entry of a single-lane segment ---------------------------------
LAMBDA = 1 / 12.5  # vehicles per second
D = 10.0  # seconds on the lane
RHO = LAMBDA * D
WQ = RHO * D / (2 * (1 - RHO))  # 20 s (Pollaczek-Khinchine, deterministic service)


def test_single_lane_fed_by_poisson_vehicles_is_md1(cases, check) -> None:
    lane = cases.summary("traffic_md1.yaml")["paths"]["a -> b"]
    check.in_ci(lane["wait_h"], WQ / 3600, "M/D/1 Wq at the lane's entry")
    check.in_ci(lane["queue_mean"], LAMBDA * WQ, "M/D/1 Lq at the lane's entry")
    check.in_ci(lane["utilization"], RHO, "lane utilisation = ρ")
    check.in_ci(lane["passes_per_h"], LAMBDA * 3600, "vehicles per hour = λ")
    check.exact(lane["time_on_h"], D / 3600, "time on the lane", rel=1e-9)


def test_the_share_of_vehicles_that_wait_is_rho(cases, check) -> None:
    """PASTA: a Poisson arrival finds the single lane taken with probability ρ."""
    res = cases.results("traffic_md1.yaml")
    lane = res.paths().xs("a -> b", level="entity")
    share = lane["waits"] / lane["entries"]
    check.in_ci({"mean": float(share.mean()),
                 "ci95": _ci(share.to_numpy())}, RHO, "share of entries that wait")


def _ci(values) -> list[float]:
    from twin.analysis.stats import ci95
    return ci95(values)["ci95"]


# --- (3) Little's law on a segment ----------------------------------------------------
@pytest.mark.parametrize("name", ["traffic_md1.yaml", "traffic_shuttle.yaml"])
def test_littles_law_holds_on_a_segment(cases, name) -> None:
    paths = cases.results(name).paths()
    for (_, entity), row in paths.iterrows():
        period = row["passes"] / row["passes_per_h"]
        on = row["passes_per_h"] * row["time_on_h"]
        assert row["vehicles_mean"] == pytest.approx(on, rel=2e-3), entity
        waiting = row["entries"] / period * row["wait_h"]
        assert row["queue_mean"] == pytest.approx(waiting, rel=5e-3, abs=1e-6), entity
