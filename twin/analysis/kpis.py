"""KPIs of results.md from the tidy result tables: the summary document.

Reads only the tables (never the engine or the scenario), so any engine, and any later
resource that adds rows to the tables, feeds the same summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from twin.analysis import energy
from twin.analysis.oee import oee
from twin.analysis.stats import ci95

STATES = ("busy", "starved", "blocked", "down", "setup", "off_shift")
VEHICLE_STATES = ("moving_loaded", "moving_empty", "loading", "unloading", "waiting", "idle",
                  "to_charger", "waiting_charger", "charging",
                  "waiting_lift", "riding_lift")  # the last two only with lifts
# a vehicle works for a move while moving, handling, or waiting for and riding a lift
WORKING_STATES = ("moving_loaded", "moving_empty", "loading", "unloading", "waiting_lift",
                  "riding_lift")
LIFT_STATES = ("moving_loaded", "moving_empty", "loading", "unloading", "idle")
LIFT_MEASURES = ("rides_per_h", "wait_h", "ride_h", "queue_mean", "energy_kwh")
CONVEYOR_STATES = ("moving", "stopped", "empty")
CONVEYOR_MEASURES = ("carried_per_h", "aboard_h", "aboard_mean", "aboard_max", "energy_kwh")
PATH_MEASURES = ("passes", "passes_per_h", "vehicles_mean", "utilization", "waits", "wait_h",
                 "time_on_h", "queue_mean", "queue_max")
CHARGING_STATES = ("to_charger", "waiting_charger", "charging")
BATTERY_MEASURES = ("charges_per_h", "charging_share", "charge_wait_h", "charger_utilization",
                    "charger_queue_mean", "charged_kwh", "charger_kwh")
# fleets with opportunity charging only (extension)
OPPORTUNITY_MEASURES = ("opportunity_charges_per_h", "interrupted_charges_per_h")
PRODUCT_MEASURES = ("finished", "scrapped", "throughput_per_h", "lead_time_h", "gwh_per_year")


def wide(measures: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One row per (replication, entity), one column per measure, entities in input order."""
    sub = measures[measures["kind"] == kind]
    table = sub.pivot_table(index=["replication", "entity"], columns="measure", values="value",
                            aggfunc="first", sort=False, dropna=False)
    table.columns.name = None
    return table


def station_table(measures: pd.DataFrame) -> pd.DataFrame:
    """Per replication and station: state fractions, utilisation, energy, OEE and its factors."""
    st = wide(measures, "station").copy()
    machine_h = _state_fractions(measures, st, "servers", STATES)
    st["utilization"] = st["busy"]
    st["energy_kwh"] = st[[f"energy_{s}_kwh" for s in STATES]].sum(axis=1)
    factors = [
        oee(
            planned_busy_time=(m - row["off_shift_h"]) / row["servers"],
            actual_production_time=row["busy_h"] / row["servers"],
            planned_run_time_per_unit=row["planned_unit_time_h"],
            produced=row["produced"],
            good=row["produced"] - row["scrapped"] - row["reworked"],
        )
        for m, (_, row) in zip(machine_h, st.iterrows())
    ]
    for key in ("availability", "effectiveness", "quality", "oee"):
        st[key] = [f[key] for f in factors]
    return st


def _state_fractions(measures: pd.DataFrame, table: pd.DataFrame, count: str,
                     states: tuple[str, ...]) -> np.ndarray:
    """Add to `table` each state's fraction of its resources' time (`count` × period, from
    the `{state}_h` columns); returns that time per row, hours."""
    system = wide(measures, "system").droplevel("entity")
    period = table.index.get_level_values("replication").map(system["period_h"]).to_numpy(float)
    resource_h = table[count].to_numpy(float) * period
    for s in states:
        table[s] = table[f"{s}_h"] / resource_h
    return resource_h


def fleet_table(measures: pd.DataFrame) -> pd.DataFrame:
    """Per replication and fleet: state fractions of vehicle time, utilisation (share of
    time working: moving, loading or unloading), trips and distance per hour, energy the
    vehicles use; with a battery also charging (NaN for fleets without one): charges per
    hour, share of vehicle time recharging (to a charger, waiting there, charging), mean
    wait for a charging place per charge, charging places' utilisation and line; with
    opportunity charging also such charges begun and cut short per hour."""
    if not (measures["kind"] == "fleet").any():
        return pd.DataFrame()
    fl = wide(measures, "fleet").copy()
    states = vehicle_states(fl)
    period = _state_fractions(measures, fl, "vehicles", states) / fl["vehicles"]
    fl["utilization"] = fl[[s for s in WORKING_STATES if s in states]].sum(axis=1)
    # lift time on the way to a charger is recharging, not work for moves
    to_charger_lift = (fl["lift_to_charger_h"].fillna(0.0) / (period * fl["vehicles"])
                       if "lift_to_charger_h" in fl else 0.0)
    fl["utilization"] -= to_charger_lift
    fl["trips_per_h"] = fl["trips"] / period
    if "units" in fl:  # vehicles carrying several units at once (NaN for other fleets)
        fl["units_per_trip"] = fl["units"] / fl["trips"].where(fl["trips"] > 0)
    fl["distance_km_per_h"] = fl["distance_km"] / period
    fl["energy_kwh"] = fl[[f"energy_{s}_kwh" for s in states]].sum(axis=1)
    if "charges" in fl:
        fl["charges_per_h"] = fl["charges"] / period
        has = fl["charges"].notna()  # fleets without a battery have no charging figures
        fl["charging_share"] = (fl[list(CHARGING_STATES)].sum(axis=1)
                                + to_charger_lift).where(has)
        fl["charge_wait_h"] = fl["waiting_charger_h"] / fl["charges"].where(fl["charges"] > 0)
        fl["charger_utilization"] = fl["charging_h"] / (fl["charger_places"] * period)
        fl["charger_queue_mean"] = (fl["waiting_charger_h"] / period).where(has)
    if "opportunity_charges" in fl:  # NaN for fleets without opportunity charging
        fl["opportunity_charges_per_h"] = fl["opportunity_charges"] / period
        fl["interrupted_charges_per_h"] = fl["interrupted_charges"] / period
    return fl


def vehicle_states(table: pd.DataFrame) -> tuple[str, ...]:
    """The vehicle states measured (waiting_lift and riding_lift only with lifts)."""
    return tuple(s for s in VEHICLE_STATES if f"{s}_h" in table or s in table)


def lift_table(measures: pd.DataFrame) -> pd.DataFrame:
    """Per replication and lift: state fractions of car time (cars × period), utilisation
    (share of car time serving rides: everything but idle), rides per hour, mean wait for
    a car, mean ride (car ready to vehicle out), vehicles waiting on average, energy."""
    if not (measures["kind"] == "lift").any():
        return pd.DataFrame()
    lt = wide(measures, "lift").copy()
    period = _state_fractions(measures, lt, "cars", LIFT_STATES) / lt["cars"]
    lt["utilization"] = 1.0 - lt["idle"]
    lt["rides_per_h"] = lt["rides"] / period
    lt["energy_kwh"] = lt[[f"energy_{s}_kwh" for s in LIFT_STATES]].sum(axis=1)
    return lt


def conveyor_table(measures: pd.DataFrame) -> pd.DataFrame:
    """Per replication and conveyor: state fractions of the period, utilisation (share of
    its capacity speed / pitch used: units carried × pitch / speed over the period), units
    carried per hour, mean time aboard, units aboard (time-average and most), energy."""
    if not (measures["kind"] == "conveyor").any():
        return pd.DataFrame()
    ct = wide(measures, "conveyor").copy()
    ct["count"] = 1.0
    period = _state_fractions(measures, ct, "count", CONVEYOR_STATES)
    ct = ct.drop(columns="count")
    ct["carried_per_h"] = ct["carried"] / period
    ct["utilization"] = ct["carried_per_h"] * ct["pitch_m"] / (ct["speed_m_s"] * 3600.0)
    ct["energy_kwh"] = ct[[f"energy_{s}_kwh" for s in CONVEYOR_STATES]].sum(axis=1)
    return ct
def path_table(measures: pd.DataFrame) -> pd.DataFrame:
    """Per replication and limited path (congestion): vehicles passed and per hour, the
    time-average vehicles on it and its utilisation (that / capacity), waits, mean wait per
    entry, mean time on it, vehicles waiting at its ends (empty without limited paths)."""
    if not (measures["kind"] == "path").any():
        return pd.DataFrame()
    pt = wide(measures, "path").copy()
    system = wide(measures, "system").droplevel("entity")
    period = pt.index.get_level_values("replication").map(system["period_h"]).to_numpy(float)
    pt["passes_per_h"] = pt["passes"] / period
    pt["utilization"] = pt["vehicles_mean"] / pt["capacity"]
    return pt


def _entities(table: pd.DataFrame) -> list[str]:
    if not len(table):
        return []
    return list(dict.fromkeys(table.index.get_level_values("entity")))


def _bottleneck(measures: pd.DataFrame, stations: list[str], replications: list[int],
                fleets: list[str] = (), lifts: list[str] = (),
                conveyors: list[str] = ()) -> dict:
    """Active-period shares per replication that completed, and their means; stations,
    fleets, lifts and conveyors compete, `station` is the top station and `resource` the
    top of all. The engines measure each resource's hours as sole and shifting bottleneck."""
    names = [*stations, *fleets, *lifts, *conveyors]
    sub = measures[measures["measure"].isin(["bottleneck_sole_h", "bottleneck_shifting_h"])
                   & measures["replication"].isin(replications)]
    hours = sub.pivot_table(index=["replication", "entity"], columns="measure",
                            values="value", aggfunc="first")
    period = wide(measures, "system").droplevel("entity")["period_h"]
    per_rep = []
    for r in replications:
        span = float(period.loc[r])
        share = {}
        for name in names:
            row = hours.loc[(r, name)] if (r, name) in hours.index else {}
            share[name] = {"sole": float(row.get("bottleneck_sole_h", 0.0)) / span,
                           "shifting": float(row.get("bottleneck_shifting_h", 0.0)) / span}
        per_rep.append(share)
    total = {s: float(np.mean([rep[s]["sole"] + rep[s]["shifting"] for rep in per_rep]))
             for s in names}
    out: dict[str, Any] = {
        "station": max(stations, key=lambda s: total[s]) if stations else None,
        "method": "active-period",
        "share": {s: total[s] for s in stations},
        "sole": {s: ci95([rep[s]["sole"] for rep in per_rep]) for s in names},
        "shifting": {s: ci95([rep[s]["shifting"] for rep in per_rep]) for s in names},
    }
    if fleets:  # vehicles compete for the bottleneck too (extension)
        out["fleets"] = {f: total[f] for f in fleets}
    if lifts:  # and lifts (extension)
        out["lifts"] = {f: total[f] for f in lifts}
    if conveyors:  # and conveyors (extension)
        out["conveyors"] = {c: total[c] for c in conveyors}
    if fleets or lifts or conveyors:
        out["resource"] = max(names, key=lambda s: total[s])
    return out


def summary(measures: pd.DataFrame, meta: Mapping[str, Any],
            timeline: pd.DataFrame | None = None) -> dict:
    """The summary JSON document of results.md (fixed fields first, extensions after).

    With the `timeline` table the energy block also has peak demand and time-of-use cost.
    """
    doc: dict[str, Any] = {
        "scenario": meta["scenario"],
        "engine": meta["engine"],
        "replications": meta["replications"],
        "seed": meta["seed"],
        "horizon_h": meta["horizon_h"],
        "warmup_h": meta["warmup_h"],
    }
    if not len(measures):
        return _nothing(doc, measures, meta)
    prod = wide(measures, "product")
    doc["products"] = {}
    for name in _entities(prod):
        rows = prod.xs(name, level="entity")
        entry = {m: ci95(rows[m].to_numpy(float)) for m in PRODUCT_MEASURES if m in rows}
        entry["released"] = ci95(rows["released"].to_numpy(float))
        part = "consumed" in rows and rows["consumed"].notna().all()  # (extension)
        good = rows["finished"].to_numpy(float, copy=True)
        if part:  # a part of an assembly: a consumed unit is a good one
            good += rows["consumed"].to_numpy(float)
        left = good + rows["scrapped"].to_numpy(float)
        left[left == 0] = np.nan
        entry["final_yield"] = ci95(good / left)
        if "first_pass" in rows:
            entry["first_pass_yield"] = ci95(rows["first_pass"].to_numpy(float) / left)
        if part:
            entry["consumed"] = ci95(rows["consumed"].to_numpy(float))
            entry["consumed_time_h"] = ci95(rows["consumed_time_h"].to_numpy(float))
        doc["products"][name] = entry
    system = wide(measures, "system").droplevel("entity")
    doc["wip"] = ci95(system["wip_mean"].to_numpy(float))
    st = station_table(measures)
    stations = _entities(st)
    doc["stations"] = {}
    for name in stations:
        rows = st.xs(name, level="entity")
        doc["stations"][name] = {
            "utilization": ci95(rows["utilization"].to_numpy(float)),
            "states": {s: float(rows[s].mean()) for s in STATES},
            "queue_mean": ci95(rows["queue_mean"].to_numpy(float)),
            "wait_h": ci95(rows["wait_h"].to_numpy(float)),
            "energy_kwh": ci95(rows["energy_kwh"].to_numpy(float)),
            "oee": ci95(rows["oee"].to_numpy(float)),
            "oee_factors": {k: ci95(rows[k].to_numpy(float))
                            for k in ("availability", "effectiveness", "quality")},
            "produced": ci95(rows["produced"].to_numpy(float)),
            "changeovers": ci95(rows["changeovers"].to_numpy(float)),
        }
        if "places" in rows and rows["places"].notna().any():  # a warehouse (extension)
            doc["stations"][name]["warehouse"] = {
                "places": int(rows["places"].iloc[0]),
                **{k: ci95(rows[k].to_numpy(float)) for k in (
                    "stored_mean", "store_cycle_h", "retrieve_cycle_h", "dual_cycles",
                    "dual_cycle_h", "in_store_h")}}
    replications = sorted(int(r) for r in measures["replication"].unique())
    fleets = fleet_table(measures)
    lifts = lift_table(measures)
    conveyors = conveyor_table(measures)
    doc["bottleneck"] = _bottleneck(measures, stations, replications, _entities(fleets),
                                    _entities(lifts), _entities(conveyors))
    if len(fleets):
        doc["fleets"] = {}
        for name in _entities(fleets):
            rows = fleets.xs(name, level="entity")
            doc["fleets"][name] = {
                "vehicles": int(rows["vehicles"].iloc[0]),
                "utilization": ci95(rows["utilization"].to_numpy(float)),
                "states": {s: float(rows[s].mean()) for s in vehicle_states(rows)},
                "trips_per_h": ci95(rows["trips_per_h"].to_numpy(float)),
                "response_h": ci95(rows["response_h"].to_numpy(float)),
                "trip_h": ci95(rows["trip_h"].to_numpy(float)),
                "distance_km_per_h": ci95(rows["distance_km_per_h"].to_numpy(float)),
                "energy_kwh": ci95(rows["energy_kwh"].to_numpy(float)),
            }
            if "units" in rows and rows["units"].notna().all():  # capacity > 1 (extension)
                doc["fleets"][name]["units_per_trip"] = ci95(
                    rows["units_per_trip"].to_numpy(float))
            if "charges" in rows and rows["charges"].notna().all():  # a battery (extension)
                doc["fleets"][name]["battery"] = {
                    m: ci95(rows[m].to_numpy(float)) for m in BATTERY_MEASURES}
                if "opportunity_charges" in rows and rows["opportunity_charges"].notna().all():
                    doc["fleets"][name]["battery"].update(
                        {m: ci95(rows[m].to_numpy(float)) for m in OPPORTUNITY_MEASURES})
    if len(lifts):  # (extension)
        doc["lifts"] = _resource_blocks(lifts, "cars", LIFT_STATES, LIFT_MEASURES)
    if len(conveyors):  # (extension)
        doc["conveyors"] = _resource_blocks(conveyors, "places", CONVEYOR_STATES,
                                            ("carried", *CONVEYOR_MEASURES))
    paths = path_table(measures)
    if len(paths):  # limited paths (extension)
        doc["paths"] = {}
        for name in _entities(paths):
            rows = paths.xs(name, level="entity")
            doc["paths"][name] = {
                "capacity": int(rows["capacity"].iloc[0]),
                "length_m": float(rows["length_m"].iloc[0]),
                **{m: ci95(rows[m].to_numpy(float)) for m in PATH_MEASURES}}
    # total_kwh: stations' electricity + facility electricity - recovered (docs/energy.md)
    doc["energy"] = energy.summary_block(measures, meta, timeline)
    # Little's law over every unit that left: finished, scrapped and consumed (parts) ones
    left = (prod["throughput_per_h"] * prod["lead_time_h"].fillna(0.0)
            + prod["scrapped"] / system["period_h"].reindex(
                prod.index.get_level_values("replication")).to_numpy()
            * prod.get("scrapped_time_h", pd.Series(0.0, index=prod.index)).fillna(0.0))
    if "consumed" in prod:  # parts leave by assembly (extension)
        left = left + (prod["consumed"].fillna(0.0) / system["period_h"].reindex(
            prod.index.get_level_values("replication")).to_numpy()
            * prod["consumed_time_h"].fillna(0.0))
    flow = left.groupby(level="replication", sort=True).sum()
    doc["checks"] = {"littles_law_wip": ci95(flow.to_numpy(float))}
    _closing(doc, measures, meta)
    return doc


def _resource_blocks(table: pd.DataFrame, size: str, states: tuple[str, ...],
                     measures: tuple[str, ...]) -> dict[str, dict]:
    """The summary block of each lift or conveyor: its `size` (cars, places), utilisation,
    mean state fractions and the `measures` with their intervals."""
    out = {}
    for name in _entities(table):
        rows = table.xs(name, level="entity")
        out[name] = {size: int(rows[size].iloc[0]),
                     "utilization": ci95(rows["utilization"].to_numpy(float)),
                     "states": {s: float(rows[s].mean()) for s in states},
                     **{m: ci95(rows[m].to_numpy(float)) for m in measures}}
    return out


def _nothing(doc: dict[str, Any], measures: pd.DataFrame, meta: Mapping[str, Any]) -> dict:
    """The summary when no replication completed: the fixed fields with no values, and the
    failures that explain why (so sweeps and comparisons can go on with other points)."""
    none = ci95([])
    doc.update(products={}, wip=none, stations={},
               bottleneck={"station": None, "method": "active-period", "share": {}},
               energy={"total_kwh": none, "kwh_per_unit": none},
               checks={"littles_law_wip": none})
    _closing(doc, measures, meta)
    return doc


def _closing(doc: dict[str, Any], measures: pd.DataFrame, meta: Mapping[str, Any]) -> None:
    """Deadlocks, run facts and timing: the end of every summary."""
    doc["deadlocks"] = list(meta.get("deadlocks", []))
    doc["run"] = {
        "scenario_sha256": meta.get("scenario_sha256"),
        "versions": meta.get("versions", {}),
        "replications_ok": int(measures["replication"].nunique()),
        "replications_rule": meta.get("replications_rule", "fixed"),
        "warmup_rule": meta.get("warmup_rule", "given"),
        "failed_replications": list(meta.get("failed", [])),
    }
    doc["timing"] = dict(meta.get("timing", {"total_s": 0.0, "simulate_s": 0.0}))
