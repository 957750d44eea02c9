"""Closed lines (validation.md, "Closed lines"): Penny Fab One under CONWIP.

Four single-machine stations of 2 h each (rb = 0.5 /h, T0 = 8 h, W0 = 4). The WIP level w
is set with a `--set`-style override of the scenario, as a user would.
- Constant times (best case), exact: TH = min(w/8, 0.5), CT = max(8, 2w); utilisation of
  every station = 2·TH. Nothing is random, so every replication gives exactly these.
- Exponential times (practical worst case), exact in expectation (mean value analysis):
  TH = 0.5·w/(w + 3), CT = 8 + 2(w − 1), checked against the 95% CI. In every replication
  the w units are always somewhere, so Σ over stations of (busy fraction + queue_mean) = w.
"""

from __future__ import annotations

import pytest

LEVELS = (1, 2, 3, 4, 6, 10)
RB, T0, W0 = 0.5, 8.0, 4


def conwip(w: int) -> str:
    return f"products.pf.release={{conwip: {w}}}"


def best_th(w: int) -> float:
    return min(w / T0, RB)


def best_ct(w: int) -> float:
    return max(T0, w / RB)


def worst_th(w: int) -> float:
    return RB * w / (W0 + w - 1)


def worst_ct(w: int) -> float:
    return T0 + (w - 1) / RB


def test_table_of_validation_md() -> None:
    """The formulas reproduce the table of validation.md."""
    assert [round(best_th(w), 4) for w in LEVELS] == [.125, .25, .375, .5, .5, .5]
    assert [round(worst_th(w), 4) for w in LEVELS] == [.125, .2, .25, .2857, .3333, .3846]


@pytest.mark.parametrize("w", LEVELS)
def test_best_case(cases, check, w: int) -> None:
    doc = cases.summary("penny_fab_best.yaml", conwip(w))
    pf = doc["products"]["pf"]
    check.exact(pf["throughput_per_h"], best_th(w), f"best case w={w} TH")
    check.exact(pf["lead_time_h"], best_ct(w), f"best case w={w} CT")
    check.exact(doc["wip"], float(w), f"best case w={w} wip")
    for name, st in doc["stations"].items():
        check.exact(st["utilization"], best_th(w) * 2.0, f"best case w={w} {name} utilization")


@pytest.mark.parametrize("w", LEVELS)
def test_practical_worst_case(cases, check, w: int) -> None:
    doc = cases.summary("penny_fab_exp.yaml", conwip(w))
    pf = doc["products"]["pf"]
    check.in_ci(pf["throughput_per_h"], worst_th(w), f"worst case w={w} TH")
    check.in_ci(pf["lead_time_h"], worst_ct(w), f"worst case w={w} CT")
    # a closed loop holds exactly w units at every moment: in a buffer or on a machine
    check.exact(doc["wip"], float(w), f"worst case w={w} wip", rel=1e-9)
    st = cases.results("penny_fab_exp.yaml", conwip(w)).stations()
    units = (st["busy"] * st["servers"] + st["queue_mean"]).groupby(level="replication").sum()
    assert units.to_numpy() == pytest.approx(float(w), rel=1e-9)
