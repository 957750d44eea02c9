"""Overall equipment effectiveness per ISO 22400-2.

OEE = availability x effectiveness x quality ratio, with
availability = APT / PBT, effectiveness = PRT/unit x produced / APT,
quality ratio = good / produced.
"""

from __future__ import annotations


def _ratio(num: float, den: float) -> float:
    """num / den, or 0.0 when den is zero (nothing planned or produced: no credit)."""
    return float(num) / float(den) if den != 0 else 0.0


def oee(
    planned_busy_time: float,
    actual_production_time: float,
    planned_run_time_per_unit: float,
    produced: float,
    good: float,
) -> dict[str, float]:
    """ISO 22400-2 OEE and its three factors as plain floats.

    Keys: availability, effectiveness, quality, oee. A factor whose denominator is
    zero (no planned busy time, no actual production time, or nothing produced) is
    0.0, and so is the OEE then. Negative inputs raise ValueError.
    """
    args = {
        "planned_busy_time": planned_busy_time,
        "actual_production_time": actual_production_time,
        "planned_run_time_per_unit": planned_run_time_per_unit,
        "produced": produced,
        "good": good,
    }
    for name, value in args.items():
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    availability = _ratio(actual_production_time, planned_busy_time)
    effectiveness = _ratio(planned_run_time_per_unit * produced, actual_production_time)
    quality = _ratio(good, produced)
    return {
        "availability": availability,
        "effectiveness": effectiveness,
        "quality": quality,
        "oee": availability * effectiveness * quality,
    }
