"""Energy of the plant from the result tables: where it goes, when it peaks, what it costs.

Pure functions on the tidy tables of `twin.results` plus the run facts in `meta`
(`meta["stations"]` for process areas, `meta["products"]` for the products' energy,
`meta["energy"]` for facility loads, tariff and emission factors). Nothing here reads the
engine or the scenario.

Carriers: **electricity** drawn by stations (measures `energy_{state}_kwh`) and by electric
facility loads; **heat** (`heat_{state}_kwh`, heat facility loads); **recovered** electricity
fed back (`recovered_{state}_kwh`, e.g. regenerative formation racks). Definitions:

- `total_kwh` = stations' electricity + facility electricity − recovered (net electricity,
  what the grid meter sees), plus vehicle fleets' electricity: their vehicles' energy, or,
  for a fleet with a battery, what its chargers draw from the grid; plus lifts' electricity
  (their cars' power in each lift state) and conveyors' (their power in each conveyor state);
- `energy_kwh` = `total_kwh` + heat (final energy, all carriers);
- the net energy of an area = its electricity + heat − recovered.

Time of use: the tariff is a cyclic day of prices. The clock reads
`run_starts_at + warm-up + t` for the time t after warm-up (so it starts at
`run_starts_at`, midnight by default, at the start of the run, warm-up included). Each
timeline interval is charged its net electricity times the tariff's mean price over the
interval: exact whenever tariff steps fall on interval boundaries (15-minute intervals and
prices changing on the quarter hour), else exact for constant power within the interval.
Recovered electricity is credited at the price of the moment (it offsets consumption
behind the meter).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from twin.analysis.stats import ci95

CARRIERS = ("electricity", "heat", "recovered")
_PREFIX = {"energy": "electricity", "heat": "heat", "recovered": "recovered"}
_MEASURE = re.compile(r"^(energy|heat|recovered)_([a-z_]+)_kwh$")
FLEET_AREA = "logistics"  # the area of vehicle fleets', lifts' and conveyors' energy
BREAKDOWN_COLUMNS = ["replication", "source", "entity", "area", "carrier", "state", "kwh"]
SERIES_COLUMNS = ["replication", "start_h", "end_h", "interval_h", "station_kw", "recovered_kw",
                  "facility_kw", "charger_kw", "lift_kw", "conveyor_kw", "net_kw", "heat_kw",
                  "price",
                  "electricity_cost"]
FACILITY_STATE = "on"  # the state of a facility load: always on


def _settings(meta: Mapping[str, Any]) -> dict[str, Any]:
    return dict(meta.get("energy") or {})


def _period_h(measures: pd.DataFrame) -> pd.Series:
    """Measured period (h) per replication."""
    rows = measures[(measures["kind"] == "system") & (measures["measure"] == "period_h")]
    return rows.groupby("replication", sort=True)["value"].first()


def _area(meta: Mapping[str, Any], station: str) -> str:
    area = (meta.get("stations") or {}).get(station, {}).get("area")
    return area or station


def breakdown(measures: pd.DataFrame, meta: Mapping[str, Any]) -> pd.DataFrame:
    """kWh per replication × source (station | fleet | lift | conveyor | facility) × entity ×
    carrier ×
    state.

    A station or facility load without an `area` is an area of its own, named after it;
    vehicle fleets, lifts and conveyors make the area "logistics"; a lift draws its cars'
    energy in each lift state, a conveyor its energy in each conveyor state. A fleet without a battery draws its vehicles'
    energy in each vehicle state; a fleet with one (it has the measure `charger_kwh`) draws
    what its chargers take from the grid, in state "charger" (its vehicles' energy comes out
    of their batteries, so counting it too would count it twice).
    Facility loads are on for the whole measured period, in state "on".
    """
    parts = []
    for kind in ("station", "fleet", "lift", "conveyor"):
        st = measures[measures["kind"] == kind]
        if kind == "fleet":
            charged = st.loc[st["measure"] == "charger_kwh", ["replication", "entity"]]
            battery = pd.MultiIndex.from_frame(charged)
            st = st[~pd.MultiIndex.from_frame(st[["replication", "entity"]]).isin(battery)
                    | (st["measure"] == "charger_kwh")]
            st = st.assign(measure=st["measure"].replace({"charger_kwh": "energy_charger_kwh"}))
        names = pd.Series(st["measure"].unique())
        parsed = {m: _MEASURE.match(m) for m in names}
        parsed = {m: (_PREFIX[g.group(1)], g.group(2)) for m, g in parsed.items() if g}
        rows = st[st["measure"].isin(list(parsed))]
        parts.append(pd.DataFrame({
            "replication": rows["replication"].to_numpy(),
            "source": kind,
            "entity": rows["entity"].to_numpy(),
            "area": ([_area(meta, e) for e in rows["entity"]] if kind == "station"
                     else FLEET_AREA),
            "carrier": [parsed[m][0] for m in rows["measure"]],
            "state": [parsed[m][1] for m in rows["measure"]],
            "kwh": rows["value"].to_numpy(float),
        }))
    period = _period_h(measures)
    loads = _settings(meta).get("facility") or {}
    for name, load in loads.items():
        parts.append(pd.DataFrame({
            "replication": period.index.to_numpy(),
            "source": "facility",
            "entity": name,
            "area": load.get("area") or name,
            "carrier": load.get("carrier", "electricity"),
            "state": FACILITY_STATE,
            "kwh": float(load["kw"]) * period.to_numpy(float),
        }))
    table = pd.concat(parts, ignore_index=True)
    return table[BREAKDOWN_COLUMNS]


def by_area(table: pd.DataFrame) -> pd.DataFrame:
    """Per replication and area: electricity, heat, recovered and net kWh, and net share.

    net = electricity + heat − recovered; share = net / the plant's net (0 if that is 0).
    Areas keep their first-seen order.
    """
    wide = table.pivot_table(index=["replication", "area"], columns="carrier", values="kwh",
                             aggfunc="sum", sort=False, fill_value=0.0)
    for c in CARRIERS:
        if c not in wide:
            wide[c] = 0.0
    wide = wide[list(CARRIERS)]
    wide.columns.name = None
    wide["net"] = wide["electricity"] + wide["heat"] - wide["recovered"]
    plant = wide.groupby(level="replication")["net"].transform("sum")
    wide["share"] = np.where(plant != 0, wide["net"] / plant.where(plant != 0, 1.0), 0.0)
    return wide


def _finished(measures: pd.DataFrame, meta: Mapping[str, Any]) -> pd.DataFrame:
    """Per replication: units finished and their nameplate energy (NaN if not all known)."""
    fin = measures[(measures["kind"] == "product") & (measures["measure"] == "finished")]
    products = meta.get("products") or {}
    per_unit = fin["entity"].map(lambda p: (products.get(p) or {}).get("energy_kwh"))
    per_unit = pd.to_numeric(per_unit, errors="coerce")
    # a finished product without energy_kwh leaves the plant's product energy unknown
    product_kwh = np.where(fin["value"].to_numpy() > 0, fin["value"] * per_unit, 0.0)
    df = pd.DataFrame({"replication": fin["replication"].to_numpy(),
                       "finished": fin["value"].to_numpy(float), "product_kwh": product_kwh})
    groups = df.groupby("replication", sort=True)
    out = groups[["finished", "product_kwh"]].sum()
    out.loc[groups["product_kwh"].apply(lambda s: s.isna().any()), "product_kwh"] = math.nan
    return out


def price_integral(steps: Sequence[Mapping[str, float]], clock_h: np.ndarray) -> np.ndarray:
    """∫ price dt (price × h) from clock 0 (midnight of day 0) to each clock time (h).

    `steps` are {at_h, price} sorted by at_h; each price holds until the next step, and
    the last one wraps round midnight until the first.
    """
    at = np.array([s["at_h"] for s in steps], dtype=float)
    price = np.array([s["price"] for s in steps], dtype=float)
    knots = np.concatenate(([0.0], at, [24.0]))
    seg_price = np.concatenate(([price[-1]], price))  # before the first step: the last price
    cum = np.concatenate(([0.0], np.cumsum(np.diff(knots) * seg_price)))
    t = np.asarray(clock_h, dtype=float)
    days = np.floor(t / 24.0)
    return days * cum[-1] + np.interp(t - 24.0 * days, knots, cum)


def price_at(steps: Sequence[Mapping[str, float]], clock_h: np.ndarray) -> np.ndarray:
    """The tariff's price in effect at each clock time (h since midnight of day 0)."""
    at = np.array([s["at_h"] for s in steps], dtype=float)
    price = np.array([s["price"] for s in steps], dtype=float)
    hour = np.mod(np.asarray(clock_h, dtype=float), 24.0)
    return price[np.searchsorted(at, hour, side="right") - 1]  # index -1: the last price


def mean_price(steps: Sequence[Mapping[str, float]], start_h: np.ndarray,
               end_h: np.ndarray) -> np.ndarray:
    """Mean tariff price over each clock interval [start, end) (h since midnight of day 0);
    the price in effect at `start` for an empty interval."""
    start_h, end_h = np.asarray(start_h, float), np.asarray(end_h, float)
    span = end_h - start_h
    total = price_integral(steps, end_h) - price_integral(steps, start_h)
    return np.where(span > 0, total / np.where(span > 0, span, 1.0), price_at(steps, start_h))


def clock_offset_h(meta: Mapping[str, Any]) -> float:
    """Clock time (h since midnight of day 0) at the end of warm-up (time_h = 0)."""
    return float(_settings(meta).get("run_starts_at") or 0.0) / 3600.0 + float(meta["warmup_h"])


def power_series(timeline: pd.DataFrame, meta: Mapping[str, Any]) -> pd.DataFrame:
    """Mean power per replication and timeline interval, and the interval's electricity cost.

    station_kw: stations' electricity; recovered_kw; facility_kw: electric facility loads;
    charger_kw: vehicle chargers' draw from the grid (fleets with a battery); lift_kw: lifts;
    conveyor_kw: conveyors;
    net_kw = station_kw − recovered_kw + facility_kw + charger_kw + lift_kw + conveyor_kw;
    heat_kw: stations' and
    facility heat.
    price: the tariff's mean price over the interval (NaN without a tariff). Empty when
    the run has no timeline (e.g. the flowline engine).
    """
    if timeline is None or not len(timeline):
        return pd.DataFrame(columns=SERIES_COLUMNS)
    settings = _settings(meta)
    loads = (settings.get("facility") or {}).values()
    fac_el = sum(float(x["kw"]) for x in loads if x.get("carrier", "electricity") == "electricity")
    fac_heat = sum(float(x["kw"]) for x in loads if x.get("carrier") == "heat")
    grid = timeline[["replication", "time_h"]].drop_duplicates().sort_values(
        ["replication", "time_h"])
    end = grid["time_h"].to_numpy(float)
    rep = grid["replication"].to_numpy()
    first = np.concatenate(([True], rep[1:] != rep[:-1]))
    start = np.where(first, 0.0, np.concatenate(([0.0], end[:-1])))
    st = timeline[timeline["kind"] == "station"]
    chargers = timeline[(timeline["kind"] == "fleet") & (timeline["measure"] == "energy_kwh")]
    if len(chargers):
        st = pd.concat([st, chargers.assign(measure="charger_kwh")])
    for kind in ("lift", "conveyor"):
        rows = timeline[(timeline["kind"] == kind) & (timeline["measure"] == "energy_kwh")]
        if len(rows):
            st = pd.concat([st, rows.assign(measure=f"{kind}_kwh")])
    kwh = st.pivot_table(index=["replication", "time_h"], columns="measure", values="value",
                         aggfunc="sum")
    kwh = kwh.reindex(pd.MultiIndex.from_arrays([rep, end]), fill_value=0.0).fillna(0.0)
    dt = end - start
    safe = np.where(dt > 0, dt, 1.0)

    def kw(measure: str) -> np.ndarray:
        return kwh[measure].to_numpy(float) / safe if measure in kwh else np.zeros(len(end))

    out = pd.DataFrame({"replication": rep, "start_h": start, "end_h": end, "interval_h": dt,
                        "station_kw": kw("energy_kwh"), "recovered_kw": kw("recovered_kwh"),
                        "facility_kw": fac_el, "charger_kw": kw("charger_kwh"),
                        "lift_kw": kw("lift_kwh"), "conveyor_kw": kw("conveyor_kwh")})
    out["net_kw"] = (out["station_kw"] - out["recovered_kw"] + out["facility_kw"]
                     + out["charger_kw"] + out["lift_kw"] + out["conveyor_kw"])
    out["heat_kw"] = kw("heat_kwh") + fac_heat
    steps = settings.get("tariff")
    if steps:
        offset = clock_offset_h(meta)
        out["price"] = mean_price(steps, start + offset, end + offset)
    else:
        out["price"] = math.nan
    out["electricity_cost"] = out["net_kw"] * out["interval_h"] * out["price"]
    return out[SERIES_COLUMNS]


def peak_demand(series: pd.DataFrame) -> pd.DataFrame:
    """Per replication: the highest interval mean of net electric power and its interval."""
    if not len(series):
        return pd.DataFrame(columns=["peak_kw", "start_h", "end_h"])
    at = series.groupby("replication", sort=True)["net_kw"].idxmax()
    rows = series.loc[at.to_numpy()]
    return pd.DataFrame({"peak_kw": rows["net_kw"].to_numpy(float),
                         "start_h": rows["start_h"].to_numpy(float),
                         "end_h": rows["end_h"].to_numpy(float)},
                        index=pd.Index(at.index, name="replication"))


def _engine_peak(measures: pd.DataFrame, meta: Mapping[str, Any]) -> pd.DataFrame | None:
    """Peak demand as the engine tracked it over 15-minute intervals (whatever the
    timeline's resolution), plus the constant electric facility loads; None if absent."""
    sub = measures[(measures["kind"] == "system")
                   & measures["measure"].isin(["peak_station_kw", "peak_start_h", "peak_end_h"])]
    if not len(sub):
        return None
    table = sub.pivot_table(index="replication", columns="measure", values="value",
                            aggfunc="first")
    loads = (_settings(meta).get("facility") or {}).values()
    fac_el = sum(float(x["kw"]) for x in loads if x.get("carrier", "electricity") == "electricity")
    return pd.DataFrame({"peak_kw": table["peak_station_kw"] + fac_el,
                         "start_h": table["peak_start_h"], "end_h": table["peak_end_h"]})


def totals(measures: pd.DataFrame, meta: Mapping[str, Any],
           timeline: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per replication: kWh by carrier, per unit and per kWh of product, peak, cost,
    CO2 (NaN where the scenario gives no price or factor, or there is no timeline)."""
    table = breakdown(measures, meta)
    carrier = table.pivot_table(index="replication", columns="carrier", values="kwh",
                                aggfunc="sum", fill_value=0.0)
    for c in CARRIERS:
        if c not in carrier:
            carrier[c] = 0.0
    out = pd.DataFrame(index=carrier.index)
    out["electricity_kwh"] = carrier["electricity"]
    out["recovered_kwh"] = carrier["recovered"]
    out["total_kwh"] = carrier["electricity"] - carrier["recovered"]
    out["heat_kwh"] = carrier["heat"]
    out["energy_kwh"] = out["total_kwh"] + out["heat_kwh"]
    fin = _finished(measures, meta).reindex(out.index)
    units = fin["finished"].where(fin["finished"] > 0)
    product = fin["product_kwh"].where(fin["product_kwh"] > 0)
    out["finished"] = fin["finished"]
    out["kwh_per_unit"] = out["total_kwh"] / units
    out["energy_per_unit_kwh"] = out["energy_kwh"] / units
    out["kwh_per_kwh_product"] = out["energy_kwh"] / product

    settings = _settings(meta)
    series = power_series(timeline, meta)
    peak = _engine_peak(measures, meta)
    if peak is None:  # an engine without a demand tracker: the timeline's intervals
        peak = peak_demand(series)
    peak = peak.reindex(out.index)
    out["peak_kw"] = peak["peak_kw"].astype(float)
    out["peak_start_h"] = peak["start_h"].astype(float)
    out["peak_end_h"] = peak["end_h"].astype(float)
    steps = settings.get("tariff")
    if steps and len(series):
        out["electricity_cost"] = series.groupby("replication")["electricity_cost"].sum()
    elif steps:  # no timeline: the measured period's mean price
        period = _period_h(measures).reindex(out.index).to_numpy(float)
        offset = clock_offset_h(meta)
        out["electricity_cost"] = out["total_kwh"] * mean_price(steps, offset, offset + period)
    else:
        out["electricity_cost"] = math.nan
    heat_price = settings.get("heat_price")
    out["heat_cost"] = out["heat_kwh"] * heat_price if heat_price is not None else math.nan
    out["cost"] = out[["electricity_cost", "heat_cost"]].sum(axis=1, min_count=1)
    out["cost_per_unit"] = out["cost"] / units
    co2 = settings.get("co2_kg_per_kwh")
    heat_co2 = settings.get("heat_co2_kg_per_kwh")
    parts = pd.DataFrame({
        "el": out["total_kwh"] * co2 if co2 is not None else math.nan,
        "heat": out["heat_kwh"] * heat_co2 if heat_co2 is not None else math.nan},
        index=out.index)
    out["co2_kg"] = parts.sum(axis=1, min_count=1)
    out["co2_kg_per_unit"] = out["co2_kg"] / units
    return out


def _means(table: pd.DataFrame, index: list[str], columns: str) -> dict[str, dict[str, float]]:
    """{index value: {column value: mean kWh over replications}}, zeros left out."""
    reps = table["replication"].nunique() or 1
    sums = table.groupby(index + [columns], sort=False)["kwh"].sum() / reps
    out: dict[str, dict[str, float]] = {}
    for key, value in sums.items():
        if value:
            out.setdefault(key[0], {})[key[-1]] = float(value)
    return out


def summary_block(measures: pd.DataFrame, meta: Mapping[str, Any],
                  timeline: pd.DataFrame | None = None) -> dict[str, Any]:
    """The summary document's `energy` block: the fixed `total_kwh` and `kwh_per_unit`
    first, then the extensions (see docs/results.md)."""
    t = totals(measures, meta, timeline)
    settings = _settings(meta)

    def stat(col: str) -> dict:
        return ci95(t[col].to_numpy(float))

    table = breakdown(measures, meta)
    areas = by_area(table)
    area_doc = {}
    for name in dict.fromkeys(areas.index.get_level_values("area")):
        rows = areas.xs(name, level="area")
        area_doc[name] = {"kwh": ci95(rows["net"].to_numpy(float)),
                          "share": float(rows["share"].mean())}
    stations = table[table["source"] == "station"]
    by_station = {}
    for name, grp in stations.groupby("entity", sort=False):
        by_station[name] = _means(grp, ["carrier"], "state")
    facility = table[table["source"] == "facility"]
    loads = settings.get("facility") or {}
    fac_doc = {name: {"kwh": ci95(grp["kwh"].to_numpy(float)),
                      "carrier": loads[name].get("carrier", "electricity"),
                      "area": loads[name].get("area") or name}
               for name, grp in facility.groupby("entity", sort=False)}
    series = power_series(timeline, meta)
    return {
        "total_kwh": stat("total_kwh"),
        "kwh_per_unit": stat("kwh_per_unit"),
        "electricity_kwh": stat("electricity_kwh"),
        "recovered_kwh": stat("recovered_kwh"),
        "heat_kwh": stat("heat_kwh"),
        "energy_kwh": stat("energy_kwh"),
        "energy_per_unit_kwh": stat("energy_per_unit_kwh"),
        "kwh_per_kwh_product": stat("kwh_per_kwh_product"),
        "peak_kw": stat("peak_kw"),
        "peak_at_h": [[float(a), float(b)] for a, b in zip(t["peak_start_h"], t["peak_end_h"])
                      if not math.isnan(a)],
        "demand_interval_h": (0.25 if _engine_peak(measures, meta) is not None
                              else float(series["interval_h"].max()) if len(series) else None),
        "cost": {
            "electricity": stat("electricity_cost"),
            "heat": stat("heat_cost"),
            "total": stat("cost"),
            "per_unit": stat("cost_per_unit"),
            "currency": settings.get("currency"),
        },
        "co2_kg": stat("co2_kg"),
        "co2_kg_per_unit": stat("co2_kg_per_unit"),
        "by_area": area_doc,
        "by_station": by_station,
        "facility": fac_doc,
    }
