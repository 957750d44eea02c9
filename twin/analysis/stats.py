"""Confidence intervals over independent replications.

Each replication yields one value of a KPI; these helpers summarise them with a
Student-t interval, the standard for a small number of i.i.d. replications.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy import stats as _st


def _clean(values: Iterable[float]) -> np.ndarray:
    """Values as a float array with NaNs removed (a failed KPI must not poison the mean)."""
    seq = values if hasattr(values, "__len__") else list(values)
    arr = np.asarray(seq, dtype=float).ravel()
    return arr[~np.isnan(arr)]


def t_halfwidth(values: Iterable[float], confidence: float = 0.95) -> float:
    """Half-width of the two-sided Student-t interval for the mean of `values`.

    NaNs are dropped. With fewer than two values the half-width is unknown and
    `math.inf` is returned, so a "replicate until the relative half-width is small"
    loop keeps going. Zero variance gives 0.0.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    arr = _clean(values)
    n = arr.size
    if n < 2:
        return math.inf
    sd = float(np.std(arr, ddof=1))
    if sd == 0.0:
        return 0.0
    t = float(_st.t.ppf(0.5 + confidence / 2.0, n - 1))
    return t * sd / math.sqrt(n)


def ci95(values: Iterable[float]) -> dict[str, float | None | list[float | None]]:
    """Mean and 95% Student-t interval as `{"mean": m, "ci95": [lo, hi]}` (plain floats).

    NaNs are dropped first. No values left gives `{"mean": None, "ci95": [None, None]}`;
    one value or zero variance gives `[m, m]`.
    """
    arr = _clean(values)
    if arr.size == 0:
        return {"mean": None, "ci95": [None, None]}
    mean = float(np.mean(arr))
    hw = 0.0 if arr.size < 2 else t_halfwidth(arr, 0.95)
    return {"mean": mean, "ci95": [float(mean - hw), float(mean + hw)]}


def number(x: float | None, digits: int = 3, sign: bool = False) -> str:
    """`x` for reading: `digits` significant digits, but a number of more whole digits in
    full with thousands separators (88,830 kWh rather than 8.88e+04); "-" for no value."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    plus = "+" if sign else ""
    # (judged after rounding: 999.7 shows as 1,000, not 1e+03)
    if math.isfinite(x) and abs(float(f"{x:.{digits}g}")) >= 10 ** digits:
        return f"{x:{plus},.0f}"
    return f"{x:{plus}.{digits}g}"
