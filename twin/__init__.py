"""twin: a discrete-event digital twin of a factory.

Public API (mirrors the command line):

    scenario = twin.load("line.yaml", overrides=["stations.weld.servers=3"])
    results = twin.run(scenario, replications=10, seed=42)
    results.summary()      # the summary document of results.md
    results.stations()     # DataFrames: per replication and station / product
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


__all__ = ["load", "run", "Results", "Scenario", "ScenarioError", "RunError", "__version__"]
