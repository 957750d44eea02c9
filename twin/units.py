"""Durations and their units. Inside twin every time is in seconds; results report hours."""

from __future__ import annotations

import datetime
import math
import re

SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
MAX_DURATION_S = 1e15  # beyond any time a plant knows (a time to failure meaning "never"
# fits well below), and far from where squares and sums of times overflow
HOUR = 3600.0

_DURATION = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-z]+)\s*$")
DURATION_PATTERN = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*(s|min|h|d|w)\s*$"


class DurationTooLarge(ValueError):
    """A duration beyond MAX_DURATION_S: well formed, but surely a typo."""


def parse_duration(value: object) -> float:
    """Seconds from a number of seconds or a string "<number> <unit>" (units s, min, h, d, w).

    Raises ValueError with the offending value for anything else, including NaN and infinity.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30 or \"18 s\", got {value!r}")
    if isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:
            raise ValueError("the duration is far too large") from None
    elif isinstance(value, str):
        m = _DURATION.match(value)
        if not m:  # (text without a unit, "50" or YAML 1.2's 5_0, is no duration either)
            raise ValueError(
                f"expected a duration such as \"18 s\", \"20 min\", \"2 h\", \"14 d\" "
                f"(units s, min, h, d, w) or a number of seconds without quotes, got "
                f"{value!r}")
        else:
            number, unit = m.groups()
            if unit not in SECONDS:
                raise ValueError(
                    f"unknown time unit {unit!r} in {value!r}; use one of s, min, h, d, w"
                )
            seconds = float(number) * SECONDS[unit]
    elif isinstance(value, (datetime.date, datetime.time)):  # YAML read a date (2024-12-24)
        raise ValueError(f"expected a duration such as 30 or \"18 s\", got the date "
                         f"{value.isoformat()}: times here are durations from the run's "
                         f"start (\"20 d\", \"490 h\"), not dates")
    else:
        raise ValueError(f"expected a duration such as 30 or \"18 s\", got {value!r}")
    if not math.isfinite(seconds):
        raise ValueError(f"a duration must be finite, got {value!r}")
    if seconds > MAX_DURATION_S:  # (a negative one is refused where it is used)
        raise DurationTooLarge(f"the duration {value!r} is far too large (more than {MAX_DURATION_S:g} "
                         f"s, some 30 million years): a typo?")
    return seconds


def hours(seconds: float) -> float:
    """Seconds to hours."""
    return seconds / HOUR
