"""Sweeps: the points of a `vary:` section (or `--vary`), each run with common random numbers.

A point is the scenario file with `KEY.PATH=VALUE` overrides applied, loaded and validated
like any scenario, so a bad level is reported at the edge with its key path. Every point runs
with the same seed and replications: differences between points are not sampling noise
from different streams.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from twin.analysis.compare import replication_kpis
from twin.analysis.stats import ci95
from twin.errors import Problem, ScenarioError
from twin.results import Results, out_folder, write_atomic
from twin.scenario.yamldoc import COMMAND_LINE, scalar


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its label, the overrides that make it, and its factor levels."""

    label: str
    overrides: tuple[str, ...]
    factors: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)  # key path -> where it was set


def _value_text(value: Any) -> str:
    """A YAML flow text for an override value."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()


def _split_levels(text: str) -> list[str]:
    """Split 'a,b,{x: 1, y: 2},"c, d"' at top-level commas (outside brackets and quoted
    scalars); the parts stripped, empty ones included (the caller refuses them). As in
    YAML, a quote opens a quoted scalar only where a scalar begins (at the start of a
    level, or after `[`, `{`, `,` or `: `), so "Bob's cell" is plain text; inside double
    quotes a backslash escapes the next character, inside single quotes '' is a quote."""
    parts, depth, current, quote = [], 0, [], ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote == '"' and ch == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if quote == "'" and ch == "'" and text[i + 1:i + 2] == "'":
            current.append("''")
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'" and _scalar_starts("".join(current)):
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _scalar_starts(before: str) -> bool:
    """Does a scalar begin after `before` (the level's text so far)?"""
    head = before.rstrip()
    return not head or head[-1] in "[{," or (head[-1] == ":" and before != head)


def parse_vary_option(texts: Sequence[str]) -> dict[str, list[Any]]:
    """`--vary KEY.PATH=v1,v2,...` options -> factorial factors."""
    factors: dict[str, list[Any]] = {}
    for text in texts:
        key, sep, values = text.partition("=")
        key = key.strip()
        levels = _split_levels(values)
        if not sep or not key or levels == [""]:
            raise ScenarioError(f"--vary {text!r}: expected KEY.PATH=v1,v2,... "
                                f"(e.g. stations.weld.servers=1,2,3)")
        if "" in levels:
            raise ScenarioError(f"--vary {text!r}: level {levels.index('') + 1} is empty (two "
                                f"commas in a row, or one at an end); remove the extra comma")
        if key in factors:
            raise ScenarioError(f"--vary {key} is given twice; list its values once: "
                                f"--vary {key}=v1,v2,...")
        try:
            factors[key] = [scalar(v) for v in levels]
        except yaml.YAMLError as e:
            reason = getattr(e, "problem", None) or "not valid YAML"
            raise ScenarioError(f"--vary {text!r}: a value is not valid YAML ({reason}); "
                                f"quote text with commas, e.g. --vary 'KEY=\"a, b\",c'") from None
    return factors


def points(vary: Any, extra_factors: dict[str, list[Any]] | None = None) -> list[Point]:
    """All points: every variant (or the scenario itself) × every factorial combination."""
    factorial = dict(vary.factorial) if vary is not None else {}
    origin = {k: f"vary.factorial.{k}" for k in factorial}
    factorial.update(extra_factors or {})
    origin.update({k: f"--vary {k}" for k in extra_factors or {}})
    variants = dict(vary.variants) if vary is not None else {}
    base = [(name, dict(sets)) for name, sets in variants.items()] or [("", {})]
    keys = list(factorial)
    combos = list(itertools.product(*(factorial[k] for k in keys))) if keys else [()]
    result = []
    for name, sets in base:
        for combo in combos:
            levels = dict(zip(keys, combo))
            label = ",".join(f"{'.'.join(k.split('.')[-2:])}={_value_text(v)}"
                             for k, v in levels.items())  # (the key's last two parts)
            label = "/".join(x for x in (name, label) if x) or "base"
            overrides = tuple(f"{k}={_value_text(v)}" for k, v in {**sets, **levels}.items())
            origins = {**{k: f"vary.variants.{name}.{k}" for k in sets},
                       **{k: origin[k] for k in levels}}
            result.append(Point(label, overrides, {**({"variant": name} if name else {}),
                                                   **levels}, origins))
    return result


def _locate_level(problem: Problem, point: Point, file: str,
                  lines: Callable[[], dict[str, tuple[str, int | None, int | None]]],
                  vary: Any = None) -> tuple[Problem, str | None]:
    """A problem of a point, placed at the `vary:` entry (or --vary option) that set it:
    the entry whose key path holds the problem's, else (a level that made a new name, e.g.
    a station the scenario lacks) the one sharing the longest part of it; and the text of
    the level its message begins with ("level TEXT: ...", None if it names none)."""
    key = _entry_key(problem, point)
    if key is None:
        return problem, None
    origin = point.origins[key]
    value = point.factors.get(key, "")
    text = _value_text(value) if key in point.factors else None
    level = f"level {text}: " if text is not None else ""
    message = problem.message.replace("--set made a new", "this key made a new")
    if origin.startswith("--vary"):
        return Problem(COMMAND_LINE, origin, f"{level}{message}"), text
    look = origin
    if key in point.factors and vary is not None and key in vary.factorial:  # at the level
        i = next((i for i, v in enumerate(vary.factorial[key]) if v == value), None)
        if f"{origin}.{i}" in lines():
            look = f"{origin}.{i}"
    return _at_entry(origin, f"{level}{message}", lines(), file, look), text


def _at_entry(origin: str, message: str, lines: dict, file: str,
              look: str | None = None) -> Problem:
    """A problem at the `vary:` entry `origin`, placed where `look` (default: `origin`,
    else e.g. one of its levels) stands in the file that holds it (`lines`), else in
    `file` without a line."""
    holder, line, column = lines.get(look or origin, (file, None, None))
    return Problem(holder, origin, message, line, column)


def _covers(a: str, b: str) -> bool:
    """Does setting key path `a` set `b` as well (the same path, or one inside it)?"""
    return b == a or b.startswith((a + ".", a + "["))


def _clashes(vary: Any, extra_factors: dict[str, list[Any]] | None,
             overrides: Sequence[str], run_options: dict[str, Any] | None = None
             ) -> list[tuple[str, str]]:
    """(origin, message) of levels given twice, and of keys a sweep would set twice, the
    one silently replacing the other at every point: factors one inside another, a
    variant's key inside a factor, a `--set` key or a run option (`--horizon`, `--seed`,
    ...: `run.horizon`, `run.seed`, ...) inside a factor or a key every variant sets. (A
    `--vary` key equal to one of the file's factors replaces it, as documented.)"""
    factors = {k: f"vary.factorial.{k}" for k in (vary.factorial if vary is not None else {})}
    factors.update({k: f"--vary {k}" for k in extra_factors or {}})
    variants = dict(vary.variants) if vary is not None else {}
    found = []
    levels = {**(dict(vary.factorial) if vary is not None else {}), **(extra_factors or {})}
    for key, values in levels.items():
        texts = [_value_text(v) for v in values]
        twice = next((t for i, t in enumerate(texts) if t in texts[:i]), None)
        if twice is not None:
            found.append((factors[key], f"level {twice} is given twice: the same point would "
                                        f"run twice; give each level once"))
    for a in factors:
        for b in factors:
            if a != b and _covers(a, b):
                found.append((factors[b], f"{b} lies inside {a}, which the sweep varies too: "
                                          f"one would replace the other at every point; "
                                          f"vary one of them"))
    for name, sets in variants.items():
        for key in sets:
            for f in factors:
                if _covers(f, key):
                    found.append((f"vary.variants.{name}.{key}",
                                  f"the factorial varies {f}, which sets this key at every "
                                  f"point, so variant {name}'s value is never used; give it "
                                  f"in one place"))
    # (a key some variants set and others not is set at some points only: a --set of it
    # is what the other points use)
    everywhere = set.intersection(*(set(sets) for sets in variants.values())) \
        if variants else set()
    swept = {**factors, **{k: f"vary.variants.{name}.{k}" for name, sets in variants.items()
                           for k in sets if k in everywhere}}
    given = [(text.partition("=")[0].strip(), None) for text in overrides]
    given += [(f"run.{name}", f"--{name}") for name in RUN_KEYS
              if (run_options or {}).get(name) is not None]
    for key, option in given:
        for f, origin in swept.items():
            if key != "vary" and _covers(f, key):
                found.append((option or f"--set {key}",
                              f"the sweep sets {f} at every point ({origin}), so this "
                              f"{option or '--set'} would be lost; vary it instead or take "
                              f"it out of the sweep"))
    return found


# run options that set a key of the scenario's `run:` (the command line's --horizon, ...)
RUN_KEYS = ("horizon", "warmup", "seed", "replications", "engine")


def _shared(a: str, b: str) -> int:
    """How many leading dotted parts two key paths share."""
    n = 0
    for x, y in zip(a.split("."), b.split(".")):
        if x != y:
            break
        n += 1
    return n


def _entry_lines(path: str | Path, overrides: Sequence[str]
                 ) -> dict[str, tuple[str, int | None, int | None]]:
    """File, line and column of every `vary:` entry (the file is a base's where the
    section comes from one), by its origin text."""
    from twin.scenario.merge import _document

    lines = {}
    for keys, origin in _document(path, overrides).origins.items():
        if len(keys) >= 3 and keys[0] == "vary" and not origin.override:
            lines[".".join(map(str, keys))] = (origin.file, origin.line, origin.column)
    return lines


@dataclass
class Sweep:
    """The results of every point of a sweep."""

    points: list[Point]
    results: dict[str, Results]

    def table(self) -> pd.DataFrame:
        """One row per point: its factor levels and each headline KPI's mean and 95% CI."""
        rows = []
        for point in self.points:
            res = self.results[point.label]
            kpis = replication_kpis(res.measures, res.meta)
            row: dict[str, Any] = {"point": point.label, **point.factors}
            for col in kpis.columns:
                stat = ci95(kpis[col].to_numpy(float))
                row[col] = stat["mean"]
                row[f"{col}_lo"], row[f"{col}_hi"] = stat["ci95"]
            rows.append(row)
        return pd.DataFrame(rows)

    def measures(self) -> pd.DataFrame:
        """The measures of every point in one tidy table, with a `point` column."""
        return pd.concat([r.measures.assign(point=label) for label, r in self.results.items()],
                         ignore_index=True)

    def summary(self) -> dict[str, Any]:
        return {"points": [{"point": p.label, "factors": p.factors,
                            "summary": self.results[p.label].summary()} for p in self.points]}


_PREPARED = ("replications", "seed", "horizon", "warmup", "engine", "event_log")
MAX_POINTS = 10_000  # points of one sweep: each is a whole experiment


def load_points(path: str | Path, overrides: Sequence[str] = (),
                extra_factors: dict[str, list[Any]] | None = None,
                run_options: dict[str, Any] | None = None
                ) -> tuple[list[Point], dict[str, Any]]:
    """Every point of the sweep of `path` and its validated scenario; ScenarioError lists
    the bad levels, each at the `vary:` entry (or --vary option) that set it, also those
    only the run would refuse with `run_options` (the flowline engine's reach)."""
    import twin
    from twin.experiment import prepare

    base = twin.load(path, overrides)
    pts = points(base.vary, extra_factors)
    # (the lines of the vary: entries, read again from the file only if a level is bad)
    lines = functools.cache(lambda: _entry_lines(path, overrides) if base.vary is not None else {})
    if len(pts) > MAX_POINTS:
        raise ScenarioError(Problem(
            str(path) if base.vary is not None else COMMAND_LINE, "vary",
            f"{len(pts):,} points, more than the {MAX_POINTS:,} a sweep may have (each is a "
            f"whole experiment); give fewer levels, or screen layouts of a line on the "
            f"flowline engine with twin.sweep (docs/flowline.md)"))
    clashes = _clashes(base.vary, extra_factors, overrides, run_options)
    if clashes:
        raise ScenarioError([
            Problem(COMMAND_LINE, origin, message) if origin.startswith("--")
            else _at_entry(origin, message, lines(), str(path)) for origin, message in clashes])
    scenarios = {}
    problems: dict[tuple[str, str], tuple[Problem, str | None]] = {}

    def refused(e: ScenarioError, point: Point) -> None:
        for problem in e.problems:
            located, level = _locate_level(problem, point, str(path), lines, base.vary)
            problems.setdefault((located.where, located.message), (located, level))

    for point in pts:
        try:
            scenarios[point.label] = twin.load(path, [*overrides, "vary=", *point.overrides])
        except ScenarioError as e:
            refused(e, point)
    options = {k: v for k, v in (run_options or {}).items() if k in _PREPARED}
    for point in pts if not problems else ():
        try:
            prepare(scenarios[point.label], **options)
        except ScenarioError as e:
            refused(e, point)
    if problems:
        raise ScenarioError(_same_for_every_level(list(problems.values())))
    return pts, scenarios


def _entry_key(problem: Problem, point: Point) -> str | None:
    """The key of the point's entry that set the problem's place: the one whose key path
    holds it, else, for a problem on the command line (only a point's own levels are set
    there: the base scenario, with any --set, loaded already), the one sharing the longest
    part of it; None if none does."""
    where = problem.where.removeprefix("--set ")
    keys = sorted(point.origins, key=len, reverse=True)
    key = next((k for k in keys if _covers(k, where)), None)
    if key is None and problem.file == COMMAND_LINE:
        key = max(keys, key=lambda k: (_shared(k, where), len(k)), default=None)
        if key is not None and _shared(key, where) == 0:
            key = None
    return key


def _same_for_every_level(problems: list[tuple[Problem, str | None]]) -> list[Problem]:
    """A problem that several levels of one entry share word for word (a misspelt key) is
    said once, for all of them, instead of once a level."""
    groups: dict[tuple, list[tuple[Problem, str]]] = {}
    out: list[Problem] = []
    for p, level in problems:
        if level is None:
            out.append(p)
            continue
        rest = p.message[len(f"level {level}: "):]  # (`_locate_level` put it there)
        groups.setdefault((p.file, p.where, rest), []).append((p, level))
    for (_, _, rest), group in groups.items():
        if len(group) > 1:
            levels = ", ".join(level for _, level in group)
            out.append(replace(group[0][0], message=f"levels {levels}: {rest}"))
        else:
            out.append(group[0][0])
    return out


def run_sweep(path: str | Path, overrides: Sequence[str] = (),
              extra_factors: dict[str, list[Any]] | None = None,
              out: str | Path | None = None, **run_options: Any) -> Sweep:
    """Load every point of the sweep (all validated before any runs), then run each.

    With `out`, each point keeps its replications under `out/points/pNNN/`, so
    `resume=True` (an option of `twin.run`) finishes an interrupted sweep."""
    import twin

    pts, scenarios = load_points(path, overrides, extra_factors, run_options)
    out_folder(out)  # (now that every point is valid: a refused sweep leaves no folder)
    results = {}
    for i, point in enumerate(pts):
        where = None if out is None else Path(out) / "points" / f"p{i:03d}"
        results[point.label] = twin.run(scenarios[point.label], out=where, **run_options)
        if where is not None:
            results[point.label].write(where, run_options.get("table_format", "parquet"))
            write_atomic(where / "point.json", json.dumps(
                {"point": point.label, "factors": point.factors}, indent=2,
                default=str).encode())
    return Sweep(pts, results)
