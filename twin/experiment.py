"""Experiments: replications of a scenario, each with its own named random streams.

Replication r of seed s draws every stream from (s, r, purpose, entity), so a replication's
result depends on nothing but the scenario, the seed and r: not on which worker ran it, nor
in which order.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace

from tqdm import tqdm

from twin import __version__
from twin.engine.replication import ReplicationResult, simulate
from twin.errors import ScenarioError
from twin.model import Model, build
from twin.results import Results
from twin.scenario.schema import Scenario
from twin.units import HOUR, parse_duration


def _override_duration(value: float | str | None, what: str) -> float | str | None:
    if value is None or value == "auto":
        return value
    try:
        seconds = parse_duration(value)
    except ValueError as e:
        raise ScenarioError(f"--{what}: {e}") from None
    if seconds < 0 or (what == "horizon" and seconds == 0):
        raise ScenarioError(f"--{what} must be {'positive' if what == 'horizon' else 'at least 0'}, got {value!r}")
    return seconds


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    horizon: float | str | None = None,
    warmup: float | str | None = None,
    progress: bool = False,
    on_replication: Callable[[ReplicationResult], None] | None = None,
) -> Results:
    """Simulate `replications` replications of `scenario` and return their Results.

    Arguments left as None take the scenario's `run:` values. Durations may be seconds or
    strings with units ("30 d").
    """
    started = time.perf_counter()
    model = build(scenario)
    horizon_s = _override_duration(horizon, "horizon")
    warmup_s = _override_duration(warmup, "warmup")
    n = model.replications if replications is None else int(replications)
    if n < 1:
        raise ScenarioError(f"--replications must be at least 1, got {n}")
    s = model.seed if seed is None else int(seed)
    if s < 0:
        raise ScenarioError(f"--seed must be at least 0, got {s}")
    if horizon_s is not None:
        model = replace(model, horizon=horizon_s)
    if warmup_s is not None:
        model = replace(model, warmup=warmup_s)
    if model.warmup == "auto":
        raise ScenarioError(
            "run.warmup: 'auto' (MSER-5 detection) is not available in this version; "
            "give a duration such as \"2 d\"")
    if model.engine != "simpy":
        raise ScenarioError(
            f"run.engine: the {model.engine!r} engine is not available in this version; use simpy")
    reps = []
    sim_started = time.perf_counter()
    bar = tqdm(total=n, desc=model.name, unit="rep", file=sys.stderr, disable=not progress,
               leave=False)
    for r in range(n):
        result = simulate(model, r, s, float(model.warmup))
        reps.append(result)
        if on_replication is not None:
            on_replication(result)
        bar.update()
    bar.close()
    simulate_s = time.perf_counter() - sim_started
    meta = {
        "scenario": model.name,
        "engine": model.engine,
        "replications": n,
        "seed": s,
        "horizon_h": model.horizon / HOUR,
        "warmup_h": float(model.warmup) / HOUR,
        "version": __version__,
        "timing": {"total_s": time.perf_counter() - started, "simulate_s": simulate_s},
    }
    return Results.from_replications(reps, meta)
