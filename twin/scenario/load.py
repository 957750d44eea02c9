"""Scenario files in, validated `Scenario` out: YAML with positions, `extends:`, `--set`, checks.

This is the edge where every mistake in a scenario is caught. Each stage (read, parse,
merge bases, apply overrides, validate, cross-check) reports `Problem`s that name the file,
the key path and, where known, the line and column, so the user can go straight to the fix.
Nothing here raises anything but `ScenarioError` for bad input.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, ValidationError

from twin.errors import Problem, ScenarioError, did_you_mean
from twin.scenario.schema import Scenario

__all__ = ["load", "load_document", "validate_file", "scenario_json_schema", "scenario_hash"]


class _Index(int):
    """A list index in a key path (shown as `route[2]`), unlike an integer mapping key."""


KeyPath = tuple[Any, ...]  # mapping keys and _Index list indices, from the document root
COMMAND_LINE = "<command line>"
_MAX_NODES = 1_000_000  # alias expansion beyond this is a mistake (or an attack)
_MAP, _SEQ, _MERGE = (f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "merge"))


@dataclass(frozen=True)
class _Origin:
    """Where a value came from: a key and its value in a file, or a `--set` override."""

    file: str
    line: int | None = None  # of the key (1-based)
    column: int | None = None
    value_line: int | None = None
    value_column: int | None = None
    override: bool = False


@dataclass
class _Doc:
    """A plain document and the origin of every key path in it."""

    file: str
    data: Any
    origins: dict[KeyPath, _Origin] = field(default_factory=dict)


# ---------------------------------------------------------------- reading and parsing


def _read(path: Path, file: str) -> str:
    """The file's text; an OSError propagates for the caller to place (e.g. at `extends`)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ScenarioError(Problem(file, "", f"the file is not UTF-8 text (byte 0x{raw[e.start]:02x}); "
                                    "save it as UTF-8", line)) from None


def _unreadable(exc: OSError) -> str:
    """A short reason why a file cannot be read."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "it is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return getattr(exc, "strerror", None) or str(exc)


class _Builder:
    """Turns a composed YAML node tree into plain values, recording each key's position."""

    def __init__(self, loader: yaml.SafeLoader, file: str):
        self.loader, self.file = loader, file
        self.origins: dict[KeyPath, _Origin] = {}
        self.problems: list[Problem] = []
        self.active: set[int] = set()
        self.budget = _MAX_NODES

    def problem(self, where: KeyPath, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.file, _dotted(where), message, mark.line + 1, mark.column + 1))

    def value(self, node: yaml.Node, path: KeyPath) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise RecursionError("too many values")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.active:
            self.problem(path, node, "an alias refers to a value that contains it (a loop)")
            return None
        if node.tag not in (_MAP, _SEQ):
            self.problem(path, node, f"the tag {node.tag} is not supported here; remove it")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                items = []
                for n, item in enumerate(node.value):
                    here = path + (_Index(n),)
                    at = _mark(item.start_mark)
                    self.origins[here] = _Origin(self.file, *at, *at)
                    items.append(self.value(item, here))
                return items
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def scalar(self, node: yaml.Node, path: KeyPath) -> Any:
        try:
            return self.loader.construct_object(node)
        except yaml.MarkedYAMLError as e:
            self.problem(path, node, f"cannot read this value: {e.problem}")
        except (ValueError, OverflowError) as e:  # e.g. a date such as 2024-02-30
            self.problem(path, node, f"cannot read the value {node.value!r}: {e}")
        return None

    def pairs(self, node: yaml.MappingNode, path: KeyPath) -> list[tuple[Any, yaml.Node, yaml.Node]]:
        """(key, key node, value node) in order, `<<` merges first so own keys win."""
        merged: list[tuple[Any, yaml.Node, yaml.Node]] = []
        own: list[tuple[Any, yaml.Node, yaml.Node]] = []
        seen: dict[Any, yaml.Node] = {}
        for knode, vnode in node.value:
            if knode.tag == _MERGE:
                sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
                for src in reversed(sources):  # the first mapping listed takes precedence
                    if not isinstance(src, yaml.MappingNode) or id(src) in self.active:
                        self.problem(path, vnode, "'<<' must merge a mapping (or a list of mappings)")
                        continue
                    self.active.add(id(src))
                    merged.extend(self.pairs(src, path))
                    self.active.discard(id(src))
                continue
            if not isinstance(knode, yaml.ScalarNode):
                self.problem(path, knode, "a key must be a plain name, not a list or a mapping")
                continue
            key = self.scalar(knode, path)
            if key in seen:
                first = seen[key].start_mark.line + 1
                self.problem(path + (key,), knode,
                             f"duplicate key {key!r} (first on line {first}, again on line "
                             f"{knode.start_mark.line + 1}); keep only one")
            seen[key] = knode
            own.append((key, knode, vnode))
        return merged + own

    def mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key, knode, vnode in self.pairs(node, path):
            here = path + (key,)
            self.origins[here] = _Origin(self.file, *_mark(knode.start_mark), *_mark(vnode.start_mark))
            result[key] = self.value(vnode, here)
        return result


def _mark(mark: yaml.Mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _parse(text: str, file: str) -> _Doc:
    """Parse one YAML document keeping positions; syntax errors become located Problems."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as e:
        line = text[: e.position].count("\n") + 1
        raise ScenarioError(Problem(file, "", f"unacceptable character #x{e.character:04x} "
                                    f"({e.reason}); remove it", line, None)) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as e:
            raise ScenarioError(_syntax_problem(e, file, text)) from None
        if node is None:
            return _Doc(file, None, {(): _Origin(file)})
        builder = _Builder(loader, file)
        data = builder.value(node, ())
    except RecursionError:
        raise ScenarioError(Problem(file, "", "the document is nested too deeply or expands "
                                    "too many aliases")) from None
    finally:
        loader.dispose()
    if builder.problems:
        raise ScenarioError(builder.problems)
    builder.origins[()] = _Origin(file, None, None, *_mark(node.start_mark))
    return _Doc(file, data, builder.origins)


def _syntax_problem(e: yaml.MarkedYAMLError, file: str, text: str) -> Problem:
    mark = e.problem_mark or e.context_mark
    line, column = _mark(mark) if mark else (None, None)
    if e.problem == "but found another document":
        return Problem(file, "", "the file holds more than one YAML document ('---'); a scenario "
                       "is a single document", line, column)
    message = f"YAML syntax error: {e.problem}"
    if e.context:
        message += f" ({e.context}"
        if e.context_mark and e.context_mark is not mark:
            message += f" started on line {e.context_mark.line + 1}"
        message += ")"
    lines = text.splitlines()
    if line and line <= len(lines) and "\t" in lines[line - 1]:
        message += "; indent with spaces, not tabs"
    return Problem(file, "", message, line, column)


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
                                    f"{looked}: {_unreadable(e)}",
                                    at.value_line, at.value_column)) from None
    return _merge(base, doc)


def _require_mapping(doc: _Doc) -> None:
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
    return _Doc(top.file, data, origins)


def _merge_data(base: dict, top: dict, path: KeyPath, replaced: set[KeyPath]) -> dict:
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
    node, created = doc.data, []
    for i, step in enumerate(path):
        if not _fits(node, step):
            there = _dotted(path[:i]) or "the top level"
            return Problem(COMMAND_LINE, f"--set {key.strip()}",
                           f"cannot set {key.strip()!r}: {there} is {_show(node)}, which has "
                           f"no {'item' if isinstance(step, _Index) else 'key'} {step!r}")
        if i == len(path) - 1:
            break
        if isinstance(node, dict) and node.get(step) is None:  # create the missing mapping
            node[step] = {}
            created.append(path[: i + 1])
        node = node[step]
    if value is None and isinstance(node, dict):
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    doc.origins = {p: o for p, o in doc.origins.items() if p[: len(path)] != path}
    for p in [*created, path]:
        doc.origins[p] = _Origin(COMMAND_LINE, override=True)
    return None


# ---------------------------------------------------------------- validation messages

_EXPECTED = {
    "int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
    "float_parsing": "a number", "float_type": "a number", "finite_number": "a finite number",
    "string_type": "text", "bool_parsing": "true or false", "bool_type": "true or false",
    "dict_type": "a mapping (key: value)", "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)", "list_type": "a list",
    "tuple_type": "a list", "none_required": "null",
}
_BOUNDS = {"greater_than_equal": ("ge", "at least"), "greater_than": ("gt", "greater than"),
           "less_than_equal": ("le", "at most"), "less_than": ("lt", "less than")}
_EXAMPLES = {
    "name": "name: two-machine line", "run": 'run: {horizon: "30 d"}', "horizon": 'horizon: "30 d"',
    "products": "products: {cell: {route: [coat, weld]}}",
    "stations": 'stations: {weld: {process_time: "18 s"}}',
    "route": "route: [coat, weld, grade]", "process_time": 'process_time: {exponential: "18 s"}',
    "mtbf": 'mtbf: {exponential: "8 h"}', "mttr": 'mttr: {exponential: "30 min"}',
    "p": "p: 0.02", "to": "to: stack", "station": "station: weld",
}


def _message(err: dict[str, Any], path: KeyPath) -> str:
    """A human sentence for one pydantic error (no URL, no pydantic type names)."""
    kind, given, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "extra_forbidden":  # `path` is the mapping that holds the key
        name = err["loc"][-1]
        return f"unknown key {name!r}.{did_you_mean(name, _known_keys(path))}"
    if kind == "missing":
        name = err["loc"][-1]
        example = _EXAMPLES.get(name)
        return f"missing required key {name!r}" + (f" (e.g. {example})" if example else "")
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {_show(given)}"
    if kind in _BOUNDS:
        ctx_key, words = _BOUNDS[kind]
        return f"must be {words} {_show(ctx[ctx_key])}, got {_show(given)}"
    if kind in ("too_short", "string_too_short"):
        n = ctx.get("min_length", 1)
        return "must not be empty" if n == 1 else f"needs at least {n} entries, got {_show(given)}"
    if kind in ("too_long", "string_too_long"):
        return f"must have at most {ctx.get('max_length')} entries"
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = f".{did_you_mean(given, allowed)}" if isinstance(given, str) else ""
        return f"must be {' or '.join(repr(a) for a in allowed)}, got {_show(given)}{hint}"
    if kind == "release":
        return err["msg"] + _release_hint(given)
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    msg = str(err.get("msg", kind)).removeprefix("Value error, ")
    msg = msg.replace("Input should be", "should be")
    return f"{msg}, got {_show(given)}" if kind != "distribution" else msg


def _release_hint(given: Any) -> str:
    if isinstance(given, dict) and len(given) == 1:
        hint = did_you_mean(next(iter(given)), ("interarrival", "conwip"))
    elif isinstance(given, str):
        hint = did_you_mean(given, ("saturated",))
    else:
        return f", got {_show(given)}"
    return f", got {_show(given)}." + (hint if hint.startswith(" Did you mean") else "")


def _members(t: Any) -> Iterator[Any]:
    """The concrete types inside Annotated/Union/Optional annotations."""
    origin = typing.get_origin(t)
    if origin is typing.Annotated:
        yield from _members(typing.get_args(t)[0])
    elif origin in (Union, types.UnionType):
        for arg in typing.get_args(t):
            yield from _members(arg)
    else:
        yield t


def _known_keys(path: KeyPath) -> list[str]:
    """Field names of the schema models found at `path` (for did-you-mean on unknown keys)."""
    current: list[Any] = [Scenario]
    for step in path:
        following: list[Any] = []
        for t in (m for c in current for m in _members(c)):
            origin = typing.get_origin(t)
            if isinstance(t, type) and issubclass(t, BaseModel) and step in t.model_fields:
                following.append(t.model_fields[step].annotation)
            elif origin is dict:
                following.append(typing.get_args(t)[1])
            elif origin is list and isinstance(step, int):
                following.append(typing.get_args(t)[0])
        current = following
    known = [name for c in current for t in _members(c)
             if isinstance(t, type) and issubclass(t, BaseModel) for name in t.model_fields]
    return known + (["extends"] if not path else [])


def _clean(loc: tuple[Any, ...], data: Any) -> tuple[KeyPath, bool]:
    """The document key path of a pydantic loc, dropping pydantic's own labels (union
    members, tags); also says whether anything was dropped."""
    path: list[Any] = []
    node, dropped = data, False
    for step in loc:
        if step == "[key]":
            break
        if isinstance(node, dict) and step in node:
            node = node[step]
            path.append(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            path.append(_Index(step))
        else:
            dropped = True
    return tuple(path), dropped


def _pydantic_problems(doc: _Doc, error: ValidationError) -> list[Problem]:
    unions: dict[KeyPath, list[str]] = {}
    plain: list[tuple[KeyPath, str, bool]] = []
    for err in error.errors(include_url=False):
        loc = tuple(err["loc"])
        if err["type"] in ("missing", "extra_forbidden"):  # the key itself is the place
            parent, _ = _clean(loc[:-1], doc.data)
            plain.append((parent + (loc[-1],), _message(err, parent), True))
            continue
        path, dropped = _clean(loc, doc.data)
        if "[key]" in loc:
            plain.append((path, f"the name {_show(path[-1])} must be text; quote it", True))
        elif dropped and err["type"] != "release":
            unions.setdefault(path, []).append(_message(err, path))
        else:
            plain.append((path, _message(err, path), False))
    for path, messages in unions.items():
        plain.append((path, "; or ".join(dict.fromkeys(messages)), False))
    return [_locate(doc, path, message, at_key) for path, message, at_key in plain]


# ---------------------------------------------------------------- cross-checks


def _cross_problems(data: dict) -> list[tuple[KeyPath, str]]:
    """Routes name existing stations; rework goes back to a station at or before its step."""
    stations, products = data.get("stations"), data.get("products")
    if not isinstance(stations, dict) or not stations or not isinstance(products, dict):
        return []
    found: list[tuple[KeyPath, str]] = []
    for pname, product in products.items():
        route = product.get("route") if isinstance(product, dict) else None
        if not isinstance(route, list):
            continue
        if not route:
            found.append((("products", pname, "route"), "the route is empty; list the stations "
                          "a unit visits, e.g. route: [coat, weld]"))
        names = [s.get("station") if isinstance(s, dict) else s for s in route]
        for i, step in enumerate(route):
            at: KeyPath = ("products", pname, "route", _Index(i))
            name = names[i]
            if isinstance(name, str) and name not in stations:
                where = at + ("station",) if isinstance(step, dict) else at
                found.append((where, f"unknown station {name!r}.{did_you_mean(name, map(str, stations))}"))
            rework = step.get("rework") if isinstance(step, dict) else None
            target = rework.get("to") if isinstance(rework, dict) else None
            if isinstance(target, str):
                found.extend((at + ("rework", "to"), m) for m in _rework_problem(target, names, i, stations))
    return found


def _rework_problem(target: str, names: list[Any], i: int, stations: dict) -> list[str]:
    if target not in stations:
        return [f"unknown rework target {target!r}.{did_you_mean(target, map(str, stations))}"]
    if target in names[: i + 1]:
        return []
    so_far = ", ".join(str(n) for n in names[: i + 1])
    where = "comes later in the route" if target in names[i + 1:] else "is not on this route"
    return [f"rework target {target!r} {where}; rework must go back to a station at or "
            f"before this step ({so_far})"]


# ---------------------------------------------------------------- places and display


def _locate(doc: _Doc, path: KeyPath, message: str, at_key: bool = False) -> Problem:
    """A Problem for `path`, pointing into the file (or the --set) the value came from."""
    n = len(path)
    while n > 0 and path[:n] not in doc.origins:
        n -= 1
    origin = doc.origins.get(path[:n], _Origin(doc.file))
    if origin.override:
        return Problem(COMMAND_LINE, f"--set {_dotted(path)}", message)
    line, column = ((origin.line, origin.column) if at_key or n < len(path)
                    else (origin.value_line, origin.value_column))
    if n == 0:
        line = column = None
    return Problem(origin.file, _dotted(path), message, line, column)


def _dotted(path: KeyPath) -> str:
    """('products', 'cell', 'route', 2) -> 'products.cell.route[2]'."""
    out = ""
    for step in path:
        if isinstance(step, _Index) and out:
            out += f"[{step}]"
        else:
            out += ("." if out else "") + str(step)
    return out


def _show(value: Any, limit: int = 60) -> str:
    """A value as the user would have written it in YAML, shortened."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return f"{value:g}" if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, dict):
        text = "a mapping {" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list):
        text = "a list [" + ", ".join(_show(v) for v in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------- public API


def _document(path: str | Path, overrides: Sequence[str]) -> _Doc:
    file = str(path)
    try:
        doc = _load_file(Path(path), file, ())
    except OSError as e:
        raise ScenarioError(Problem(file, "", f"cannot read the scenario file: {_unreadable(e)}")) from None
    if isinstance(overrides, str):  # one override passed bare, not in a list
        overrides = [overrides]
    problems = [p for text in overrides if (p := _apply_override(doc, text)) is not None]
    if problems:
        raise ScenarioError(problems)
    return doc


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
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario


def validate_file(path: str | Path, overrides: Sequence[str] = ()) -> list[Problem]:
    """Every problem of a scenario file (empty when it is fine), for `twin validate`."""
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
