"""Paired comparison of layouts or phases run with the same seeds (common random numbers).

Replication r of every scenario uses the streams of (seed, r, purpose, entity), so shared
stations see the same samples; differences taken replication by replication are therefore
much sharper than differences of independent means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from twin.analysis.energy import totals
from twin.analysis.kpis import (conveyor_table, fleet_table, lift_table, path_table,
                               station_table, wide)
from twin.analysis.stats import ci95, number

# KPI -> +1 if more is better, -1 if less is better; a KPI not listed gets no "better"
# verdict, only "higher" or "lower": so the net electricity (total_kwh), which grows with the
# output, is judged per unit (kwh_per_unit), not as a total
DIRECTION = {"throughput_per_h": +1, "gwh_per_year": +1, "lead_time_h": -1, "wip": -1,
             "kwh_per_unit": -1, "fleet_charging_share": -1,
             "lift_wait_h": -1, "path_wait_h": -1}


def replication_kpis(measures: pd.DataFrame,
                     meta: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per replication, one column per headline KPI (e.g. 'throughput_per_h:cell').

    With the run's `meta`, energy (`total_kwh`, `kwh_per_unit`) is the summary's
    `energy.total_kwh`, net electricity (stations' and logistics' electricity plus facility
    loads, less recovered energy); without it, the stations' electricity. No completed
    replication gives an empty table."""
    if not len(measures):
        return pd.DataFrame()
    prod = wide(measures, "product")
    cols: dict[str, pd.Series] = {}
    for name in dict.fromkeys(prod.index.get_level_values("entity")):
        rows = prod.xs(name, level="entity")
        if "consumed" in rows and rows["consumed"].notna().all():
            continue  # a part of an assembly station: no throughput of its own
        for m in ("throughput_per_h", "lead_time_h", "gwh_per_year"):
            if m in rows:
                cols[f"{m}:{name}"] = rows[m]
    system = wide(measures, "system").droplevel("entity")
    cols["wip"] = system["wip_mean"]
    fleets = fleet_table(measures)
    for name in dict.fromkeys(fleets.index.get_level_values("entity") if len(fleets) else []):
        rows = fleets.xs(name, level="entity")
        cols[f"fleet_utilization:{name}"] = rows["utilization"]
        if "charging_share" in rows and rows["charging_share"].notna().all():  # a battery
            cols[f"fleet_charging_share:{name}"] = rows["charging_share"]
    lifts = lift_table(measures)
    for name in dict.fromkeys(lifts.index.get_level_values("entity") if len(lifts) else []):
        rows = lifts.xs(name, level="entity")
        cols[f"lift_utilization:{name}"] = rows["utilization"]
        cols[f"lift_wait_h:{name}"] = rows["wait_h"]
    conveyors = conveyor_table(measures)
    for name in dict.fromkeys(conveyors.index.get_level_values("entity")
                              if len(conveyors) else []):
        cols[f"conveyor_utilization:{name}"] = conveyors.xs(name, level="entity")["utilization"]
    paths = path_table(measures)  # limited paths (congestion): the mean wait for room
    for name in dict.fromkeys(paths.index.get_level_values("entity") if len(paths) else []):
        cols[f"path_wait_h:{name}"] = paths.xs(name, level="entity")["wait_h"]
    finished = prod.groupby(level="replication")["finished"].sum()
    if meta is not None:
        energy = totals(measures, meta)["total_kwh"]
    else:
        energy = station_table(measures).groupby(level="replication")["energy_kwh"].sum()
    cols["total_kwh"] = energy
    cols["kwh_per_unit"] = energy / finished.replace(0, np.nan)
    return pd.DataFrame(cols).sort_index()


def _direction(kpi: str) -> int:
    return DIRECTION.get(kpi.split(":")[0], 0)


def compare(measures: Mapping[str, pd.DataFrame],
            metas: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Each KPI of each scenario, and its paired difference to the first (the baseline).

    A difference whose 95% interval excludes 0 is called significant, and the verdict says
    which scenario is better for that KPI. A single paired replication has no interval, so
    no verdict either.
    """
    names = list(measures)
    tables = {n: replication_kpis(m, None if metas is None else metas.get(n))
              for n, m in measures.items()}
    base_name = names[0]
    base = tables[base_name]
    doc: dict[str, Any] = {"baseline": base_name, "scenarios": names, "kpis": {}}
    kpis = list(dict.fromkeys(k for n in names for k in tables[n].columns))
    for kpi in kpis:
        entry: dict[str, Any] = {"values": {}, "difference": {}, "verdict": {}}
        for n in names:
            t = tables[n]
            entry["values"][n] = ci95(t[kpi].to_numpy(float)) if kpi in t else ci95([])
            if n == base_name:
                continue
            if kpi not in t or kpi not in base:
                entry["verdict"][n] = "no data"
                continue
            common = base.index.intersection(t.index)
            diff = (t.loc[common, kpi] - base.loc[common, kpi]).to_numpy(float)
            d = ci95(diff)
            entry["difference"][n] = d
            paired = int(np.isfinite(diff).sum())
            entry["verdict"][n] = _verdict(kpi, d, n, base_name) if paired != 1 else \
                "one replication: no interval, no verdict"
        doc["kpis"][kpi] = entry
    return doc


def _verdict(kpi: str, d: dict, name: str, base: str) -> str:
    lo, hi = d["ci95"]
    if lo is None or (isinstance(lo, float) and math.isnan(lo)):
        return "no data"
    if lo <= 0 <= hi:
        return "no significant difference"
    higher = lo > 0
    sign = _direction(kpi)
    if sign == 0:
        return f"{name} {'higher' if higher else 'lower'} than {base}"
    better = name if (higher and sign > 0) or (not higher and sign < 0) else base
    return f"{better} is better"


def compare_text(doc: dict[str, Any]) -> str:
    """The comparison as aligned text: scenarios lettered A, B, ... (A the baseline), each
    KPI's means, then each paired difference to A with its 95% interval and the verdict."""
    names = doc["scenarios"]
    letters = [chr(ord("A") + i) if i < 26 else f"S{i + 1}" for i in range(len(names))]
    letter = dict(zip(names, letters))
    lines = [f"{x} = {n}" + ("  (baseline)" if i == 0 else "")
             for i, (x, n) in enumerate(zip(letters, names))]
    lines.append("")
    # every cell starts with a space, so columns stay apart even when a value is wide; the
    # KPI column fits the longest name (limited paths are named by both their points)
    w = max([30, *(len(kpi) for kpi in doc["kpis"])])
    head = f"{'KPI':<{w}}" + "".join(f" {x:>11}" for x in letters)
    head += "".join(f" {letter[n] + ' - A [95% CI]':>33}" for n in names[1:])
    lines.append(head)
    for kpi, e in doc["kpis"].items():
        row = f"{kpi:<{w}}" + "".join(f" {_g(e['values'][n]['mean']):>11}" for n in names)
        for n in names[1:]:
            d = e["difference"].get(n)
            if d is None:
                row += f" {'-':>33}"
                continue
            lo, hi = d["ci95"]
            cell = f"{_g(d['mean'], sign=True)} [{_g(lo)}, {_g(hi)}]"
            row += f" {cell:>33}"
        lines.append(row)
    lines.append("")
    for n in names[1:]:
        lines.append(f"{n} - {names[0]}:")
        for kpi, e in doc["kpis"].items():
            if n in e["verdict"]:
                lines.append(f"  {kpi:<{w}} {e['verdict'][n]}")
    return "\n".join(lines)


def _g(x: float | None, sign: bool = False) -> str:
    return number(x, 4, sign)
