"""Combining scenario documents: `extends:` bases and `--set` overrides.

A file deep-merges over the base it extends (mappings merge, null deletes, anything else
replaces), with cycles reported; `--set KEY.PATH=VALUE` overrides then change single
values. Origins follow the values, so a problem points at the file or override that
supplied them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from twin.errors import Problem, ScenarioError, did_you_mean
from twin.scenario.datafiles import resolve_files
from twin.scenario.files import unreadable
from twin.scenario.schema import Scenario
from twin.scenario.yamldoc import (
    COMMAND_LINE,
    KeyPath,
    _Doc,
    _dotted,
    _Index,
    _Origin,
    _parse,
    _read,
    _show,
)


# ---------------------------------------------------------------- extends


def _load_file(path: Path, file: str, chain: tuple[Path, ...]) -> _Doc:
    """A file's document with its `extends:` chain merged in (this file over its base)."""
    doc = _parse(_read(path, file), file)
    _require_mapping(doc)
    base_name = doc.data.pop("extends", None)
    if base_name is None:
        return doc
    at = doc.origins[("extends",)]
    if not isinstance(base_name, str) or not base_name.strip():
        raise ScenarioError(Problem(file, "extends", "extends must be a file name such as "
                                    f"base.yaml, got {_show(base_name)}", at.value_line, at.value_column))
    base_path = path.parent / base_name
    base_file = os.path.normpath(os.path.join(os.path.dirname(file), base_name))
    seen = chain + (path.resolve(),)
    if base_path.resolve() in seen:
        cycle = [p.name for p in seen[seen.index(base_path.resolve()):]] + [base_path.name]
        raise ScenarioError(Problem(file, "extends", f"extends forms a cycle: {' -> '.join(cycle)}; "
                                    "one of these files must not extend another",
                                    at.value_line, at.value_column))
    try:
        base = _load_file(base_path, base_file, seen)
    except OSError as e:
        looked = f" (looked for {base_file})" if base_file != base_name else ""
        raise ScenarioError(Problem(file, "extends", f"cannot read the base file {base_name!r}"
                                    f"{looked}: {unreadable(e)}",
                                    at.value_line, at.value_column)) from None
    return _merge(base, doc)


def _require_mapping(doc: _Doc) -> None:
    """Raise a located ScenarioError unless the document is a mapping."""
    if isinstance(doc.data, dict):
        return
    keys = ", ".join(name for name, f in Scenario.model_fields.items() if f.is_required())
    origin = doc.origins[()]
    if doc.data is None:
        what = "the file is empty"
    elif isinstance(doc.data, list):
        what = "the file holds a list"
    else:
        what = f"the file holds a single value ({_show(doc.data)})"
    raise ScenarioError(Problem(doc.file, "", f"{what}; a scenario is a mapping with the keys "
                                f"{keys}, e.g. 'name: my line' on the first line",
                                origin.value_line, origin.value_column))


def _merge(base: _Doc, top: _Doc) -> _Doc:
    """Deep-merge `top` over `base`: mappings merge, null deletes, anything else replaces."""
    replaced: set[KeyPath] = set()
    data = _merge_data(base.data, top.data, (), replaced)
    origins = {p: o for p, o in base.origins.items()
               if not any(p[:i] in replaced for i in range(1, len(p) + 1))}
    origins.update(top.origins)
    for here, near in _new_names(base.data, top.data, ()):  # said with their problems
        if here in origins and not origins[here].note:
            origins[here] = replace(origins[here], note=(
                f"(this file adds a new {here[-1]!r} under {_dotted(here[:-1])}, which "
                f"{base.file} does not have.{near})"))
    return _Doc(top.file, data, origins)


# mappings whose keys are names the scenario gives (not the format's own keys)
NAMED = {("stations",), ("products",), ("calendars",), ("logistics", "fleets"),
         ("logistics", "lifts"), ("logistics", "conveyors"), ("logistics", "floors")}


def _new_names(base: Any, top: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    """Names `top` adds to a mapping of names in `base` (stations, products, fleets, ...)
    close to a name there (a misspelling, maybe), with the did-you-mean hint."""
    if not (isinstance(base, dict) and isinstance(top, dict)):
        return
    for key, value in top.items():
        if key in base:
            if len(path) < 2:  # (the mappings of names are at most two levels down)
                yield from _new_names(base[key], value, path + (key,))
        elif path in NAMED and isinstance(value, dict) and base:
            hint = did_you_mean(key, [k for k in base if isinstance(k, str)])
            if hint.startswith(" Did you mean"):
                yield path + (key,), hint


def _merge_data(base: dict[Any, Any], top: dict[Any, Any], path: KeyPath,
                replaced: set[KeyPath]) -> dict[Any, Any]:
    """`top` over `base`, adding to `replaced` every key path whose base value is gone."""
    out = dict(base)
    for key, value in top.items():
        here = path + (key,)
        if value is None:
            out.pop(key, None)
            replaced.add(here)
        elif isinstance(value, dict) and isinstance(out.get(key, {}), dict):
            out[key] = _merge_data(out.get(key, {}), value, here, replaced)
        else:
            out[key] = value
            replaced.add(here)
    return out


# ---------------------------------------------------------------- --set overrides

_SEGMENT = re.compile(r"^([^\[\]]+)((?:\[\d+\])*)$")


def _override_path(key: str) -> KeyPath:
    """`products.cell.route[2].station` -> ('products', 'cell', 'route', 2, 'station')."""
    path: list[Any] = []
    for segment in key.split("."):
        m = _SEGMENT.match(segment.strip())
        if not m:
            raise ValueError(f"the key path {key!r} is malformed at {segment!r}")
        path.append(m.group(1))
        path.extend(_Index(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return tuple(path)


def _fits(node: Any, step: Any) -> bool:
    """Whether `step` can be taken from `node`: a key of a mapping, an index into a list."""
    if isinstance(step, _Index):
        return isinstance(node, list) and step < len(node)
    return isinstance(node, dict)


def _apply_override(doc: _Doc, text: str) -> Problem | None:
    """Set one KEY.PATH=VALUE in `doc` (VALUE parsed as YAML; null deletes the key)."""
    key, eq, raw = text.partition("=")
    hint = "write --set KEY.PATH=VALUE, e.g. --set stations.weld.servers=3"
    if not eq or not key.strip():
        return Problem(COMMAND_LINE, f"--set {text}", f"malformed override {text!r}: {hint}")
    try:
        path = _override_path(key.strip())
        value = _parse(raw, COMMAND_LINE).data
    except ValueError as e:
        return Problem(COMMAND_LINE, f"--set {text}", f"{e}; {hint}")
    except ScenarioError as e:
        return Problem(COMMAND_LINE, f"--set {key.strip()}",
                       f"cannot read the value {raw!r}: {e.problems[0].message}")
    node, created = doc.data, {}
    for i, step in enumerate(path):
        if not _fits(node, step):
            there = _dotted(path[:i]) or "the top level"
            return Problem(COMMAND_LINE, f"--set {key.strip()}",
                           f"cannot set {key.strip()!r}: {there} is {_show(node)}, which has "
                           f"no {'item' if isinstance(step, _Index) else 'key'} {step!r}")
        if i == len(path) - 1:
            break
        if isinstance(node, dict) and node.get(step) is None:  # create the missing mapping
            hint = did_you_mean(step, [k for k in node if isinstance(k, str)]) \
                if node else ""
            node[step] = {}
            created[path[: i + 1]] = (f"(--set made a new {step!r} under "
                                      f"{_dotted(path[:i]) or 'the top level'}.{hint})"
                                      if hint else "")
        node = node[step]
    if value is None and isinstance(node, dict):
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    doc.origins = {p: o for p, o in doc.origins.items() if p[: len(path)] != path}
    for p, note in [*created.items(), (path, "")]:
        doc.origins[p] = _Origin(COMMAND_LINE, override=True, note=note)
    return None


# ---------------------------------------------------------------- the merged document


def _document(path: str | Path, overrides: Sequence[str]) -> _Doc:
    """The scenario file with its `extends:` chain merged and the overrides applied."""
    file = str(path)
    try:
        doc = _load_file(Path(path), file, ())
    except OSError as e:
        raise ScenarioError(Problem(file, "", f"cannot read the scenario file: {unreadable(e)}")) from None
    if isinstance(overrides, str):  # one override passed bare, not in a list
        overrides = [overrides]
    problems = [p for text in overrides if (p := _apply_override(doc, text)) is not None]
    if problems:
        raise ScenarioError(problems)
    resolve_files(doc.data, lambda keys: _given_in(doc, keys))
    return doc


def _given_in(doc: _Doc, keys: KeyPath) -> str | None:
    """The file that gave the value at `keys` (None: the command line)."""
    for n in range(len(keys), -1, -1):
        origin = doc.origins.get(tuple(keys[:n]))
        if origin is not None:
            return None if origin.override else origin.file
    return doc.file

