"""Arithmetic on half-open time spans [a, b): unions and differences (shift calendars, the
bottleneck's shifting periods)."""

from __future__ import annotations

from collections.abc import Sequence


def union(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, disjoint, non-touching spans covering the same time as `spans`."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def minus(a: float, b: float, union: list[tuple[float, float]],
           first: int = 0) -> list[tuple[float, float]]:
    """[a, b) less a sorted union of disjoint spans (those before `first` end before a)."""
    out = []
    x = a
    for k in range(first, len(union)):
        u, v = union[k]
        if v <= x:
            continue
        if u >= b:
            break
        if u > x:
            out.append((x, u))
        x = max(x, v)
        if x >= b:
            break
    if x < b:
        out.append((x, b))
    return out
