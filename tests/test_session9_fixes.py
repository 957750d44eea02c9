"""Fixes of session 9's reviews: warm-up pilots averaged in replication order; a single
paired replication gets no verdict."""

from __future__ import annotations

import numpy as np
import pytest

import twin
from twin.analysis.compare import compare
from twin.backends import run_serial
from twin.model import build
from twin.warmup import detect_warmup

LINE = """
name: filling line
run: {horizon: "20 h", warmup: auto, replications: 3, seed: 3}
products: {p: {route: [a, b], release: {interarrival: {exponential: "2 min"}}}}
stations:
  a: {process_time: {exponential: "1.5 min"}}
  b: {process_time: {exponential: "1.8 min"}}
"""


def test_the_warmup_does_not_depend_on_the_order_the_pilots_finish(tmp_path) -> None:
    """Workers may finish the pilots in any order; the averaged series (and so MSER-5's
    choice) must be the same. Feeding the pilots in reverse order gives the same answer,
    and it equals MSER-5 on the series averaged in replication order."""
    path = tmp_path / "s.yaml"
    path.write_text(LINE)
    model = build(twin.load(path))

    def forward(m, todo):
        return run_serial(m, todo, 3, 0.0)

    def backward(m, todo):
        return reversed(list(run_serial(m, todo, 3, 0.0)))

    a, b = detect_warmup(model, forward), detect_warmup(model, backward)
    assert (a.seconds, a.intervals) == (b.seconds, b.intervals)


def test_one_paired_replication_gets_no_verdict(tmp_path) -> None:
    """With one replication the interval of a difference is a point: no test is possible,
    so no "is better" (which any nonzero difference would otherwise get)."""
    path = tmp_path / "s.yaml"
    path.write_text(LINE)
    runs = {name: twin.run(twin.load(path, [f"stations.b.process_time={pt}"]),
                           replications=1, seed=1, warmup="1 h")
            for name, pt in (("slow", "2 min"), ("fast", "1 min"))}
    doc = compare({n: r.measures for n, r in runs.items()})
    verdicts = [e["verdict"]["fast"] for e in doc["kpis"].values()]
    assert verdicts and all(v in ("one replication: no interval, no verdict", "no data")
                            for v in verdicts), verdicts
    tp = doc["kpis"]["throughput_per_h:p"]["difference"]["fast"]
    assert tp["ci95"][0] == tp["ci95"][1] == pytest.approx(tp["mean"])
    assert np.isfinite(tp["mean"])


def test_a_negative_looking_option_value_says_how_to_write_it(tmp_path, capsys) -> None:
    """argparse reads `--horizon -1d` as two options; the message says to write
    --horizon=-1d (which then gets the horizon's own message)."""
    from twin.cli import main

    path = tmp_path / "s.yaml"
    path.write_text(LINE)
    with pytest.raises(SystemExit) as info:
        main(["run", str(path), "--horizon", "-1d"])
    assert info.value.code == 2
    assert "--horizon=VALUE" in capsys.readouterr().err
    assert main(["run", str(path), "--horizon=-1d"]) == 2
    assert "horizon must be positive" in capsys.readouterr().err
