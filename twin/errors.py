"""Errors raised at the edges of twin, each carrying where the problem lies."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One mistake in a scenario: which file, where in it, what is wrong, how to fix it."""

    file: str
    where: str  # key path such as "stations.weld.servers", or "" for the whole file
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            place = self.where or "(top level)"
        else:
            at = f"line {self.line}" + (f", column {self.column}" if self.column is not None else "")
            place = f"{self.where} ({at})" if self.where else at
        return f"{self.file}: {place}: {self.message}"


class ScenarioError(Exception):
    """The scenario (or the command line that modifies it) is wrong; the CLI exits with 2."""

    def __init__(self, problems: Iterable[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(file="<command line>", where="", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class RunError(Exception):
    """A simulation could not finish (deadlock, runaway run, internal failure); exit 1."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A ' Did you mean X?' hint for an unknown name, or '' when nothing is close."""
    known = list(known)
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if str(name) and (k.startswith(str(name)) or str(name).startswith(k))]
    if close:
        return f" Did you mean '{close[0]}'?"
    if known and len(known) <= 12:
        return " Known: " + ", ".join(sorted(known)) + "."
    return ""
