"""Distributions as written in scenarios: parsing, means, samples, and bad parameters.

Expected means and variances come from textbook formulas written out here, not from the
code under test.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import yaml
from pydantic_core import PydanticCustomError

from twin.scenario.distributions import Dist, parse_distribution
from twin.units import parse_duration

N = 200_000


def _phi(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _Phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _truncnorm_moments(mu: float, sd: float) -> tuple[float, float]:
    """Mean and variance of N(mu, sd) truncated to [0, inf)."""
    alpha = -mu / sd
    lam = _phi(alpha) / (1 - _Phi(alpha))
    return mu + sd * lam, sd * sd * (1 + alpha * lam - lam * lam)


_W = (1.5, 8 * 3600.0)  # weibull shape, scale
_TN = _truncnorm_moments(5.0, 5.0)

# form as written in YAML -> (kind, mean, variance) from theory
CASES: dict[str, tuple[str, float, float]] = {
    '"2 h"': ("constant", 7200.0, 0.0),
    "7200": ("constant", 7200.0, 0.0),
    '{exponential: "2 h"}': ("exponential", 7200.0, 7200.0**2),
    '{lognormal: {mean: "60 s", cv: 0.2}}': ("lognormal", 60.0, (0.2 * 60) ** 2),
    '{gamma: {mean: "60 s", cv: 0.5}}': ("gamma", 60.0, (0.5 * 60) ** 2),
    '{erlang: {mean: "60 s", k: 4}}': ("erlang", 60.0, 60.0**2 / 4),
    '{normal: {mean: "60 s", sd: "5 s"}}': ("normal", 60.0, 25.0),  # truncation negligible
    '{normal: {mean: "5 s", sd: "5 s"}}': ("normal", *_TN),
    '{uniform: ["50 s", "70 s"]}': ("uniform", 60.0, 20.0**2 / 12),
    '{triangular: ["50 s", "55 s", "80 s"]}': (
        "triangular", 185 / 3, (50**2 + 55**2 + 80**2 - 50 * 55 - 50 * 80 - 55 * 80) / 18),
    '{weibull: {shape: 1.5, scale: "8 h"}}': (
        "weibull", _W[1] * math.gamma(1 + 1 / _W[0]),
        _W[1] ** 2 * (math.gamma(1 + 2 / _W[0]) - math.gamma(1 + 1 / _W[0]) ** 2)),
    '{empirical: ["50 s", "52 s", "61 s"]}': ("empirical", 163 / 3, float(np.var([50, 52, 61]))),
}


def parse(text: str) -> Dist:
    return parse_distribution(yaml.safe_load(text))


@pytest.mark.parametrize("text", CASES)
def test_every_form_parses_with_the_right_mean(text: str) -> None:
    kind, mean, _ = CASES[text]
    d = parse(text)
    assert d.kind == kind
    assert d.mean == pytest.approx(mean, rel=1e-9)


def test_known_numbers() -> None:
    """A few means worked out by hand, independent of any formula above."""
    assert parse('{weibull: {shape: 1.5, scale: "8 h"}}').mean == pytest.approx(28800 * 0.9027452929509336)
    assert parse('{normal: {mean: "5 s", sd: "5 s"}}').mean == pytest.approx(6.4380, abs=1e-4)
    assert parse('{triangular: ["50 s", "55 s", "80 s"]}').mean == pytest.approx(61.6667, abs=1e-4)


@pytest.mark.parametrize("text", CASES)
def test_sample_mean_within_four_standard_errors(text: str) -> None:
    _, mean, variance = CASES[text]
    draws = parse(text).sample(np.random.default_rng(20240611), N)
    assert draws.shape == (N,)
    se = math.sqrt(variance / N)
    if se == 0:
        assert np.all(draws == mean)
    else:
        assert abs(draws.mean() - mean) < 4 * se


@pytest.mark.parametrize("text, cv", [
    ('{lognormal: {mean: "60 s", cv: 0.2}}', 0.2),
    ('{gamma: {mean: "60 s", cv: 0.5}}', 0.5),
    ('{erlang: {mean: "60 s", k: 4}}', 0.5),
])
def test_sample_cv(text: str, cv: float) -> None:
    draws = parse(text).sample(np.random.default_rng(7), N)
    assert draws.std() / draws.mean() == pytest.approx(cv, rel=0.02)


def test_truncated_normal_is_never_negative() -> None:
    draws = parse('{normal: {mean: "1 s", sd: "5 s"}}').sample(np.random.default_rng(3), N)
    assert draws.min() >= 0


def test_same_generator_state_same_draws() -> None:
    d = parse('{gamma: {mean: "60 s", cv: 0.5}}')
    a = d.sample(np.random.default_rng(11), 100)
    b = d.sample(np.random.default_rng(11), 100)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("text, expected", [
    ('{exponential: "-5 s"}', "must be positive"),
    ("{exponential: 0}", "must be positive"),
    ("-3", "must not be negative"),
    ('{lognormal: {mean: "60 s", cv: -1}}', "lognormal.cv must be positive"),
    ('{lognormal: {mean: "60 s", cv: .nan}}', "must be a finite number"),
    ('{gamma: {mean: .nan, cv: 0.5}}', "must be finite"),
    ('{weibull: {shape: .inf, scale: "8 h"}}', "must be a finite number"),
    ('{weibull: {shape: 0, scale: "8 h"}}', "weibull.shape must be at least"),
    ('{weibull: {shape: 0.001, scale: "8 h"}}', "weibull.shape must be at least"),
    ('{erlang: {mean: "60 s", k: 0}}', "erlang.k must be a whole number"),
    ('{erlang: {mean: "60 s", k: 2.5}}', "erlang.k must be a whole number"),
    ('{normal: {mean: "60 s", sd: "-1 s"}}', "normal.sd must not be negative"),
    ('{uniform: ["5 s", "2 s"]}', "uniform needs 0 <= a <= b"),
    ('{uniform: ["5 s"]}', "a list of 2 durations"),
    ('{uniform: ["5 s", "6 s", "7 s"]}', "a list of 2 durations"),
    ('{triangular: ["5 s", "9 s"]}', "a list of 3 durations"),
    ('{triangular: ["5 s", "1 s", "9 s"]}', "min <= mode <= max"),
    ("{empirical: []}", "non-empty list"),
    ('{lognormol: {mean: "60 s", cv: 0.2}}', "Did you mean 'lognormal'?"),
    ('{lognormal: {mean: "60 s", cvv: 0.2}}', "Did you mean 'cv'?"),
    ('{lognormal: {mean: "60 s"}}', "lognormal needs 'cv'"),
    ('{exponential: "2 h", uniform: [1, 2]}', "exactly one key"),
    ('"5 sec"', "unknown time unit 'sec'"),
    ("1" + "0" * 400, "far too large"),
    ('{lognormal: {mean: 60, cv: 1' + "0" * 400 + "}}", "must be a finite number"),
    ('{erlang: {mean: 60, k: 1' + "0" * 400 + "}}", "erlang.k must be a whole number"),
])
def test_bad_parameters_say_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(PydanticCustomError) as info:
        parse(text)
    assert expected in info.value.message()


@pytest.mark.parametrize("text, seconds", [
    ("18 s", 18.0), ("20 min", 1200.0), ("2 h", 7200.0), ("14 d", 14 * 86400.0),
    ("1 w", 7 * 86400.0), ("1.5 h", 5400.0), (" 90 s ", 90.0),
])
def test_durations_with_units(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse(f'"{text}"') == Dist("constant", (seconds,))


# text needs a unit (the spec's "<number> <unit>", as the JSON Schema says): "90" and
# YAML 1.2's text 5_0 are no durations; the number 90 is
@pytest.mark.parametrize("value", ["5 sec", "h", "", "2 hours", True, None, [1], float("nan"),
                                   float("inf"), "90", "5_0"])
def test_bad_durations(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_a_number_is_seconds() -> None:
    assert parse_duration(90) == 90.0 and parse("90") == Dist("constant", (90.0,))
