"""Figures of a run and of a comparison: matplotlib, made only from the result tables and the
summary document.

This module holds the run figures and is the one the report imports: it re-exports the
registry (`twin.report.registry`: `figure`, `available`, `FIGURES`, ...) and `render`
(`twin.report.style`), and importing it registers the comparison figures too
(`twin.report.compare_figures`). Each figure is a function `(results, doc) -> Figure`
registered with the `figure` decorator, which declares its report section, caption and
what it needs; a later resource (AGVs, warehouses) adds its figures by registering them in
its own module, without changing this one.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib
import matplotlib.patches
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from twin.analysis import energy
from twin.analysis.kpis import STATES
from twin.report import compare_figures
from twin.report.registry import (COMPARISON_FIGURES, FIGURES, REQUIREMENTS, Builder,
                                  FigureSpec, available, comparison_figure, figure)
from twin.report.style import (CARRIER_COLOURS, DPI, SHIFTING, SOLE, STATE_COLOURS, STYLE,
                               WIDTH, _height, _pct, _scale, render)

__all__ = ["COMPARISON_FIGURES", "FIGURES", "REQUIREMENTS", "Builder", "FigureSpec", "available",
           "comparison_figure", "figure", "render", "compare_figures", "STYLE", "DPI", "WIDTH"]


# --- helpers ---------------------------------------------------------------------------

def _stations(doc: dict) -> list[str]:
    """Station names in the summary's order."""
    return list(doc.get("stations", {}))


def _first_rep(table: pd.DataFrame) -> Any:
    """The replication that figures of a single replication show."""
    return table["replication"].min()


# --- run figures -------------------------------------------------------------------------

@figure("states", "Capacity and machine states",
        "Share of machine time in each state per station (mean over replications).",
        needs=("stations",))
def states_figure(results, doc: dict) -> Figure:
    names = _stations(doc)
    fig = Figure(figsize=(WIDTH, _height(len(names))), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(names))
    left = np.zeros(len(names))
    for s in STATES:
        share = np.array([doc["stations"][n]["states"][s] for n in names])
        if not share.any():
            continue
        ax.barh(y, share, left=left, color=STATE_COLOURS[s], label=s.replace("_", " "),
                edgecolor="white", linewidth=0.5)
        for i in range(len(names)):
            _pct(ax, left[i], y[i], share[i], dark=s in ("down", "blocked"))
        left += share
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of machine time (servers × measured period)")
    ax.set_title("Machine states per station")
    fig.legend(loc="outside lower center", ncol=6, frameon=False)
    ax.grid(axis="y", visible=False)
    return fig


@figure("bottleneck", "Bottleneck",
        "Left: share of time each station is the momentary bottleneck (Roser's active period "
        "method; sole and shifting, bar = 95% interval of the sole share). Right: the classic "
        "view, utilisation (busy share); the most utilised station need not be the bottleneck.",
        needs=("stations",))
def bottleneck_figure(results, doc: dict) -> Figure:
    names = _stations(doc)
    bn = doc["bottleneck"]
    fig = Figure(figsize=(WIDTH, _height(len(names))), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=(3, 2))
    y = np.arange(len(names))
    sole = np.array([bn["sole"][n]["mean"] or 0.0 for n in names])
    shifting = np.array([bn["shifting"][n]["mean"] or 0.0 for n in names])
    lo = np.array([bn["sole"][n]["ci95"][0] or 0.0 for n in names])
    hi = np.array([bn["sole"][n]["ci95"][1] or 0.0 for n in names])
    left.barh(y, sole, color=SOLE, label="sole")
    left.barh(y, shifting, left=sole, color=SHIFTING, label="shifting")
    left.errorbar(sole, y, xerr=np.vstack([sole - lo, hi - sole]).clip(0), fmt="none",
                  ecolor="black", capsize=3, linewidth=1)
    for i in range(len(names)):
        total = sole[i] + shifting[i]
        if total > 0.005:
            left.text(max(total, hi[i]) + 0.01, y[i], f"{total:.0%}", va="center", fontsize=9,
                      fontweight="bold")
    left.set_yticks(y, names)
    left.invert_yaxis()
    left.set_xlim(0, max(0.1, min(1.0, float(np.maximum(sole + shifting, hi).max()) + 0.1)))
    left.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    left.set_xlabel("share of measured time as bottleneck")
    left.set_title("Active period method")
    left.legend(loc="lower right")
    util = np.array([doc["stations"][n]["utilization"]["mean"] for n in names])
    colours = ["#0072B2" if u < util.max() else "#CC3311" for u in util]
    right.barh(y, util, color=colours)
    for i, u in enumerate(util):
        right.text(u + 0.01, y[i], f"{u:.0%}", va="center", fontsize=9)
    right.set_xlim(0, 1.15)
    right.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    right.set_xlabel("utilisation (busy share)")
    right.set_title("Utilisation")
    for ax in (left, right):
        ax.grid(axis="y", visible=False)
    fig.suptitle(f"Bottleneck: {bn['station']} (active period method)")
    return fig


@figure("bottleneck_timeline", "Bottleneck",
        "The momentary bottleneck over time, first replication: in each timeline interval "
        "the share of time each station (or fleet, lift, conveyor) was the sole bottleneck "
        "(dark) and a shifting one (light).",
        needs=("stations", "bottleneck_timeline"))
def bottleneck_timeline_figure(results, doc: dict) -> Figure:
    tl = results.timeline
    tl = tl[tl["measure"].isin(["bottleneck_sole_h", "bottleneck_shifting_h"])]
    rep = _first_rep(tl)
    sub = tl[tl["replication"] == rep]
    names = (_stations(doc) + list(doc.get("fleets", {})) + list(doc.get("lifts", {}))
             + list(doc.get("conveyors", {})))
    shown = [n for n in names if n in set(sub["entity"])] or names[:1]
    horizon = float(results.meta["horizon_h"])
    ends = np.unique(results.timeline.loc[results.timeline["replication"] == rep, "time_h"])
    starts = np.concatenate(([0.0], ends[:-1]))
    width = dict(zip(ends, ends - starts))
    fig = Figure(figsize=(WIDTH, _height(len(shown), 0.5, 2.0)), layout="constrained")
    ax = fig.add_subplot()
    for i, name in enumerate(shown):
        rows = sub[sub["entity"] == name]
        sole = rows[rows["measure"] == "bottleneck_sole_h"].set_index("time_h")["value"]
        shift = rows[rows["measure"] == "bottleneck_shifting_h"].set_index("time_h")["value"]
        t = np.array(sorted(set(sole.index) | set(shift.index)))
        if not len(t):
            continue
        w = np.array([width.get(x, 0.0) for x in t])
        f_sole = sole.reindex(t, fill_value=0.0).to_numpy() / np.where(w > 0, w, 1.0)
        f_shift = shift.reindex(t, fill_value=0.0).to_numpy() / np.where(w > 0, w, 1.0)
        ax.bar(t - w, 0.76 * f_sole, width=w, bottom=i - 0.38, align="edge", color=SOLE,
               linewidth=0)
        ax.bar(t - w, 0.76 * f_shift, width=w, bottom=i - 0.38 + 0.76 * f_sole, align="edge",
               color=SHIFTING, linewidth=0)
    ax.set_yticks(range(len(shown)), shown)
    ax.set_ylim(len(shown) - 0.5, -0.5)
    ax.set_xlim(0, horizon)
    ax.set_xlabel("time after warm-up (h)")
    ax.set_title(f"Momentary bottleneck over time (replication {rep}; bar height = share "
                 f"of the interval)")
    handles = [matplotlib.patches.Patch(color=SOLE, label="sole"),
               matplotlib.patches.Patch(color=SHIFTING, label="shifting")]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False)
    ax.grid(axis="y", visible=False)
    return fig


def _rolling_window(interval_h: float, horizon_h: float) -> tuple[int, float]:
    span = max(1.0, horizon_h / 100.0)
    n = max(1, int(round(span / interval_h))) if interval_h > 0 else 1
    return n, n * interval_h


@figure("flow", "Flow over time",
        "Output rate and work in process over the measured period, per replication "
        "(rolling means); dashed: mean over the whole period.",
        needs=("timeline",))
def flow_figure(results, doc: dict) -> Figure:
    tl = results.timeline
    fin = tl[(tl["kind"] == "product") & (tl["measure"] == "finished")]
    rate = fin.groupby(["replication", "time_h"], sort=True)["value"].sum().reset_index()
    wip = tl[(tl["kind"] == "system") & (tl["measure"] == "wip_mean")]
    fig = Figure(figsize=(WIDTH, 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    reps = sorted(rate["replication"].unique())[:5]
    n, span = 1, 0.0
    for k, rep in enumerate(reps):
        r = rate[rate["replication"] == rep]
        t = r["time_h"].to_numpy(float)
        dt = np.diff(np.concatenate(([0.0], t)))
        n, span = _rolling_window(float(np.median(dt)), float(results.meta["horizon_h"]))
        units = pd.Series(r["value"].to_numpy(float)).rolling(n, min_periods=1).sum()
        hours = pd.Series(dt).rolling(n, min_periods=1).sum()
        top.plot(t, units / hours, linewidth=1.4 if k == 0 else 0.9, alpha=1 if k == 0 else 0.6,
                 label=f"replication {rep}")
        w = wip[wip["replication"] == rep]
        wv = pd.Series(w["value"].to_numpy(float)).rolling(n, min_periods=1).mean()
        bottom.plot(w["time_h"].to_numpy(float), wv, linewidth=1.4 if k == 0 else 0.9,
                    alpha=1 if k == 0 else 0.6)
    total = sum(p["throughput_per_h"]["mean"] or 0.0 for p in doc["products"].values())
    top.axhline(total, color="black", linestyle="--", linewidth=1,
                label=f"mean {total:.4g} units/h")
    top.set_ylabel("output (units/h)")
    top.set_ylim(bottom=0)
    top.set_title(f"Output rate (rolling mean over {span:.3g} h)")
    top.legend(loc="lower right", ncol=3)
    bottom.axhline(doc["wip"]["mean"], color="black", linestyle="--", linewidth=1)
    bottom.set_ylabel("work in process (units)")
    bottom.set_xlabel("time after warm-up (h)")
    bottom.set_title("Work in process")
    return fig


def _area_means(results) -> pd.DataFrame:
    areas = energy.by_area(energy.breakdown(results.measures, results.meta))
    return areas.groupby(level="area", sort=False).mean()


@figure("energy_areas", "Energy",
        "Energy per process area (mean over replications): electricity and heat consumed, "
        "electricity recovered drawn to the left; labels give each area's share of the "
        "plant's net energy (electricity + heat − recovered).",
        needs=("energy",))
def energy_areas_figure(results, doc: dict) -> Figure:
    areas = _area_means(results).sort_values("net", ascending=True)
    div, unit = _scale(areas[["electricity", "heat", "net"]].to_numpy(), "kWh")
    fig = Figure(figsize=(WIDTH, _height(len(areas), 0.5)), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(areas))
    el, heat = areas["electricity"] / div, areas["heat"] / div
    ax.barh(y, el, color=CARRIER_COLOURS["electricity"], label="electricity")
    ax.barh(y, heat, left=el, color=CARRIER_COLOURS["heat"], label="heat")
    if areas["recovered"].any():
        ax.barh(y, -areas["recovered"] / div, color=CARRIER_COLOURS["recovered"],
                hatch="//", edgecolor="white", label="recovered (electricity)")
    for i, (e, h, share) in enumerate(zip(el, heat, areas["share"])):
        ax.text(e + h, y[i], f"  {share:.1%}", va="center", fontsize=10)
    ax.set_yticks(y, [str(a) for a in areas.index])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"energy over the measured period ({unit})")
    ax.set_xlim(right=float((el + heat).max()) * 1.15)
    ax.set_title("Energy by process area (share of net plant energy)")
    ax.legend(loc="lower right")
    ax.grid(axis="y", visible=False)
    return fig


@figure("energy_states", "Energy",
        "Energy per station by machine state (electricity + heat, mean over replications); "
        "electricity recovered drawn to the left. Facility loads are not stations and appear "
        "only in the area chart.",
        needs=("energy", "stations"))
def energy_states_figure(results, doc: dict) -> Figure:
    table = energy.breakdown(results.measures, results.meta)
    st = table[table["source"] == "station"]
    reps = max(1, st["replication"].nunique())
    used = st[st["carrier"] != "recovered"].pivot_table(
        index="entity", columns="state", values="kwh", aggfunc="sum", fill_value=0.0) / reps
    rec = st[st["carrier"] == "recovered"].groupby("entity")["kwh"].sum() / reps
    names = _stations(doc)
    used = used.reindex(names, fill_value=0.0)
    rec = rec.reindex(names, fill_value=0.0)
    div, unit = _scale(used.sum(axis=1).to_numpy(), "kWh")
    fig = Figure(figsize=(WIDTH, _height(len(names))), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(names))
    left = np.zeros(len(names))
    for s in STATES:
        if s not in used or not used[s].any():
            continue
        v = used[s].to_numpy(float) / div
        ax.barh(y, v, left=left, color=STATE_COLOURS[s], label=s.replace("_", " "),
                edgecolor="white", linewidth=0.5)
        left += v
    if rec.any():
        ax.barh(y, -rec.to_numpy(float) / div, color=CARRIER_COLOURS["recovered"], hatch="//",
                edgecolor="white", label="recovered")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel(f"energy over the measured period ({unit})")
    ax.set_title("Energy per station and machine state")
    if ax.get_legend_handles_labels()[0]:  # (no station may draw power, e.g. conveyors only)
        ax.legend(loc="lower right")
    ax.grid(axis="y", visible=False)
    return fig


@figure("power", "Energy",
        "Net electric power per demand interval, first replication (stations − recovered + "
        "facility loads + vehicle chargers) with the peak marked; heat drawn apart. Lower "
        "panel: the tariff.",
        needs=("timeline", "energy"))
def power_figure(results, doc: dict) -> Figure:
    series = energy.power_series(results.timeline, results.meta)
    rep = _first_rep(series)
    s = series[series["replication"] == rep]
    has_price = bool(s["price"].notna().any())
    div, unit = _scale(s[["net_kw", "heat_kw"]].to_numpy(), "kW")
    fig = Figure(figsize=(WIDTH, 6.0 if has_price else 4.5), layout="constrained")
    if has_price:
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    else:
        top, bottom = fig.add_subplot(), None
    edges = np.concatenate(([s["start_h"].iloc[0]], s["end_h"].to_numpy(float)))
    net = s["net_kw"].to_numpy(float) / div
    top.stairs(net, edges, color=CARRIER_COLOURS["electricity"], linewidth=1.3,
               label="net electricity", baseline=None)
    if s["facility_kw"].any():
        top.stairs(s["facility_kw"].to_numpy(float) / div, edges, color="#555555",
                   linewidth=1, linestyle=":", label="facility loads (electricity)",
                   baseline=None)
    if s["charger_kw"].any():
        top.stairs(s["charger_kw"].to_numpy(float) / div, edges, color="#117733",
                   linewidth=1, linestyle="--", label="vehicle chargers", baseline=None)
    if s["heat_kw"].any():
        top.stairs(s["heat_kw"].to_numpy(float) / div, edges, color=CARRIER_COLOURS["heat"],
                   linewidth=1, alpha=0.8, label="heat", baseline=None)
    k = int(np.argmax(net))
    mid = (edges[k] + edges[k + 1]) / 2
    top.plot([mid], [net[k]], marker="v", color="#CC3311", markersize=10, linestyle="none",
             label=f"peak {net[k]:.4g} {unit} at {edges[k]:.4g}–{edges[k + 1]:.4g} h")
    top.set_ylim(bottom=min(0.0, float(net.min()) * 1.1), top=max(net.max(), (
        s["heat_kw"].max() / div)) * 1.25)
    top.set_ylabel(f"mean power per interval ({unit})")
    top.set_title(f"Power over time (replication {rep}, "
                  f"{float(s['interval_h'].median()) * 60:.3g}-minute intervals)")
    top.legend(loc="upper right", ncol=2)
    if bottom is not None:
        currency = (results.meta.get("energy") or {}).get("currency") or "price units"
        bottom.stairs(s["price"].to_numpy(float), edges, color="#444444", linewidth=1.2,
                      baseline=None)
        bottom.set_ylabel(f"{currency}/kWh")
        bottom.set_ylim(bottom=0)
        bottom.set_title("Electricity price (time of use)", fontsize=11)
        bottom.set_xlabel("time after warm-up (h)")
    else:
        top.set_xlabel("time after warm-up (h)")
    return fig


@figure("layout", "Layout",
        "Floor plan: stations at their coordinates (or logistics points), coloured by "
        "utilisation (busy share); the bottleneck is ringed. Arrows follow the product "
        "routes; grey lines are the vehicles' paths.",
        needs=("stations", "coordinates"))
def layout_figure(results, doc: dict) -> Figure:
    meta = results.meta.get("stations") or {}
    names = [n for n in _stations(doc)
             if meta.get(n, {}).get("x") is not None and meta.get(n, {}).get("y") is not None]
    xy = {n: (float(meta[n]["x"]), float(meta[n]["y"])) for n in names}
    util = np.array([doc["stations"][n]["utilization"]["mean"] for n in names])
    fig = Figure(figsize=(WIDTH, 6.5), layout="constrained")
    ax = fig.add_subplot()
    network = results.meta.get("logistics") or {}
    points = {n: tuple(map(float, v)) for n, v in (network.get("points") or {}).items()}
    for a, b in network.get("paths") or []:  # the aisles vehicles travel
        (xa, ya), (xb, yb) = points[a], points[b]
        ax.plot([xa, xb], [ya, yb], color="#CCCCCC", lw=3, solid_capstyle="round", zorder=1)
    taken = set(xy.values())
    for n, p in points.items():  # points that are no station's: depots, crossings
        if p not in taken:
            ax.scatter(*p, marker="s", s=30, color="#888888", zorder=2)
            ax.annotate(n, p, xytext=(0, 6), textcoords="offset points", ha="center",
                        fontsize=8, color="#555555")
    xy_all = list(xy.values()) + [p for p in points.values() if p not in taken]
    for p in (results.meta.get("products") or {}).values():
        route = [n for n in (p.get("route") or []) if n in xy]
        for a, b in zip(route, route[1:]):
            if a != b:
                ax.annotate("", xy=xy[b], xytext=xy[a], arrowprops=dict(
                    arrowstyle="-|>", color="#999999", lw=1.2, shrinkA=14, shrinkB=14))
    servers = np.array([float(meta[n].get("servers") or 1) for n in names])
    size = 180 + 60 * np.log10(servers)
    low = min(0.5, math.floor(float(util.min()) * 10) / 10)  # spread the colours over the data
    dots = ax.scatter([xy[n][0] for n in names], [xy[n][1] for n in names], c=util, s=size,
                      cmap="viridis", vmin=low, vmax=1, edgecolors="black", linewidths=0.8,
                      zorder=3)
    bottleneck = doc.get("bottleneck", {}).get("station")
    if bottleneck in xy:
        ax.scatter(*xy[bottleneck], s=size.max() * 2.6, facecolors="none", edgecolors="#CC3311",
                   linewidths=2.2, zorder=4, label=f"bottleneck: {bottleneck}")
        ax.legend(loc="lower right", markerscale=0.4, framealpha=0.9)
    for n, u in zip(names, util):
        ax.annotate(f"{n}\n{u:.0%}", xy[n], xytext=(0, -13), textcoords="offset points",
                    ha="center", va="top", fontsize=9, zorder=5)
    fig.colorbar(dots, ax=ax, label="utilisation (busy share)",
                 format=matplotlib.ticker.PercentFormatter(1.0))
    xs = np.array([v[0] for v in xy_all])
    ys = np.array([v[1] for v in xy_all])
    pad_x = max(5.0, 0.08 * float(np.ptp(xs)))
    pad_y = max(5.0, 0.12 * float(np.ptp(ys)))
    # room for the labels under the dots; the aspect stays true (1 m = 1 m)
    ax.update_datalim([(xs.min() - pad_x, ys.min() - 1.8 * pad_y), (xs.max() + pad_x,
                                                                   ys.max() + pad_y)])
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title("Floor plan coloured by utilisation")
    return fig
