"""The figure registry: which figures exist, where they go in the report and what they need.

Each figure is a function `(results, doc) -> Figure` registered with the `figure` decorator,
which declares its report section, caption and what it needs (`REQUIREMENTS`: e.g. a
timeline, coordinates). The report draws every registered figure whose needs are met, in
registration order, so a later resource (AGVs, warehouses) adds its figures by registering
them in its own module, without changing this one. Comparison figures are registered the
same way with `comparison_figure` and take `(results_by_label, compare_doc)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure

from twin.analysis import energy

Builder = Callable[[Any, dict], Figure]


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: its file stem, report section, caption, needs and builder."""

    name: str
    section: str
    caption: str
    needs: tuple[str, ...]
    build: Callable[..., Figure]


FIGURES: list[FigureSpec] = []
COMPARISON_FIGURES: list[FigureSpec] = []


def _has_coordinates(results, doc: dict) -> bool:
    stations = results.meta.get("stations") or {}
    return any(s.get("x") is not None and s.get("y") is not None for s in stations.values())


def _has_energy(results, doc: dict) -> bool:
    table = energy.breakdown(results.measures, results.meta)
    return bool(len(table)) and bool((table["kwh"] != 0).any())


REQUIREMENTS: dict[str, Callable[[Any, dict], bool]] = {
    "stations": lambda r, d: bool(d.get("stations")),
    "bottleneck_timeline": lambda r, d: bool(
        len(r.timeline) and r.timeline["measure"].str.startswith("bottleneck_").any()),
    "timeline": lambda r, d: len(r.timeline) > 0,
    "energy": _has_energy,
    "coordinates": _has_coordinates,
}


def figure(name: str, section: str, caption: str, needs: tuple[str, ...] = ()):
    """Register a run figure `(results, doc) -> Figure`."""
    def register(build: Builder) -> Builder:
        FIGURES.append(FigureSpec(name, section, caption, tuple(needs), build))
        return build
    return register


def comparison_figure(name: str, caption: str):
    """Register a comparison figure `(results_by_label, compare_doc) -> Figure`."""
    def register(build: Callable[[Mapping[str, Any], dict], Figure]):
        COMPARISON_FIGURES.append(FigureSpec(name, "comparison", caption, (), build))
        return build
    return register


def available(results, doc: dict) -> list[FigureSpec]:
    """The registered figures whose needs this run meets, in registration order."""
    met = {}
    chosen = []
    for spec in FIGURES:
        for need in spec.needs:
            if need not in met:
                met[need] = bool(REQUIREMENTS[need](results, doc))
        if all(met[n] for n in spec.needs):
            chosen.append(spec)
    return chosen
