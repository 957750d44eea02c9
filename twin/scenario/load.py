"""Scenario files in, validated `Scenario` out: the public stage functions.

This is the edge where every mistake in a scenario is caught. Each stage (read, parse,
merge bases, apply overrides, validate, cross-check) reports `Problem`s that name the file,
the key path and, where known, the line and column, so the user can go straight to the fix.
Nothing here raises anything but `ScenarioError` for bad input. The stages live in
`yamldoc` (reading with positions), `merge` (`extends:` and `--set`) and `messages`
(validation problems and cross-checks).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from twin.errors import Problem, ScenarioError
from twin.scenario.merge import _document, _override_path
from twin.scenario.messages import _cross_problems, _locate, _pydantic_problems
from twin.scenario.assembly import assembly_problems
from twin.scenario.battery import battery_problems
from twin.scenario.budget import event_problems
from twin.scenario.changeovers import setup_problems
from twin.scenario.conveyors import conveyor_problems
from twin.scenario.initial import initial_wip_problems
from twin.scenario.shifts import calendar_problems
from twin.scenario.network import network_problems
from twin.scenario.steps import conwip_problems, step_problems
from twin.scenario.schema import Scenario
from twin.scenario.yamldoc import KeyPath, _dotted

__all__ = ["load", "load_document", "validate_file", "scenario_json_schema", "scenario_hash",
           "place", "UNPLACED"]

UNPLACED = "(scenario)"  # the file of a problem found in a scenario object, not in its file


def load_document(path: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The plain document after `extends:` (and any overrides), before validation."""
    return _document(path, overrides).data


def load(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, merge, override and validate a scenario file; raise ScenarioError listing every
    problem found (file, key path, line and column where known, what to fix)."""
    doc = _document(path, overrides)
    problems: list[Problem] = []
    scenario = None
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as e:
        problems = _pydantic_problems(doc, e)
    taken = {(p.file, p.where) for p in problems}
    for where, message in _cross_problems(doc.data):
        problem = _locate(doc, where, message)
        if (problem.file, problem.where) not in taken:
            problems.append(problem)
    if scenario is not None and not problems:
        problems = [_locate(doc, where, message)
                    for where, message in scenario_problems(scenario)]
    if problems or scenario is None:
        raise ScenarioError(_note_deletions(doc, problems))
    return scenario


def _note_deletions(doc, problems: list[Problem]) -> list[Problem]:
    """A problem about an unknown name (`unknown station 'press'`) that a file (or --set)
    deleted from what it extends (`stations: {press: null}`, while the base's route still
    visits press) says where it was deleted: the fix belongs there, not in the file the
    problem is placed in."""
    deleted = {}  # "unknown station 'press'" -> (the deleted key path, where)
    for keys, origin in doc.origins.items():
        node = doc.data
        for key in keys[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if len(keys) == 2 and isinstance(node, dict) and keys[-1] not in node:
            kind = str(keys[0]).removesuffix("s")  # stations -> station, products -> ...
            deleted[f"unknown {kind} '{keys[1]}'"] = (keys, origin)
    if not deleted:
        return problems
    noted = []
    for p in problems:
        for said, (keys, origin) in deleted.items():
            if said in p.message and origin.file != p.file:
                at = f", line {origin.line}" if origin.line else ""
                p = Problem(p.file, p.where, f"{p.message} ({_dotted(keys)} was deleted "
                                             f"(null) in {origin.file}{at})", p.line, p.column)
                break
        noted.append(p)
    return noted


def scenario_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """What the schema cannot see in a validated scenario: moves no path allows, steps a
    warehouse or batch station cannot take, setups and initial WIP naming wrong products,
    batches that CONWIP limits could never fill, calendars no one defined, vehicle
    batteries that could run flat, assembly stations without parts or product, conveyors
    between stations no route joins, times too short for the run's event budget."""
    network = network_problems(scenario)
    return (network + step_problems(scenario) + setup_problems(scenario)
            + initial_wip_problems(scenario) + conwip_problems(scenario)
            + calendar_problems(scenario) + assembly_problems(scenario)
            + conveyor_problems(scenario) + event_problems(scenario)
            # (a battery's reach is only worth checking on a network that carries every move)
            + ([] if network else battery_problems(scenario)))


def check(scenario: Scenario) -> None:
    """Raise ScenarioError if a scenario built in code (not read by `load`) has problems
    that `load` would have reported, each at its key path."""
    found = _cross_problems(scenario.model_dump(mode="json", by_alias=True))
    if not found:  # (the later checks assume the routes name known stations)
        found = scenario_problems(scenario)
    if found:
        raise ScenarioError([Problem(UNPLACED, _dotted(where), message)
                             for where, message in found])


def place(problems: Sequence[Problem], path: str | Path,
          overrides: Sequence[str] = ()) -> list[Problem]:
    """Problems found in the scenario loaded from `path` (file `UNPLACED`, a key path), each
    placed in the file (or the --set) its key came from, with line and column."""
    doc = _document(path, overrides)
    placed = []
    for p in problems:
        if p.file != UNPLACED:
            placed.append(p)
            continue
        try:
            keys = _override_path(p.where) if p.where else ()
        except ValueError:
            keys = ()
        placed.append(_locate(doc, keys, p.message) if keys else
                      Problem(str(path), p.where, p.message))
    return placed


def validate_file(path: str | Path, overrides: Sequence[str] = ()) -> list[Problem]:
    """Every problem of the scenario file itself (empty when it is fine). `twin.check` and
    `twin validate` also check the levels of its `vary:` points and the engine's reach."""
    try:
        load(path, overrides)
    except ScenarioError as e:
        return e.problems
    return []


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the scenario format, for editors and `twin schema`."""
    schema = Scenario.model_json_schema()
    schema.setdefault("properties", {})["extends"] = {
        "type": "string",
        "description": "A base scenario file (relative to this one) that this file deep-merges "
                       "over; a key set to null here deletes it from the base.",
    }
    schema.pop("title", None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "twin scenario, format version 1", **schema}


def scenario_hash(scenario: Scenario) -> str:
    """sha256 of the validated scenario's canonical JSON: equal scenarios, equal hashes."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
