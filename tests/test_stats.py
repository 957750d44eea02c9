"""Student-t confidence intervals over replications."""

from __future__ import annotations

import json
import math

import pytest

from twin.analysis.stats import ci95, t_halfwidth

# Hand computation for [1, 2, 3, 4, 5]: mean 3, sample variance 2.5,
# t(0.975, 4) = 2.776445 (tables), half-width = 2.776445 * sqrt(2.5 / 5) = 1.963243.
HALF = 1.963243


def test_known_sample_interval() -> None:
    res = ci95([1, 2, 3, 4, 5])
    assert res["mean"] == pytest.approx(3.0)
    lo, hi = res["ci95"]
    assert lo == pytest.approx(3.0 - HALF, abs=1e-6)
    assert hi == pytest.approx(3.0 + HALF, abs=1e-6)


def test_halfwidth_known_sample() -> None:
    assert t_halfwidth([1, 2, 3, 4, 5]) == pytest.approx(HALF, abs=1e-6)


def test_halfwidth_other_confidence() -> None:
    # t(0.95, 4) = 2.131847 from tables; half-width = 2.131847 * sqrt(0.5).
    assert t_halfwidth([1, 2, 3, 4, 5], confidence=0.90) == pytest.approx(
        2.131847 * math.sqrt(0.5), abs=1e-6)


def test_order_and_container_do_not_matter() -> None:
    assert ci95((5, 3, 1, 4, 2)) == ci95([1.0, 2.0, 3.0, 4.0, 5.0])
    assert ci95(x for x in [1, 2, 3, 4, 5])["mean"] == pytest.approx(3.0)


def test_one_value() -> None:
    assert ci95([7.5]) == {"mean": 7.5, "ci95": [7.5, 7.5]}
    assert t_halfwidth([7.5]) == math.inf


def test_nan_dropped() -> None:
    res = ci95([1, float("nan"), 2, 3, 4, float("nan"), 5])
    assert res["mean"] == pytest.approx(3.0)
    assert res["ci95"][0] == pytest.approx(3.0 - HALF, abs=1e-6)
    assert res["ci95"][1] == pytest.approx(3.0 + HALF, abs=1e-6)
    assert ci95([float("nan"), 4.0]) == {"mean": 4.0, "ci95": [4.0, 4.0]}


def test_nothing_left() -> None:
    assert ci95([]) == {"mean": None, "ci95": [None, None]}
    assert ci95([float("nan"), float("nan")]) == {"mean": None, "ci95": [None, None]}
    assert t_halfwidth([]) == math.inf


def test_zero_variance() -> None:
    assert ci95([2.0, 2.0, 2.0]) == {"mean": 2.0, "ci95": [2.0, 2.0]}
    assert t_halfwidth([2.0, 2.0, 2.0]) == 0.0


def test_plain_python_floats() -> None:
    import numpy as np

    res = ci95(np.array([1, 2, 3, 4, 5], dtype=np.int64))
    assert type(res["mean"]) is float
    assert all(type(x) is float for x in res["ci95"])
    json.dumps(res)


def test_bad_confidence() -> None:
    with pytest.raises(ValueError):
        t_halfwidth([1, 2, 3], confidence=1.0)
