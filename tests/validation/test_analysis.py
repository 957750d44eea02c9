"""Worked examples of validation.md, section "Analysis"."""

from __future__ import annotations

import pytest

from twin.analysis.bottleneck import bottleneck_shares, bottleneck_timeline
from twin.analysis.oee import oee


def test_iso_22400_oee_example() -> None:
    res = oee(planned_busy_time=480, actual_production_time=400,
              planned_run_time_per_unit=1, produced=360, good=342)
    assert res["availability"] == pytest.approx(0.8333, abs=5e-5)
    assert res["effectiveness"] == pytest.approx(0.9000, abs=1e-9)
    assert res["quality"] == pytest.approx(0.9500, abs=1e-9)
    assert res["oee"] == pytest.approx(0.7125, abs=1e-9)


PERIODS = {"M1": [(0, 50), (55, 100)], "M2": [(0, 20), (22, 70), (72, 100)]}


def test_active_period_shares() -> None:
    shares = bottleneck_shares(PERIODS, 0, 100)
    assert shares["M1"]["sole"] == pytest.approx(0.52, abs=1e-9)
    assert shares["M2"]["sole"] == pytest.approx(0.05, abs=1e-9)
    assert shares["M1"]["shifting"] == pytest.approx(0.43, abs=1e-9)
    assert shares["M2"]["shifting"] == pytest.approx(0.43, abs=1e-9)
    assert shares["M1"]["total"] == pytest.approx(0.95, abs=1e-9)
    assert shares["M2"]["total"] == pytest.approx(0.48, abs=1e-9)


def test_active_period_timeline() -> None:
    tl = bottleneck_timeline(PERIODS, 0, 100)
    shifting = tl[tl["kind"] == "shifting"]
    # [22, 50) and [55, 70), each once for M1 and once for M2.
    for station in ("M1", "M2"):
        rows = shifting[shifting["station"] == station]
        assert sorted(zip(rows["start"], rows["end"])) == [(22, 50), (55, 70)]
    sole = tl[tl["kind"] == "sole"]
    # Chain M1 -> M2 -> M1: sole M1 [0, 22) and [70, 100), sole M2 [50, 55).
    assert list(zip(sole["start"], sole["end"], sole["station"])) == [
        (0, 22, "M1"), (50, 55, "M2"), (70, 100, "M1")]
    assert list(tl["start"]) == sorted(tl["start"])
