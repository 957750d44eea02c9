"""Sweeps on the flowline engine: many buffer allocations and server counts of one line.

Planners screen thousands of layouts before they study a few in detail. A layout is a row
of a DataFrame whose columns are override paths, `stations.<name>.buffer` and
`stations.<name>.servers` (math.inf or None: an unlimited buffer):

    layouts = grid(scenario, buffers={"s1": range(6), "s2": range(6)})
    layouts = sample(scenario, 10_000, buffers={name: (0, 5) for name in scenario.stations})
    table = sweep(scenario, layouts, replications=2, workers=2)

`sweep` returns one row per layout and replication (tidy): the layout, its total buffer and
servers, and the line's KPIs. Every layout sees the same random numbers (the streams are
named by station, not by layout), so differences between layouts are sharp. A layout's row
is what `twin.run(..., engine="flowline")` gives for that layout (same seed, same numbers).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np
import pandas as pd

from twin.errors import ScenarioError
from twin.model import Model
from twin.scenario.schema import Scenario
from twin.units import HOUR

KPIS = ("finished", "scrapped", "throughput_per_h", "lead_time_h", "wip_mean")


def _column(station: str, key: str) -> str:
    return f"stations.{station}.{key}"


def _axes(scenario: Scenario, buffers: Mapping, servers: Mapping) -> dict[str, object]:
    axes = {}
    for key, values in (("buffer", buffers), ("servers", servers)):
        for name, v in values.items():
            if name not in scenario.stations:
                raise ScenarioError(f"sweep: no station {name!r} (stations: "
                                    f"{', '.join(scenario.stations)})")
            axes[_column(name, key)] = v
    return axes


def grid(scenario: Scenario, buffers: Mapping[str, Iterable] = {},
         servers: Mapping[str, Iterable[int]] = {}) -> pd.DataFrame:
    """Every combination of the given buffer sizes and server counts, one layout per row."""
    axes = _axes(scenario, buffers, servers)
    rows = list(itertools.product(*(list(v) for v in axes.values())))
    return pd.DataFrame(rows, columns=list(axes))


def sample(scenario: Scenario, n: int, buffers: Mapping[str, tuple[int, int]] = {},
           servers: Mapping[str, tuple[int, int]] = {}, seed: int = 0) -> pd.DataFrame:
    """`n` layouts drawn at random, each value uniform on its inclusive range (lo, hi)."""
    axes = _axes(scenario, buffers, servers)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: rng.integers(lo, hi + 1, n) for c, (lo, hi) in axes.items()})


def sweep(scenario: Scenario, layouts: pd.DataFrame, replications: int | None = None,
          seed: int | None = None, horizon: float | str | None = None,
          warmup: float | str | None = None, workers: int | None = None) -> pd.DataFrame:
    """Simulate every layout on the flowline engine; one row per layout and replication.

    Columns: `layout` (the row of `layouts`), the layout's columns, `total_buffer`,
    `total_servers` (over the whole line, inf if a buffer is unlimited), `replication`, and
    the KPIs finished, scrapped, throughput_per_h, lead_time_h (NaN if nothing finished) and
    wip_mean. `workers` processes share the layouts (None: all cores).
    """
    from twin.experiment import prepare

    model = prepare(scenario, replications, seed, horizon, warmup, engine="flowline")
    if model.replications == "auto":
        raise ScenarioError("sweep: give a number of replications (not auto)")
    if model.warmup == "auto":
        raise ScenarioError("sweep: give the warm-up as a duration (not auto); "
                            "twin.run(..., warmup='auto') on one layout finds a good one")
    for column in layouts.columns:
        parts = column.split(".")
        if len(parts) != 3 or parts[0] != "stations" or parts[1] not in scenario.stations \
                or parts[2] not in ("buffer", "servers"):
            raise ScenarioError(f"sweep: layout column {column!r} is not "
                                f"stations.<station>.buffer or stations.<station>.servers")
    records = layouts.to_dict("records")
    workers = (os.cpu_count() or 1) if workers is None else max(1, int(workers))
    reps = list(range(int(model.replications)))
    warm = float(model.warmup)
    n_chunks = min(len(records), 4 * workers) or 1
    chunks = [records[i::n_chunks] for i in range(n_chunks)]
    ids = [list(range(len(records)))[i::n_chunks] for i in range(n_chunks)]
    args = [(model, chunk, idx, reps, model.seed, warm) for chunk, idx in zip(chunks, ids)]
    if workers == 1 or len(chunks) == 1:
        parts = [_evaluate(*a) for a in args]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
            parts = list(pool.map(_evaluate, *zip(*args)))
    table = pd.DataFrame([row for part in parts for row in part])
    table = table.sort_values(["layout", "replication"], ignore_index=True)
    return table


def apply(model: Model, layout: Mapping[str, float]) -> Model:
    """The model with one layout's buffer sizes and server counts."""
    stations = list(model.stations)
    by_name = {st.name: st.index for st in stations}
    for column, value in layout.items():
        _, name, key = column.split(".")
        j = by_name[name]
        if key == "buffer":
            cap = math.inf if value is None or math.isinf(value) else float(int(value))
            stations[j] = replace(stations[j], capacity=cap)
        else:
            stations[j] = replace(stations[j], servers=int(value))
    return replace(model, stations=tuple(stations))


def _evaluate(model: Model, layouts: list[dict], ids: list[int], reps: list[int], seed: int,
              warmup: float) -> list[dict]:
    """One worker's share: each layout, each replication, on feeds that keep their draws."""
    from twin.engine import flowline as fl
    from twin.kernels import flowline as kf

    fl.prepare()
    feeds = {r: fl.Feed(seed, r, keep=True) for r in reps}
    span = model.horizon
    rows = []
    for layout_id, layout in zip(ids, layouts):
        m = apply(model, layout)
        total_buffer = sum(st.capacity for st in m.stations)
        total_servers = sum(st.servers for st in m.stations)
        for r in reps:
            feed = feeds[r]
            feed.rewind()
            _, state = fl.run_line(m, feed, warmup, record=False, stats=False)
            gf, gi = state.gf, state.gi
            fin, scr = int(gi[kf.G_FIN]), int(gi[kf.G_SCR])
            lead_h = gf[kf.G_LEAD] / fin / HOUR if fin else math.nan
            wip = gf[kf.G_WIPAREA] / span
            rows.append({
                "layout": layout_id, **layout, "total_buffer": total_buffer,
                "total_servers": total_servers, "replication": r, "finished": fin,
                "scrapped": scr, "throughput_per_h": fin / (span / HOUR),
                "lead_time_h": lead_h, "wip_mean": wip,
            })
    return rows
