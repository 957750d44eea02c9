"""Dual-command crane cycles of a warehouse (`warehouse.commands: dual`), by hand.

The places are given (Warehouse.place patched to hand out a list), so every crane trip
can be computed: travel times are seconds along the aisle and up from the I/O point, one
way takes the larger, and between two places the larger of the two differences.
"""

from __future__ import annotations

import pytest

from support import run_with_places

H = 3600.0
DOC = """
name: dual by hand
run: {horizon: "150 s"}
products: {p: {route: [w], release: {interarrival: "30 s"}}}
stations:
  w:
    process_time: "50 s"
    warehouse: {places: 10, rack: {length: 1, height: 1},
                speed: {horizontal: 1, vertical: 1}, pick_deposit: "1 s", commands: COMMANDS}
"""
# places (s along the aisle, s up) of units 1, 2, 3, 4, ... in the order they are stored
PLACES = [(10.0, 4.0), (3.0, 8.0), (6.0, 6.0), (2.0, 1.0)]


def run_by_hand(monkeypatch, commands: str):
    return run_with_places(monkeypatch, DOC.replace("COMMANDS", commands), PLACES)


def test_a_dual_cycle_by_hand(monkeypatch) -> None:
    """Arrivals at 30, 60, 90, 120 s; dwell 50 s; pick or deposit 1 s.
    Unit 1: single store 30-52 s (1 + 10 + 1, set down at 42, + 10 back).
    Unit 2: single store 60-78 s (set down at 70). Unit 3: single store 90-104 s (at 98).
    Unit 1 is due at 92, while the crane is busy: single retrieval 104-126 s (10 + 1 +
    10 + 1; no unit is waiting to be stored). At 126 s unit 4 (arrived at 120) waits and
    unit 2 is due (since 120): one dual cycle. Pick unit 4 (127), travel to (2, 1): 2 s,
    set it down (130); to unit 2's place (3, 8): max(|2-3|, |1-8|) = 7 s (137), pick it
    up (138), travel back 8 s (146), set it down: 147 s, a 21 s cycle."""
    t, v = run_by_hand(monkeypatch, "dual")
    assert t[1, "store"] == (30, 52) and t[2, "store"] == (60, 78) and t[3, "store"] == (90, 104)
    assert t[1, "dwell"] == (42, 104) and t[1, "retrieve"] == (104, 126)
    assert t[4, "store"] == (126, 130)  # (in a dual cycle: until it is set down)
    assert t[2, "dwell"] == (70, 126) and t[2, "retrieve"] == (126, 147)
    assert t[2, "finish"] == (147, 147)
    assert v["dual_cycles"] == 1 and v["dual_cycle_h"] * H == pytest.approx(21)
    assert v["store_cycle_h"] * H == pytest.approx((22 + 18 + 14) / 3)
    assert v["retrieve_cycle_h"] * H == pytest.approx(22)  # unit 1's (unit 3's, begun at
    # 148 s when it is due, is not finished at 150 s)
    assert v["stores"] == 4 and v["retrieves"] == 2
    # places held: unit 1 30-115 s (picked up at 104 + 10 + 1), unit 2 60-138, unit 3
    # 90-150, unit 4 126-150
    assert v["stored_mean"] == pytest.approx((85 + 78 + 60 + 24) / 150)
    # time in place of the retrievals begun: unit 1 104 - 42, unit 2 126 - 70, unit 3
    # 148 - 98 (begun; it has not left yet)
    assert v["in_store_h"] * H == pytest.approx((62 + 56 + 50) / 3)
    # crane busy 22 + 18 + 14 + 22 + 21 s, and 148-150 s retrieving unit 3
    assert v["busy_h"] * H == pytest.approx(99)


def test_the_same_with_single_commands(monkeypatch) -> None:
    """Single commands: at 126 s the retrieval of unit 2 goes first (to its own place:
    8 + 1 + 8 + 1, until 144 s), then unit 4 is stored from 144 s (set down at 148 s; the
    crane is back at 150 s, the end, so that cycle is not among those measured)."""
    t, v = run_by_hand(monkeypatch, "single")
    assert t[2, "retrieve"] == (126, 144)
    assert (4, "store") not in t and v["stores"] == 4
    assert v["store_cycle_h"] * H == pytest.approx((22 + 18 + 14) / 3)
    assert v["dual_cycles"] == 0
    assert v["retrieve_cycle_h"] * H == pytest.approx((22 + 18) / 2)


def test_a_crane_that_finds_only_one_kind_makes_single_cycles(monkeypatch) -> None:
    """With no unit due, a dual-command crane stores alone; with nothing to store it
    retrieves alone: the first three stores and unit 1's retrieval above are single."""
    t, v = run_by_hand(monkeypatch, "dual")
    assert t[1, "store"][1] - t[1, "store"][0] == 1 + 10 + 1 + 10
    assert t[1, "retrieve"][1] - t[1, "retrieve"][0] == 10 + 1 + 10 + 1
