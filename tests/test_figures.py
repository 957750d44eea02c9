"""Figures: every registered figure draws on a small run, with titles and labelled axes; the
registry picks figures by what a run has, and new figures register without touching it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from PIL import Image

import twin
from twin.analysis.compare import compare
from twin.report import figures as figs

SMALL = (Path(__file__).parent / "scenarios" / "small_report.yaml").read_text()


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[twin.Results, dict]:
    path = tmp_path_factory.mktemp("fig") / "small.yaml"
    path.write_text(SMALL)
    results = twin.run(twin.load(path))
    return results, results.summary()


def _png_size(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


def test_every_figure_draws_with_titles_and_labels(small) -> None:
    results, doc = small
    specs = figs.available(results, doc)
    assert [s.name for s in specs] == [s.name for s in figs.FIGURES]  # this run has it all
    for spec in specs:
        fig = spec.build(results, doc)
        assert isinstance(fig, Figure)
        axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
        assert any(ax.get_title() for ax in axes) or fig._suptitle is not None, spec.name
        assert any(ax.get_xlabel() for ax in axes), f"{spec.name}: no x axis label"
        assert any(ax.get_ylabel() or ax.get_yticklabels() for ax in axes), spec.name
        width, height = _png_size(figs.render(lambda: spec.build(results, doc)))
        assert width >= 800 and 300 <= height <= 2000, (spec.name, width, height)


def test_needs_choose_the_figures(small, tmp_path: Path) -> None:
    results, doc = small
    plain = SMALL.replace("    x: 0\n    y: 0\n", "").replace("    x: 20\n    y: 0\n", "")
    plain = plain.replace("    x: 20\n    y: 15\n", "")
    path = tmp_path / "plain.yaml"
    path.write_text(plain)
    r = twin.run(twin.load(path), replications=1)
    names = [s.name for s in figs.available(r, r.summary())]
    assert "layout" not in names and "states" in names
    r.timeline = r.timeline.iloc[0:0]  # as from an engine without a timeline
    names = [s.name for s in figs.available(r, r.summary())]
    assert "flow" not in names and "power" not in names and "energy_areas" in names


def test_a_new_figure_registers_without_changing_the_module(small) -> None:
    results, doc = small
    figs.REQUIREMENTS["agvs"] = lambda r, d: False

    @figs.figure("extra", "Logistics", "An added figure.", needs=("stations",))
    def extra(results, doc) -> Figure:
        fig = Figure()
        fig.add_subplot().set_title("extra")
        return fig

    @figs.figure("fleet", "Logistics", "Needs AGVs.", needs=("agvs",))
    def fleet(results, doc) -> Figure:  # pragma: no cover - never drawn
        raise AssertionError

    try:
        names = [s.name for s in figs.available(results, doc)]
        assert names[-1] == "extra" and "fleet" not in names
    finally:
        del figs.FIGURES[-2:]
        del figs.REQUIREMENTS["agvs"]


def test_comparison_figures(small, tmp_path: Path) -> None:
    results, _ = small
    path = tmp_path / "faster.yaml"
    path.write_text(SMALL.replace('process_time: {exponential: "50 s"}',
                                  'process_time: {exponential: "40 s"}'))
    other = twin.run(twin.load(path))
    by_label = {"base": results, "faster": other}
    doc = compare({k: r.measures for k, r in by_label.items()})
    for spec in figs.COMPARISON_FIGURES:
        fig = spec.build(by_label, doc)
        assert any(ax.get_title() for ax in fig.axes) or fig._suptitle is not None
        width, _ = _png_size(figs.render(lambda: spec.build(by_label, doc)))
        assert width >= 800


def test_units_scale_for_reading() -> None:
    assert figs._scale([950.0], "kWh") == (1.0, "kWh")
    assert figs._scale([1500.0, 20.0], "kWh") == (1e3, "MWh")
    assert figs._scale([-3.2e6], "kW") == (1e6, "GW")
