"""Results of an experiment: tidy tables plus the facts of the run; KPIs come from these only."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.analysis import kpis
from twin.errors import ScenarioError

MEASURE_COLUMNS = ["replication", "kind", "entity", "measure", "value"]
PERIOD_COLUMNS = ["replication", "station", "start_h", "end_h"]
TIMELINE_COLUMNS = ["replication", "time_h", "kind", "entity", "measure", "value"]
EVENT_COLUMNS = ["replication", "unit", "product", "activity", "station", "start_h", "end_h"]


@dataclass
class Results:
    """Tables of one experiment: `measures` (one row per replication × entity × measure),
    `active_periods` (one row per station active period) and `timeline` (one row per
    replication × interval × entity × measure), plus run facts in `meta`."""

    measures: pd.DataFrame
    active_periods: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    timeline: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TIMELINE_COLUMNS))
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EVENT_COLUMNS))

    @classmethod
    def from_replications(cls, reps: Sequence, meta: dict[str, Any]) -> Results:
        rows = [(r.replication, *m) for r in reps for m in r.measures]
        measures = pd.DataFrame(rows, columns=MEASURE_COLUMNS)
        measures["value"] = measures["value"].astype(float)
        parts = []
        for r in reps:
            for station, (starts, ends) in r.active_periods.items():
                parts.append(pd.DataFrame({
                    "replication": np.full(len(starts), r.replication),
                    "station": station, "start_h": starts, "end_h": ends}))
        periods = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=PERIOD_COLUMNS)
        timeline = pd.DataFrame(
            [(r.replication, *row) for r in reps for row in r.timeline], columns=TIMELINE_COLUMNS)
        timeline["value"] = timeline["value"].astype(float)
        events = pd.DataFrame(
            [(r.replication, *row) for r in reps for row in r.events], columns=EVENT_COLUMNS)
        return cls(measures, periods, dict(meta), timeline, events)

    def summary(self) -> dict[str, Any]:
        """The summary document of results.md."""
        return kpis.summary(self.measures, self.meta,
                            timeline=self.timeline)

    def products(self) -> pd.DataFrame:
        """Per replication and product: released, finished, throughput, lead time, ..."""
        return kpis.wide(self.measures, "product")

    def stations(self) -> pd.DataFrame:
        """Per replication and station: state times and fractions, queues, energy, OEE."""
        return kpis.station_table(self.measures)

    def fleets(self) -> pd.DataFrame:
        """Per replication and vehicle fleet: state times and fractions, utilisation, trips,
        distance, energy (empty when the scenario has no fleets)."""
        return kpis.fleet_table(self.measures)

    def lifts(self) -> pd.DataFrame:
        """Per replication and lift: car state times and fractions, utilisation, rides,
        waits, energy (empty when the scenario has no lifts)."""
        return kpis.lift_table(self.measures)

    def conveyors(self) -> pd.DataFrame:
        """Per replication and conveyor: state times and fractions, units carried, time
        and units aboard, energy (empty when the scenario has no conveyors)."""
        return kpis.conveyor_table(self.measures)

    def paths(self) -> pd.DataFrame:
        """Per replication and limited path (congestion): vehicles passed, time-average
        vehicles on it, utilisation, waits, mean wait, queue (empty without limited paths)."""
        return kpis.path_table(self.measures)

    def write(self, out: str | Path, fmt: str = "parquet", summary: dict | None = None,
              with_summary: bool = True) -> Path:
        """Write the tables and summary.json into `out` (atomically, file by file);
        `with_summary=False`: the tables only (the caller writes summary.json later)."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        if with_summary:
            doc = self.summary() if summary is None else summary
            write_atomic(out / "summary.json", json.dumps(doc, indent=2).encode() + b"\n")
        for name, table in (("measures", self.measures), ("timeline", self.timeline)):
            write_table(table, out / name, fmt)
        if len(self.events):  # with an event log: the log and the active periods
            write_table(self.events, out / "event_log", fmt)
        if len(self.active_periods):
            write_table(self.active_periods, out / "active_periods", fmt)
        return out


_UMASK = os.umask(0)  # (read once: the only way to read it is to set it)
os.umask(_UMASK)


def _temporary(path: Path) -> tuple[int, str]:
    """A temporary file beside `path`, with the permissions a plain new file gets (mkstemp
    makes it readable by its owner only, and the rename would keep that)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.fchmod(fd, 0o666 & ~_UMASK)
    return fd, tmp


def out_folder(out: str | Path | None) -> None:
    """Make the results folder `out` (if given) now, or raise ScenarioError saying why it
    cannot be: empty, an existing file, not to be made or written into."""
    if out is None:
        return
    out = str(out)
    if not out.strip():
        raise ScenarioError("--out is empty; name a folder for the results (it is made if "
                            "missing)")
    if os.path.exists(out) and not os.path.isdir(out):
        raise ScenarioError(f"--out {out}: that is a file, not a folder; name a folder "
                            f"(it is made if missing)")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise ScenarioError(f"--out {out}: cannot make that folder ({e.strerror or e}); name "
                            f"a folder you can write to") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise ScenarioError(f"--out {out}: cannot write into that folder (permission "
                            f"denied); name a folder you can write to")


def write_table(table: pd.DataFrame, stem: Path, fmt: str) -> Path:
    """Write a table as Parquet or CSV next to `stem`, via a temporary file and rename."""
    path = Path(f"{stem}{'.parquet' if fmt == 'parquet' else '.csv'}")
    fd, tmp = _temporary(path)
    os.close(fd)
    try:
        if fmt == "parquet":
            table.to_parquet(tmp, index=False)
        else:
            table.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to `path` so that readers see the old file or the new one, never half."""
    fd, tmp = _temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
