"""Changeovers and campaigns against renewal theory and hand-computed cycles
(docs/validation.md, Changeovers)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import twin
from twin.scenario.load import load

N, P, S_AB, S_BA = 8, 60.0, 600.0, 300.0  # scenarios/validation/changeover_campaigns.yaml
CYCLE = 2 * N * P + S_AB + S_BA


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_campaigns_renewal_reward(cases, check) -> None:
    """Throughput N/C per product, setup fraction (S_AB + S_BA)/C, 2/C changeovers."""
    res = twin.run(load(cases.path("changeover_campaigns.yaml")))
    doc = res.summary()
    for product in ("a", "b"):
        check.in_ci(doc["products"][product]["throughput_per_h"], 3600 * N / CYCLE,
                    f"throughput of {product} (per h)")
    press = doc["stations"]["press"]
    assert press["states"]["setup"] == pytest.approx((S_AB + S_BA) / CYCLE, rel=0.02)
    assert press["states"]["starved"] == 0.0 and press["states"]["blocked"] == 0.0
    horizon_h = doc["horizon_h"]
    check.in_ci(press["changeovers"], 2 * horizon_h * 3600 / CYCLE, "changeovers")
    # energy: 30 kW busy, 12 kW in setup, exactly per state time, in every replication
    st = res.stations().xs("press", level="entity")
    assert (st["setup_h"] > 0).all()
    assert st["energy_kwh"].to_numpy() == pytest.approx(
        (30 * st["busy_h"] + 12 * st["setup_h"]).to_numpy())


@pytest.mark.parametrize("campaign", [1, 3])
def test_constant_times_give_the_exact_cycle(tmp_path, campaign) -> None:
    """Constant times: every cycle is the same, so the counts are exact over whole cycles:
    N units of each product per 2 (N p + s) seconds, with 2 changeovers."""
    p, s = 10.0, 25.0
    cycle = 2 * (campaign * p + s)
    path = _write(tmp_path, f"""
        name: exact cycle
        run: {{horizon: {cycle * 100}, seed: 3}}
        products:
          a: {{route: [m], campaign: {campaign}}}
          b: {{route: [m], campaign: {campaign}}}
        stations:
          m: {{process_time: {p}, setup: {s}}}
    """)
    doc = twin.run(load(path), warmup=0).summary()
    # The first campaign needs no setup, so the run is one setup ahead of whole cycles: 100
    # campaigns of each product finish, and the 201st campaign's setup (the 200th) runs
    # during the last s seconds (counted: changeovers are counted as they begin).
    for product in ("a", "b"):
        assert doc["products"][product]["finished"]["mean"] == 100 * campaign
    assert doc["stations"]["m"]["changeovers"]["mean"] == 200
    assert doc["stations"]["m"]["states"]["setup"] == pytest.approx(200 * s / (cycle * 100))
    assert doc["stations"]["m"]["states"]["busy"] == pytest.approx(
        200 * campaign * p / (cycle * 100))


def test_one_product_never_changes_over(tmp_path) -> None:
    """A setup table on a station that sees one product costs nothing; the flowline engine
    (one product) gives the same summary."""
    path = _write(tmp_path, """
        name: no changeover
        run: {horizon: "10 h", seed: 4}
        products:
          a: {route: [m, n]}
        stations:
          m: {process_time: {exponential: "30 s"}, setup: "1 h", buffer: 2}
          n: {process_time: {exponential: "25 s"}}
    """)
    simpy = twin.run(load(path)).summary()
    fast = twin.run(load(path, overrides=["run.engine=flowline"])).summary()
    assert simpy["stations"]["m"]["changeovers"]["mean"] == 0
    assert simpy["stations"]["m"]["states"]["setup"] == 0.0
    assert simpy["products"] == fast["products"]
    assert simpy["stations"]["m"]["states"] == pytest.approx(fast["stations"]["m"]["states"])
    assert simpy["stations"]["m"]["changeovers"] == fast["stations"]["m"]["changeovers"]


def test_time_failures_interrupt_setups_and_operation_failures_do_not_age_them(tmp_path,
                                                                             check) -> None:
    """Time-dependent failures: the press is up a fraction MTBF/(MTBF+MTTR) of the time and
    works (processing or setting up) whenever up, so throughput is that fraction of the
    failure-free N/C. Operation-dependent ones count busy time only: per unit, E[p] of work
    plus E[p]/MTBF × MTTR of repair; setups add S/N per unit and no failures."""
    base = """
        name: failures and setups
        run: {horizon: "3000 h", replications: 24, seed: 9}
        products:
          a: {route: [m], campaign: 4}
          b: {route: [m], campaign: 4}
        stations:
          m:
            process_time: {exponential: "60 s"}
            setup: {exponential: "10 min"}
            failures: {mtbf: {exponential: "2 h"}, mttr: {exponential: "20 min"}, mode: MODE}
    """
    n, p, s, mtbf, mttr = 4, 60.0, 600.0, 7200.0, 1200.0
    free = 3600 * n / (2 * (n * p + s))  # per product per hour without failures
    doc = twin.run(load(_write(tmp_path, base.replace("MODE", "time")))).summary()
    check.in_ci(doc["products"]["a"]["throughput_per_h"], free * mtbf / (mtbf + mttr),
                "throughput with time-dependent failures (per h)")
    doc = twin.run(load(_write(tmp_path, base.replace("MODE", "operation")))).summary()
    per_unit = p + p / mtbf * mttr + s / n
    check.in_ci(doc["products"]["a"]["throughput_per_h"], 3600 / per_unit / 2,
                "throughput with operation-dependent failures (per h)")
    m = doc["stations"]["m"]["states"]
    assert m["setup"] == pytest.approx(s / n / per_unit, rel=0.02)  # setups never fail
    assert m["down"] == pytest.approx(p / mtbf * mttr / per_unit, rel=0.05)
