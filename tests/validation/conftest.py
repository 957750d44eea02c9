"""Shared helpers of the validation suite: cached runs and checks against theory.

Every case is a scenario file under scenarios/validation/ run through the public path
(`twin.load` + `twin.run`, or the `twin` command line). A run shared by several tests is
simulated once per session (the functions below are cached), so each test only reads it.
Tests reach the helpers through the `cases` and `check` fixtures.
"""

from __future__ import annotations

import functools
import json
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import twin
from twin.results import Results

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "validation"

# A CI wider than this fraction of the theoretical answer proves nothing: fail instead.
MAX_REL_HALF_WIDTH = 0.10


def scenario_path(name: str) -> Path:
    return SCENARIOS / name


@functools.cache
def simulate(name: str, *overrides: str) -> Results:
    """Run scenarios/validation/NAME with `--set`-style overrides and its own run: settings."""
    return twin.run(twin.load(scenario_path(name), overrides=list(overrides)))


@functools.cache
def summary(name: str, *overrides: str) -> dict[str, Any]:
    """The summary document (results.md) of `simulate(name, *overrides)`."""
    return simulate(name, *overrides).summary()


@functools.cache
def cli_summary(name: str, *args: str) -> dict[str, Any]:
    """`twin run FILE --json ARGS...` in a subprocess; its stdout must be one JSON document."""
    twin_exe = Path(sys.executable).with_name("twin")
    command = [str(twin_exe)] if twin_exe.exists() else [sys.executable, "-m", "twin.cli"]
    proc = subprocess.run(
        [*command, "run", str(scenario_path(name)), "--json", "--quiet", *args],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"twin run failed ({proc.returncode}):\n{proc.stderr}"
    return json.loads(proc.stdout)


def assert_in_ci(stat: dict[str, Any], theory: float, what: str,
                 max_rel_half_width: float = MAX_REL_HALF_WIDTH) -> None:
    """The theoretical value lies in the 95% CI, and the CI is tight enough to mean something."""
    mean = stat["mean"]
    lo, hi = stat["ci95"]
    assert mean is not None and lo is not None and hi is not None, f"{what}: no value ({stat})"
    half = (hi - lo) / 2
    shown = (f"{what}: theory {theory:.5g}, simulated {mean:.5g} "
             f"[{lo:.5g}, {hi:.5g}] (half-width {half / abs(theory):.2%} of theory)")
    assert half > 0, f"{shown}: a zero-width interval from random replications"
    assert half < max_rel_half_width * abs(theory), f"{shown}: interval too wide to test"
    assert lo <= theory <= hi, f"{shown}: theory outside the 95% CI"


def assert_exact(stat: dict[str, Any], theory: float, what: str, rel: float = 1e-6) -> None:
    """An exact answer: every replication (the whole CI) within `rel` of theory."""
    mean = stat["mean"]
    lo, hi = stat["ci95"]
    for value in (mean, lo, hi):
        assert math.isclose(value, theory, rel_tol=rel, abs_tol=0.0), (
            f"{what}: theory {theory!r}, simulated {mean!r} [{lo!r}, {hi!r}]")


@pytest.fixture(scope="session")
def cases() -> SimpleNamespace:
    """Cached runs of the validation scenarios: `results`, `summary` (API) and `cli`."""
    return SimpleNamespace(path=scenario_path, results=simulate, summary=summary, cli=cli_summary)


@pytest.fixture(scope="session")
def check() -> SimpleNamespace:
    """Comparisons with theory: `in_ci` (statistical) and `exact`."""
    return SimpleNamespace(in_ci=assert_in_ci, exact=assert_exact)
