"""A plain-text summary for the terminal."""

from __future__ import annotations

from typing import Any

from twin.analysis.stats import number


def _fmt(stat: dict | float | None, digits: int = 3) -> str:
    if isinstance(stat, dict):
        m, (lo, hi) = stat["mean"], stat["ci95"]
        if m is None:
            return "-"
        if lo == hi:
            return number(m, digits)
        return f"{number(m, digits)} [{number(lo, digits)}, {number(hi, digits)}]"
    return number(stat, digits)


def text_summary(doc: dict[str, Any]) -> str:
    """Products, stations and the bottleneck as aligned text, with 95% intervals."""
    rule = doc.get("run", {}).get("replications_rule", "fixed")
    lines = [
        f"{doc['scenario']}: {doc['replications']} replication(s), seed {doc['seed']}, "
        f"horizon {doc['horizon_h']:g} h after warm-up {doc['warmup_h']:g} h "
        f"({doc['engine']} engine)",
        *([f"replications {rule}"] if rule != "fixed" else []),
        "",
        f"{'product':<20} {'throughput/h':>28} {'lead time h':>28} {'GWh/year':>24}",
    ]
    parts = {name: p for name, p in doc["products"].items() if "consumed" in p}
    for name, p in doc["products"].items():
        if name in parts:
            continue
        gwh = _fmt(p["gwh_per_year"]) if "gwh_per_year" in p else "-"
        lines.append(f"{name:<20} {_fmt(p['throughput_per_h']):>28} "
                     f"{_fmt(p['lead_time_h']):>28} {gwh:>24}")
    if parts:  # parts of assembly stations: consumed, not finished
        period = doc["horizon_h"]
        lines += ["", f"{'part':<20} {'consumed/h':>28} {'time in system h':>28}"]
        lines += [f"{name:<20} {p['consumed']['mean'] / period if period else 0:>28.4g} "
                  f"{_fmt(p['consumed_time_h']):>28}" for name, p in parts.items()]
    lines += ["", f"WIP {_fmt(doc['wip'])}", "",
              f"{'station':<20} {'util':>6} {'starved':>8} {'blocked':>8} {'down':>6} "
              f"{'queue':>8} {'kWh':>12} {'OEE':>6} {'bneck':>6}"]
    share = doc["bottleneck"]["share"]
    for name, s in doc["stations"].items():
        st = s["states"]
        lines.append(
            f"{name:<20} {s['utilization']['mean']:>6.3f} {st['starved']:>8.3f} "
            f"{st['blocked']:>8.3f} {st['down']:>6.3f} {_fmt(s['queue_mean']['mean']):>8} "
            f"{_fmt(s['energy_kwh']['mean']):>12} {_fmt(s['oee']['mean']):>6} "
            f"{share.get(name, 0.0):>6.2f}")
    changing = {name: s for name, s in doc["stations"].items() if s["changeovers"]["mean"]}
    if changing:
        lines += ["", f"{'changeovers':<20} {'count':>12} {'setup':>8}"]
        lines += [f"{name:<20} {_fmt(s['changeovers']['mean']):>12} "
                  f"{s['states']['setup']:>8.3f}" for name, s in changing.items()]
    shifted = {name: s for name, s in doc["stations"].items() if s["states"]["off_shift"]}
    if shifted:  # stations under a shift calendar: how busy they are while on shift
        lines += ["", f"{'shift calendars':<20} {'off shift':>9} {'util on shift':>14}"]
        for name, s in shifted.items():
            on = 1.0 - s["states"]["off_shift"]
            busy = s["states"]["busy"] / on if on > 0 else 0.0
            lines.append(f"{name:<20} {s['states']['off_shift']:>9.3f} {busy:>14.3f}")
    if doc.get("fleets"):
        lines += ["", f"{'fleet':<20} {'vehicles':>8} {'util':>6} {'waiting':>8} "
                      f"{'trips/h':>10} {'response h':>11} {'trip h':>9} {'bneck':>6}"]
        for name, f in doc["fleets"].items():
            lines.append(
                f"{name:<20} {f['vehicles']:>8} {f['utilization']['mean']:>6.3f} "
                f"{f['states']['waiting']:>8.3f} {_fmt(f['trips_per_h']['mean']):>10} "
                f"{_fmt(f['response_h']['mean']):>11} {_fmt(f['trip_h']['mean']):>9} "
                f"{doc['bottleneck']['fleets'].get(name, 0.0):>6.2f}")
        loads = {name: f["units_per_trip"] for name, f in doc["fleets"].items()
                 if "units_per_trip" in f}  # (vehicles carrying several units at once)
        if loads:
            lines += ["", f"{'loads':<20} {'units/trip':>10}"]
            lines += [f"{name:<20} {_fmt(u['mean']):>10}" for name, u in loads.items()]
        charging = {name: f["battery"] for name, f in doc["fleets"].items() if "battery" in f}
        if charging:
            lines += ["", f"{'charging':<20} {'charges/h':>10} {'share':>6} {'charger':>8} "
                          f"{'wait h':>9} {'grid kWh':>10}"]
            lines += [f"{name:<20} {_fmt(b['charges_per_h']['mean']):>10} "
                      f"{b['charging_share']['mean']:>6.3f} "
                      f"{b['charger_utilization']['mean']:>8.3f} "
                      f"{_fmt(b['charge_wait_h']['mean']):>9} "
                      f"{_fmt(b['charger_kwh']['mean']):>10}" for name, b in charging.items()]
    if doc.get("lifts"):
        lines += ["", f"{'lift':<20} {'cars':>8} {'util':>6} {'empty':>8} "
                      f"{'rides/h':>10} {'wait h':>11} {'ride h':>9} {'bneck':>6}"]
        for name, lift in doc["lifts"].items():
            lines.append(
                f"{name:<20} {lift['cars']:>8} {lift['utilization']['mean']:>6.3f} "
                f"{lift['states']['moving_empty']:>8.3f} {_fmt(lift['rides_per_h']['mean']):>10} "
                f"{_fmt(lift['wait_h']['mean']):>11} {_fmt(lift['ride_h']['mean']):>9} "
                f"{doc['bottleneck']['lifts'].get(name, 0.0):>6.2f}")
    if doc.get("conveyors"):
        lines += ["", f"{'conveyor':<20} {'places':>8} {'util':>6} {'moving':>8} "
                      f"{'stopped':>8} {'carried/h':>10} {'aboard h':>11} {'aboard':>7} "
                      f"{'bneck':>6}"]
        for name, c in doc["conveyors"].items():
            lines.append(
                f"{name:<20} {c['places']:>8} {c['utilization']['mean']:>6.3f} "
                f"{c['states']['moving']:>8.3f} {c['states']['stopped']:>8.3f} "
                f"{_fmt(c['carried_per_h']['mean']):>10} {_fmt(c['aboard_h']['mean']):>11} "
                f"{c['aboard_mean']['mean']:>7.2f} "
                f"{doc['bottleneck']['conveyors'].get(name, 0.0):>6.2f}")
    if doc.get("paths"):  # traffic on limited paths (congestion)
        lines += ["", f"{'traffic (path)':<28} {'cap':>4} {'passes/h':>9} {'util':>6} "
                      f"{'waits':>8} {'wait s':>8} {'queue':>6} {'max':>4}"]
        for name, p in doc["paths"].items():
            wait_s = p["wait_h"]["mean"]
            lines.append(
                f"{name:<28} {p['capacity']:>4} {_fmt(p['passes_per_h']['mean']):>9} "
                f"{p['utilization']['mean']:>6.3f} {_fmt(p['waits']['mean']):>8} "
                f"{_fmt(None if wait_s is None else wait_s * 3600):>8} "
                f"{_fmt(p['queue_mean']['mean']):>6} {_fmt(p['queue_max']['mean']):>4}")
    top = doc["bottleneck"].get("resource", doc["bottleneck"]["station"])
    lines += ["", f"bottleneck (active period method): {top}",
              f"energy: {_fmt(doc['energy']['total_kwh'])} kWh, "
              f"{_fmt(doc['energy']['kwh_per_unit'])} kWh/unit"]
    return "\n".join(lines)
