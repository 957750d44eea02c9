"""twin: a discrete-event digital twin of a factory.

Public API (mirrors the command line):

    twin.check("line.yaml")  # [] or the problems `twin run` would refuse (as `twin validate`)
    scenario = twin.load("line.yaml", overrides=["stations.weld.servers=3"])
    results = twin.run(scenario, replications=10, seed=42)
    results.summary()      # the summary document of results.md
    results.stations()     # DataFrames: per replication and station / product / fleet
    results.products(), results.fleets(), results.lifts(), results.conveyors(),
    results.paths()
"""

from __future__ import annotations

__version__ = "0.1.0"

from twin.errors import RunError, ScenarioError  # noqa: E402
from twin.experiment import run  # noqa: E402
from twin.results import Results  # noqa: E402
from twin.scenario.schema import Scenario  # noqa: E402


def load(path, overrides=()) -> Scenario:
    """Load, merge (`extends:`), override (`KEY.PATH=VALUE`) and validate a scenario file."""
    from twin.scenario.load import load as _load

    return _load(path, overrides)


def check(path, overrides=()) -> list:
    """Everything `twin run` would refuse in a scenario file, as `twin validate` finds it:
    the file, the levels of its `vary:` points, the chosen engine's reach. Returns the
    problems (`twin.errors.Problem`: file, key path, line, message); empty when it runs."""
    from twin.checks import problems

    return problems(str(path), [overrides] if isinstance(overrides, str) else list(overrides))


def experiment(path, overrides=(), vary=None, **options):
    """Run a scenario file over the points of its `vary:` section and of `vary`
    ({KEY.PATH: [values]}, full factorial), with common random numbers; returns a Sweep
    whose `.table()` has one row per point and `.measures()` every point's measures.
    Options are those of `run` (replications, seed, horizon, warmup, workers, ...)."""
    from twin.vary import run_sweep

    factors = {}
    for key, levels in (vary or {}).items():
        if isinstance(levels, (str, bytes, dict)) or not hasattr(levels, "__iter__"):
            raise ScenarioError(f"experiment: vary[{key!r}] = {levels!r}: give the levels as a "
                                f"list, e.g. vary={{{key!r}: [{levels!r}]}}")
        factors[key] = list(levels)
    return run_sweep(path, overrides, factors, **options)


__all__ = ["check", "load", "run", "experiment", "Results", "Scenario", "ScenarioError", "RunError", "__version__"]
