"""The report's look: matplotlib style, sizes, colours, rendering to PNG and the small drawing
helpers that the run and comparison figures share.

Figures are built on `matplotlib.figure.Figure` (no pyplot, no global state) and rendered
with the Agg backend to PNG under `STYLE`, so every figure reads the same.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib
import numpy as np
from matplotlib.figure import Figure

STYLE = {
    "font.size": 11, "axes.titlesize": 13, "axes.titleweight": "bold", "axes.labelsize": 11,
    "xtick.labelsize": 10, "ytick.labelsize": 10, "legend.fontsize": 10,
    "figure.titlesize": 14, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "axes.axisbelow": True,
}
DPI = 110
WIDTH = 10.0  # inches
# Okabe-Ito colours: distinguishable with colour-vision deficiency
STATE_COLOURS = {"busy": "#009E73", "starved": "#F0E442", "blocked": "#D55E00",
                 "down": "#333333", "setup": "#56B4E9", "off_shift": "#BBBBBB"}
CARRIER_COLOURS = {"electricity": "#0072B2", "heat": "#E69F00", "recovered": "#009E73"}
SOLE, SHIFTING = "#CC3311", "#EE99AA"


def render(build: Callable[[], Figure]) -> bytes:
    """Build a figure under the report style and return it as PNG bytes (Agg)."""
    with matplotlib.rc_context(STYLE):
        fig = build()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


# --- helpers ---------------------------------------------------------------------------

def _scale(values: np.ndarray, unit: str) -> tuple[float, str]:
    """Divisor and unit so that the largest value reads below a thousand (kWh -> MWh, GWh)."""
    arr = np.abs(np.asarray(values, dtype=float))
    top = float(np.nanmax(arr)) if arr.size and np.isfinite(arr).any() else 0.0
    for div, prefix in ((1e6, "G"), (1e3, "M")):
        if top >= div:
            return div, prefix + unit[1:]
    return 1.0, unit


def _height(n: int, per: float = 0.42, extra: float = 1.8) -> float:
    """Figure height (inches) for `n` rows of bars: `extra` plus `per` a row, at least 3.2."""
    return max(3.2, extra + per * n)


def _pct(ax, x: float, y: float, width: float, text_min: float = 0.06, dark: bool = False):
    """Write a bar segment's share in its middle, if the segment is wide enough to hold it."""
    if width >= text_min:
        ax.text(x + width / 2, y, f"{width:.0%}", ha="center", va="center", fontsize=9,
                color="white" if dark else "black")
