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

Layouts are simulated in chunks of `CHUNK`; with `out=FOLDER` each chunk's rows are saved
the moment it is done, so an interrupted sweep (Ctrl-C, a crash) loses at most the chunks
in progress: the same call again reads the saved ones back and simulates only the rest.
`progress=True` shows a bar (default: when standard error is a terminal).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from twin import __version__
from twin.errors import ScenarioError, did_you_mean
from twin.model import Model
from twin.results import out_folder, write_atomic, write_table
from twin.scenario.load import scenario_hash
from twin.scenario.schema import MAX_BUFFER, MAX_SERVERS, Scenario
from twin.units import HOUR

KPIS = ("finished", "scrapped", "throughput_per_h", "lead_time_h", "wip_mean")
CHUNK = 50  # layouts a worker simulates at a time (each draws its random numbers once)


def _column(station: str, key: str) -> str:
    return f"stations.{station}.{key}"


def _axes(scenario: Scenario, buffers: Mapping, servers: Mapping) -> dict[str, object]:
    axes = {}
    for key, values in (("buffer", buffers), ("servers", servers)):
        for name, v in values.items():
            if name not in scenario.stations:
                raise ScenarioError(f"sweep: no station {name!r} (stations: "
                                    f"{', '.join(scenario.stations)}).{_hint(name, scenario)}")
            axes[_column(name, key)] = v
    return axes


def _unlimited(value) -> bool:
    """An unlimited buffer: inf, or None (which pandas may hold as NaN or NA)."""
    return value is None or value is pd.NA or (
        isinstance(value, (float, np.floating)) and (math.isnan(value) or value == math.inf))


def _hint(name: str, scenario: Scenario) -> str:
    return did_you_mean(name, list(scenario.stations))


def _check_layouts(scenario: Scenario, layouts: pd.DataFrame) -> None:
    """Columns `stations.<station>.buffer|servers` of known stations; buffers whole numbers
    >= 0 (inf or None: unlimited), servers whole numbers >= 1, as `twin.run` requires."""
    for column in layouts.columns:
        parts = str(column).split(".")
        if len(parts) != 3 or parts[0] != "stations" or parts[2] not in ("buffer", "servers"):
            raise ScenarioError(f"sweep: layout column {column!r} is not "
                                f"stations.<station>.buffer or stations.<station>.servers")
        if parts[1] not in scenario.stations:
            raise ScenarioError(f"sweep: layout column {column!r}: no station {parts[1]!r}."
                                f"{_hint(parts[1], scenario)}")
        least, most = (0, MAX_BUFFER) if parts[2] == "buffer" else (1, MAX_SERVERS)
        for row, value in layouts[column].items():
            unlimited = parts[2] == "buffer" and _unlimited(value)
            whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool) or (
                isinstance(value, (float, np.floating)) and float(value).is_integer())
            if not unlimited and not (whole and least <= value <= most):
                kind = "a whole number of places >= 0 (inf: unlimited)" \
                    if parts[2] == "buffer" else "a whole number of machines >= 1"
                raise ScenarioError(f"sweep: layout {row}, {column} = {value!r}: give {kind}, "
                                    f"at most {most:,}")


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
    for column, (lo, hi) in axes.items():
        if not lo <= hi:
            raise ScenarioError(f"sweep: {column}: range ({lo}, {hi}) is empty; give it as "
                                f"(lowest, highest)")
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: rng.integers(lo, hi + 1, n) for c, (lo, hi) in axes.items()})


def sweep(scenario: Scenario, layouts: pd.DataFrame, replications: int | None = None,
          seed: int | None = None, horizon: float | str | None = None,
          warmup: float | str | None = None, workers: int | None = None,
          out: str | Path | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Simulate every layout on the flowline engine; one row per layout and replication.

    Columns: `layout` (the row of `layouts`), the layout's columns, `total_buffer`,
    `total_servers` (over the whole line, inf if a buffer is unlimited; under saturated
    release the first station's buffer, which stays empty, is not counted), `replication`, and
    the KPIs finished, scrapped, throughput_per_h, lead_time_h (NaN if nothing finished) and
    wip_mean. `workers` processes share the layouts (None: all cores). `out`: a folder
    where the sweep saves its chunks as they finish and, at the end, the whole table
    (`sweep.parquet`); calling again with the same arguments and folder resumes it.
    `progress`: a progress bar on standard error (None: when it is a terminal).
    """
    from twin.experiment import prepare

    model = prepare(scenario, replications, seed, horizon, warmup, engine="flowline")
    if model.replications == "auto":
        raise ScenarioError("sweep: give a number of replications (not auto)")
    if model.warmup == "auto":
        raise ScenarioError("sweep: give the warm-up as a duration (not auto); "
                            "twin.run(..., warmup='auto') on one layout finds a good one")
    _check_layouts(scenario, layouts)
    records = layouts.to_dict("records")
    workers = (os.cpu_count() or 1) if workers is None else max(1, int(workers))
    reps = list(range(int(model.replications)))
    warm = float(model.warmup)
    starts = list(range(0, len(records), CHUNK))
    store = _ChunkStore(out, _fingerprint(scenario, layouts, model, reps, warm)) \
        if out is not None else None
    parts = store.done(len(records), reps) if store is not None else {}
    todo = [i for i in starts if i not in parts]
    args = {i: (model, records[i:i + CHUNK], list(range(i, min(i + CHUNK, len(records)))),
                reps, model.seed, warm) for i in todo}
    show = sys.stderr.isatty() if progress is None else progress
    bar = _bar(len(records), sum(len(p) for p in parts.values()) // max(1, len(reps)), show)

    def finished(i: int, rows: list[dict]) -> None:
        parts[i] = rows
        if store is not None:
            store.save(i, rows)
        if bar is not None:
            bar.update(len(rows) // max(1, len(reps)))

    try:
        if workers == 1 or len(todo) <= 1:
            for i in todo:
                finished(i, _evaluate(*args[i]))
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
                running = {pool.submit(_evaluate, *args[i]): i for i in todo}
                try:
                    while running:
                        done, _ = wait(running, return_when=FIRST_COMPLETED)
                        for future in done:
                            finished(running.pop(future), future.result())
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    except KeyboardInterrupt:
        if store is not None:
            print(f"twin: sweep interrupted; {len(parts)} of {len(starts)} chunks of "
                  f"{CHUNK} layouts are saved in {out}: call sweep again with out={str(out)!r} "
                  f"to finish it", file=sys.stderr)
        raise
    finally:
        if bar is not None:
            bar.close()
    table = pd.DataFrame([row for i in starts for row in parts[i]], columns=[
        "layout", *layouts.columns, "total_buffer", "total_servers", "replication", *KPIS])
    if len(table):
        table = table.sort_values(["layout", "replication"], ignore_index=True)
    if store is not None:
        write_table(table, Path(out) / "sweep", "parquet")
    return table


def _bar(total: int, initial: int, show: bool):
    """A tqdm bar over layouts, or None."""
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc="layouts", unit="layout", file=sys.stderr)


def _fingerprint(scenario: Scenario, layouts: pd.DataFrame, model: Model, reps: list[int],
                 warmup: float) -> str:
    """What makes a sweep's rows what they are: the scenario, the layouts, replications,
    seed, horizon, warm-up, chunk size and twin's version (a saved chunk is reused only
    for the same)."""
    digest = hashlib.sha256()
    digest.update(json.dumps({
        "scenario": scenario_hash(scenario), "replications": reps, "seed": model.seed,
        "horizon": model.horizon, "warmup": warmup, "chunk": CHUNK, "version": __version__,
        "columns": list(layouts.columns)}, sort_keys=True).encode())
    digest.update(pd.util.hash_pandas_object(layouts, index=False).to_numpy().tobytes())
    return digest.hexdigest()


class _ChunkStore:
    """A sweep's folder: `manifest.json` (its fingerprint) and `chunks/cNNNNNNN.parquet`,
    the rows of the chunk of layouts starting at NNNNNNN, each written whole (a temporary
    file renamed), so a reader or a crash sees a whole chunk or none."""

    def __init__(self, out: str | Path, fingerprint: str):
        out_folder(out)
        self.folder = Path(out)
        self.chunks = self.folder / "chunks"
        manifest = self.folder / "manifest.json"
        if manifest.exists():
            try:
                saved = json.loads(manifest.read_text()).get("sweep")
            except (OSError, ValueError):
                saved = None
            if saved != fingerprint:
                raise ScenarioError(
                    f"sweep: {self.folder} holds another sweep (other scenario, layouts, "
                    f"replications, seed, horizon or warm-up); give another folder as out, "
                    f"or delete that one")
        else:
            write_atomic(manifest, json.dumps({"sweep": fingerprint}).encode() + b"\n")
        self.chunks.mkdir(exist_ok=True)

    def done(self, n: int, reps: list[int]) -> dict[int, list[dict]]:
        """The rows of every chunk saved whole (each of its layouts once per replication,
        of `n` layouts in all), by the chunk's first layout; any other is simulated again."""
        parts = {}
        for path in sorted(self.chunks.glob("c*.parquet")):
            try:
                start = int(path.stem[1:])
                rows = pd.read_parquet(path).to_dict("records")
            except (OSError, ValueError):
                continue  # unreadable: simulate it again
            expected = {(i, r) for i in range(start, min(start + CHUNK, n)) for r in reps}
            if start % CHUNK == 0 and len(rows) == len(expected) and \
                    {(row.get("layout"), row.get("replication")) for row in rows} == expected:
                parts[start] = rows
        return parts

    def save(self, start: int, rows: list[dict]) -> None:
        write_table(pd.DataFrame(rows), self.chunks / f"c{start:07d}", "parquet")


def apply(model: Model, layout: Mapping[str, float]) -> Model:
    """The model with one layout's buffer sizes and server counts."""
    stations = list(model.stations)
    by_name = {st.name: st.index for st in stations}
    for column, value in layout.items():
        _, name, key = column.split(".")
        j = by_name[name]
        if key == "buffer":
            cap = math.inf if _unlimited(value) else float(int(value))
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
    product = model.products[0]  # (a line: one product)
    # under saturated release the first station's buffer never holds a unit: not counted
    idle = product.steps[0].station if product.release == "saturated" else -1
    rows = []
    for layout_id, layout in zip(ids, layouts):
        m = apply(model, layout)
        total_buffer = sum(st.capacity for st in m.stations if st.index != idle)
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
