"""The replication store: each finished replication saved at once, so nothing is lost.

Layout under the output folder:

    replications/manifest.json      what experiment this is (scenario hash, seed, ...)
    replications/r00003.json        written last: the replication is complete (or failed)
    replications/r00003.measures.parquet, .timeline (and .events, .periods with an event log)

Every file is written atomically (temporary file, then rename), so an interrupted run
leaves whole files only; a replication counts as done when its .json says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from twin import __version__
from twin.backends import Outcome
from twin.engine.replication import ReplicationResult
from twin.errors import ScenarioError
from twin.model import Model
from twin.results import EVENT_COLUMNS, write_atomic, write_table
from twin.scenario.load import scenario_hash
from twin.scenario.schema import Scenario

# the text columns of the stored tables (measures, timeline, periods, events)
TEXT = frozenset(("kind", "entity", "measure", "station", "product", "activity"))


class ReplicationStore:
    """Saves and reloads the replications of one experiment in `out/replications/`."""

    def __init__(self, out: Path, scenario: Scenario, model: Model, fmt: str = "parquet"):
        self.folder = Path(out) / "replications"
        self.fmt = fmt
        self.ext = ".parquet" if fmt == "parquet" else ".csv"
        self.identity = {
            "scenario_sha256": scenario_hash(scenario),
            "seed": model.seed,
            "horizon_s": model.horizon,
            "warmup_s": model.warmup,
            "engine": model.engine,
            "event_log": model.event_log,
            "version": __version__,
        }

    def open(self, resume: bool) -> dict[int, Outcome]:
        """Start the store; with `resume`, return the complete replications already saved."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for stray in self.folder.glob(".*"):  # temporary files of a writer that was killed
            if stray.is_file():
                stray.unlink()
        manifest = self.folder / "manifest.json"
        if resume and manifest.exists():
            try:
                saved = json.loads(manifest.read_text())
            except (ValueError, OSError) as e:  # (written atomically: not by twin)
                raise ScenarioError(
                    f"--resume: {manifest} cannot be read ({type(e).__name__}: {e}); it is not "
                    f"a manifest twin wrote: use another --out folder or drop --resume") from None
            if saved != self.identity:
                diff = sorted(k for k in self.identity if saved.get(k) != self.identity[k])
                raise ScenarioError(
                    f"--resume: {self.folder} holds another experiment (differs in "
                    f"{', '.join(diff)}); use another --out folder or drop --resume")
            return self._load_done()
        for old in self.folder.glob("r*"):
            old.unlink()
        write_atomic(manifest, json.dumps(self.identity, indent=2).encode())
        return {}

    def save(self, outcome: Outcome) -> None:
        stem = self.folder / f"r{outcome.replication:05d}"
        record: dict = {"replication": outcome.replication}
        if outcome.result is None:
            record.update(status="failed", error=outcome.error, deadlock=outcome.deadlock)
        else:
            res = outcome.result
            measures = pd.DataFrame(res.measures, columns=["kind", "entity", "measure", "value"])
            measures["value"] = measures["value"].astype(float)
            write_table(measures, stem.with_name(stem.name + ".measures"), self.fmt)
            if res.active_periods:  # kept with an event log only
                periods = pd.concat([pd.DataFrame({"station": name, "start_h": s, "end_h": e})
                                     for name, (s, e) in res.active_periods.items()],
                                    ignore_index=True)
                write_table(periods, stem.with_name(stem.name + ".periods"), self.fmt)
            timeline = pd.DataFrame(res.timeline,
                                    columns=["time_h", "kind", "entity", "measure", "value"])
            timeline["value"] = timeline["value"].astype(float)
            write_table(timeline, stem.with_name(stem.name + ".timeline"), self.fmt)
            if res.events:
                events = pd.DataFrame(res.events, columns=EVENT_COLUMNS[1:])
                write_table(events, stem.with_name(stem.name + ".events"), self.fmt)
            record.update(status="ok", simulate_s=res.simulate_s, events=bool(res.events),
                          stations=list(res.active_periods))
        write_atomic(stem.with_suffix(".json"), json.dumps(record).encode())

    def _read(self, path: Path) -> pd.DataFrame:
        if self.fmt == "parquet":
            return pd.read_parquet(path)
        # CSV writes a missing number (NaN) as an empty field: read it back as NaN in the
        # number columns; names (an entity, a station: TEXT) stay text, "" included
        header = pd.read_csv(path, nrows=0).columns
        return pd.read_csv(path, keep_default_na=False,
                           dtype={c: str for c in header if c in TEXT},
                           na_values={c: ["", "NaN", "nan"] for c in header if c not in TEXT})

    def _load_done(self) -> dict[int, Outcome]:
        done: dict[int, Outcome] = {}
        for meta_path in sorted(self.folder.glob("r*.json")):
            try:
                record = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                continue  # unreadable: run it again
            if record.get("status") != "ok":
                continue  # failed before: try again
            r = int(record["replication"])
            stem = meta_path.with_suffix("")
            try:
                measures = self._read(stem.with_name(stem.name + ".measures" + self.ext))
                periods = (self._read(stem.with_name(stem.name + ".periods" + self.ext))
                           if record["stations"] else None)
                timeline = self._read(stem.with_name(stem.name + ".timeline" + self.ext))
                events = (self._read(stem.with_name(stem.name + ".events" + self.ext))
                          if record.get("events") else pd.DataFrame(columns=EVENT_COLUMNS[1:]))
            except (OSError, ValueError):
                continue
            measures["entity"] = measures["entity"].fillna("").astype(str)
            rows = list(measures.itertuples(index=False, name=None))
            spans = {}
            for name in record["stations"]:
                sub = periods[periods["station"] == name]
                spans[name] = (sub["start_h"].to_numpy(np.float64),
                               sub["end_h"].to_numpy(np.float64))
            timeline["entity"] = timeline["entity"].fillna("").astype(str)
            done[r] = Outcome(r, ReplicationResult(
                r, rows, spans, simulate_s=record.get("simulate_s", 0.0),
                timeline=list(timeline.itertuples(index=False, name=None)),
                events=list(events.itertuples(index=False, name=None))))
        return done
