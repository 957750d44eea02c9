"""The `twin` command line: stdout carries only results, exit codes, output folders.

Most cases call `twin.cli.main` in this process (fast); the few that are about the process
itself (what reaches stdout, a terminal on stderr, the same output in another process) run
the installed `twin` command.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from twin.cli import main

from support import twin_command, without_timing, write_scenario

LINE = """\
    name: cli line
    run: {horizon: "10 h", replications: 3, seed: 4}
    products:
      p: {route: [a, b], release: {interarrival: {exponential: "3 min"}}, energy_kwh: 1.5}
    stations:
      a: {process_time: {exponential: "2 min"}, power_kw: {busy: 4, starved: 1}}
      b: {process_time: {exponential: "2.5 min"}, buffer: 2, power_kw: {busy: 5}}
"""

FIXED = ["scenario", "engine", "replications", "seed", "horizon_h", "warmup_h", "products",
         "wip", "stations", "bottleneck", "energy", "timing"]


def write(tmp_path: Path, text: str = LINE, name: str = "line.yaml") -> Path:
    return write_scenario(tmp_path, text, name)






def run_main(args: list[str], capsys) -> tuple[int, str, str]:
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- twin run -------------------------------------------------------------------------------
def test_json_is_the_only_thing_on_stdout_and_same_in_another_process(tmp_path, capsys):
    path = write(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.run([*twin_command(), "run", str(path), "--json", "--workers", "2",
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # the whole of stdout is one JSON document
    assert isinstance(doc, dict)
    assert list(doc)[:len(FIXED) - 1] == FIXED[:-1] and "timing" in doc
    assert doc["scenario"] == "cli line" and doc["replications"] == 3 and doc["seed"] == 4
    assert "wrote" in proc.stderr  # messages go to stderr
    # the same seed in this process, serially, prints the same document apart from timing
    status, stdout, _ = run_main(["run", str(path), "--json", "--workers", "1", "--quiet"], capsys)
    assert status == 0
    assert without_timing(json.loads(stdout)) == without_timing(doc)


def test_progress_goes_to_a_terminal_on_stderr_never_to_stdout(tmp_path):
    termios = pytest.importorskip("termios", reason="needs a POSIX pseudo-terminal")
    import fcntl
    import pty
    import struct

    path = write(tmp_path)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 x 100
    proc = subprocess.Popen([*twin_command(), "run", str(path), "--json", "--workers", "1",
                             "--replications", "4"], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other end is closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    json.loads(stdout)
    err = b"".join(chunks).decode(errors="replace")
    assert "/4" in err and "rep" in err  # a progress bar counted the replications


def test_text_summary_without_json(tmp_path, capsys):
    status, out, _ = run_main(["run", str(write(tmp_path)), "--workers", "1", "--quiet"], capsys)
    assert status == 0
    assert "cli line" in out and "throughput" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_set_override_changes_the_result(tmp_path, capsys):
    path = write(tmp_path)
    args = ["run", str(path), "--json", "--workers", "1", "--quiet", "--replications", "2"]
    _, base, _ = run_main(args, capsys)
    status, faster, _ = run_main([*args, "--set", "stations.b.process_time=30 s"], capsys)
    assert status == 0
    base, faster = json.loads(base), json.loads(faster)
    def mean(doc, *keys):
        for key in keys:
            doc = doc[key]
        return doc["mean"]

    b_use = ("stations", "b", "utilization")
    assert mean(faster, *b_use) < mean(base, *b_use) / 3  # 30 s instead of 2.5 min
    lead = ("products", "p", "lead_time_h")
    assert mean(faster, *lead) < mean(base, *lead)
    assert faster["run"]["scenario_sha256"] != base["run"]["scenario_sha256"]


def test_run_options_reach_the_summary(tmp_path, capsys):
    status, out, _ = run_main(["run", str(write(tmp_path)), "--json", "--workers", "1", "--quiet",
                               "--replications", "2", "--seed", "9", "--horizon", "2 h",
                               "--warmup", "30 min"], capsys)
    doc = json.loads(out)
    assert status == 0
    assert (doc["replications"], doc["seed"], doc["horizon_h"], doc["warmup_h"]) == (2, 9, 2.0, 0.5)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_out_writes_summary_tables_and_report(tmp_path, capsys, fmt):
    out = tmp_path / "out"
    status, stdout, err = run_main(["run", str(write(tmp_path)), "--workers", "1", "--quiet",
                                    "--out", str(out), "--format", fmt, "--json"], capsys)
    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    assert without_timing(summary) == without_timing(json.loads(stdout))
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    measures = read(out / f"measures.{fmt}")
    assert list(measures.columns) == ["replication", "kind", "entity", "measure", "value"]
    assert sorted(measures["replication"].unique()) == [0, 1, 2]
    finished = measures[(measures["entity"] == "p") & (measures["measure"] == "finished")]
    assert finished["value"].mean() == pytest.approx(summary["products"]["p"]["finished"]["mean"])
    assert not (out / f"active_periods.{fmt}").exists()  # kept with an event log only
    timeline = read(out / f"timeline.{fmt}")
    assert {"replication", "time_h", "kind", "entity", "measure", "value"} <= set(timeline.columns)
    html = (out / "report.html").read_text()
    assert "<html" in html.lower() and "cli line" in html


def test_event_log_is_written_when_asked(tmp_path, capsys):
    out = tmp_path / "out"
    status, _, _ = run_main(["run", str(write(tmp_path)), "--workers", "1", "--quiet",
                             "--replications", "1", "--out", str(out), "--event-log"], capsys)
    assert status == 0
    log = pd.read_parquet(out / "event_log.parquet")
    assert set(log["activity"]) >= {"release", "process", "finish"}
    periods = pd.read_parquet(out / "active_periods.parquet")  # kept with the log
    assert list(periods.columns) == ["replication", "station", "start_h", "end_h"]
    assert len(periods) and (periods["end_h"] > periods["start_h"]).all()


# --- exit codes -------------------------------------------------------------------------------
def test_bad_scenario_is_exit_2_with_one_located_line(tmp_path):
    bad = write(tmp_path, LINE.replace("buffer: 2", "buffer: 2, servers: 0"), "bad.yaml")
    proc = subprocess.run([*twin_command(), "run", str(bad), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "bad.yaml" in lines[0] and "stations.b.servers" in lines[0] and "line 7" in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("option", [["--replications", "0"], ["--replications", "two"],
                                    ["--horizon", "5 sec"], ["--warmup", "-1 h"],
                                    ["--seed", "-4"], ["--workers", "0"], ["--engine", "gpss"],
                                    ["--format", "xlsx"], ["--set", "stations.b.servers"],
                                    ["--set", "stations.zz.servers=2"]])
def test_bad_option_is_exit_2_without_traceback(tmp_path, capsys, option):
    # argparse rejects some options itself (SystemExit), twin the others (returned status)
    with pytest.raises(SystemExit) as exit_:
        status = main(["run", str(write(tmp_path)), "--quiet", "--workers", "1", *option])
        raise SystemExit(status)
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert option[0].lstrip("-") in captured.err or option[1].split("=")[0] in captured.err
    assert "Traceback" not in captured.err


def test_an_out_folder_that_cannot_be_made_is_exit_2_before_the_run(tmp_path, capsys,
                                                                    monkeypatch):
    """--out under a file, an empty --out and an unwritable place: one message each, exit 2
    (before, the first two were internal errors or wrote into the current folder)."""
    monkeypatch.chdir(tmp_path)  # (an empty --out wrote into the current folder)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out, fragment in ((str(afile / "sub"), "cannot make that folder"),
                          ("", "--out is empty"),
                          (str(afile), "that is a file, not a folder")):
        status, stdout, err = run_main(["run", str(write(tmp_path)), "--quiet", "--workers",
                                        "1", "--out", out], capsys)
        assert status == 2 and stdout == "" and fragment in err and "Traceback" not in err
    assert not (tmp_path / "replications").exists()


def test_missing_file_is_exit_2(tmp_path, capsys):
    status, out, err = run_main(["run", str(tmp_path / "nowhere.yaml")], capsys)
    assert status == 2 and out == ""
    assert "nowhere.yaml" in err


def test_runtime_failure_is_exit_1(tmp_path, capsys):
    loop = write(tmp_path, """\
        name: loop
        run: {horizon: "1 h", replications: 2}
        products:
          p: {route: [a, {station: b, rework: {p: 0.9, to: a}}]}
        stations:
          a: {process_time: "1 min", buffer: 0}
          b: {process_time: "1 min", buffer: 0}
    """, "loop.yaml")
    status, out, err = run_main(["run", str(loop), "--json", "--workers", "1", "--quiet"], capsys)
    assert status == 1
    assert out == ""
    assert "deadlock" in err and "Traceback" not in err


# --- validate and schema -------------------------------------------------------------------
def test_validate_good_and_bad_files(tmp_path, capsys):
    good = write(tmp_path)
    bad = write(tmp_path, LINE.replace("route: [a, b]", "route: [a, bb]"), "bad.yaml")
    status, out, err = run_main(["validate", str(good)], capsys)
    assert status == 0 and out == ""
    status, out, err = run_main(["validate", str(good), str(bad)], capsys)
    assert status == 2 and out == ""
    assert "bad.yaml" in err and "bb" in err and "'b'" in err  # did-you-mean
    status, _, err = run_main(["validate", str(good), "--set", "stations.a.servers=-1"], capsys)
    assert status == 2 and "stations.a.servers" in err


def test_schema_is_json_schema_of_the_scenario(capsys):
    status, out, _ = run_main(["schema"], capsys)
    assert status == 0
    schema = json.loads(out)
    assert {"name", "run", "products", "stations"} <= set(schema["properties"])
    assert set(schema["required"]) >= {"name", "run", "products", "stations"}


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    import twin

    assert twin.__version__ in capsys.readouterr().out


def test_python_dash_m_twin_is_the_same_command_line(tmp_path):
    """`python -m twin` works where the `twin` script is not on PATH (notebooks, CI)."""
    import sys

    path = write_scenario(tmp_path, """\
        name: one machine
        run: {horizon: "1 h"}
        products: {u: {route: [a], release: saturated}}
        stations: {a: {process_time: "10 s", buffer: true}}
    """)
    bad = subprocess.run([sys.executable, "-m", "twin", "validate", str(path)],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert "stations.a.buffer" in bad.stderr and "expected a number" in bad.stderr
    path.write_text(path.read_text().replace("buffer: true", "buffer: 2"))
    good = subprocess.run([sys.executable, "-m", "twin", "validate", str(path)],
                          capture_output=True, text=True)
    assert good.returncode == 0, good.stderr


def test_a_closed_pipe_ends_twin_quietly() -> None:
    """`twin schema | head -c 10`: the reader goes away; twin ends quietly, with no error
    message, and status 1 (results.md: 1 for anything but success or a wrong input)."""
    proc = subprocess.Popen(twin_command() + ["schema"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.read(10)
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert b"error" not in err and b"Traceback" not in err


def test_compare_takes_auto_replications_and_writes_safe_folder_names(tmp_path, capsys):
    """Scenario names with spaces give folders without them; `--replications auto` lets
    the baseline decide how many replications every scenario runs (paired)."""
    a = write_scenario(tmp_path, """\
        name: one machine
        run: {horizon: "2 h", seed: 3}
        products: {u: {route: [m], release: {interarrival: {exponential: "60 s"}}}}
        stations: {m: {process_time: {exponential: "40 s"}}}
    """, "a.yaml")
    text = a.read_text().replace("name: one machine", 'name: "one machine: faster"')
    b = write_scenario(tmp_path, text.replace('"40 s"', '"30 s"'), "b.yaml")
    out = tmp_path / "cmp"
    status = main(["compare", str(a), str(b), "--replications", "auto", "--quiet",
                   "--json", "--out", str(out), "--set", "run.max_replications=4"])
    assert status == 0
    doc = json.loads(capsys.readouterr().out)
    assert 2 <= doc["replications"] <= 4
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "figures") == \
        ["one-machine", "one-machine-faster"]
    # the total energy gets no "better" verdict: it grows with the output
    assert all("better" not in v for v in doc["kpis"]["total_kwh"]["verdict"].values())


def test_a_sweep_under_out_writes_a_comparison_report_of_its_points(tmp_path):
    """A sweep's points are layouts to compare: under --out it writes compare.json and
    compare.html, every point against the first (paired differences on common random
    numbers), as `twin compare` does."""
    path = write_scenario(tmp_path, """\
        name: sweep
        run: {horizon: "3 h", replications: 2, seed: 5}
        products: {u: {route: [a, b], release: saturated}}
        stations:
          a: {process_time: {exponential: "50 s"}, buffer: 1}
          b: {process_time: {exponential: "55 s"}, buffer: 1}
    """)
    out = tmp_path / "out"
    status = main(["run", str(path), "--vary", "stations.b.buffer=0,4", "--quiet",
                   "--out", str(out)])
    assert status == 0
    doc = json.loads((out / "compare.json").read_text())
    assert doc["scenarios"] == ["b.buffer=0", "b.buffer=4"]
    assert doc["baseline"] == "b.buffer=0"
    # more room before b can only help a saturated line: the paired difference is >= 0
    diff = doc["kpis"]["throughput_per_h:u"]["difference"]["b.buffer=4"]
    assert diff["mean"] >= 0
    assert (out / "compare.html").stat().st_size > 1000
