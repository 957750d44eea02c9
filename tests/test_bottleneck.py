"""Roser's active period method: hand cases, properties and a brute-force reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.analysis.bottleneck import bottleneck_shares, bottleneck_timeline

Periods = dict[str, list[tuple[float, float]]]


# --------------------------------------------------------------------------- reference
def reference_cells(periods: Periods, start: int, end: int
                    ) -> tuple[list[str | None], list[set[str]]]:
    """Per unit cell [t, t+1): the sole bottleneck (or None) and the shifting stations.

    Straight from the definition, for integer boundaries: clip to the window, join
    touching periods, pick the longest covering period per cell (first station on
    ties), chain the momentary bottlenecks and mark overlaps of consecutive links.
    """
    names = list(periods)
    clean: dict[str, list[tuple[float, float]]] = {}
    for name in names:
        ps = sorted((max(a, start), min(b, end)) for a, b in periods[name])
        merged: list[tuple[float, float]] = []
        for a, b in ps:
            if b <= a:
                continue
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        clean[name] = merged
    cells = list(range(start, end))
    momentary: list[tuple[str, float, float] | None] = []
    for t in cells:
        x = t + 0.5
        best = None
        for name in names:
            for a, b in clean[name]:
                if a <= x < b and (best is None or b - a > best[2] - best[1]):
                    best = (name, a, b)
        momentary.append(best)
    chain = []
    for m in momentary:
        if m is not None and (not chain or chain[-1] != m):
            chain.append(m)
    shifting: list[set[str]] = [set() for _ in cells]
    for (n1, a1, b1), (n2, a2, b2) in zip(chain, chain[1:]):
        for i, t in enumerate(cells):
            if max(a1, a2) <= t + 0.5 < min(b1, b2):
                shifting[i] |= {n1, n2}
    sole = [m[0] if m is not None and not shifting[i] else None
            for i, m in enumerate(momentary)]
    return sole, shifting


def reference_shares(periods: Periods, start: int, end: int) -> dict[str, dict[str, float]]:
    sole, shifting = reference_cells(periods, start, end)
    span = end - start
    out = {}
    for name in periods:
        s = sum(1 for x in sole if x == name) / span
        h = sum(1 for x in shifting if name in x) / span
        out[name] = {"sole": s, "shifting": h, "total": s + h}
    return out


# --------------------------------------------------------------------------- strategies
def _station(gap: st.SearchStrategy, length: st.SearchStrategy, origin: st.SearchStrategy
             ) -> st.SearchStrategy:
    """Sorted disjoint periods built from an origin and (gap, length) steps."""
    def build(o: float, steps: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out, t = [], o
        for g, ln in steps:
            t += g
            out.append((t, t + ln))
            t += ln
        return out
    return st.builds(build, origin, st.lists(st.tuples(gap, length), max_size=6))


int_station = _station(st.integers(0, 5), st.integers(1, 12), st.integers(-5, 5))
float_station = _station(st.floats(0, 5), st.floats(0.01, 12), st.floats(-5, 5))


@st.composite
def int_case(draw: st.DrawFn) -> tuple[Periods, int, int]:
    k = draw(st.integers(1, 4))
    periods = {f"S{i}": draw(int_station) for i in range(k)}
    start = draw(st.integers(-3, 8))
    end = draw(st.integers(start + 1, start + 40))
    return periods, start, end


@st.composite
def float_case(draw: st.DrawFn) -> tuple[Periods, float, float]:
    k = draw(st.integers(1, 5))
    periods = {f"S{i}": draw(float_station) for i in range(k)}
    start = draw(st.floats(-3, 8))
    end = start + draw(st.floats(0.5, 40))
    return periods, start, end


def _union_length(intervals: list[tuple[float, float]]) -> float:
    total, reach = 0.0, -np.inf
    for a, b in sorted(intervals):
        if b > reach:
            total += b - max(a, reach)
            reach = b
    return total


# --------------------------------------------------------------------------- brute force
@settings(max_examples=400, deadline=None)
@given(int_case())
def test_shares_match_brute_force(case: tuple[Periods, int, int]) -> None:
    periods, start, end = case
    got = bottleneck_shares(periods, start, end)
    want = reference_shares(periods, start, end)
    assert got.keys() == want.keys()
    for name in want:
        for key in ("sole", "shifting", "total"):
            assert got[name][key] == pytest.approx(want[name][key], abs=1e-9), (name, key)


@settings(max_examples=200, deadline=None)
@given(int_case())
def test_timeline_matches_brute_force(case: tuple[Periods, int, int]) -> None:
    periods, start, end = case
    tl = bottleneck_timeline(periods, start, end)
    sole, shifting = reference_cells(periods, start, end)
    for i, t in enumerate(range(start, end)):
        here = tl[(tl["start"] <= t + 0.5) & (t + 0.5 < tl["end"])]
        got_sole = list(here.loc[here["kind"] == "sole", "station"])
        got_shift = set(here.loc[here["kind"] == "shifting", "station"])
        assert got_sole == ([sole[i]] if sole[i] is not None else [])
        assert got_shift == shifting[i]


# --------------------------------------------------------------------------- properties
@settings(max_examples=300, deadline=None)
@given(float_case())
def test_properties(case: tuple[Periods, float, float]) -> None:
    periods, start, end = case
    span = end - start
    shares = bottleneck_shares(periods, start, end)
    tl = bottleneck_timeline(periods, start, end)
    assert list(shares) == list(periods)
    for name, s in shares.items():
        for key in ("sole", "shifting", "total"):
            assert 0.0 <= s[key] <= 1.0 + 1e-12
        assert s["sole"] + s["shifting"] == pytest.approx(s["total"], abs=1e-12)
    # Rows lie in the window, are sorted, and never overlap within one station.
    assert (tl["start"] >= start).all() and (tl["end"] <= end).all()
    assert (tl["end"] > tl["start"]).all()
    assert tl["start"].is_monotonic_increasing
    for _, rows in tl.groupby("station"):
        rows = rows.sort_values("start")
        assert (rows["start"].to_numpy()[1:] >= rows["end"].to_numpy()[:-1]).all()
    # Timeline and shares agree.
    for name in periods:
        for kind in ("sole", "shifting"):
            rows = tl[(tl["station"] == name) & (tl["kind"] == kind)]
            assert (rows["end"] - rows["start"]).sum() / span == pytest.approx(
                shares[name][kind], abs=1e-9)
    # Sole times plus shifting time counted once cover exactly the time when any
    # station is active (so never more than the window).
    shift_rows = tl[tl["kind"] == "shifting"]
    shift_once = _union_length(list(zip(shift_rows["start"], shift_rows["end"]))) / span
    sole_sum = sum(s["sole"] for s in shares.values())
    active = _union_length([(max(a, start), min(b, end)) for ps in periods.values()
                            for a, b in ps if min(b, end) > max(a, start)]) / span
    assert sole_sum + shift_once == pytest.approx(active, abs=1e-9)
    assert sole_sum + shift_once <= 1.0 + 1e-9


@settings(max_examples=100, deadline=None)
@given(float_case(), st.floats(1.0, 50.0))
def test_always_active_station_is_sole(case: tuple[Periods, float, float],
                                       margin: float) -> None:
    others, start, end = case
    periods = {"always": [(start - margin, end + margin)], **others}
    shares = bottleneck_shares(periods, start, end)
    assert shares["always"] == pytest.approx({"sole": 1.0, "shifting": 0.0, "total": 1.0})
    for name in others:
        assert shares[name]["total"] == 0.0


@settings(max_examples=150, deadline=None)
@given(float_case())
def test_clipping_equals_manual_clipping(case: tuple[Periods, float, float]) -> None:
    periods, start, end = case
    clipped = {n: [(max(a, start), min(b, end)) for a, b in ps if min(b, end) > max(a, start)]
               for n, ps in periods.items()}
    got = bottleneck_shares(periods, start, end)
    want = bottleneck_shares(clipped, start, end)
    for name in periods:
        assert got[name] == pytest.approx(want[name], abs=1e-12)


# --------------------------------------------------------------------------- hand cases
def test_single_station_whole_window() -> None:
    shares = bottleneck_shares({"A": [(0.0, 10.0)]}, 0.0, 10.0)
    assert shares == {"A": {"sole": 1.0, "shifting": 0.0, "total": 1.0}}


def test_never_overlapping() -> None:
    shares = bottleneck_shares({"A": [(0, 10)], "B": [(20, 30)]}, 0, 40)
    assert shares["A"] == pytest.approx({"sole": 0.25, "shifting": 0.0, "total": 0.25})
    assert shares["B"] == pytest.approx({"sole": 0.25, "shifting": 0.0, "total": 0.25})


def test_touching_without_overlap_is_not_shifting() -> None:
    shares = bottleneck_shares({"A": [(0, 10)], "B": [(10, 30)]}, 0, 40)
    assert shares["A"] == pytest.approx({"sole": 0.25, "shifting": 0.0, "total": 0.25})
    assert shares["B"] == pytest.approx({"sole": 0.5, "shifting": 0.0, "total": 0.5})


def test_one_station_dominating() -> None:
    periods = {"B": [(10, 20), (30, 40)], "A": [(0, 100)], "C": []}
    shares = bottleneck_shares(periods, 0, 100)
    assert shares["A"] == {"sole": 1.0, "shifting": 0.0, "total": 1.0}
    assert shares["B"] == {"sole": 0.0, "shifting": 0.0, "total": 0.0}
    assert shares["C"] == {"sole": 0.0, "shifting": 0.0, "total": 0.0}


def test_nested_handover() -> None:
    # A [0,10) then B [5,30) (longer) takes over at 5: chain A -> B, overlap [5,10).
    shares = bottleneck_shares({"A": [(0, 10)], "B": [(5, 30)]}, 0, 30)
    assert shares["A"] == pytest.approx({"sole": 5 / 30, "shifting": 5 / 30, "total": 10 / 30})
    assert shares["B"] == pytest.approx({"sole": 20 / 30, "shifting": 5 / 30, "total": 25 / 30})


def test_tie_goes_to_first_listed() -> None:
    assert bottleneck_shares({"A": [(0, 10)], "B": [(0, 10)]}, 0, 10)["A"]["sole"] == 1.0
    assert bottleneck_shares({"B": [(0, 10)], "A": [(0, 10)]}, 0, 10)["B"]["sole"] == 1.0


def test_clipped_length_decides() -> None:
    # A is 60 long, but only 10 of it lies in the window, so B (30) wins throughout.
    shares = bottleneck_shares({"A": [(-50, 10)], "B": [(0, 30)]}, 0, 40)
    assert shares["A"] == {"sole": 0.0, "shifting": 0.0, "total": 0.0}
    assert shares["B"] == pytest.approx({"sole": 0.75, "shifting": 0.0, "total": 0.75})


def test_touching_periods_are_one_active_period() -> None:
    # A's [0,5) and [5,10) form one 10-long period, beating B's 8.
    shares = bottleneck_shares({"A": [(0, 5), (5, 10)], "B": [(0, 8)]}, 0, 10)
    assert shares["A"]["sole"] == 1.0
    assert shares["B"]["total"] == 0.0


def test_empty_inputs_and_bad_window() -> None:
    assert bottleneck_shares({}, 0, 10) == {}
    tl = bottleneck_timeline({"A": []}, 0, 10)
    assert list(tl.columns) == ["start", "end", "station", "kind"] and tl.empty
    with pytest.raises(ValueError):
        bottleneck_shares({"A": [(0, 1)]}, 5, 5)


def test_accepts_numpy_arrays() -> None:
    periods = {"M1": np.array([[0, 50], [55, 100]]), "M2": np.array([[0, 20], [22, 70], [72, 100]])}
    assert bottleneck_shares(periods, 0, 100)["M1"]["total"] == pytest.approx(0.95)


def test_many_periods_consistent() -> None:
    # Large random input: exercises the deep levels of the sweep; checks the identity
    # sole + shifting-once == active time, and the timeline/share agreement.
    rng = np.random.default_rng(7)
    periods = {f"S{k}": rng.exponential(1.0, 2 * 20_000).cumsum().reshape(-1, 2)
               for k in range(5)}
    end = 30_000.0
    shares = bottleneck_shares(periods, 0.0, end)
    tl = bottleneck_timeline(periods, 0.0, end)
    assert isinstance(tl, pd.DataFrame)
    shift = tl[tl["kind"] == "shifting"]
    once = _union_length(list(zip(shift["start"], shift["end"])))
    active = _union_length([(a, min(b, end)) for ps in periods.values() for a, b in ps
                            if a < end])
    sole = sum(s["sole"] for s in shares.values()) * end
    assert sole + once == pytest.approx(active, rel=1e-9)
