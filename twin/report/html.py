"""Self-contained HTML reports: one page with every figure embedded (base64 PNG), the KPI
tables, the scenario in brief, the assumptions and the facts of the run. The page needs no
server and no network; the PNGs and the tables are also written beside it.

The page is assembled from the figure registry (`twin.report.figures`) and the table
registry `TABLES` below, both grouped by report section, so later resources add sections,
figures and tables without changing this module.
"""

from __future__ import annotations

import base64
import html
import json
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from twin.analysis import energy
from twin.analysis.kpis import CHARGING_STATES, STATES, station_table
from twin.report import figures as figs
from twin.results import write_atomic

SECTIONS = ("At a glance", "Capacity and machine states", "Bottleneck", "Flow over time",
            "Energy", "Layout")


@dataclass(frozen=True)
class TableSpec:
    """A registered report table: section, title, and a builder returning a DataFrame of
    display strings (or None when it does not apply to this run)."""

    section: str
    title: str
    build: Callable[[Any, dict], pd.DataFrame | None]


TABLES: list[TableSpec] = []


def table(section: str, title: str):
    """Register a report table `(results, doc) -> DataFrame | None`."""
    def register(build):
        TABLES.append(TableSpec(section, title, build))
        return build
    return register


# --- formatting ----------------------------------------------------------------------------

def _num(x: Any, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    x = float(x)
    if x != 0 and (abs(x) >= 1e7 or abs(x) < 1e-3):
        return f"{x:.{digits - 1}e}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _stat(s: Mapping[str, Any] | None, digits: int = 4) -> str:
    """'mean [lo, hi]' of a {mean, ci95} statistic; just the mean when the interval is a point."""
    if not s or s.get("mean") is None:
        return "–"
    if isinstance(s["mean"], str):
        return s["mean"]
    lo, hi = s["ci95"]
    if lo is None or lo == hi:
        return _num(s["mean"], digits)
    return f"{_num(s['mean'], digits)} [{_num(lo, digits)}, {_num(hi, digits)}]"


def _pct(x: float | None) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def _sole_shifting(bn: dict, name: str) -> str:
    """A resource's mean shares as sole and as shifting bottleneck, as 'a % + b %'."""
    return f"{_pct(bn['sole'][name]['mean'])} + {_pct(bn['shifting'][name]['mean'])}"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.4g} {unit}"
    return f"{seconds:.4g} s"


def _esc(x: Any) -> str:
    return html.escape(str(x))


def _cell(value: Any) -> str:
    """A table cell: numbers right-aligned on one line, text left-aligned and wrapping."""
    text = str(value)
    numeric = bool(text) and (text[0].isdigit() or text[0] in "-–+.")
    return f"<td>{_esc(text)}</td>" if numeric else f"<td class='t'>{_esc(text)}</td>"


def _html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    return (f"<div class='scroll'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


# --- tables --------------------------------------------------------------------------------

@table("Capacity and machine states", "Products")
def products_table(results, doc: dict) -> pd.DataFrame:
    rows = []
    for name, p in doc["products"].items():
        if "consumed" in p:  # a part: in the parts table
            continue
        rows.append({"product": name, "finished": _stat(p.get("finished")),
                     "throughput (units/h)": _stat(p.get("throughput_per_h")),
                     "annual capacity (units/year)": _stat(_times(p.get("throughput_per_h"), 8760)),
                     "GWh/year": _stat(p.get("gwh_per_year")),
                     "lead time (h)": _stat(p.get("lead_time_h")),
                     "scrapped": _stat(p.get("scrapped")),
                     "first-pass yield": _stat(p.get("first_pass_yield"), 4),
                     "final yield": _stat(p.get("final_yield"), 4)})
    return pd.DataFrame(rows)


@table("Capacity and machine states", "Parts joined by assembly stations")
def parts_table(results, doc: dict) -> pd.DataFrame:
    rows = [{"part": name, "consumed": _stat(p.get("consumed")),
             "consumed (units/h)": _stat(_times(p.get("consumed"), 1 / doc["horizon_h"])
                                         if doc["horizon_h"] else None),
             "time in system (h)": _stat(p.get("consumed_time_h")),
             "scrapped": _stat(p.get("scrapped")),
             "final yield": _stat(p.get("final_yield"), 4)}
            for name, p in doc["products"].items() if "consumed" in p]
    return pd.DataFrame(rows)


def _times(s: Mapping[str, Any] | None, k: float) -> dict | None:
    if not s or s.get("mean") is None:
        return None
    return {"mean": s["mean"] * k, "ci95": [None if v is None else v * k for v in s["ci95"]]}


@table("Capacity and machine states",
       "Stations (means over replications; 95% intervals in summary.json)")
def stations_table(results, doc: dict) -> pd.DataFrame:
    rows = []
    bn = doc["bottleneck"]
    used = [state for state in STATES if any(x["states"][state] for x in doc["stations"].values())]
    changing = any(x["changeovers"]["mean"] for x in doc["stations"].values())
    for name, s in doc["stations"].items():
        row = {"station": name}
        row.update({state.replace("_", " "): _pct(s["states"][state]) for state in used})
        if changing:
            row["changeovers"] = _num(s["changeovers"]["mean"], 3)
        factors = s["oee_factors"]
        row.update({"queue (units)": _num(s["queue_mean"]["mean"], 3),
                    "wait (h)": _num(s["wait_h"]["mean"], 3),
                    "OEE": _pct(s["oee"]["mean"]),
                    "A × E × Q": " × ".join(_pct(factors[k]["mean"]) for k in
                                            ("availability", "effectiveness", "quality")),
                    "bottleneck sole + shifting": _sole_shifting(bn, name),
                    "electricity (kWh)": _num(s["energy_kwh"]["mean"])})
        rows.append(row)
    return pd.DataFrame(rows)


@table("Capacity and machine states",
       "Vehicle fleets (share of vehicle time per state; trips and times are means)")
def fleets_table(results, doc: dict) -> pd.DataFrame | None:
    fleets = doc.get("fleets")
    if not fleets:
        return None
    bn = doc["bottleneck"]
    batteries = any("battery" in f for f in fleets.values())
    opportunity = any("opportunity_charges_per_h" in f.get("battery", {})
                      for f in fleets.values())
    loads = any("units_per_trip" in f for f in fleets.values())  # capacity > 1
    rows = []
    for name, f in fleets.items():
        row = {"fleet": name, "vehicles": f["vehicles"],
               "utilization": _stat(_times(f["utilization"], 100), 3) + " %"}
        row.update({state.replace("_", " "): _pct(f["states"][state])
                    for state in f["states"] if batteries or state not in CHARGING_STATES})
        if batteries:
            b = f.get("battery", {})
            row.update({"charges/h": _stat(b.get("charges_per_h")),
                        "charger use": _pct(b.get("charger_utilization", {}).get("mean")),
                        "wait for charger (min)": _stat(_times(b.get("charge_wait_h"), 60),
                                                        3)})
        if opportunity:
            row.update({"opportunity charges/h": _stat(b.get("opportunity_charges_per_h")),
                        "cut short/h": _stat(b.get("interrupted_charges_per_h"))})
        row["trips/h"] = _stat(f["trips_per_h"])
        if loads:
            row["units/trip"] = _stat(f.get("units_per_trip"), 3)
        row.update({"response (min)": _stat(_times(f["response_h"], 60), 3),
                    "trip (min)": _stat(_times(f["trip_h"], 60), 3),
                    "km/h of fleet": _num(f["distance_km_per_h"]["mean"], 3),
                    "bottleneck sole + shifting": _sole_shifting(bn, name),
                    "electricity (kWh)": _num(f["energy_kwh"]["mean"])})
        rows.append(row)
    return pd.DataFrame(rows)


@table("Capacity and machine states",
       "Lifts (share of car time per state; waits and rides are means)")
def lifts_table(results, doc: dict) -> pd.DataFrame | None:
    lifts = doc.get("lifts")
    if not lifts:
        return None
    bn = doc["bottleneck"]
    rows = []
    for name, lift in lifts.items():
        row = {"lift": name, "cars": lift["cars"],
               "utilization": _stat(_times(lift["utilization"], 100), 3) + " %"}
        row.update({state.replace("_", " "): _pct(share)
                    for state, share in lift["states"].items()})
        row.update({"rides/h": _stat(lift["rides_per_h"]),
                    "wait for car (s)": _stat(_times(lift["wait_h"], 3600), 3),
                    "ride (s)": _stat(_times(lift["ride_h"], 3600), 3),
                    "vehicles waiting": _num(lift["queue_mean"]["mean"], 3),
                    "bottleneck sole + shifting": _sole_shifting(bn, name),
                    "electricity (kWh)": _num(lift["energy_kwh"]["mean"])})
        rows.append(row)
    return pd.DataFrame(rows)


@table("Capacity and machine states",
       "Conveyors (share of time per state; time and units aboard are means)")
def conveyors_table(results, doc: dict) -> pd.DataFrame | None:
    conveyors = doc.get("conveyors")
    if not conveyors:
        return None
    bn = doc["bottleneck"]
    rows = []
    for name, c in conveyors.items():
        row = {"conveyor": name, "places": c["places"],
               "utilization": _stat(_times(c["utilization"], 100), 3) + " %"}
        row.update({state: _pct(share) for state, share in c["states"].items()})
        row.update({"carried/h": _stat(c["carried_per_h"]),
                    "time aboard (s)": _stat(_times(c["aboard_h"], 3600), 3),
                    "units aboard": _num(c["aboard_mean"]["mean"], 3),
                    "most aboard": _num(c["aboard_max"]["mean"], 3),
                    "bottleneck sole + shifting": _sole_shifting(bn, name),
                    "electricity (kWh)": _num(c["energy_kwh"]["mean"])})
        rows.append(row)
    return pd.DataFrame(rows)


@table("Capacity and machine states",
       "Traffic on limited paths (utilisation = vehicles on the path / capacity; the wait "
       "is per vehicle that entered, zeros included)")
def paths_table(results, doc: dict) -> pd.DataFrame | None:
    paths = doc.get("paths")
    if not paths:
        return None
    return pd.DataFrame([
        {"path": name, "capacity": p["capacity"], "length (m)": _num(p["length_m"]),
         "vehicles/h": _stat(p["passes_per_h"]),
         "utilization": _stat(_times(p["utilization"], 100), 3) + " %",
         "waits": _stat(p["waits"]), "wait (s)": _stat(_times(p["wait_h"], 3600), 3),
         "vehicles waiting": _num(p["queue_mean"]["mean"], 3),
         "longest line": _num(p["queue_max"]["mean"], 3)}
        for name, p in paths.items()])


@table("Capacity and machine states",
       "Warehouses (AS/RS): storage and crane cycles (means over replications)")
def warehouses_table(results, doc: dict) -> pd.DataFrame | None:
    rows = []
    for name, st in doc["stations"].items():
        wh = st.get("warehouse")
        if wh is None:
            continue
        rows.append({"warehouse": name, "places": wh["places"],
                     "stored (mean)": _stat(wh["stored_mean"]),
                     "filled": _pct(wh["stored_mean"]["mean"] / wh["places"]),
                     "crane utilisation": _pct(st["utilization"]["mean"]),
                     "store cycle (s)": _stat(_times(wh["store_cycle_h"], 3600), 3),
                     "retrieval cycle (s)": _stat(_times(wh["retrieve_cycle_h"], 3600), 3),
                     "dual cycle (s)": _stat(_times(wh["dual_cycle_h"], 3600), 3),
                     "time in store (h)": _stat(wh["in_store_h"], 4)})
    table = pd.DataFrame(rows) if rows else None
    if table is not None and (table["dual cycle (s)"] == "–").all():
        table = table.drop(columns="dual cycle (s)")  # (no warehouse makes dual commands)
    return table


@table("Energy", "Energy totals (mean [95% interval] over replications)")
def energy_totals_table(results, doc: dict) -> pd.DataFrame:
    e = doc["energy"]
    currency = e.get("cost", {}).get("currency") or "price units"
    rows = [
        ("electricity drawn (stations + facility)", "kWh", e.get("electricity_kwh")),
        ("electricity recovered", "kWh", e.get("recovered_kwh")),
        ("net electricity (total_kwh)", "kWh", e.get("total_kwh")),
        ("heat", "kWh", e.get("heat_kwh")),
        ("final energy (net electricity + heat)", "kWh", e.get("energy_kwh")),
        ("net electricity per unit (kwh_per_unit)", "kWh/unit", e.get("kwh_per_unit")),
        ("final energy per unit", "kWh/unit", e.get("energy_per_unit_kwh")),
        ("final energy per kWh of product", "kWh/kWh", e.get("kwh_per_kwh_product")),
        ("peak electric demand", "kW", e.get("peak_kw")),
        ("peak interval (h after warm-up), per replication", "h",
         {"mean": "; ".join(f"{a:g}–{b:g}" for a, b in e.get("peak_at_h") or []) or None,
          "ci95": [None, None]}),
        ("electricity cost", currency, (e.get("cost") or {}).get("electricity")),
        ("heat cost", currency, (e.get("cost") or {}).get("heat")),
        ("energy cost", currency, (e.get("cost") or {}).get("total")),
        ("energy cost per unit", f"{currency}/unit", (e.get("cost") or {}).get("per_unit")),
        ("CO2", "kg", e.get("co2_kg")),
        ("CO2 per unit", "kg/unit", e.get("co2_kg_per_unit")),
    ]
    return pd.DataFrame([{"quantity": q, "unit": u, "value": _stat(s)} for q, u, s in rows
                         if s and s.get("mean") is not None])


@table("Energy", "Energy by process area")
def energy_areas_table(results, doc: dict) -> pd.DataFrame | None:
    areas = doc["energy"].get("by_area") or {}
    if not areas:
        return None
    ordered = sorted(areas.items(), key=lambda kv: -kv[1]["share"])
    return pd.DataFrame([{"area": a, "net energy (kWh)": _stat(v["kwh"]),
                          "share": _pct(v["share"])} for a, v in ordered])


@table("Energy", "Facility loads (constant)")
def facility_table(results, doc: dict) -> pd.DataFrame | None:
    loads = (results.meta.get("energy") or {}).get("facility") or {}
    if not loads:
        return None
    kwh = doc["energy"].get("facility") or {}
    return pd.DataFrame([{"load": n, "power (kW)": _num(v["kw"]), "carrier": v["carrier"],
                          "area": v.get("area") or n,
                          "energy (kWh)": _stat(kwh.get(n, {}).get("kwh"))}
                         for n, v in loads.items()])


# --- figures -------------------------------------------------------------------------------

def _render_all(specs, call: Callable[[figs.FigureSpec], Any], folder: Path) -> list[dict]:
    """Render each figure to PNG under `folder`; a figure that fails is reported, not fatal."""
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for spec in specs:
        try:
            png = figs.render(lambda: call(spec))
        except Exception as e:  # one broken figure must not cost the whole report
            print(f"twin: figure {spec.name} could not be drawn: {type(e).__name__}: {e}",
                  file=sys.stderr)
            done.append({"spec": spec, "error": f"{type(e).__name__}: {e}"})
            continue
        write_atomic(folder / f"{spec.name}.png", png)
        done.append({"spec": spec, "png": png})
    return done


def _figure_html(item: dict) -> str:
    spec = item["spec"]
    if "error" in item:
        return (f"<figure class='failed'><p>Figure <b>{_esc(spec.name)}</b> could not be "
                f"drawn: {_esc(item['error'])}</p></figure>")
    data = base64.b64encode(item["png"]).decode("ascii")
    return (f"<figure id='fig-{_esc(spec.name)}'><img alt='{_esc(spec.caption)}' "
            f"src='data:image/png;base64,{data}'><figcaption>{_esc(spec.caption)} "
            f"<a href='figures/{_esc(spec.name)}.png'>PNG</a></figcaption></figure>")


# --- page parts ----------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
 background:#fafafa;line-height:1.45}
header{background:#1d3557;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:1.6em} header p{margin:2px 0;opacity:.9}
nav{background:#fff;border-bottom:1px solid #ddd;padding:8px 32px;position:sticky;top:0}
nav a{margin-right:16px;color:#1d3557;text-decoration:none;font-weight:600}
main{padding:8px 32px 40px;max-width:1250px}
h2{border-bottom:2px solid #1d3557;padding-bottom:4px;margin-top:36px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:170px}
.card .v{font-size:1.35em;font-weight:700} .card .k{color:#555;font-size:.9em}
.card .ci{color:#777;font-size:.8em}
table{border-collapse:collapse;background:#fff;font-size:.9em;margin:8px 0 16px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}
td{white-space:nowrap} td.t{white-space:normal;text-align:left;min-width:6em}
th:first-child,td:first-child{text-align:left}
th{background:#eef2f7} .scroll{overflow-x:auto}
figure{background:#fff;border:1px solid #ddd;border-radius:8px;padding:10px;margin:16px 0}
figure img{max-width:100%;height:auto;display:block;margin:auto}
figcaption{color:#444;font-size:.9em;margin-top:6px}
figure.failed{border-color:#c33;color:#c33}
ul.assume li{margin-bottom:4px} code{background:#eef2f7;padding:0 3px}
details{margin:8px 0} pre{background:#fff;border:1px solid #ddd;padding:8px;overflow:auto}
"""


def _cards(doc: dict) -> str:
    e = doc["energy"]
    cards = []
    for name, p in doc["products"].items():
        if "consumed" in p:  # a part of an assembly: no throughput of its own
            continue
        cards.append((f"throughput {name}", p.get("throughput_per_h"), "units/h"))
        if p.get("gwh_per_year", {}).get("mean") is not None:
            cards.append((f"capacity {name}", p["gwh_per_year"], "GWh/year"))
        cards.append((f"lead time {name}", p.get("lead_time_h"), "h"))
    cards.append(("work in process", doc["wip"], "units"))
    cards.append(("bottleneck (active period)", None,
                  doc["bottleneck"].get("resource", doc["bottleneck"]["station"])))
    cards.append(("net electricity per unit", e.get("kwh_per_unit"), "kWh/unit"))
    if (e.get("kwh_per_kwh_product") or {}).get("mean") is not None:
        cards.append(("energy per kWh of product", e["kwh_per_kwh_product"], "kWh/kWh"))
    if (e.get("peak_kw") or {}).get("mean") is not None:
        cards.append(("peak electric demand", e["peak_kw"], "kW"))
    cost = (e.get("cost") or {}).get("per_unit")
    if cost and cost.get("mean") is not None:
        cards.append(("energy cost per unit", cost, f"{e['cost'].get('currency') or ''}/unit"))
    if (e.get("co2_kg_per_unit") or {}).get("mean") is not None:
        cards.append(("CO2 per unit", e["co2_kg_per_unit"], "kg/unit"))
    areas = e.get("by_area") or {}
    if len(areas) > 1:
        top = max(areas, key=lambda a: areas[a]["share"])
        cards.append(("largest energy area", None, f"{top} {_pct(areas[top]['share'])}"))
    out = []
    for key, stat, unit in cards:
        if stat is None:
            value, ci = _esc(unit), ""
        else:
            value = f"{_num(stat['mean'])} <small>{_esc(unit)}</small>"
            lo, hi = stat["ci95"]
            ci = "" if lo is None or lo == hi else f"95%: {_num(lo)} – {_num(hi)}"
        out.append(f"<div class='card'><div class='k'>{_esc(key)}</div>"
                   f"<div class='v'>{value}</div><div class='ci'>{ci}</div></div>")
    return "<div class='cards'>" + "".join(out) + "</div>"


def _scenario_html(scenario) -> str:
    if scenario is None:
        return "<p>(scenario not available)</p>"
    parts = [f"<p>{_esc(scenario.description)}</p>" if scenario.description else ""]
    rows = []
    for name, p in scenario.products.items():
        release = p.release if isinstance(p.release, str) else json.dumps(
            p.release.model_dump(mode="json"))
        route = " → ".join(
            s.station + (f" ({s.process_time.kind}, mean {_duration(s.process_time.mean)})"
                         if s.process_time is not None else "")
            + (f" (rework {s.rework.p:g} → {s.rework.to})" if s.rework else "")
            + (f" [by {s.transport}]" if s.transport is not None else "") for s in p.route)
        rows.append({"product": name, "release": release, "route": route,
                     "energy per unit (kWh)": _num(p.energy_kwh)})
    parts.append(_html_table(pd.DataFrame(rows)))
    rows = []
    for name, s in scenario.stations.items():
        pt = s.process_time
        rows.append({
            "station": name, "area": s.area or "", "servers": s.servers,
            "process time": f"{pt.kind}, mean {_duration(pt.mean)}",
            "buffer": "unlimited" if s.buffer is None else s.buffer,
            **({"batch": "" if s.batch is None else f"{s.batch.size}" + (
                f" (starts at {s.batch.min})" if s.batch.min else "")}
               if any(t.batch is not None for t in scenario.stations.values()) else {}),
            "scrap": _pct(s.scrap) if s.scrap else "",
            "failures (MTBF / MTTR)": "" if s.failures is None else
            f"{_duration(s.failures.mtbf.mean)} / {_duration(s.failures.mttr.mean)}"
            f" ({s.failures.mode})",
            "power busy (kW)": _num(s.power_kw.busy) if s.power_kw.busy else "",
            "heat busy (kW)": _num(s.heat_kw.busy) if s.heat_kw.busy else "",
            "recovered busy (kW)": _num(s.recovered_kw.busy) if s.recovered_kw.busy else "",
        })
    parts.append(_html_table(pd.DataFrame(rows)))
    if scenario.energy is not None:
        parts.append(_energy_settings(scenario.energy))
    dump = json.dumps(_shortened(scenario.model_dump(mode="json")), indent=1, default=str)
    parts.append(f"<details><summary>The validated scenario (JSON)</summary><pre>{_esc(dump)}"
                 "</pre></details>")
    return "".join(parts)


def _shortened(data, most: int = 20):
    """The dumped scenario with long lists (measured values read from a file) cut to their
    first `most` items and a count, so the report stays small."""
    if isinstance(data, dict):
        return {k: _shortened(v, most) for k, v in data.items()}
    if isinstance(data, list):
        items = [_shortened(v, most) for v in data[:most]]
        return items + [f"... {len(data):,} values in all"] if len(data) > most else items
    return data


def _energy_settings(settings) -> str:
    currency = settings.currency or "price units"
    rows = []
    if settings.tariff:
        steps = settings.tariff
        for k, step in enumerate(steps):
            until = steps[(k + 1) % len(steps)].at_h
            rows.append((f"electricity from {step.at_h:g} h to {until or 24:g} h",
                         f"{_num(step.price)} {currency}/kWh"))
        rows.append(("time of day at the start of the run",
                     f"{settings.run_starts_at / 3600:g} h"))
    for label, value, unit in (("heat price", settings.heat_price, f"{currency}/kWh"),
                               ("grid emission factor", settings.co2_kg_per_kwh, "kg CO2/kWh"),
                               ("heat emission factor", settings.heat_co2_kg_per_kwh,
                                "kg CO2/kWh")):
        if value is not None:
            rows.append((label, f"{_num(value)} {unit}"))
    if not rows:
        return ""
    return "<h3>Energy prices and factors</h3>" + _html_table(
        pd.DataFrame(rows, columns=["setting", "value"]))


def _assumptions(results, doc: dict) -> str:
    meta = results.meta
    settings = meta.get("energy") or {}
    start = float(settings.get("run_starts_at") or 0.0) / 3600.0
    items = [
        f"Statistics cover the measured period of {doc['horizon_h']:g} h after a warm-up of "
        f"{doc['warmup_h']:g} h; the warm-up deletes statistics, not units.",
        f"{doc['replications']} independent replication(s) from seed {doc['seed']}; intervals "
        "are Student-t 95% intervals over replications (a single replication has none).",
        "Machine states: busy, starved, blocked (after service), down, setup, off shift; the "
        "fractions of machine time sum to 1.",
        "Bottleneck: Roser's active period method; a machine is active when busy, down or in "
        "setup, a station with several machines only while all of them are active.",
        "OEE per ISO 22400-2: availability × effectiveness × quality; planned run time per unit "
        "= mean process time / servers.",
        "Energy: station power per machine and state × time in that state; facility loads "
        "constant over the measured period; net electricity = stations + facility − recovered.",
        f"Peak demand: highest mean net electric power over one timeline interval; the tariff "
        f"clock starts at {start:g} h (time of day) at the start of the run, warm-up included.",
    ]
    if doc.get("paths"):
        items.append("Traffic: a path with a capacity holds at most that many vehicles, both "
                     "directions counted; vehicles wait at its start, first come first served, "
                     "and hold one path at a time (points have unlimited room, so traffic "
                     "cannot deadlock); routes stay the shortest; a vehicle waiting for room "
                     "is in its driving state.")
    if not len(results.timeline):
        items.append("This run has no timeline (engine without interval data): no flow or "
                     "power curves and no peak; cost uses the period's mean tariff price.")
    return "<ul class='assume'>" + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>"


def _run_html(results, doc: dict, files: list[str]) -> str:
    run = doc.get("run", {})
    versions = ", ".join(f"{k} {v}" for k, v in (run.get("versions") or {}).items())
    rows = [("scenario", doc["scenario"]), ("engine", doc["engine"]), ("seed", doc["seed"]),
            ("replications", f"{doc['replications']} ({run.get('replications_rule', 'fixed')})"),
            ("scenario sha256", run.get("scenario_sha256") or "–"), ("versions", versions),
            ("simulation wall time", f"{doc.get('timing', {}).get('simulate_s', 0):.3g} s"),
            ("Little's law check: Σ throughput × lead time",
             f"{_stat(doc.get('checks', {}).get('littles_law_wip'))} vs WIP {_stat(doc['wip'])}"
             + (" (the units in the system at time 0, initial_wip, count their lead time "
                "from time 0: until they have left, lead time and this product fall short "
                "of the WIP)" if results.meta.get("initial_wip") else ""))]
    failed = run.get("failed_replications") or []
    if failed:
        rows.append(("failed replications", "; ".join(
            f"{f['replication']}: {f['error']}" for f in failed)))
    for d in doc.get("deadlocks") or []:
        rows.append(("deadlock", json.dumps(d)))
    body = _html_table(pd.DataFrame(rows, columns=["fact", "value"]))
    links = " · ".join(f"<a href='{_esc(f)}'>{_esc(f)}</a>" for f in files)
    return body + f"<p>Files: {links}</p>" + (
        f"<details><summary>summary.json</summary><pre>{_esc(json.dumps(doc, indent=2))}"
        "</pre></details>")


def _page(title: str, subtitle: str, sections: list[tuple[str, str]]) -> str:
    nav = "".join(f"<a href='#{_anchor(s)}'>{_esc(s)}</a>" for s, _ in sections)
    body = "".join(f"<section id='{_anchor(s)}'><h2>{_esc(s)}</h2>{content}</section>"
                   for s, content in sections)
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_esc(title)}</title><style>{STYLE}</style></head><body>"
            f"<header><h1>{_esc(title)}</h1><p>{subtitle}</p></header><nav>{nav}</nav>"
            f"<main>{body}</main></body></html>")


def _anchor(section: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in section.lower())


def _write_tables(results, out: Path) -> list[str]:
    """Numeric tables beside the report: energy breakdown, power series, stations, products,
    fleets, lifts, conveyors, limited paths."""
    meta = results.meta
    written = []
    parts = {
        "energy": energy.breakdown(results.measures, meta),
        "power": energy.power_series(results.timeline, meta),
        "energy_totals": energy.totals(results.measures, meta, results.timeline).reset_index(),
        "stations": station_table(results.measures).reset_index(),
        "products": results.products().reset_index(),
        "fleets": results.fleets().reset_index(),
        "lifts": results.lifts().reset_index(),
        "conveyors": results.conveyors().reset_index(),
        "paths": results.paths().reset_index(),
    }
    areas = energy.by_area(parts["energy"]).reset_index()
    parts["energy_areas"] = areas
    for name, df in parts.items():
        if len(df):
            write_atomic(out / f"{name}.csv", df.to_csv(index=False).encode())
            written.append(f"{name}.csv")
    return written


# --- entry points --------------------------------------------------------------------------

def write_report(results, doc: dict[str, Any], out: Path, scenario=None) -> Path:
    """Write report.html (self-contained), figures/*.png and the CSV tables into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # the energy block with peak and time-of-use cost, whether or not `doc` had the timeline
    doc = {**doc, "energy": {**doc.get("energy", {}), **energy.summary_block(
        results.measures, results.meta, results.timeline)}}
    rendered = _render_all(figs.available(results, doc), lambda s: s.build(results, doc),
                           out / "figures")
    files = _write_tables(results, out)
    content: dict[str, list[str]] = {s: [] for s in SECTIONS}
    content["At a glance"].append(_cards(doc))
    for spec in TABLES:
        df = spec.build(results, doc)
        if df is not None and len(df):
            content.setdefault(spec.section, []).append(
                f"<h3>{_esc(spec.title)}</h3>{_html_table(df)}")
    for item in rendered:
        content.setdefault(item["spec"].section, []).append(_figure_html(item))
    sections = [(s, "".join(c)) for s, c in content.items() if c]
    sections += [("Scenario", _scenario_html(scenario)),
                 ("Assumptions", _assumptions(results, doc)),
                 ("Run", _run_html(results, doc, ["summary.json"] + files + [
                     f"figures/{i['spec'].name}.png" for i in rendered if "png" in i]))]
    subtitle = (f"{doc['replications']} replication(s) · seed {doc['seed']} · "
                f"{doc['horizon_h']:g} h measured after {doc['warmup_h']:g} h warm-up · "
                f"{_esc(doc['engine'])} engine · twin {_esc(results.meta.get('version', ''))}")
    path = out / "report.html"
    write_atomic(path, _page(f"twin report: {doc['scenario']}", subtitle, sections).encode())
    return path


def write_comparison(results_by_label: Mapping[str, Any], doc: dict[str, Any], out: Path) -> Path:
    """Write compare.html (self-contained) and figures/compare_*.png into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rendered = _render_all(figs.COMPARISON_FIGURES,
                           lambda s: s.build(results_by_label, doc), out / "figures")
    names = doc["scenarios"]
    rows = []
    for kpi, e in doc["kpis"].items():
        row = {"KPI": kpi}
        row.update({n: _stat(e["values"][n]) for n in names})
        for n in names[1:]:  # (a KPI the baseline lacks has no difference: "–")
            d = e["difference"].get(n)
            row[f"{n} − {doc['baseline']}"] = \
                f"{_stat(d)}: {e['verdict'].get(n, 'no data')}"
        rows.append(row)
    facts = pd.DataFrame([("baseline", doc["baseline"]), ("seed", doc.get("seed", "–")),
                          ("replications", doc.get("replications", "–"))],
                         columns=["fact", "value"])
    runs = pd.DataFrame([{"scenario": label, "sha256": r.meta.get("scenario_sha256") or "–",
                          "horizon (h)": _num(r.meta.get("horizon_h")),
                          "warm-up (h)": _num(r.meta.get("warmup_h"))}
                         for label, r in results_by_label.items()])
    sections = [
        ("KPIs", _html_table(pd.DataFrame(rows)) +
         "<p>Differences are paired replication by replication (common random numbers); "
         "a difference whose 95% interval excludes 0 is significant.</p>"),
        ("Charts", "".join(_figure_html(i) for i in rendered)),
        ("Run", _html_table(facts) + _html_table(runs)),
    ]
    subtitle = " vs ".join(_esc(n) for n in names)
    path = out / "compare.html"
    write_atomic(path, _page("twin comparison", subtitle, sections).encode())
    return path
