"""Experiments: replications of a scenario, each with its own named random streams.

Replication r of seed s draws every stream from (s, r, purpose, entity), so a replication's
result depends on nothing but the scenario, the seed and r: not on which worker or backend
ran it, nor in which order. With an output folder, each replication is saved the moment it
ends; `resume=True` reloads those and runs only what is missing.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
from pydantic import ValidationError
from tqdm import tqdm

from twin import __version__
from twin.analysis.stats import t_halfwidth
from twin.backends import Outcome, default_workers, run_dask, run_processes, run_serial
from twin.errors import Problem, ScenarioError
from twin.model import Model, build
from twin.results import Results
from twin.scenario.schema import Run, Scenario
from twin.scenario.network import station_point
from twin.scenario.load import UNPLACED, check, scenario_hash
from twin.scenario.messages import _message
from twin.store import ReplicationStore
from twin.units import HOUR


def _option_problems(error: ValidationError, given: dict) -> list[Problem]:
    """One located problem per wrong option (`--seed`, `--horizon`, ...)."""
    problems: dict[str, Problem] = {}
    for err in error.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        if name not in given or name in problems:
            continue
        message = _message(err, ("run", name))  # (the loader's wording, not pydantic's)
        if name == "replications":
            message = "must be a whole number of at least 1, or auto"
        if "got" not in message:
            message += f", got {given[name]!r}"
        problems[name] = Problem("<command line>", f"--{name}", message)
    return list(problems.values())


def prepare(scenario: Scenario, replications: int | str | None = None,
            seed: int | None = None, horizon: float | str | None = None,
            warmup: float | str | None = None, engine: str | None = None,
            event_log: bool = False) -> Model:
    """The model to simulate: the scenario with the run settings given here applied.

    The settings are checked by the scenario schema itself (`Run`), exactly as if they had
    been written in the file, so the rules and limits are the same in both places.
    """
    given = {"replications": replications, "seed": seed, "horizon": horizon,
             "warmup": warmup, "engine": engine}
    given = {k: v for k, v in given.items() if v is not None}
    if given:
        try:
            run = Run.model_validate({**scenario.run.model_dump(), **given})
        except ValidationError as e:
            raise ScenarioError(_option_problems(e, given)) from None
        scenario = scenario.model_copy(update={"run": run})
    check(scenario)  # what `load` checks beyond the schema, for scenarios built in code
    model = build(scenario)
    if event_log:
        model = replace(model, event_log=True)
    if model.engine == "flowline":
        from twin.engine.flowline import unsupported

        reason = unsupported(model)
        if reason:  # (`twin.scenario.load.place` puts it into the file)
            where, _, message = reason.partition(": ")
            raise ScenarioError(Problem(UNPLACED, where, message) if message
                                else Problem(UNPLACED, "", reason))
        if model.event_log:
            raise ScenarioError("--event-log: the flowline engine keeps no event log; "
                                "use --engine simpy")
    return model


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    horizon: float | str | None = None,
    warmup: float | str | None = None,
    engine: str | None = None,
    workers: int | None = 1,
    dask: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    table_format: str = "parquet",
    event_log: bool = False,
    progress: bool = False,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Results:
    """Simulate the scenario's replications and return their Results.

    Arguments left as None take the scenario's `run:` values; durations may be seconds or
    strings with units ("30 d"). `workers` local processes (None: all cores) or a Dask
    cluster (`dask="local"` or a scheduler address) run the replications; results are the
    same whichever runs them. With `out`, every replication is saved as it finishes and
    `resume=True` skips those already saved by an earlier, interrupted run. `event_log`
    records every unit's events (Results.events), for process mining.
    """
    started = time.perf_counter()
    model = prepare(scenario, replications, seed, horizon, warmup, engine, event_log)
    warmup_rule = "given"
    if model.warmup == "auto":
        from twin.warmup import detect_warmup

        # pilots on the SimPy engine, whose timeline carries the WIP series
        choice = detect_warmup(replace(model, engine="simpy"),
                               lambda m, todo: _execute(m, todo, workers, dask))
        model = replace(model, warmup=choice.seconds)
        warmup_rule = choice.describe()
    store = None
    done: dict[int, Outcome] = {}
    if out is not None:
        store = ReplicationStore(Path(out), scenario, model, table_format)
        done = store.open(resume)
    if model.engine == "flowline":
        from twin.engine.flowline import prepare as compile_kernels

        compile_kernels()  # compile (or load from cache) now, not inside timing.simulate_s
    auto = model.replications == "auto"
    target = min(AUTO_START, model.max_replications) if auto else model.replications
    sim_started = time.perf_counter()
    outcomes = {r: o for r, o in done.items() if auto or r < target}
    bar = tqdm(total=target, initial=len(outcomes), desc=model.name, unit="rep",
               file=sys.stderr, disable=not progress, leave=False)
    try:
        while True:
            todo = [r for r in range(target) if r not in outcomes]
            for outcome in _execute(model, todo, workers, dask):
                outcomes[outcome.replication] = outcome
                if store is not None:
                    store.save(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
                bar.update()
            if not auto:
                break
            more = _replications_needed(
                [outcomes[r] for r in range(target)], model.precision, model.max_replications)
            if more <= target:
                break
            bar.total = target = more
            bar.refresh()
    finally:
        bar.close()
    simulate_s = time.perf_counter() - sim_started
    ordered = [outcomes[r] for r in range(target)]
    meta = {
        "scenario": model.name,
        "engine": model.engine,
        "replications": target,
        "replications_rule": (
            f"auto: until the relative 95% half-width of throughput <= {model.precision:g} "
            f"(at most {model.max_replications})") if auto else "fixed",
        "seed": model.seed,
        "horizon_h": model.horizon / HOUR,
        "warmup_h": float(model.warmup) / HOUR,
        "warmup_rule": warmup_rule,
        "version": __version__,
        "scenario_sha256": scenario_hash(scenario),
        "versions": versions(),
        "stations": {
            name: {"area": st.area, "servers": st.servers, **_position(scenario, name)}
            for name, st in scenario.stations.items()},
        "logistics": None if scenario.logistics is None else {
            "points": scenario.logistics.points,
            "paths": [[p.from_, p.to] for p in scenario.logistics.paths]},
        "initial_wip": bool(scenario.initial_wip),  # units in the system at time 0
        "products": {name: {"energy_kwh": p.energy_kwh,
                            "route": [step.station for step in p.route]}
                     for name, p in scenario.products.items()},
        "energy": _energy_section(scenario),
        "failed": [{"replication": o.replication, "error": o.error}
                   for o in ordered if o.result is None],
        "deadlocks": [{"replication": o.replication, **o.deadlock}
                      for o in ordered if o.deadlock is not None],
        "timing": {"total_s": time.perf_counter() - started, "simulate_s": simulate_s},
    }
    return Results.from_replications([o.result for o in ordered if o.result is not None], meta)


def _position(scenario: Scenario, name: str) -> dict[str, float | None]:
    """A station's place on the floor plan: its x, y, or else its logistics point's."""
    st = scenario.stations[name]
    if st.x is not None:
        return {"x": st.x, "y": st.y}
    point = station_point(scenario, name) if scenario.logistics else None
    if point is None:
        return {"x": None, "y": None}
    x, y = scenario.logistics.points[point]
    return {"x": x, "y": y}


def _energy_section(scenario: Scenario) -> dict | None:
    """The scenario's energy section (facility loads, tariff, emission factors) as plain data;
    the tariff as its steps [{at_h, price}], sorted (the analysis's form)."""
    section = getattr(scenario, "energy", None)
    if section is None:
        return None
    data = section.model_dump(mode="json")
    if section.tariff is not None:
        data["tariff"] = [{"at_h": s.at_h, "price": s.price} for s in section.tariff]
    return data


AUTO_START = 5  # replications run before the first precision check


def _replications_needed(outcomes: list[Outcome], precision: float, limit: int) -> int:
    """How many replications reach the target precision of total throughput, at most `limit`.

    The estimate n * (h / target)^2 follows from the half-width shrinking like 1/sqrt(n).
    """
    n = len(outcomes)
    values = [sum(v for kind, _, measure, v in o.result.measures
                  if kind == "product" and measure == "throughput_per_h")
              for o in outcomes if o.result is not None]
    mean = float(np.mean(values)) if values else 0.0
    half = t_halfwidth(values)
    if mean == 0.0 or not math.isfinite(half):
        return min(limit, n + AUTO_START) if values else n
    relative = half / abs(mean)
    if relative <= precision:
        return n
    return min(limit, max(n + 1, math.ceil(n * (relative / precision) ** 2)))


def versions() -> dict[str, str]:
    """Versions of twin, Python and the packages that shape the numbers."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    found = {"twin": __version__, "python": platform.python_version()}
    for pkg in ("simpy", "numpy", "scipy", "pandas", "numba", "pydantic"):
        try:
            found[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            found[pkg] = "absent"
    return found


def _execute(model: Model, todo: list[int], workers: int | None,
             dask: str | None) -> Iterator[Outcome]:
    if not todo:
        return iter(())
    warmup = float(model.warmup)
    n = default_workers() if workers is None else max(1, int(workers))
    if dask is not None:
        return run_dask(model, todo, model.seed, warmup, dask, n)
    if n == 1 or len(todo) == 1:
        return run_serial(model, todo, model.seed, warmup)
    return run_processes(model, todo, model.seed, warmup, n)
