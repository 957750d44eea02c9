"""Probability distributions of durations, as written in scenario files.

A distribution is parsed once, at the edge, into a frozen `Dist`; the engine only asks it
for its mean and for vectors of samples from a generator it is handed.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic_core import PydanticCustomError, core_schema
from scipy import stats

from twin.errors import did_you_mean
from twin.scenario.datafiles import read_durations
from twin.units import DURATION_PATTERN, MAX_DURATION_S, SECONDS, parse_duration

MAX_ERLANG_K = 1_000_000
MAX_CV = 100.0  # far beyond any process or repair time; much more and cv * cv overflows
MIN_WEIBULL_SHAPE = 0.01  # gamma(1 + 1/shape) overflows a float below about 0.0058

KINDS = (
    "constant", "exponential", "lognormal", "gamma", "erlang", "normal",
    "uniform", "triangular", "weibull", "empirical",
)


BOUNDED = ("constant", "uniform", "triangular", "empirical")  # kinds with a largest value


@dataclass(frozen=True)
class Dist:
    """A distribution of durations in seconds: `kind` and its parameters (seconds)."""

    kind: str
    params: tuple[float, ...]

    @property
    def mean(self) -> float:
        """The mean in seconds (for `normal`, the mean of the distribution truncated at 0)."""
        k, p = self.kind, self.params
        if k in ("constant", "exponential", "lognormal", "gamma", "erlang"):
            return p[0]
        if k == "normal":
            mu, sd = p
            if sd == 0:
                return max(mu, 0.0)
            return float(stats.truncnorm(-mu / sd, math.inf, loc=mu, scale=sd).mean())
        if k == "uniform":
            return (p[0] + p[1]) / 2
        if k == "triangular":
            return sum(p) / 3
        if k == "weibull":
            shape, scale = p
            return scale * math.gamma(1 + 1 / shape)
        return float(np.mean(p))  # empirical

    @property
    def longest(self) -> float:
        """The longest value of a bounded distribution, else its mean (seconds): what the
        battery checks count a load or a lift's drive-in as."""
        return max(self.params) if self.kind in BOUNDED else self.mean

    @property
    def is_constant(self) -> bool:
        return self.kind == "constant" or (self.kind == "empirical" and len(set(self.params)) == 1)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """`size` independent draws (seconds) from `rng`, always consuming it the same way."""
        k, p = self.kind, self.params
        if k == "constant":
            return np.full(size, p[0])
        if k == "exponential":
            return rng.exponential(p[0], size)
        if k == "lognormal":
            mean, cv = p
            s2 = math.log1p(cv * cv)
            return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), size)
        if k == "gamma":
            mean, cv = p
            if cv == 0:
                return np.full(size, mean)
            return rng.gamma(1 / (cv * cv), mean * cv * cv, size)
        if k == "erlang":
            mean, kk = p
            return rng.gamma(kk, mean / kk, size)
        if k == "normal":
            return _truncated_normal(rng, p[0], p[1], size)
        if k == "uniform":
            return rng.uniform(p[0], p[1], size)
        if k == "triangular":
            lo, mode, hi = p
            if lo == hi:
                return np.full(size, lo)
            return rng.triangular(lo, mode, hi, size)
        if k == "weibull":
            shape, scale = p
            return scale * rng.weibull(shape, size)
        values = np.asarray(p)
        return values[rng.integers(0, len(values), size)]


def _truncated_normal(rng: np.random.Generator, mu: float, sd: float, size: int) -> np.ndarray:
    """Normal draws truncated at 0 by inversion (one uniform per draw, so streams stay aligned)."""
    if sd == 0:
        return np.full(size, max(mu, 0.0))
    u = rng.random(size)
    a = stats.norm.cdf(-mu / sd)
    return mu + sd * stats.norm.ppf(a + u * (1 - a))


def _dur(value: Any, what: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as e:
        raise _err(f"{what}: {e}") from None
    except OverflowError:  # an integer too large for a float
        raise _err(f"{what}: the duration is far too large") from None


def _num(value: Any, what: str) -> float:
    try:
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        ok = False
    if not ok:
        raise _err(f"{what} must be a finite number, got {value!r:.40}")
    return float(value)


def _err(msg: str) -> PydanticCustomError:
    return PydanticCustomError("distribution", msg)


def _positive(x: float, what: str) -> float:
    if not x > 0:
        raise _err(f"{what} must be positive, got {x:g} s")
    return x


def _mapping(body: Any, kind: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(body, dict):
        raise _err(f"{kind} takes a mapping with keys {', '.join(keys)}, got {body!r}")
    for key in body:
        if key not in keys:
            raise _err(f"{kind} has no parameter {key!r}.{did_you_mean(key, keys)}")
    for key in keys:
        if key not in body and key not in optional:
            raise _err(f"{kind} needs {key!r} (e.g. {kind}: {{{', '.join(k + ': ...' for k in keys)}}})")
    return body


def _list(body: Any, kind: str, n: int | None) -> list:
    if not isinstance(body, list) or (n is not None and len(body) != n) or not body:
        want = f"a list of {n} durations" if n else "a non-empty list of durations"
        raise _err(f"{kind} takes {want}, got {body!r}")
    return [_dur(v, kind) for v in body]


def parse_distribution(raw: Any) -> Dist:
    """Parse one distribution as written in YAML; raises a located-by-caller error message."""
    if isinstance(raw, Dist):
        return raw
    if not isinstance(raw, dict):
        v = _dur(raw, "constant duration")
        if v < 0:
            raise _err(f"a duration must not be negative, got {raw!r}")
        return Dist("constant", (v,))
    if len(raw) != 1:
        raise _err(
            f"a distribution is a mapping with exactly one key (its kind, one of "
            f"{', '.join(KINDS[1:])}), got keys {sorted(map(str, raw))}"
        )
    (kind, body), = raw.items()
    if kind not in KINDS:
        raise _err(f"unknown distribution {kind!r}.{did_you_mean(kind, KINDS)}")
    if kind == "constant":
        return parse_distribution(body)
    if kind == "exponential":
        return Dist(kind, (_positive(_dur(body, kind), "exponential mean"),))
    if kind in ("lognormal", "gamma"):
        b = _mapping(body, kind, ("mean", "cv"))
        cv = _num(b["cv"], f"{kind}.cv")
        if cv < 0 or (kind == "lognormal" and cv == 0):
            raise _err(f"{kind}.cv must be positive, got {cv:g}")
        if cv > MAX_CV:  # (beyond, cv * cv overflows and every draw would be NaN)
            raise _err(f"{kind}.cv must be at most {MAX_CV:g}, got {cv:g}")
        return Dist(kind, (_positive(_dur(b["mean"], f"{kind}.mean"), f"{kind}.mean"), cv))
    if kind == "erlang":
        b = _mapping(body, kind, ("mean", "k"))
        k = b["k"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_ERLANG_K:
            raise _err(f"erlang.k must be a whole number from 1 to {MAX_ERLANG_K}, got {k!r:.40}")
        return Dist(kind, (_positive(_dur(b["mean"], "erlang.mean"), "erlang.mean"), float(k)))
    if kind == "normal":
        b = _mapping(body, kind, ("mean", "sd"))
        mu, sd = _dur(b["mean"], "normal.mean"), _dur(b["sd"], "normal.sd")
        if sd < 0:
            raise _err(f"normal.sd must not be negative, got {b['sd']!r}")
        if mu <= 0:
            raise _err(f"normal.mean must be positive, got {b['mean']!r}")
        return Dist(kind, (mu, sd))
    if kind == "uniform":
        a, b = _list(body, kind, 2)
        if not 0 <= a <= b:
            raise _err(f"uniform needs 0 <= a <= b, got [{a:g} s, {b:g} s]")
        return Dist(kind, (a, b))
    if kind == "triangular":
        lo, mode, hi = _list(body, kind, 3)
        if not 0 <= lo <= mode <= hi:
            raise _err(f"triangular needs 0 <= min <= mode <= max, got [{lo:g}, {mode:g}, {hi:g}] s")
        return Dist(kind, (lo, mode, hi))
    if kind == "weibull":
        b = _mapping(body, kind, ("shape", "scale"))
        shape = _num(b["shape"], "weibull.shape")
        if not shape >= MIN_WEIBULL_SHAPE:  # below it the mean overflows a float
            raise _err(f"weibull.shape must be at least {MIN_WEIBULL_SHAPE:g}, got {shape:g}")
        return Dist(kind, (shape, _positive(_dur(b["scale"], "weibull.scale"), "weibull.scale")))
    if isinstance(body, dict):  # {file: NAME, column: NAME, unit: s}: a column of a CSV file
        b = _mapping(body, kind, ("file", "column", "unit"), optional=("column", "unit"))
        if isinstance(b["file"], os.PathLike):  # (a scenario built in code)
            b = {**b, "file": os.fspath(b["file"])}
        if not isinstance(b["file"], str) or not b["file"].strip():
            raise _err(f"empirical.file must be the name of a CSV file, got {b['file']!r:.60}")
        for key in ("column", "unit"):
            if key in b and not isinstance(b[key], str):
                raise _err(f"empirical.{key} must be text, got {b[key]!r:.60}")
        try:
            values = read_durations(b["file"], b.get("column"), b.get("unit", "s"))
        except ValueError as e:
            raise _err(f"empirical: {e}") from None
        return Dist(kind, tuple(values))
    values = _list(body, kind, None)
    if min(values) < 0:
        raise _err(f"empirical values must not be negative, got {min(values):g} s")
    return Dist(kind, tuple(values))


_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "maximum": MAX_DURATION_S, "description": "seconds"},
        {"type": "string", "pattern": DURATION_PATTERN, "examples": ["18 s", "20 min", "14 d"]},
    ]
}


def _form(kind: str, body: dict) -> dict:
    return {"type": "object", "properties": {kind: body}, "required": [kind],
            "additionalProperties": False}


def _params(**props: dict) -> dict:
    return {"type": "object", "properties": props, "required": list(props),
            "additionalProperties": False}


DIST_JSON_SCHEMA = {
    "title": "Distribution",
    "description": "A duration: a constant, or one of the distributions of the scenario format.",
    "anyOf": [
        *_DURATION_SCHEMA["anyOf"],
        _form("exponential", _DURATION_SCHEMA),
        _form("lognormal", _params(mean=_DURATION_SCHEMA, cv={"type": "number", "exclusiveMinimum": 0,
                                                             "maximum": MAX_CV})),
        _form("gamma", _params(mean=_DURATION_SCHEMA, cv={"type": "number", "minimum": 0,
                                                         "maximum": MAX_CV})),
        _form("erlang", _params(mean=_DURATION_SCHEMA, k={"type": "integer", "minimum": 1, "maximum": MAX_ERLANG_K})),
        _form("normal", _params(mean=_DURATION_SCHEMA, sd=_DURATION_SCHEMA)),
        _form("uniform", {"type": "array", "items": _DURATION_SCHEMA, "minItems": 2, "maxItems": 2}),
        _form("triangular", {"type": "array", "items": _DURATION_SCHEMA, "minItems": 3, "maxItems": 3}),
        _form("weibull", _params(shape={"type": "number", "minimum": MIN_WEIBULL_SHAPE}, scale=_DURATION_SCHEMA)),
        _form("empirical", {"anyOf": [
            {"type": "array", "items": _DURATION_SCHEMA, "minItems": 1},
            {"type": "object", "description": "(extension) the values of one column of a CSV "
             "file (relative to the scenario file that names it): numbers in `unit`, or "
             "durations with their own unit; a first row with a cell that is neither is "
             "the header",
             "properties": {"file": {"type": "string", "minLength": 1},
                            "column": {"type": "string", "description": "the header of "
                                       "the column; not needed for a file of one column"},
                            "unit": {"enum": list(SECONDS), "default": "s"}},
             "required": ["file"], "additionalProperties": False,
             "examples": [{"file": "data/weld_cycle_times.csv", "column": "cycle_s"},
                          {"file": "data/weld_repairs.csv", "unit": "min"}]}]}),
    ],
}


def written(d: Dist) -> Any:
    """The distribution as a scenario file writes it (seconds), so that a dumped scenario
    reads back the same: `parse_distribution(written(d)) == d`."""
    k, p = d.kind, d.params
    if k == "constant":
        return p[0]
    if k == "exponential":
        return {k: p[0]}
    if k in ("lognormal", "gamma"):
        return {k: {"mean": p[0], "cv": p[1]}}
    if k == "erlang":
        return {k: {"mean": p[0], "k": int(p[1])}}
    if k == "normal":
        return {k: {"mean": p[0], "sd": p[1]}}
    if k == "weibull":
        return {k: {"shape": p[0], "scale": p[1]}}
    return {k: list(p)}  # uniform, triangular, empirical


class _DistributionType:
    """Pydantic adapter: validates with `parse_distribution`, dumps as a file writes it
    (`written`), documents with DIST_JSON_SCHEMA."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            parse_distribution, serialization=core_schema.plain_serializer_function_ser_schema(
                written))

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict:
        return dict(DIST_JSON_SCHEMA)


Distribution = _DistributionType  # use as a field type in pydantic models
