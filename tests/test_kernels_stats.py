"""Statistics kernels against their plain-Python references (also without the JIT)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from twin.kernels import stats as ks


@hst.composite
def step_functions(draw):
    n = draw(hst.integers(0, 30))
    times = np.sort(np.array(draw(hst.lists(hst.floats(-5, 105), min_size=n, max_size=n))))
    values = np.array(draw(hst.lists(hst.integers(0, 4), min_size=n, max_size=n)),
                      dtype=np.int64)
    start = draw(hst.floats(0, 40))
    end = start + draw(hst.floats(0.5, 60))
    return times, values, draw(hst.integers(0, 4)), start, end


@settings(max_examples=200, deadline=None)
@given(step_functions())
def test_time_weighted_matches_reference(case) -> None:
    times, values, initial, start, end = case
    got = ks.time_weighted(times, values.astype(float), float(initial), start, end)
    want = ks.time_weighted_reference(times, values, initial, start, end)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(step_functions())
def test_time_in_states_matches_reference(case) -> None:
    times, states, initial, start, end = case
    got = ks.time_in_states(times, states, initial, 5, start, end)
    np.testing.assert_allclose(got, ks.time_in_states_reference(times, states, initial, 5,
                                                                start, end), atol=1e-9)
    assert got.sum() == pytest.approx(end - start)


def test_time_weighted_known_answer() -> None:
    # level 0 on [0,2), 3 on [2,5), 1 on [5,10): mean 1.4, E[x^2] = 3.2, var 1.24
    mean, var, lo, hi = ks.time_weighted(np.array([2.0, 5.0]), np.array([3.0, 1.0]), 0.0,
                                         0.0, 10.0)
    assert (mean, var, lo, hi) == pytest.approx((1.4, 1.24, 0.0, 3.0))


@settings(max_examples=100, deadline=None)
@given(hst.lists(hst.floats(-100, 100), min_size=0, max_size=400), hst.integers(1, 20))
def test_mser5_and_batch_means_match_references(values, k) -> None:
    y = np.array(values)
    assert ks.mser5(y) == ks.mser5_reference(y)
    if len(y) >= k:
        np.testing.assert_allclose(ks.batch_means(y, k), ks.batch_means_reference(y, k),
                                   rtol=1e-12, atol=1e-12)


def test_mser5_finds_an_initial_transient() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    y = rng.normal(10.0, 1.0, n)
    y[:500] += np.linspace(30.0, 0.0, 500)  # a decaying initial bias
    cut = ks.mser5(y)
    assert 250 <= cut <= 800 and cut % 5 == 0
    assert ks.mser5(rng.normal(0, 1, n)) < 500  # stationary: little or nothing deleted


def test_batch_means_leave_out_the_earliest_remainder() -> None:
    y = np.arange(11, dtype=float)  # 11 = 3 * 3 + 2: drop 0 and 1
    np.testing.assert_array_equal(ks.batch_means(y, 3), [3.0, 6.0, 9.0])


def test_stats_kernels_without_jit() -> None:
    script = (
        "import numpy as np\n"
        "from twin.kernels import stats as ks\n"
        "rng = np.random.default_rng(0); y = rng.normal(size=503)\n"
        "assert ks.mser5(y) == ks.mser5_reference(y)\n"
        "assert np.allclose(ks.batch_means(y, 7), ks.batch_means_reference(y, 7))\n"
        "t = np.sort(rng.uniform(0, 10, 20)); v = rng.integers(0, 3, 20)\n"
        "assert np.allclose(ks.time_weighted(t, v.astype(float), 1.0, 1.0, 9.0),\n"
        "                   ks.time_weighted_reference(t, v, 1, 1.0, 9.0))\n"
        "assert np.allclose(ks.time_in_states(t, v, 1, 3, 1.0, 9.0),\n"
        "                   ks.time_in_states_reference(t, v, 1, 3, 1.0, 9.0))\n"
        "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "NUMBA_DISABLE_JIT": "1"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
