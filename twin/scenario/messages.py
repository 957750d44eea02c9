"""Validation problems with places: pydantic errors and cross-checks as located `Problem`s.

Pydantic's errors name union members and use its own wording; here each becomes one plain
sentence (with did-you-mean for unknown keys and an example for missing ones) at the key
path in the user's document. The cross-checks catch what one field cannot see alone:
routes naming stations that do not exist, rework that goes forward.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from twin.errors import Problem, did_you_mean
from twin.scenario.schema import Scenario
from twin.scenario.yamldoc import COMMAND_LINE, KeyPath, _Doc, _dotted, _Index, _Origin, _show


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
        known = _known_keys(path)
        if name in known:  # a key of another form of this value (release: conwip or ...)
            return f"{name!r} does not go together with the other keys here; keep the " \
                   f"keys of one form"
        return f"unknown key {name!r}.{did_you_mean(name, known)}"
    if kind == "missing":
        name = err["loc"][-1]
        example = _EXAMPLES.get(name)
        return f"missing required key {name!r}" + (f" (e.g. {example})" if example else "")
    if kind in ("int_from_float", "int_type") and isinstance(given, float):  # 2.0 or 1e3
        return f"expected a whole number, got {given!r}: write it without a decimal point " \
               f"or exponent"
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


def _key_message(kind: str, key: Any) -> str:
    """What is wrong with a mapping key (a name, or a sweep's key path)."""
    if kind == "string_pattern_mismatch":
        return (f"{_show(key)} is no key path: write the dotted path of the key to vary, "
                f"such as stations.weld.servers (names of letters, digits, _ and -)")
    return f"the name {_show(key)} must be text; quote it"


def _release_hint(given: Any) -> str:
    """The tail of a bad-`release` message: what was given and, if close, a did-you-mean."""
    if isinstance(given, dict) and len(given) == 1:
        hint = did_you_mean(next(iter(given)), ("interarrival", "conwip"))
    elif isinstance(given, str):
        hint = did_you_mean(given, ("saturated", "assembly"))
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


def _misspells(given: str, name: str, parent: KeyPath) -> bool:
    """Does the did-you-mean for the unknown key `given` (at `parent`) suggest `name`?"""
    return did_you_mean(given, _known_keys(parent)) == f" Did you mean '{name}'?"


def _pydantic_problems(doc: _Doc, error: ValidationError) -> list[Problem]:
    """One located Problem per place; alternatives of a union at one place joined by "or"."""
    unions: dict[KeyPath, list[str]] = {}
    plain: list[tuple[KeyPath, str, bool]] = []
    errors = error.errors(include_url=False)
    # a missing key that an unknown key beside it misspells is said once: by the unknown
    # key's message with its did-you-mean (`station:` for `stations:`)
    unknown = [(_clean(tuple(e["loc"][:-1]), doc.data)[0], str(e["loc"][-1])) for e in errors
               if e["type"] == "extra_forbidden"]
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] in ("missing", "extra_forbidden"):  # the key itself is the place
            parent, _ = _clean(loc[:-1], doc.data)
            if err["type"] == "missing" and any(
                    p == parent and _misspells(name, str(loc[-1]), parent)
                    for p, name in unknown):
                continue
            plain.append((parent + (loc[-1],), _message(err, parent), True))
            continue
        if "[key]" in loc or err["type"] == "invalid_key":  # a mapping's key is wrong
            key = err.get("input")
            parent, _ = _clean(loc[:loc.index("[key]") - 1] if "[key]" in loc else loc[:-1],
                               doc.data)
            plain.append((parent + (key,), _key_message(err["type"], key), True))
            continue
        path, dropped = _clean(loc, doc.data)
        if err["type"] == "nested_value":  # at an item inside the field's value
            inner = tuple(_Index(k) if isinstance(k, int) and not isinstance(k, bool) else k
                          for k in err["ctx"]["at"])
            plain.append((path + inner, str(err["ctx"]["error"]), False))
            continue
        if dropped and err["type"] != "release":
            unions.setdefault(path, []).append(_message(err, path))
        else:
            plain.append((path, _message(err, path), False))
    for path, messages in unions.items():
        plain.append((path, "; or ".join(dict.fromkeys(messages)), False))
    return [_locate(doc, path, message, at_key) for path, message, at_key in plain]


# ---------------------------------------------------------------- cross-checks


def _cross_problems(data: dict[Any, Any]) -> list[tuple[KeyPath, str]]:
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


def _rework_problem(target: str, names: list[Any], i: int, stations: dict[Any, Any]) -> list[str]:
    """What is wrong (if anything) with rework to `target` from step `i` of a route."""
    if target not in stations:
        return [f"unknown rework target {target!r}.{did_you_mean(target, map(str, stations))}"]
    if target in names[: i + 1]:
        return []
    so_far = ", ".join(str(n) for n in names[: i + 1])
    where = "comes later in the route" if target in names[i + 1:] else "is not on this route"
    return [f"rework target {target!r} {where}; rework must go back to a station at or "
            f"before this step ({so_far})"]


# ---------------------------------------------------------------- places


def _locate(doc: _Doc, path: KeyPath, message: str, at_key: bool = False) -> Problem:
    """A Problem for `path`, pointing into the file (or the --set) the value came from."""
    n = len(path)
    while n > 0 and path[:n] not in doc.origins:
        n -= 1
    origin = doc.origins.get(path[:n], _Origin(doc.file))
    # a new mapping made by --set, or by a file over its base near a known name (said
    # only where it lacks a required key: what a misspelt name over the base shows)
    noted = next((o for k in range(n, 0, -1) if (o := doc.origins.get(path[:k])) and o.note),
                 None)
    if noted is not None and (noted.override or message.startswith("missing required key")):
        message = f"{message} {noted.note}"
    if origin.override:
        return Problem(COMMAND_LINE, f"--set {_dotted(path)}", message)
    line, column = ((origin.line, origin.column) if at_key or n < len(path)
                    else (origin.value_line, origin.value_column))
    if n == 0:
        line = column = None
    return Problem(origin.file, _dotted(path), message, line, column)

