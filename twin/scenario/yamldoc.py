"""Reading a scenario's YAML while keeping the position of every key and value.

PyYAML's composer gives nodes with marks; `_Builder` turns them into plain values and
records an `_Origin` (file, line, column) for each key path, so later stages can point
at the exact spot. Duplicate keys, unsupported tags, alias loops and syntax errors
become located `Problem`s here, before anything else looks at the document.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from twin.errors import Problem, ScenarioError
from twin.scenario.files import read_bytes


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
    note: str = ""  # (an override that made a new mapping: said with its problems)


@dataclass
class _Doc:
    """A plain document and the origin of every key path in it."""

    file: str
    data: Any
    origins: dict[KeyPath, _Origin] = field(default_factory=dict)


# ---------------------------------------------------------------- reading and parsing


MAX_SCENARIO_BYTES = 64 * 2**20  # far beyond any scenario file


def _read(path: Path, file: str) -> str:
    """The file's text; an OSError propagates for the caller to place (e.g. at `extends`)."""
    raw = read_bytes(path, MAX_SCENARIO_BYTES)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ScenarioError(Problem(file, "", f"the file is not UTF-8 text (byte 0x{raw[e.start]:02x}); "
                                    "save it as UTF-8", line)) from None


class _Builder:
    """Turns a composed YAML node tree into plain values, recording each key's position."""

    def __init__(self, loader: ScenarioLoader, file: str) -> None:
        self.loader, self.file = loader, file
        self.origins: dict[KeyPath, _Origin] = {}
        self.problems: list[Problem] = []
        self.active: set[int] = set()
        self.budget = _MAX_NODES

    def problem(self, where: KeyPath, node: yaml.Node, message: str) -> None:
        """Record a Problem at `where`, placed at the start of `node`."""
        mark = node.start_mark
        self.problems.append(Problem(self.file, _dotted(where), message, mark.line + 1, mark.column + 1))

    def value(self, node: yaml.Node, path: KeyPath) -> Any:
        """The plain value of any node (None, with a Problem, where it cannot be read)."""
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
        """The plain value of a scalar (None, with a Problem, where it cannot be read)."""
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
        """The plain dict of a mapping, recording where each key and its value start."""
        result: dict[Any, Any] = {}
        for key, knode, vnode in self.pairs(node, path):
            here = path + (key,)
            self.origins[here] = _Origin(self.file, *_mark(knode.start_mark), *_mark(vnode.start_mark))
            result[key] = self.value(vnode, here)
        return result


_BOOL, _INT, _FLOAT = ("tag:yaml.org,2002:" + t for t in ("bool", "int", "float"))


class ScenarioLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's booleans and numbers (its core schema).

    YAML 1.1 reads yes, no, on, off, y and n as booleans, 6:00 as the base-60 number 360,
    010 as octal 8 and 1_000 as 1000, and 1e3 as text; so a station named `no`, a
    `buffer: yes` or a shift written [6:00, 14:00] would silently change meaning. Here only
    true and false are booleans, and numbers are decimal (1e3 included), 0o octal or 0x
    hexadecimal; anything else stays text, and a key that wants a boolean or a number says
    so."""


ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
ScenarioLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
ScenarioLoader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
ScenarioLoader.add_implicit_resolver(
    _FLOAT, re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+.0123456789"))


def _construct_int(loader: ScenarioLoader, node: yaml.ScalarNode) -> int:
    """A YAML 1.2 integer: decimal (leading zeros too), 0o octal or 0x hexadecimal."""
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


ScenarioLoader.add_constructor(_INT, _construct_int)


def scalar(text: str) -> Any:
    """A value written on the command line, read as in a scenario file."""
    return yaml.load(text, Loader=ScenarioLoader)


def _mark(mark: yaml.Mark) -> tuple[int, int]:
    """A YAML mark as 1-based (line, column)."""
    return mark.line + 1, mark.column + 1


def _parse(text: str, file: str) -> _Doc:
    """Parse one YAML document keeping positions; syntax errors become located Problems."""
    try:
        loader = ScenarioLoader(text)
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
    """A located, plain-worded Problem for a YAML syntax error."""
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
    elif e.problem and e.problem.startswith(("expected <block end>", "mapping values are not")):
        message += ("; check the indentation of this line against the lines above: keys of "
                    "one mapping start in the same column (spaces only), and a value that "
                    "holds a ':' needs quotes")
    return Problem(file, "", message, line, column)


# ---------------------------------------------------------------- key paths and values


def _dotted(path: KeyPath) -> str:
    """('products', 'cell', 'route', 2) -> 'products.cell.route[2]'."""
    out = ""
    for step in path:
        if isinstance(step, _Index) and out:
            out += f"[{step}]"
        else:  # (a key YAML read as null or a boolean is shown as written)
            name = _show(step) if step is None or isinstance(step, bool) else str(step)
            out += ("." if out else "") + name
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
        short = f"{value:g}"  # (only where it is the same number: 1000000100.0 is not 1e+09)
        return short if value.is_integer() and float(short) == value else repr(value)
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

