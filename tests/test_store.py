"""The replication store: saved as they finish, atomically, and resumable after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

import twin
from twin.cli import main

from support import twin_command, without_timing, write_scenario

# about 0.3 s per replication, so a run can be killed in the middle
SCENARIO = """\
    name: store line
    run: {horizon: "300 h", replications: 6, seed: 12}
    products:
      p: {route: [a, b, c], release: {interarrival: {exponential: "40 s"}}}
    stations:
      a: {process_time: {exponential: "30 s"}}
      b:
        process_time: {exponential: "25 s"}
        buffer: 3
        failures: {mtbf: {exponential: "3 h"}, mttr: {exponential: "10 min"}}
      c: {process_time: {exponential: "20 s"}, buffer: 2, scrap: 0.01}
"""

SHORT = SCENARIO.replace('"300 h"', '"20 h"')


def write(tmp_path: Path, text: str = SCENARIO) -> Path:
    return write_scenario(tmp_path, text)






def hidden_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.startswith(".")]


def saved(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file of the replication store: its modification time and content."""
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted((folder / "replications").glob("r*"))}


@pytest.mark.timeout(120)
def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    path = write(tmp_path)
    out = tmp_path / "out"
    command = [*twin_command(), "run", str(path), "--out", str(out), "--replications", "6",
               "--workers", "1", "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (out / "replications" / "r00001.json").exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no replication saved within a minute"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    assert not (out / "summary.json").exists()
    kept = saved(out)
    done = sorted(n for n in kept if n.endswith(".json"))
    assert 2 <= len(done) < 6, done

    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    # the replications saved before the kill were kept as they were, not run again
    after = saved(out)
    for name, (mtime, content) in kept.items():
        if name.endswith(".json") or name.split(".")[0] + ".json" in kept:
            assert after[name] == (mtime, content), name
    assert sorted(n for n in after if n.endswith(".json")) == [f"r{r:05d}.json" for r in range(6)]

    reference = twin.run(twin.load(path), workers=2).summary()
    summary = json.loads((out / "summary.json").read_text())
    assert without_timing(summary) == without_timing(reference)
    assert summary["replications"] == 6 and summary["run"]["replications_ok"] == 6
    assert hidden_files(out) == []


def test_ctrl_c_stops_the_workers_at_once_and_keeps_what_finished(tmp_path):
    """SIGINT to the whole process group (what Ctrl-C does) with 2 workers: exit 130 within
    seconds, a message naming --resume, no worker left behind, saved replications whole."""
    path = write(tmp_path)
    out = tmp_path / "out"
    command = [*twin_command(), "run", str(path), "--out", str(out), "--replications", "6",
               "--workers", "2", "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not (out / "replications" / "r00000.json").exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no replication saved within a minute"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    stopped = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert time.monotonic() - stopped < 10
    assert "--resume" in err.decode() and "Traceback" not in err.decode()
    assert hidden_files(out) == []
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["replications_ok"] == 6


def test_resume_reruns_only_what_is_missing_or_unreadable(tmp_path):
    """Simulate what a crash can leave behind: a replication whose .json (written last) is
    missing, one whose .json is cut short, one whose table is missing, and a stray
    temporary file. Only those replications run again."""
    path = write(tmp_path, SHORT)
    out = tmp_path / "out"
    scenario = twin.load(path)
    reference = twin.run(scenario, workers=1, out=out).summary()
    store = out / "replications"
    (store / "r00001.json").unlink()
    (store / "r00002.json").write_text('{"replication": 2, "sta')
    (store / "r00003.measures.parquet").unlink()
    (store / ".r00004.json.partial").write_text('{"replication": 4, "status": "ok"}')
    before = saved(out)

    seen = []
    resumed = twin.run(scenario, workers=1, out=out, resume=True,
                       on_outcome=lambda o: seen.append(o.replication))
    assert sorted(seen) == [1, 2, 3]
    assert without_timing(resumed.summary()) == without_timing(reference)
    after = saved(out)
    for r in (0, 4, 5):
        name = f"r{r:05d}.json"
        assert after[name] == before[name]


def test_stray_temporary_files_are_cleared_by_the_next_run(tmp_path):
    """A killed writer can leave a hidden temporary file; the resumed run must not leave
    it lying in the result folder."""
    path = write(tmp_path, SHORT)
    out = tmp_path / "out"
    scenario = twin.load(path)
    twin.run(scenario, replications=2, workers=1, out=out)
    stray = out / "replications" / ".r00001.measures.parquet.abc123"
    stray.write_bytes(b"PAR1 cut short")
    twin.run(scenario, replications=2, workers=1, out=out, resume=True)
    assert hidden_files(out) == []


def test_results_get_the_permissions_of_plain_new_files(tmp_path):
    """Files are written through a temporary file and a rename, so that a reader never sees
    half of one; they still get the permissions any new file gets (0644 under the usual
    umask 022), not the temporary file's owner-only 0600, so that others can read results
    in a shared folder."""
    path = write(tmp_path, SHORT)
    out = tmp_path / "out"
    results = twin.run(twin.load(path), replications=2, workers=1, out=out)
    results.write(out / "tables")
    umask = os.umask(0o022)
    os.umask(umask)
    files = [f for f in out.rglob("*") if f.is_file()]
    assert len(files) > 5
    assert {f.stat().st_mode & 0o777 for f in files} == {0o666 & ~umask}


def test_resume_with_nothing_missing_runs_nothing(tmp_path):
    path = write(tmp_path, SHORT)
    out = tmp_path / "out"
    scenario = twin.load(path)
    first = twin.run(scenario, replications=3, workers=1, out=out).summary()
    seen = []
    again = twin.run(scenario, replications=3, workers=1, out=out, resume=True,
                     on_outcome=lambda o: seen.append(o.replication))
    assert seen == []
    assert without_timing(again.summary()) == without_timing(first)


def test_resume_into_another_experiments_folder_is_refused(tmp_path, capsys):
    path = write(tmp_path, SHORT)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--replications", "2",
                 "--workers", "1", "--quiet", "--seed", "1"]) == 0
    capsys.readouterr()
    status = main(["run", str(path), "--out", str(out), "--replications", "2",
                   "--workers", "1", "--quiet", "--seed", "2", "--resume"])
    err = capsys.readouterr().err
    assert status == 2
    assert "another experiment" in err and "seed" in err
    assert "Traceback" not in err
    # the other experiment's results are untouched
    assert json.loads((out / "summary.json").read_text())["seed"] == 1


def test_resume_needs_an_output_folder(tmp_path, capsys):
    assert main(["run", str(write(tmp_path, SHORT)), "--resume", "--quiet"]) == 2
    assert "--out" in capsys.readouterr().err


def test_every_written_file_is_whole(tmp_path):
    path = write(tmp_path, SHORT)
    out = tmp_path / "out"
    for fmt in ("parquet", "csv"):
        folder = out / fmt
        twin.run(twin.load(path), replications=2, workers=2, out=folder, table_format=fmt)
        store = folder / "replications"
        manifest = json.loads((store / "manifest.json").read_text())
        assert manifest["seed"] == 12
        for r in range(2):
            record = json.loads((store / f"r{r:05d}.json").read_text())
            assert record["status"] == "ok" and record["replication"] == r
            for part in ("measures", "timeline"):
                file = store / f"r{r:05d}.{part}.{fmt}"
                table = pd.read_parquet(file) if fmt == "parquet" else pd.read_csv(file)
                assert len(table) > 0, file
        assert hidden_files(folder) == []


def test_a_new_run_without_resume_starts_afresh(tmp_path):
    path = write(tmp_path, SHORT)
    out = tmp_path / "out"
    scenario = twin.load(path)
    twin.run(scenario, replications=4, workers=1, out=out)
    twin.run(scenario, replications=2, workers=1, out=out)
    names = sorted(p.name for p in (out / "replications").glob("r*.json"))
    assert names == ["r00000.json", "r00001.json"]


def test_the_folder_survives_a_missing_parent(tmp_path):
    """--out may name a folder that does not exist yet, several levels deep."""
    out = tmp_path / "a" / "b" / "c"
    twin.run(twin.load(write(tmp_path, SHORT)), replications=1, out=out)
    assert (out / "replications" / "r00000.json").exists()
