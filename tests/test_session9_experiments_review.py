"""Session 9 review: the experiment / command-line contract (shared/spec/results.md,
docs/results.md, docs/experiments.md), checked by running `python -m twin` as a user would.

Expected values are computed here, independently (scipy.stats for Student-t intervals, a
plain-Python MSER-5, the per-replication tables the tool writes under --out), never copied
from the tool's own output. Only small scenarios without logistics are used, so each test
stays well under 10 s.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
LINE = ROOT / "scenarios" / "examples" / "two_machine_line.yaml"  # pure line, both engines
MM1 = ROOT / "scenarios" / "validation" / "mm1.yaml"
# M/M/1 in seconds: many events per hour, so a replication lasts long enough to be
# interrupted while the report's timeline (15-min intervals of a short horizon) stays small
FAST_MM1 = """\
name: fast M/M/1
run:
  horizon: "15 h"
  warmup: "10 min"
  replications: 5
  seed: 2024
products:
  job:
    route: [server]
    release: {interarrival: {exponential: "1.25 s"}}
stations:
  server:
    process_time: {exponential: "1 s"}
"""


@pytest.fixture()
def fast_mm1(tmp_path) -> Path:
    path = tmp_path / "fast_mm1.yaml"
    path.write_text(FAST_MM1)
    return path


def twin_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twin", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def twin_main(*args: str) -> tuple[int, str, str]:
    """The command line in this process (twin.cli.main, the console script's entry),
    for the many quick refusals: (status, stdout, stderr)."""
    import contextlib
    import io

    from twin.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in args])
        except SystemExit as e:  # argparse's refusals
            status = e.code
    return status, out.getvalue(), err.getvalue()


def api_summary(path: Path, overrides=(), **kw) -> dict:
    """The summary of `twin.run` in this process, as the JSON document (no timing)."""
    import twin

    results = twin.run(twin.load(path, list(overrides)), **kw)
    return no_timing(json.loads(json.dumps(results.summary())))


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str) -> dict:
    """The one JSON document of stdout: json.loads refuses trailing text; NaN and
    Infinity (which json.dumps would write) are refused too."""
    return json.loads(text, parse_constant=_no_constant)


def run_json(*args: str) -> dict:
    p = twin_cli("run", *args, "--json", "--quiet")
    assert p.returncode == 0, p.stderr
    return strict_json(p.stdout)


def no_timing(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    doc.pop("timing")
    return doc


def no_timing_sweep(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    for point in doc["points"]:
        point["summary"].pop("timing")
    return doc


def t_interval(values) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval, computed with scipy (the reference)."""
    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    if len(x) == 1 or float(x.std(ddof=1)) == 0.0:
        return m, m, m
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=m, scale=stats.sem(x))
    return m, float(lo), float(hi)


def assert_stat(stat: dict, values, what: str) -> None:
    assert set(stat) == {"mean", "ci95"}, (what, stat)
    m, lo, hi = t_interval(values)
    assert stat["mean"] == pytest.approx(m, rel=1e-9, abs=1e-12), what
    assert stat["ci95"][0] == pytest.approx(lo, rel=1e-9, abs=1e-12), what
    assert stat["ci95"][1] == pytest.approx(hi, rel=1e-9, abs=1e-12), what


def statistics(node, path=""):
    """Every {"mean", "ci95"} object of a document, with its path."""
    if isinstance(node, dict):
        if "mean" in node and "ci95" in node:
            yield path, node
            return
        for k, v in node.items():
            yield from statistics(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from statistics(v, f"{path}[{i}]")


# ---------------------------------------------------------------------------------------
# 2. --json: one document on stdout; Student-t intervals from the per-replication tables
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def four_reps(tmp_path_factory):
    out = tmp_path_factory.mktemp("four") / "out"
    p = twin_cli("run", LINE, "--horizon", "6 h", "--warmup", "1 h", "--replications", "4",
                 "--workers", "2", "--out", out, "--format", "csv", "--json", "--quiet")
    assert p.returncode == 0, p.stderr
    return strict_json(p.stdout), out, p


def test_json_stdout_is_exactly_one_document_and_messages_go_to_stderr(four_reps):
    doc, out, p = four_reps
    assert p.stdout.lstrip().startswith("{") and p.stdout.rstrip().endswith("}")
    assert "twin: wrote" in p.stderr and "twin: wrote" not in p.stdout
    # the fixed fields, in the run's values
    assert doc["scenario"] == "two-machine line" and doc["engine"] == "simpy"
    assert (doc["replications"], doc["seed"]) == (4, 42)
    assert (doc["horizon_h"], doc["warmup_h"]) == (6.0, 1.0)
    assert set(doc["timing"]) >= {"total_s", "simulate_s"}
    # summary.json is the same document (timing apart)
    assert no_timing(json.loads((out / "summary.json").read_text())) == no_timing(doc)


def test_every_statistic_is_a_t_interval_of_the_replications(four_reps):
    doc, out, _ = four_reps
    products = pd.read_csv(out / "products.csv")
    stations = pd.read_csv(out / "stations.csv")
    measures = pd.read_csv(out / "measures.csv", keep_default_na=False,
                           na_values=["", "NaN", "nan"])
    totals = pd.read_csv(out / "energy_totals.csv")
    assert sorted(products["replication"].unique()) == [0, 1, 2, 3]
    for name, rows in products.groupby("entity"):
        rows = rows.sort_values("replication")
        for m in ("finished", "scrapped", "throughput_per_h", "lead_time_h", "released"):
            assert_stat(doc["products"][name][m], rows[m], f"products.{name}.{m}")
        # throughput is finished per measured hour
        np.testing.assert_allclose(rows["throughput_per_h"], rows["finished"] / 6.0, rtol=1e-12)
    for name, rows in stations.groupby("entity"):
        rows = rows.sort_values("replication")
        for m in ("utilization", "queue_mean", "wait_h", "energy_kwh", "oee"):
            assert_stat(doc["stations"][name][m], rows[m], f"stations.{name}.{m}")
        # utilisation = busy machine-hours / (servers x period)
        np.testing.assert_allclose(rows["utilization"], rows["busy_h"] / (rows["servers"] * 6.0),
                                   rtol=1e-12)
        states = doc["stations"][name]["states"]
        assert set(states) == {"busy", "starved", "blocked", "down", "setup", "off_shift"}
        for s, v in states.items():  # plain means of the fractions
            assert v == pytest.approx(rows[s].mean(), rel=1e-9, abs=1e-12)
        assert sum(states.values()) == pytest.approx(1.0, abs=1e-9)
    wip = measures[(measures.kind == "system") & (measures.measure == "wip_mean")]
    assert_stat(doc["wip"], wip.sort_values("replication")["value"], "wip")
    totals = totals.sort_values("replication")
    assert_stat(doc["energy"]["total_kwh"], totals["total_kwh"], "energy.total_kwh")
    assert_stat(doc["energy"]["kwh_per_unit"], totals["kwh_per_unit"], "energy.kwh_per_unit")
    # the total is the stations' electricity (no facility loads in this scenario)
    st_energy = stations.groupby("replication")["energy_kwh"].sum().sort_index()
    np.testing.assert_allclose(totals["total_kwh"], st_energy.to_numpy(), rtol=1e-9)
    for path, stat in statistics(doc):
        if stat["mean"] is not None:
            assert stat["ci95"][0] <= stat["mean"] <= stat["ci95"][1], path


def test_one_replication_gives_point_intervals_everywhere():
    doc = run_json(LINE, "--horizon", "4 h", "--replications", "1", "--workers", "1")
    found = list(statistics(doc))
    assert len(found) > 20
    for path, stat in found:
        m = stat["mean"]
        assert stat["ci95"] == [m, m], path


# ---------------------------------------------------------------------------------------
# 1. determinism: workers, backend, engine
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["simpy", "flowline"])
def test_same_document_for_one_or_two_workers(engine):
    args = (LINE, "--horizon", "6 h", "--replications", "4", "--engine", engine)
    one = run_json(*args, "--workers", "1")
    two = run_json(*args, "--workers", "2")
    assert one["engine"] == engine
    assert no_timing(one) == no_timing(two)


def test_same_document_on_dask_local():
    args = (LINE, "--horizon", "6 h", "--replications", "3")
    serial = run_json(*args, "--workers", "1")
    dask = run_json(*args, "--workers", "2", "--dask", "local")
    assert no_timing(serial) == no_timing(dask)


def test_auto_replications_and_auto_warmup_do_not_depend_on_workers():
    args = (LINE, "--horizon", "3 h", "--replications", "auto", "--warmup", "auto")
    one = run_json(*args, "--workers", "1")
    two = run_json(*args, "--workers", "2")
    assert one["replications"] >= 5
    assert no_timing(one) == no_timing(two)


# ---------------------------------------------------------------------------------------
# 6. --set, --horizon, --warmup, --seed take effect
# ---------------------------------------------------------------------------------------

def test_run_options_take_effect_and_are_reported():
    base = run_json(LINE, "--horizon", "3 h", "--warmup", "0", "--replications", "2",
                    "--workers", "1")
    assert (base["horizon_h"], base["warmup_h"], base["seed"]) == (3.0, 0.0, 42)
    fin = base["products"]["part"]["finished"]["mean"]
    assert base["products"]["part"]["throughput_per_h"]["mean"] == pytest.approx(fin / 3.0)
    # --set of run keys, and an option beating a --set of the same key (--seed 7 over 5)
    seeded = run_json(LINE, "--set", 'run.horizon="6 h"', "--horizon", "10800",
                      "--warmup", "1800", "--set", "run.seed=5", "--seed", "7",
                      "--replications", "2", "--workers", "1")
    assert (seeded["horizon_h"], seeded["warmup_h"], seeded["seed"]) == (3.0, 0.5, 7)
    assert seeded["products"] != base["products"]
    # the same thing through the API, independently: seed 7, 3 h after 0.5 h
    assert api_summary(LINE, ['run.horizon="6 h"', "run.seed=5"], replications=2, seed=7,
                       horizon="3 h", warmup=1800) == no_timing(seeded)
    # a --set of a station changes the result: no buffer before the press, less output
    tight = run_json(LINE, "--horizon", "3 h", "--warmup", "0", "--replications", "2",
                     "--workers", "1", "--set", "stations.press.buffer=0")
    assert tight["products"]["part"]["finished"]["mean"] < fin


def _mser5_reference(y: list[float]) -> int:
    """Plain-Python MSER-5 (docs/experiments.md): batches of 5, d <= m/2 batches."""
    m = len(y) // 5
    z = [sum(y[5 * j:5 * j + 5]) / 5 for j in range(m)]

    def mser(d: int) -> float:
        kept = z[d:]
        mu = sum(kept) / len(kept)
        return sum((v - mu) ** 2 for v in kept) / len(kept) ** 2

    return 5 * min(range(m // 2 + 1), key=lambda d: (mser(d), d))


def test_warmup_auto_is_mser5_of_the_pilots_wip():
    # the pilots are replications 0..2 of the same seed from the empty state with no
    # warm-up: exactly a warm-up 0 run of 3 replications, whose timeline we read
    import twin

    auto = run_json(MM1, "--horizon", "300 h", "--replications", "3", "--workers", "2",
                    "--warmup", "auto")
    res = twin.run(twin.load(MM1), replications=3, horizon="300 h", warmup=0)
    tl = res.timeline
    wip = tl[(tl.kind == "system") & (tl.measure == "wip_mean")]
    series = [g.sort_values("time_h") for _, g in wip.groupby("replication")]
    assert len(series) == 3
    n = min(len(s) for s in series)
    y = [sum(float(s["value"].iloc[i]) for s in series) / 3 for i in range(n)]
    deleted = _mser5_reference(y)
    expected_h = float(series[0]["time_h"].iloc[deleted - 1]) if deleted else 0.0
    assert deleted > 0
    assert auto["warmup_h"] == pytest.approx(expected_h, rel=1e-9)
    assert auto["horizon_h"] == 300.0
    assert "MSER-5" in auto["run"]["warmup_rule"]


# ---------------------------------------------------------------------------------------
# 3. exit status
# ---------------------------------------------------------------------------------------

S = str(LINE)
BAD = [
    ("run", S, "--replications", "0"),
    ("run", S, "--replications", "-1"),
    ("run", S, "--replications", "abc"),
    ("run", S, "--horizon", "garbage"),
    ("run", S, "--horizon", "0"),
    ("run", S, "--horizon", "-5 h"),
    ("run", S, "--horizon", ".inf"),
    ("run", S, "--warmup", "garbage"),
    ("run", S, "--warmup", "-1 h"),
    ("run", S, "--warmup", ".nan"),
    ("run", S, "--engine", "foo"),
    ("run", S, "--seed", "-1"),
    ("run", S, "--workers", "0"),
    ("run", "does-not-exist.yaml"),
    ("run", "scenarios"),
    ("run", S, "--set", "stations.press.buffer=abc"),
    ("run", S, "--set", "stations.pres.buffer=3"),
    ("run", S, "--set", "nonsense"),
    ("run", S, "--set", "run.horizon="),
    ("run", S, "--resume"),
    ("run", S, "--dask", "not an address"),
    ("run", S, "--vary", "stations.press.buffer=1,1"),
    ("run", S, "--vary", "stations.press.buffer=1,,2"),
    ("run", S, "--vary", "stations.press.buffer=1,2", "--set", "stations.press.buffer=3"),
    ("run", S, "--engine", "flowline", "--event-log"),
    ("compare", S),
    ("compare", S, "does-not-exist.yaml"),
    ("compare", S, S, "--replications", "0"),
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a[:1] + a[2:]) or a[1] for a in BAD])
def test_wrong_command_line_exits_2_with_a_message(argv):
    status, stdout, stderr = twin_main(*argv, "--quiet")
    assert status == 2, stderr
    assert stdout == ""
    assert "error" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("argv", [
    ("run", S, "--set", "stations.press.buffer=-1"),
    ("run", S, "--warmup", "1e400"),
    ("run", S, "--replications", "1.5"),
    ("compare", S, "scenarios", "--horizon", "2 h"),
])
def test_wrong_command_line_exits_2_as_a_process(argv):
    p = twin_cli(*argv, "--quiet")
    assert p.returncode == 2, p.stderr
    assert p.stdout == "" and "Traceback" not in p.stderr and "error" in p.stderr


# ---------------------------------------------------------------------------------------
# 4. interruption and --resume
# ---------------------------------------------------------------------------------------

def _interrupt_when(out: Path, pattern: str, count: int, argv: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-m", "twin", *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(out.glob(pattern))) < count:
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


def test_ctrl_c_loses_nothing_and_resume_equals_an_uninterrupted_run(tmp_path, fast_mm1):
    out = tmp_path / "out"
    argv = ["run", str(fast_mm1), "--json", "--quiet", "--workers", "2", "--out", str(out)]
    stopped = _interrupt_when(out, "replications/r*.json", 1, argv)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stdout == "" and "--resume" in stopped.stderr
    kept = sorted(p.name for p in (out / "replications").glob("r*.json"))
    assert 1 <= len(kept) < 5
    resumed = twin_cli(*argv, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    fresh = api_summary(fast_mm1)  # uninterrupted, serial
    assert no_timing(strict_json(resumed.stdout)) == fresh
    assert no_timing(json.loads((out / "summary.json").read_text())) == fresh


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_resume_after_a_lost_replication_gives_the_same_result(tmp_path, fast_mm1, fmt):
    """docs/experiments.md: after a crash, the same command with --resume reads the
    complete replications back and runs the missing ones; the result is the same.
    (BUG with --format csv: the store writes a NaN measure, e.g. products.P.scrapped_time_h
    of a run without scrap, as an empty CSV field but reads it back as text, so the resume
    dies with 'internal error: ValueError: could not convert string to float'.)"""
    import twin

    out = tmp_path / "out"
    first = twin.run(twin.load(fast_mm1), replications=3, horizon="4 h", out=out,
                     table_format=fmt)  # what `twin run ... --format FMT --out` saves
    expected = no_timing(json.loads(json.dumps(first.summary())))
    (out / "replications" / "r00001.json").unlink()  # as if killed before it was saved
    again = twin_cli("run", fast_mm1, "--horizon", "4 h", "--replications", "3",
                     "--workers", "1", "--format", fmt, "--out", out, "--json", "--quiet",
                     "--resume")
    assert again.returncode == 0, again.stderr
    assert no_timing(strict_json(again.stdout)) == expected


def test_resume_with_more_replications_runs_only_the_missing_ones(tmp_path):
    import twin

    out = tmp_path / "out"
    twin.run(twin.load(LINE), replications=2, horizon="3 h", out=out)
    stamp = (out / "replications" / "r00000.json").stat().st_mtime_ns
    resumed = twin.run(twin.load(LINE), replications=4, horizon="3 h", out=out, resume=True)
    assert (out / "replications" / "r00000.json").stat().st_mtime_ns == stamp  # kept
    assert sorted(p.name for p in (out / "replications").glob("r*.json")) == [
        f"r0000{i}.json" for i in range(4)]
    fresh = api_summary(LINE, replications=4, horizon="3 h", workers=2)
    assert no_timing(json.loads(json.dumps(resumed.summary()))) == fresh


def test_resume_into_another_experiment_is_refused(tmp_path):
    import twin

    out = tmp_path / "out"
    twin.run(twin.load(LINE), replications=1, horizon="3 h", out=out)
    argv = ["run", LINE, "--horizon", "3 h", "--replications", "1", "--workers", "1",
            "--out", out, "--quiet", "--resume"]
    p = twin_cli(*argv, "--seed", "1")
    assert p.returncode == 2, p.stderr
    assert "another experiment" in p.stderr and "seed" in p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    for extra in (["--set", "stations.press.buffer=2"], ["--warmup", "0"]):
        status, stdout, stderr = twin_main(*argv, *extra)
        assert status == 2, (extra, stderr)
        assert "another experiment" in stderr and stdout == ""


def test_sweep_resume_after_ctrl_c_equals_an_uninterrupted_sweep(tmp_path, fast_mm1):
    out = tmp_path / "sweep"
    argv = ["run", str(fast_mm1), "--vary", "stations.server.buffer=3,10",
            "--replications", "3", "--horizon", "10 h", "--json", "--quiet", "--workers", "1"]
    stopped = _interrupt_when(out, "points/p000/replications/r*.json", 2,
                              [*argv, "--out", str(out)])
    assert stopped.returncode == 130, stopped.stderr
    assert not (out / "points" / "p001" / "replications" / "r00002.json").exists()
    resumed = twin_cli(*argv, "--out", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    got = no_timing_sweep(strict_json(resumed.stdout))
    assert [p["factors"] for p in got["points"]] == [{"stations.server.buffer": 3},
                                                     {"stations.server.buffer": 10}]
    for point, buffer in zip(got["points"], (3, 10)):
        ref = api_summary(fast_mm1, [f"stations.server.buffer={buffer}"], replications=3,
                          horizon="10 h")
        assert point["summary"] == ref, point["point"]


# ---------------------------------------------------------------------------------------
# sweeps: a run option beside a --vary of the same run key
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("factor, option, levels", [
    ("run.horizon=1h,3h", ("--horizon", "2 h"), (1.0, 3.0)),
    ("run.seed=1,2", ("--seed", "5"), (1, 2)),
])
def test_run_option_does_not_silently_flatten_a_sweep_of_the_same_key(factor, option, levels):
    """experiments.md: settings that would set the same thing twice are refused before
    anything runs, since one would silently replace the other at every point ("rows that
    look different but are the same run"), e.g. a --set of a key the sweep sets. --horizon
    and --seed are that same override of run.horizon / run.seed. (BUG: today the option
    wins at every point: two points labelled run.horizon=1h and 3h both run 2 h with the
    same numbers, exit 0.) Either refusal (exit 2) or the sweep's levels are acceptable."""
    p = twin_cli("run", LINE, "--vary", factor, *option, "--replications", "1",
                 "--workers", "1", "--json", "--quiet",
                 *(["--horizon", "2 h"] if option[0] != "--horizon" else []))
    if p.returncode == 2:
        assert "Traceback" not in p.stderr and p.stdout == ""
        return
    assert p.returncode == 0, p.stderr
    doc = strict_json(p.stdout)
    key = "horizon_h" if option[0] == "--horizon" else "seed"
    got = tuple(point["summary"][key] for point in doc["points"])
    assert got == levels, f"points {[pt['point'] for pt in doc['points']]} ran with {key} {got}"


# ---------------------------------------------------------------------------------------
# 5. twin compare: same seeds, paired differences
# ---------------------------------------------------------------------------------------

def _per_replication(measures: pd.DataFrame) -> pd.DataFrame:
    """Headline KPIs per replication, from the raw measures (no facility loads here)."""
    prod = measures[(measures.kind == "product") & (measures.entity == "part")].pivot(
        index="replication", columns="measure", values="value")
    system = measures[measures.kind == "system"].pivot(
        index="replication", columns="measure", values="value")
    energy = measures[(measures.kind == "station")
                      & measures.measure.str.fullmatch(r"energy_[a-z_]+_kwh")]
    energy = energy.groupby("replication")["value"].sum()
    return pd.DataFrame({"throughput_per_h:part": prod["throughput_per_h"],
                         "lead_time_h:part": prod["lead_time_h"],
                         "wip": system["wip_mean"],
                         "energy_kwh": energy,
                         "kwh_per_unit": energy / prod["finished"]}).sort_index()


def test_compare_paired_differences_and_same_seeds(tmp_path):
    other = tmp_path / "small.yaml"
    text = LINE.read_text().replace("buffer: 5", "buffer: 1")
    text = text.replace("name: two-machine line", "name: small buffer")
    other.write_text(text.replace("seed: 42", "seed: 7"))  # compare must use the first's
    out = tmp_path / "cmp"
    p = twin_cli("compare", LINE, other, "--horizon", "12 h", "--replications", "4",
                 "--workers", "2", "--out", out, "--json", "--quiet")
    assert p.returncode == 0, p.stderr
    doc = strict_json(p.stdout)
    assert doc == json.loads((out / "compare.json").read_text())
    assert doc["baseline"] == "two-machine line" and doc["seed"] == 42
    small = json.loads((out / "small-buffer" / "summary.json").read_text())
    assert small["seed"] == 42 and small["replications"] == 4
    a = _per_replication(pd.read_parquet(out / "two-machine-line" / "measures.parquet"))
    b = _per_replication(pd.read_parquet(out / "small-buffer" / "measures.parquet"))
    assert list(a.index) == list(b.index) == [0, 1, 2, 3]
    # (the energy KPI is being renamed energy_kwh -> total_kwh: accept either name)
    energy = "total_kwh" if "total_kwh" in doc["kpis"] else "energy_kwh"
    a, b = (t.rename(columns={"energy_kwh": energy}) for t in (a, b))
    for kpi in a.columns:
        entry = doc["kpis"][kpi]
        assert_stat(entry["values"]["two-machine line"], a[kpi], kpi)
        assert_stat(entry["values"]["small buffer"], b[kpi], kpi)
        diff = b[kpi] - a[kpi]  # paired, replication by replication
        assert_stat(entry["difference"]["small buffer"], diff, f"difference {kpi}")
        _, lo, hi = t_interval(diff)
        verdict = entry["verdict"]["small buffer"]
        if lo <= 0 <= hi:
            assert verdict == "no significant difference"
        else:
            assert verdict != "no significant difference"
    # a smaller buffer lowers throughput for sure: the baseline wins
    assert doc["kpis"]["throughput_per_h:part"]["verdict"]["small buffer"] == \
        "two-machine line is better"
    # the compared scenario is what `twin run` gives with the baseline's seed
    alone = run_json(other, "--horizon", "12 h", "--replications", "4", "--seed", "42",
                     "--workers", "1")
    assert no_timing(alone) == no_timing(small)
