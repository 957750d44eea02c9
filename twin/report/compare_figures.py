"""Figures of a comparison (`twin compare`, `write_comparison`): KPIs per scenario, paired
differences to the baseline, utilisation per station and scenario.

Each is registered with `comparison_figure` and built from `(results_by_label,
compare_doc)`, the result tables of every scenario and the comparison document.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from twin.analysis.kpis import station_table
from twin.report.registry import comparison_figure
from twin.report.style import WIDTH, _height

KPI_LABELS = {"throughput_per_h": ("throughput", "units/h"), "lead_time_h": ("lead time", "h"),
              "gwh_per_year": ("capacity", "GWh/year"), "wip": ("work in process", "units"),
              "total_kwh": ("net electricity", "kWh"),
              "kwh_per_unit": ("net electricity per unit", "kWh/unit")}


def _kpi_label(kpi: str) -> str:
    """'throughput_per_h:cell' -> 'throughput, cell (units/h)'; unknown KPIs as they are."""
    name, _, entity = kpi.partition(":")
    label, unit = KPI_LABELS.get(name, (name.replace("_", " "), ""))
    return f"{label}{f', {entity}' if entity else ''}{f' ({unit})' if unit else ''}"


@comparison_figure("compare_kpis",
                   "Each KPI per scenario: mean with its 95% interval over replications.")
def compare_kpis_figure(results_by_label: Mapping[str, Any], doc: dict) -> Figure:
    kpis = list(doc["kpis"])
    names = doc["scenarios"]
    cols = min(3, max(1, len(kpis)))
    rows = math.ceil(len(kpis) / cols)
    fig = Figure(figsize=(WIDTH, 0.6 + 2.9 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    colours = matplotlib.colormaps["tab10"].colors
    for ax, kpi in zip(axes, kpis):
        vals = doc["kpis"][kpi]["values"]
        mean = np.array([vals[n]["mean"] if vals[n]["mean"] is not None else np.nan
                         for n in names])
        lo = np.array([vals[n]["ci95"][0] if vals[n]["ci95"][0] is not None else np.nan
                       for n in names])
        hi = np.array([vals[n]["ci95"][1] if vals[n]["ci95"][1] is not None else np.nan
                       for n in names])
        x = np.arange(len(names))
        ax.bar(x, mean, color=[colours[i % 10] for i in x])
        ax.errorbar(x, mean, yerr=np.vstack([mean - lo, hi - mean]).clip(0), fmt="none",
                    ecolor="black", capsize=4)
        ax.set_xticks(x, [str(i + 1) for i in x])  # the legend names them
        ax.set_xlim(-0.6, len(names) - 0.4)  # (the same also where no bar has a value)
        ax.set_title(_kpi_label(kpi), fontsize=10)
        ax.grid(axis="x", visible=False)
    for ax in axes[len(kpis):]:
        ax.set_visible(False)
    fig.suptitle("KPIs per scenario (95% intervals)")
    fig.legend(handles=[Patch(color=colours[i % 10], label=f"{i + 1}: {n}")
                        for i, n in enumerate(names)],
               loc="outside lower center", ncols=1 if len(names) > 3 else len(names),
               fontsize=9, frameon=False)
    return fig


@comparison_figure("compare_differences",
                   "Paired differences to the baseline (same seeds), as a percentage of the "
                   "baseline's mean, with 95% intervals: green = better, red = worse, grey = "
                   "no significant difference.")
def compare_differences_figure(results_by_label: Mapping[str, Any], doc: dict) -> Figure:
    rows = []
    for kpi, e in doc["kpis"].items():
        base = e["values"][doc["baseline"]]["mean"]
        for n, d in e["difference"].items():
            if d["mean"] is None or not base:
                continue
            verdict = e["verdict"][n]
            colour = ("#009E73" if verdict == f"{n} is better" else
                      "#CC3311" if verdict == f"{doc['baseline']} is better" else
                      "#0072B2" if verdict.startswith(f"{n} ") else "#999999")
            rows.append((f"{_kpi_label(kpi)}\n{n} − {doc['baseline']}",
                         100 * d["mean"] / abs(base), 100 * d["ci95"][0] / abs(base),
                         100 * d["ci95"][1] / abs(base), colour))
    fig = Figure(figsize=(WIDTH, _height(len(rows), 0.55)), layout="constrained")
    ax = fig.add_subplot()
    for i, (_, m, lo, hi, colour) in enumerate(rows):
        ax.errorbar([m], [i], xerr=[[m - lo], [hi - m]], fmt="o", color=colour, capsize=4,
                    markersize=7, linewidth=2)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=9)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel(f"difference to {doc['baseline']} (% of its mean)")
    ax.set_title("Paired differences to the baseline (95% intervals)")
    ax.grid(axis="y", visible=False)
    return fig


@comparison_figure("compare_utilisation",
                   "Utilisation (busy share) of each station in each scenario.")
def compare_utilisation_figure(results_by_label: Mapping[str, Any], doc: dict) -> Figure:
    tables = {label: station_table(r.measures).groupby(level="entity", sort=False)[
        "utilization"].mean() for label, r in results_by_label.items()}
    names = list(dict.fromkeys(n for t in tables.values() for n in t.index))
    labels = list(tables)
    fig = Figure(figsize=(WIDTH, _height(len(names), 0.22 * len(labels) + 0.2)),
                 layout="constrained")
    ax = fig.add_subplot()
    height = 0.8 / len(labels)
    y = np.arange(len(names))
    for k, label in enumerate(labels):
        v = tables[label].reindex(names).to_numpy(float)
        ax.barh(y + (k - (len(labels) - 1) / 2) * height, v, height=height, label=label)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("utilisation (busy share)")
    ax.set_title("Utilisation per station and scenario")
    fig.legend(loc="outside lower center", ncol=min(4, len(labels)), frameon=False)
    ax.grid(axis="y", visible=False)
    return fig
