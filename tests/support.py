"""Helpers shared by several test modules (not tests themselves)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

from hypothesis import strategies as st


def write_scenario(tmp_path: Path, text: str, name: str = "line.yaml") -> Path:
    """Write an indented YAML text as a scenario file; returns its path."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def twin_command() -> list[str]:
    """The `twin` console script of this environment (or `python -m twin.cli`)."""
    exe = Path(sys.executable).with_name("twin")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "twin.cli"]


def without_timing(doc: dict) -> dict:
    """A summary document as written to summary.json, without its `timing` part."""
    doc = json.loads(json.dumps(doc))
    doc.pop("timing")
    return doc


def key_paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every key path in a plain document (mapping keys and list indices)."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += key_paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += key_paths(value, path + (i,))
    return found


@st.composite
def period_sets(draw) -> dict[str, list[tuple[float, float]]]:
    """Active periods per resource ("r0", "r1", ...): disjoint, non-touching, in time order,
    on a coarse grid (so ties in length happen)."""
    out = {}
    for r in range(draw(st.integers(1, 5))):
        t, spans = 0.0, []
        for _ in range(draw(st.integers(0, 12))):
            t += draw(st.integers(1, 6))
            length = draw(st.integers(1, 12))
            spans.append((t, t + length))
            t += length
        out[f"r{r}"] = spans
    return out


MACHINE_STATES = ("busy", "starved", "blocked", "down", "setup", "off_shift")


def check_kits_and_flow(measures, made: str, kit: dict[str, int], stations: dict,
                        horizon_h: float, least: int) -> None:
    """Per replication of an assembly run's tidy `measures`: at least `least` units of
    `made` released, each consuming exactly `kit` ({part: units}); released = finished +
    scrapped + consumed + (wip_end - wip_start) over all products; and every station's state
    hours sum to the horizon times its machines (`stations` as in the scenario)."""
    import pytest

    for _, rows in measures.groupby("replication"):
        v = {(k, e, n): x for k, e, n, x in rows[["kind", "entity", "measure", "value"]]
             .itertuples(index=False)}
        kits = v[("product", made, "released")]
        assert kits >= least
        for part, n in kit.items():
            assert v[("product", part, "consumed")] == n * kits
        products = {e for k, e, _ in v if k == "product"}
        left = sum(v[("product", p, "finished")] + v[("product", p, "scrapped")]
                   + v.get(("product", p, "consumed"), 0) for p in products)
        released = sum(v[("product", p, "released")] for p in products)
        assert released - left == v[("system", "", "wip_end")] - v[("system", "", "wip_start")]
        for name, spec in stations.items():
            total = sum(v[("station", name, f"{s}_h")] for s in MACHINE_STATES)
            assert total == pytest.approx(horizon_h * spec.get("servers", 1))


def run_with_places(monkeypatch, doc: str, places: list[tuple[float, float]],
                    station: str = "w") -> tuple[dict, dict]:
    """Run a scenario (YAML text) whose warehouse stores its units at the given places, in
    store order ((s along the aisle, s up) from the I/O point; then (1, 1) for any more).
    Returns {(unit, activity): (start s, end s)} of the event log and {measure: value} of
    `station` (hours as written, not converted)."""
    import yaml

    import twin
    from twin.engine import warehouse

    given = iter(list(places) + [(1.0, 1.0)] * 100)
    monkeypatch.setattr(warehouse.Warehouse, "place", lambda self: next(given))
    res = twin.run(twin.Scenario.model_validate(yaml.safe_load(doc)), event_log=True)
    ev = res.events
    times = {(int(u), a): (round(s * 3600.0, 9), round(e * 3600.0, 9)) for u, a, s, e in
             ev[["unit", "activity", "start_h", "end_h"]].itertuples(index=False)}
    m = res.measures
    value = {k: v for k, v in
             m[m.entity == station][["measure", "value"]].itertuples(index=False)}
    return times, value


def transport_times(res) -> list[tuple[float, float]]:
    """(asked, delivered) seconds of every vehicle transport in a run's event log, sorted."""
    ev = res.events
    tr = ev[ev.activity == "transport"]
    return sorted((round(s * 3600.0, 9), round(e * 3600.0, 9))
                  for s, e in zip(tr.start_h, tr.end_h))


def fleet_values(res, name: str = "agv", replication: int = 0) -> dict:
    """{measure: value} of fleet `name` in one replication of a run."""
    m = res.measures
    rows = m[(m.entity == name) & (m.kind == "fleet") & (m.replication == replication)]
    return {k: v for k, v in rows[["measure", "value"]].itertuples(index=False)}


# a vehicle with room for 3 that waits up to 25 s at the pickup; a's process time is PT
WAITING = """
name: waiting for a fuller load
run: {horizon: "100 s"}
products: {cell: {route: [a, b], transport: agv}}
stations:
  a: {process_time: "PT"}
  b: {process_time: "1 s"}
logistics:
  points: {a: [0, 0], b: [10, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: 1, capacity: 3, load_wait: "25 s", speed_loaded: 1, home: a,
          load_time: "1 s", unload_time: "1 s"}
"""


# four machines of 100 s finishing together, one vehicle carrying CAPACITY units 10 m
TRAYS = """
name: trays by hand
run: {horizon: "HORIZON", warmup: "WARMUP"}
products: {cell: {route: [a, b], transport: agv}}
stations:
  a: {process_time: "100 s", servers: 4, buffer: 0}
  b: {process_time: "1 s"}
logistics:
  points: {a: [0, 0], b: [10, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: 1, capacity: CAPACITY, speed_loaded: 1, home: a, load_time: "2 s",
          unload_time: "3 s", power_kw: {moving_loaded: 3, moving_empty: 2, loading: 1,
          unloading: 1, idle: 0.5}}
"""
