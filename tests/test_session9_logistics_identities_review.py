"""Session 9 review: identities on randomly generated logistics scenarios.

A seeded generator builds valid scenarios as dicts: 2-4 stations (random distributions,
buffers, scrap, rework, failures of both modes, setups, a shift calendar with
`pause`/`finish`, an AS/RS warehouse with single or dual commands), 1-2 products
(saturated, open or CONWIP release), a fleet of 1-3 AGVs (with or without a battery,
opportunity charging, a one-lane path), two floors joined by a lift, and a conveyor on
one move. Each is run (short horizon, 1-2 replications, event log on) and checked
against identities computed independently from the scenario and the event log:

- state hours of every station / fleet / lift / conveyor = machines (vehicles, cars, 1)
  x period, each >= 0; summary fractions sum to 1, each in [0, 1];
- energy per state = the scenario's constant power x hours in that state (fleets with
  the documented defaults: to_charger = moving_empty, waiting_charger / charging /
  lift states = idle); energy.total_kwh = stations + fleets (chargers' grid energy for
  battery fleets) + lifts + conveyors;
- battery: charged = charge_kw x charging_h, grid = charged / efficiency, end - start =
  charged - sum of vehicle energy, stored within [0, capacity];
- flow balance released + wip_start = finished + scrapped + wip_end; per product the
  counts equal the event log's; lead time = mean(finish - release) from the event log;
  wip_mean = time-average of units in the system from the event log (no warm-up);
- queue_mean and conveyor aboard_mean = time-average from the event log (when nothing
  is left at the end); conveyor `carried` = conveyor events ending in the period;
- busy_h vs process_h differ by at most servers x the longest process (ends);
- utilisations (fleet, lift, conveyor) as docs/results.md defines them;
- no internal error, no hang, no non-finite number in the summary; same seed, same
  summary.
Plus one bug found this way (a battery that runs flat reports the wrong time when the
warm-up ends before the next state change of the vehicle).
"""

from __future__ import annotations

import json
import math
import random
import signal
from pathlib import Path

import numpy as np
import pytest
import yaml

import twin
from twin.errors import RunError, ScenarioError

H = 3600.0
STATION_STATES = ["busy", "starved", "blocked", "down", "setup", "off_shift"]
FLEET_STATES = ["moving_loaded", "moving_empty", "loading", "unloading", "waiting", "idle",
                "to_charger", "waiting_charger", "charging", "waiting_lift", "riding_lift"]
LIFT_STATES = ["moving_loaded", "moving_empty", "loading", "unloading", "idle"]
CONV_STATES = ["moving", "stopped", "empty"]


def dist(r, mean):
    k = r.randrange(8)
    if k == 0:
        return mean
    if k == 1:
        return {"exponential": mean}
    if k == 2:
        return {"lognormal": {"mean": mean, "cv": round(r.uniform(0.1, 1.0), 2)}}
    if k == 3:
        return {"uniform": [round(mean * 0.5, 2), round(mean * 1.5, 2)]}
    if k == 4:
        return {"triangular": [round(mean * .5, 2), mean, round(mean * 1.5, 2)]}
    if k == 5:
        return {"erlang": {"mean": mean, "k": r.randint(1, 4)}}
    if k == 6:
        return {"gamma": {"mean": mean, "cv": round(r.uniform(0.2, 1.5), 2)}}
    return {"empirical": [round(mean * f, 2) for f in (0.6, 1.0, 1.4)]}


def gen(seed):
    r = random.Random(seed)
    ns = r.randint(2, 4)
    names = [f"s{i}" for i in range(ns)]
    two_floors = r.random() < 0.35
    use_fleet = r.random() < 0.75 or two_floors
    battery = use_fleet and r.random() < 0.4
    calendars = {}
    if r.random() < 0.3:
        calendars["cal"] = {"shifts": [["6 h", "14 h"], ["14 h", "22 h"]]}
        if r.random() < 0.5:
            calendars["cal"]["breaks"] = [["10 h", "10.5 h"]]
    stations = {}
    wh = None
    if r.random() < 0.25 and ns >= 3:
        wh = names[r.randrange(1, ns)]
    for n in names:
        st = {"process_time": dist(r, r.choice([20, 30, 45, 60])),
              "power_kw": {s: round(r.uniform(0, 10), 2) for s in STATION_STATES if r.random() < 0.8}}
        if n == wh:
            st["process_time"] = dist(r, r.choice([300, 600, 1200]))
            st["buffer"] = r.choice([0, 2, 5])
            st["warehouse"] = {"places": r.choice([5, 20, 100]), "cranes": r.randint(1, 2),
                               "rack": {"length": r.choice([10, 30]), "height": r.choice([5, 10])},
                               "speed": {"horizontal": 2, "vertical": 1},
                               "pick_deposit": r.choice([0, 3, "5 s"]),
                               "commands": r.choice(["single", "dual"])}
            stations[n] = st
            continue
        st["servers"] = r.randint(1, 2)
        b = r.choice([None, 0, 1, 3, 10])
        if b is not None:
            st["buffer"] = b
        if r.random() < 0.3:
            st["scrap"] = round(r.uniform(0, 0.1), 3)
        if r.random() < 0.4:
            st["failures"] = {"mtbf": dist(r, r.choice([1800, 3600])), "mttr": dist(r, r.choice([120, 300])),
                              "mode": r.choice(["time", "operation"])}
        if calendars and r.random() < 0.5:
            st["calendar"] = "cal"
            if r.random() < 0.3:
                st["at_shift_end"] = "finish"
        stations[n] = st
    # products
    products = {}
    nprod = r.randint(1, 2)
    for p in range(nprod):
        k = r.randint(2, ns)
        route = r.sample(names, k)
        if wh and wh in route and route[0] == wh and r.random() < 0.8:
            route = [x for x in route if x != wh] + [wh]
            if route[0] == wh:
                route = names[:1] + route
        rel = r.choice(["saturated", "inter", "conwip"])
        if rel == "saturated":
            release = "saturated"
        elif rel == "inter":
            release = {"interarrival": dist(r, r.choice([60, 90, 120]))}
        else:
            release = {"conwip": r.randint(1, 8)}
        steps = list(route)
        if r.random() < 0.2 and len(route) >= 2:
            i = r.randrange(1, len(route))
            if route[i] != wh and route[i - 1] != wh:
                steps[i] = {"station": route[i], "rework": {"p": 0.1, "to": route[i - 1]}}
        prod = {"route": steps, "release": release}
        if use_fleet and r.random() < 0.85:
            prod["transport"] = "agv"
        products[f"p{p}"] = prod
    # setups
    if nprod == 2:
        common = set(products["p0"]["route"][i] if isinstance(products["p0"]["route"][i], str) else products["p0"]["route"][i]["station"] for i in range(len(products["p0"]["route"])))
        for n in names:
            if n != wh and r.random() < 0.3:
                stations[n]["setup"] = dist(r, 60)
    sc = {"name": f"gen{seed}", "run": {"horizon": f"{r.choice([3, 5, 8])} h", "warmup": r.choice([0, "30 min", "1 h"]),
                                        "seed": r.randint(0, 100), "replications": r.randint(1, 2)},
          "products": products, "stations": stations}
    if calendars:
        sc["calendars"] = calendars
    log = {}
    if use_fleet:
        pts = {"depot": [0, 0]}
        for i, n in enumerate(names):
            pts[n] = [10 * (i + 1), r.choice([0, 5])]
        if two_floors:
            pts["lift-0"] = [5, 10]
            pts["lift-1"] = [5, 10]
            ground = ["depot"] + [n for i, n in enumerate(names) if i % 2 == 0] + ["lift-0"]
            first = [n for i, n in enumerate(names) if i % 2 == 1] + ["lift-1"]
            log["floors"] = {"ground": {"height": 0, "points": ground}, "first": {"height": 6, "points": first}}
            paths = [[ground[i], ground[i + 1]] for i in range(len(ground) - 1)] + [[first[i], first[i + 1]] for i in range(len(first) - 1)]
            log["lifts"] = {"lift": {"points": {"ground": "lift-0", "first": "lift-1"}, "cars": r.randint(1, 2),
                                     "speed": 0.5, "load_time": dist(r, 4), "unload_time": dist(r, 4),
                                     "power_kw": {s: round(r.uniform(0, 10), 2) for s in LIFT_STATES if r.random() < .8}}}
        else:
            order = ["depot"] + names
            paths = [[order[i], order[i + 1]] for i in range(len(order) - 1)]
            if r.random() < 0.3:
                i = r.randrange(len(paths))
                p = paths[i]
                if isinstance(p, list):
                    paths[i] = {"from": p[0], "to": p[1], "capacity": 1}
        log["points"] = pts
        log["paths"] = paths
        fl = {"vehicles": r.randint(1, 3), "speed_loaded": 1.0, "speed_empty": r.choice([1.0, 1.5]),
              "load_time": dist(r, 5), "unload_time": dist(r, 5), "home": "depot",
              "power_kw": {s: round(r.uniform(0.05, 2), 2) for s in FLEET_STATES if r.random() < 0.7 and (two_floors or s not in ("waiting_lift", "riding_lift"))}}
        if battery:
            fl["battery"] = {"capacity_kwh": r.choice([0.5, 1, 2, 5]), "recharge_below": r.choice([0.3, 0.5]),
                             "charge_to": r.choice([0.9, 1.0]), "charge_kw": r.choice([3, 5]),
                             "efficiency": r.choice([0.9, 1]), "chargers": {"depot": r.randint(1, 2)},
                             "initial": r.choice([1.0, 0.8]),
                             "opportunity": r.random() < 0.4}
        log["fleets"] = {"agv": fl}
    # conveyor on one move
    if r.random() < 0.4:
        p = products["p0"]["route"]
        st = [x if isinstance(x, str) else x["station"] for x in p]
        i = r.randrange(len(st) - 1)
        log["conveyors"] = {"belt": {"from": st[i], "to": st[i + 1], "length": r.choice([5, 12]),
                                     "speed": r.choice([0.2, 0.5]), "pitch": r.choice([1, 2.5]),
                                     "accumulating": r.random() < 0.7,
                                     "power_kw": {s: round(r.uniform(0, 3), 2) for s in CONV_STATES}}}
    if log:
        sc["logistics"] = log
    return sc


def powers_fleet(pw):
    out = {}
    for s in FLEET_STATES:
        if s in pw:
            out[s] = pw[s]
        elif s == "to_charger":
            out[s] = pw.get("moving_empty", 0.0)
        elif s in ("waiting_charger", "charging", "waiting_lift", "riding_lift"):
            out[s] = pw.get("idle", 0.0)
        else:
            out[s] = 0.0
    return out


def check(sc, res, problems):
    m = res.measures
    def v(rep, kind, ent, meas):
        x = m[(m.replication == rep) & (m.kind == kind) & (m.entity == ent) & (m.measure == meas)]["value"]
        assert len(x) == 1, (kind, ent, meas, len(x))
        return float(x.iloc[0])
    def add(msg):
        problems.append(msg)
    for rep in sorted(m.replication.unique()):
        T = v(rep, "system", "", "period_h")
        # stations
        for n, st in sc["stations"].items():
            servers = st.get("warehouse", {}).get("cranes", 1) if "warehouse" in st else st.get("servers", 1)
            hs = {s: v(rep, "station", n, f"{s}_h") for s in STATION_STATES}
            if abs(sum(hs.values()) - servers * T) > 1e-6 * max(1, T):
                add(f"rep{rep} station {n} state hours {sum(hs.values())} != {servers}*{T}")
            for s, h in hs.items():
                if h < -1e-9:
                    add(f"rep{rep} station {n} negative {s}_h {h}")
                e = v(rep, "station", n, f"energy_{s}_kwh")
                want = st.get("power_kw", {}).get(s, 0.0) * h
                if abs(e - want) > 1e-6 * max(1, abs(want)):
                    add(f"rep{rep} station {n} energy {s} {e} != {want}")
            busy, proc = hs["busy"], v(rep, "station", n, "process_h")
            # ends: each machine at most one unit in process at each end
            if abs(busy - proc) > 2 * servers * 2.0 + 1e-6:  # loose (2 h per machine end), refine later
                add(f"rep{rep} station {n} busy {busy} vs process {proc}")
        # fleets
        for f, fl in sc.get("logistics", {}).get("fleets", {}).items():
            nv = fl["vehicles"]
            lifts = bool(sc.get("logistics", {}).get("lifts"))
            hs = {s: v(rep, "fleet", f, f"{s}_h") for s in FLEET_STATES if lifts or s not in ("waiting_lift", "riding_lift")}
            if abs(sum(hs.values()) - nv * T) > 1e-6 * max(1, T):
                add(f"rep{rep} fleet {f} state hours {sum(hs.values())} != {nv}*{T}")
            pw = powers_fleet(fl.get("power_kw", {}))
            if not lifts:
                pw = {k: x for k, x in pw.items() if k not in ("waiting_lift", "riding_lift")}
            tot = 0
            if not lifts:
                pw = {k: x for k, x in pw.items() if k not in ("waiting_lift", "riding_lift")}
            for s, h in hs.items():
                if h < -1e-9:
                    add(f"rep{rep} fleet {f} negative {s}_h {h}")
                e = v(rep, "fleet", f, f"energy_{s}_kwh")
                tot += e
                if abs(e - pw[s] * h) > 1e-6 * max(1, abs(pw[s] * h)):
                    add(f"rep{rep} fleet {f} energy {s} {e} != {pw[s]}*{h}")
            if "battery" in fl:
                b = fl["battery"]
                ch = v(rep, "fleet", f, "charged_kwh")
                chh = hs["charging"]
                own = pw["charging"]
                # delivered = charge_kw * charging_h per docs
                if abs(ch - b["charge_kw"] * chh) > 1e-6 * max(1, ch):
                    add(f"rep{rep} fleet {f} charged {ch} != {b['charge_kw']}*{chh}")
                grid = v(rep, "fleet", f, "charger_kwh")
                if abs(grid - ch / b["efficiency"]) > 1e-6 * max(1, grid):
                    add(f"rep{rep} fleet {f} charger_kwh {grid} != {ch}/{b['efficiency']}")
                s0, s1 = v(rep, "fleet", f, "battery_start_kwh"), v(rep, "fleet", f, "battery_end_kwh")
                if abs((s1 - s0) - (ch - tot)) > 1e-6 * max(1, abs(ch) + abs(tot)):
                    add(f"rep{rep} fleet {f} battery balance {s1}-{s0} != {ch}-{tot}")
                cap = v(rep, "fleet", f, "battery_capacity_kwh")
                if abs(cap - nv * b["capacity_kwh"]) > 1e-9:
                    add(f"rep{rep} fleet {f} capacity {cap}")
                if not (-1e-9 <= s1 <= cap + 1e-9 and -1e-9 <= s0 <= cap + 1e-9):
                    add(f"rep{rep} fleet {f} stored out of range {s0} {s1} cap {cap}")
        for L, lf in sc.get("logistics", {}).get("lifts", {}).items():
            cars = lf.get("cars", 1)
            hs = {s: v(rep, "lift", L, f"{s}_h") for s in LIFT_STATES}
            if abs(sum(hs.values()) - cars * T) > 1e-6 * max(1, T):
                add(f"rep{rep} lift {L} state hours {sum(hs.values())} != {cars}*{T}")
            for s, h in hs.items():
                if h < -1e-9:
                    add(f"rep{rep} lift {L} negative {s}_h {h}")
                e = v(rep, "lift", L, f"energy_{s}_kwh")
                want = lf.get("power_kw", {}).get(s, 0) * h
                if abs(e - want) > 1e-6 * max(1, abs(want)):
                    add(f"rep{rep} lift {L} energy {s} {e} != {want}")
        for C, cv in sc.get("logistics", {}).get("conveyors", {}).items():
            hs = {s: v(rep, "conveyor", C, f"{s}_h") for s in CONV_STATES}
            if abs(sum(hs.values()) - T) > 1e-6 * max(1, T):
                add(f"rep{rep} conveyor {C} state hours {sum(hs.values())} != {T}")
            for s, h in hs.items():
                if h < -1e-9:
                    add(f"rep{rep} conveyor {C} negative {s}_h {h}")
                e = v(rep, "conveyor", C, f"energy_{s}_kwh")
                want = cv.get("power_kw", {}).get(s, 0) * h
                if abs(e - want) > 1e-6 * max(1, abs(want)):
                    add(f"rep{rep} conveyor {C} energy {s} {e} != {want}")
            places = v(rep, "conveyor", C, "places")
            if places != math.ceil(cv["length"] / cv["pitch"] - 1e-12):
                add(f"conveyor places {places}")
            amax = v(rep, "conveyor", C, "aboard_max")
            if amax > places:
                add(f"rep{rep} conveyor {C} aboard_max {amax} > places {places}")
        # flow balance (system)
        rel = sum(v(rep, "product", p, "released") for p in sc["products"])
        fin = sum(v(rep, "product", p, "finished") for p in sc["products"])
        scr = sum(v(rep, "product", p, "scrapped") for p in sc["products"])
        w0, w1 = v(rep, "system", "", "wip_start"), v(rep, "system", "", "wip_end")
        if abs(rel + w0 - fin - scr - w1) > 1e-9:
            add(f"rep{rep} flow balance released {rel} + wip0 {w0} != finished {fin} + scrapped {scr} + wip1 {w1}")
    return problems


def summary_finite(doc, problems, path=""):
    if isinstance(doc, dict):
        for k, x in doc.items():
            if k == "timing":
                continue
            summary_finite(x, problems, f"{path}.{k}")
    elif isinstance(doc, list):
        for i, x in enumerate(doc):
            summary_finite(x, problems, f"{path}[{i}]")
    elif isinstance(doc, float):
        if not math.isfinite(doc):
            problems.append(f"non-finite {path} = {doc}")


def check_events(sc, res, problems):
    m = res.measures
    e = res.events
    def v(rep, kind, ent, meas):
        x = m[(m.replication == rep) & (m.kind == kind) & (m.entity == ent) & (m.measure == meas)]["value"]
        return float(x.iloc[0])
    for rep in sorted(m.replication.unique()):
        W = v(rep, "system", "", "warmup_h"); T = v(rep, "system", "", "period_h"); E = W + T
        er = e[e.replication == rep]
        life = {}
        prod = {}
        for u, p, a, s, t0, t1 in er[["unit", "product", "activity", "station", "start_h", "end_h"]].itertuples(index=False):
            if a in ("release", "initial"):
                prod[u] = p
            L = life.setdefault(u, [None, None])
            L[0] = t0 if L[0] is None else min(L[0], t0)
            if a in ("release", "initial"):
                L.append("r")
            elif a in ("finish", "scrap", "consumed"):
                life.setdefault(u, [None, None])[1] = t1
        area = 0.0
        for u, (a0, a1, *_) in life.items():
            if a0 is None:
                continue
            lo, hi = max(a0, W), min(a1 if a1 is not None else E, E)
            if hi > lo:
                area += hi - lo
        wm = v(rep, "system", "", "wip_mean")
        if W == 0 and abs(area / T - wm) > 1e-6 * max(1, wm):
            problems.append(f"rep{rep} wip_mean {wm} != event-log {area / T}")
        for p in sc["products"]:
            for act, meas in (("release", "released"), ("finish", "finished"), ("scrap", "scrapped")):
                sel = er[(er["product"] == p) & (er.activity == act)]
                n = int(((sel.end_h > W) & (sel.end_h <= E)).sum())
                n2 = int(((sel.end_h >= W) & (sel.end_h < E)).sum())
                got = v(rep, "product", p, meas)
                if got not in (n, n2):
                    problems.append(f"rep{rep} {p} {meas} {got} != event-log {n}/{n2}")
            fin = er[(er["product"] == p) & (er.activity == "finish") & (er.end_h > W) & (er.end_h <= E)]
            lts = [fin_t - life[u][0] for u, fin_t in zip(fin.unit, fin.end_h) if len(life[u]) == 3]
            lt = v(rep, "product", p, "lead_time_h")
            if lts and len(lts) == len(fin) and abs(np.mean(lts) - lt) > 1e-6 * max(1, lt):
                problems.append(f"rep{rep} {p} lead_time {lt} != event-log {np.mean(lts)} n={len(lts)}")
        for n, st in sc["stations"].items():
            q = er[(er.station == n) & (er.activity == "queue")]
            qa = (np.clip(q.end_h, W, E) - np.clip(q.start_h, W, E)).sum() / T
            qm = v(rep, "station", n, "queue_mean")
            if v(rep, "station", n, "queue_end") == 0 and abs(qa - qm) > 1e-6 * max(1, qm):
                problems.append(f"rep{rep} station {n} queue_mean {qm} != event-log {qa}")
            servers = st.get("warehouse", {}).get("cranes", 1) if "warehouse" in st else st.get("servers", 1)
            acts = ("store", "retrieve") if "warehouse" in st else ("process",)
            pe = er[(er.station == n) & er.activity.isin(acts)]
            tmax = float((pe.end_h - pe.start_h).max()) if len(pe) else 0.0
            busy, proc = v(rep, "station", n, "busy_h"), v(rep, "station", n, "process_h")
            if abs(busy - proc) > servers * tmax + 1e-6:
                problems.append(f"rep{rep} station {n} busy {busy} vs process {proc} (bound {servers}*{tmax})")
        for C, cv in sc.get("logistics", {}).get("conveyors", {}).items():
            q = er[(er.station == cv["from"]) & (er.activity == "conveyor")]
            qa = (np.clip(q.end_h, W, E) - np.clip(q.start_h, W, E)).sum() / T
            am = v(rep, "conveyor", C, "aboard_mean")
            if v(rep, "conveyor", C, "aboard_end") == 0 and abs(qa - am) > 1e-6 * max(1, am):
                problems.append(f"rep{rep} conveyor {C} aboard_mean {am} != event-log {qa}")
            done = q[(q.end_h > W) & (q.end_h <= E)]
            car = v(rep, "conveyor", C, "carried")
            if car != len(done):
                problems.append(f"rep{rep} conveyor {C} carried {car} != event-log {len(done)}")
    return problems


def check_summary(sc, res, doc, problems):
    m = res.measures
    reps = sorted(m.replication.unique())
    fr = {f["replication"] for f in (res.meta.get("failed") or [])}
    if fr:
        return problems
    def mean(kind, ent, meas):
        x = m[(m.kind == kind) & (m.entity == ent) & (m.measure == meas)]["value"]
        return float(x.mean())
    T = mean("system", "", "period_h")
    tot = 0.0
    for n, st in doc["stations"].items():
        fr_ = st["states"]
        if abs(sum(fr_.values()) - 1) > 1e-9 or any(not (-1e-12 <= x <= 1 + 1e-12) for x in fr_.values()):
            problems.append(f"station {n} fractions {fr_}")
        if abs(st["utilization"]["mean"] - fr_["busy"]) > 1e-9:
            problems.append(f"station {n} utilization {st['utilization']['mean']} != busy {fr_['busy']}")
        tot += st["energy_kwh"]["mean"]
    for f, fl in (doc.get("fleets") or {}).items():
        s = fl["states"]
        if abs(sum(s.values()) - 1) > 1e-9 or any(not (-1e-12 <= x <= 1 + 1e-12) for x in s.values()):
            problems.append(f"fleet {f} fractions {s}")
        work = s["moving_loaded"] + s["moving_empty"] + s["loading"] + s["unloading"] + s.get("waiting_lift", 0) + s.get("riding_lift", 0)
        l2c = mean("fleet", f, "lift_to_charger_h") / (fl["vehicles"] * T) if "battery" in fl else 0.0
        if abs(fl["utilization"]["mean"] - (work - (l2c if l2c == l2c else 0))) > 1e-9:
            problems.append(f"fleet {f} utilization {fl['utilization']['mean']} != {work} - {l2c}")
        if "battery" in sc["logistics"]["fleets"][f]:
            tot += fl["battery"]["charger_kwh"]["mean"]
        else:
            tot += fl["energy_kwh"]["mean"]
        tp = mean("fleet", f, "trips") / T
        if abs(fl["trips_per_h"]["mean"] - tp) > 1e-9 * max(1, tp):
            problems.append(f"fleet {f} trips_per_h {fl['trips_per_h']['mean']} != {tp}")
    for L, lf in (doc.get("lifts") or {}).items():
        s = lf["states"]
        if abs(sum(s.values()) - 1) > 1e-9 or any(not (-1e-12 <= x <= 1 + 1e-12) for x in s.values()):
            problems.append(f"lift {L} fractions {s}")
        if abs(lf["utilization"]["mean"] - (1 - s["idle"])) > 1e-9:
            problems.append(f"lift {L} utilization {lf['utilization']['mean']} != 1-idle {1 - s['idle']}")
        tot += lf["energy_kwh"]["mean"]
    for C, c in (doc.get("conveyors") or {}).items():
        s = c["states"]
        if abs(sum(s.values()) - 1) > 1e-9 or any(not (-1e-12 <= x <= 1 + 1e-12) for x in s.values()):
            problems.append(f"conveyor {C} fractions {s}")
        cv = sc["logistics"]["conveyors"][C]
        u = mean("conveyor", C, "carried") / T * cv["pitch"] / cv["speed"] / 3600
        if abs(c["utilization"]["mean"] - u) > 1e-9:
            problems.append(f"conveyor {C} utilization {c['utilization']['mean']} != {u}")
        tot += c["energy_kwh"]["mean"]
    et = doc["energy"]["total_kwh"]["mean"]
    if abs(et - tot) > 1e-6 * max(1, tot):
        problems.append(f"energy total {et} != sum of parts {tot}")
    return problems


# --- running ----------------------------------------------------------------------------
class Hang(Exception):
    pass


def _run(sc: dict, seconds: int = 60):
    """Run a scenario dict with the event log, failing (not hanging) after `seconds`."""
    def alarm(signum, frame):
        raise Hang(f"{sc['name']} still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        return twin.run(twin.Scenario.model_validate(sc), event_log=True)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


DOCUMENTED_STOPS = ("deadlock", "ran flat")  # failed replications the docs describe


def _problems_of(seed: int) -> list[str]:
    sc = gen(seed)
    try:
        res = _run(sc)
    except ScenarioError as e:  # an invalid generated scenario: a clear, placed message
        text = str(e)
        return [] if text.startswith("(scenario): ") and "logistics." in text else \
            [f"[{seed}] unclear scenario error: {text}"]
    except Hang as e:
        return [f"[{seed}] hang: {e}"]
    except Exception as e:  # noqa: BLE001 - any other exception is an internal error
        return [f"[{seed}] internal error {type(e).__name__}: {e}"]
    probs: list[str] = []
    failed = res.meta.get("failed") or []
    for f in failed:
        if not any(s in f["error"] for s in DOCUMENTED_STOPS):
            probs.append(f"undocumented failure: {f['error']}")
    check(sc, res, probs)
    check_events(sc, res, probs)
    doc = res.summary()
    summary_finite(doc, probs)
    check_summary(sc, res, doc, probs)
    failed_reps = {f["replication"] for f in failed}
    probs = [p for p in probs if not any(p.startswith(f"rep{r} ") for r in failed_reps)]
    return [f"[{seed}] {p}" for p in probs]


@pytest.mark.parametrize("chunk", range(6))
def test_identities_on_random_logistics_scenarios(chunk: int) -> None:
    """72 generated scenarios (6 chunks); every identity of the module docstring holds."""
    problems = []
    for seed in range(chunk * 12, chunk * 12 + 12):
        problems += _problems_of(seed)
    assert problems == []


def test_generator_covers_the_features() -> None:
    """The generated scenarios do combine the logistics features checked above."""
    seen = {"battery": 0, "opportunity": 0, "lift": 0, "conveyor": 0, "warehouse": 0,
            "calendar": 0, "capacity": 0, "setup": 0, "failures": 0, "conwip": 0}
    for seed in range(72):
        sc = gen(seed)
        lg = sc.get("logistics", {})
        fl = lg.get("fleets", {}).get("agv", {})
        seen["battery"] += "battery" in fl
        seen["opportunity"] += bool(fl.get("battery", {}).get("opportunity"))
        seen["lift"] += "lifts" in lg
        seen["conveyor"] += "conveyors" in lg
        seen["capacity"] += any(isinstance(p, dict) for p in lg.get("paths", []))
        sts = sc["stations"].values()
        seen["warehouse"] += any("warehouse" in s for s in sts)
        seen["calendar"] += any("calendar" in s for s in sts)
        seen["setup"] += any("setup" in s for s in sts)
        seen["failures"] += any("failures" in s for s in sts)
        seen["conwip"] += any(isinstance(p["release"], dict) and "conwip" in p["release"]
                              for p in sc["products"].values())
    assert all(n >= 5 for n in seen.values()), seen


def _without_timing(doc: dict) -> str:
    doc = json.loads(json.dumps(doc))
    doc.pop("timing", None)
    return json.dumps(doc, sort_keys=True)


@pytest.mark.parametrize("seed", [1, 5, 13, 39, 57])
def test_same_seed_same_summary(seed: int) -> None:
    sc = gen(seed)
    a = twin.run(twin.Scenario.model_validate(sc)).summary()
    b = twin.run(twin.Scenario.model_validate(json.loads(json.dumps(sc)))).summary()
    assert _without_timing(a) == _without_timing(b)


# --- invalid generated scenarios: a clear scenario error, never an internal one ---------
def _broken(seed: int, how: str) -> dict:
    sc = gen(seed)
    lg = sc.setdefault("logistics", {})
    if how == "conveyor_to_itself":
        lg["conveyors"] = {"belt": {"from": "s0", "to": "s0", "length": 5, "speed": 1,
                                    "pitch": 1}}
    elif how == "charger_unknown":
        lg["fleets"]["agv"]["battery"] = {"capacity_kwh": 5, "recharge_below": 0.3,
                                          "charge_kw": 5, "chargers": {"depott": 1}}
    elif how == "lift_home_unknown":
        lg["lifts"]["lift"]["home"] = "second"
    elif how == "path_capacity_zero":
        lg["paths"][0] = {"from": lg["paths"][0][0] if isinstance(lg["paths"][0], list)
                          else lg["paths"][0]["from"],
                          "to": lg["paths"][0][1] if isinstance(lg["paths"][0], list)
                          else lg["paths"][0]["to"], "capacity": 0}
    elif how == "transport_unknown":
        sc["products"]["p0"]["transport"] = "agvv"
    return sc


@pytest.mark.parametrize("seed,how,where", [
    (0, "conveyor_to_itself", "logistics.conveyors.belt"),
    (3, "charger_unknown", "logistics.fleets.agv.battery.chargers"),
    (2, "lift_home_unknown", "logistics.lifts.lift.home"),
    (3, "path_capacity_zero", "logistics.paths[0].capacity"),
    (3, "transport_unknown", "products.p0.transport"),
])
def test_invalid_generated_scenario_is_a_scenario_error(tmp_path: Path, seed, how, where):
    sc = _broken(seed, how)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(sc, sort_keys=False))
    with pytest.raises(ScenarioError) as err:
        twin.run(twin.load(path))
    assert where in str(err.value)


# --- the bug: a battery that ran flat before the end of the warm-up ---------------------
FLAT = """
name: flat while waiting for a charger
run: {horizon: "2 h", warmup: WARMUP, seed: 1}
products:
  tray: {route: [a, b], release: saturated, transport: agv}
stations:
  a: {process_time: "60 s"}
  b: {process_time: "60 s"}
logistics:
  points: {a: [0, 0], b: [30, 0]}
  paths: [[a, b]]
  fleets:
    agv:
      vehicles: 2
      speed_loaded: 1.0
      home: a
      power_kw: {idle: 0.1, waiting_charger: 1.0}
      battery:
        capacity_kwh: 1
        initial: 0.3
        recharge_below: 0.3
        charge_to: 1.0
        charge_kw: 1.1
        chargers: {a: 1}
"""


@pytest.mark.parametrize("warmup", ["0 s", "0.2 h", "0.5 h", "0.65 h"])
def test_flat_battery_time_does_not_depend_on_the_warmup(warmup: str) -> None:
    """Both vehicles start at the threshold (0.3 kWh) at the one charging place at a.
    agv/0 charges 0.7 kWh at 1.1 - 0.1 = 1 kW: 0.7 h. agv/1 waits for the place drawing
    1 kW: its 0.3 kWh last 0.3 h, so it runs flat at t = 0.3 h, whatever the warm-up
    (the warm-up deletes statistics, not what happens). Bug: with the warm-up ending
    between the flat moment and the vehicle's next state change (0.7 h), the error says
    'ran flat at t = 0.5 h' (the warm-up's end): BatteryVehicle.restart (twin/engine/
    vehicles.py) brings the level up to date, below zero, without `check`, so the later
    check computes flat_at from the restart time."""
    sc = yaml.safe_load(FLAT.replace("WARMUP", json.dumps(warmup)))
    res = twin.run(twin.Scenario.model_validate(sc))
    failed = res.meta["failed"]
    assert len(failed) == 1
    assert "agv/1 ran flat at t = 0.3 h while waiting for a charging place" in failed[0]["error"]
