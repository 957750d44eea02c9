"""Everything `twin run` would refuse in a scenario file, found without running it.

`problems(path)` loads the file (merges, overrides, validation), prepares the levels of its
`vary:` points as the sweep would, and checks the chosen engine's reach; what it finds is
placed in the file at its key's line. `twin validate` and `twin.check` use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from twin.errors import Problem, ScenarioError


@contextmanager
def placed(path: str, overrides: Sequence[str] = ()) -> Iterator[None]:
    """Problems found in the scenario of `path` after loading it (the flowline engine's
    reach, for one) are placed in that file, at their key's line."""
    try:
        yield
    except ScenarioError as e:
        from twin.scenario.load import UNPLACED, place

        if any(p.file == UNPLACED for p in e.problems):
            raise ScenarioError(place(e.problems, path, overrides)) from None
        raise


def problems(path: str, overrides: Sequence[str] = ()) -> list[Problem]:
    """Everything `twin run` would refuse in a scenario file: the file itself, then the
    levels of its `vary:` points and, when it asks for it, the flowline engine's reach
    (an empty list: the file runs)."""
    from twin.experiment import prepare
    from twin.scenario.load import load
    from twin.vary import load_points

    try:
        with placed(path, overrides):
            scenario = load(path, overrides)
            if scenario.vary is not None:  # (every point, prepared as the run would)
                load_points(path, overrides, run_options={})
            else:
                prepare(scenario)
    except ScenarioError as e:
        return e.problems
    return []
