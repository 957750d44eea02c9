"""Bad-input audit (review): wrong scenarios and command lines must get one clear message
naming the file, the place and the fix; never a traceback, a hang, an "internal error", or a
run on wrong data; exit status 2 for a wrong scenario or command line.

Cheap checks use the Python loader in this process; command-line behaviour runs the `twin`
console script in a subprocess with a timeout. Tests that fail expose a real problem; each
has a comment saying what was expected and what happened.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

import twin
from twin.errors import ScenarioError
from twin.scenario.load import load, scenario_json_schema
from twin.scenario.yamldoc import ScenarioLoader
from twin.vary import parse_vary_option

TWIN = str(Path(sys.executable).with_name("twin"))

LINE = """\
name: line
run: {horizon: "1 d", replications: 1, seed: 1}
products:
  cell:
    route: [coat, weld]
stations:
  coat: {process_time: "50 s"}
  weld: {process_time: "55 s", buffer: 5}
"""


def write(tmp_path: Path, text: str, name: str = "line.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(path: Path, overrides=()) -> list:
    """The problems `load` reports (fails the test if the file loads)."""
    with pytest.raises(ScenarioError) as info:
        load(path, overrides)
    return info.value.problems


def assert_clean(result, status: int = 2) -> None:
    """Exit status as promised, no traceback, no internal error, nothing on stdout."""
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    assert result.returncode == status, (result.returncode, result.stderr)
    assert result.stdout == "", result.stdout


# ---------------------------------------------------------------- command-line batch
# Every `twin` subprocess of this file starts at once in a module fixture (a pool of
# threads), so the file's wall time is about its longest command, not the sum.

LONG = """\
name: long
run: {horizon: "60 d", replications: 8, seed: 1}
products:
  cell: {route: [coat, weld]}
stations:
  coat: {process_time: {exponential: "50 s"}}
  weld: {process_time: {exponential: "45 s"}, buffer: 5}
"""

FLOW = LINE.replace("route: [coat, weld]",
                    "route: [coat, {station: weld, rework: {p: 0.1, to: coat}}]")


class Timeout:
    """What a job that did not end in time leaves (returncode None)."""

    returncode = None
    stdout = stderr = ""


def _command(args: list[str], cwd: Path, timeout: float):
    proc = subprocess.Popen([TWIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=cwd, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Timeout()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _interrupted(args: list[str], cwd: Path, folder: Path, limit: float):
    """Start twin, wait for a saved replication under `folder`, then Ctrl-C (SIGINT to the
    process group, as a terminal does)."""
    proc = subprocess.Popen([TWIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=cwd, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    started = time.monotonic()
    try:
        while time.monotonic() - started < limit and proc.poll() is None:
            if any(folder.glob("**/r0000*.json")):
                break
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=40)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("cli")
    files = {
        "good.yaml": LINE,
        "tab.yaml": LINE.replace("  coat:", "\tcoat:"),
        "dup.yaml": LINE + "stations:\n  x: {process_time: 1}\n",
        "list.yaml": "- a\n- b\n",
        "flow.yaml": FLOW.replace("seed: 1}", "seed: 1, engine: flowline}"),
        "flowrun.yaml": FLOW,
        "vary.yaml": LINE + "vary:\n  factorial:\n    stations.weld.servers: [1, 0]\n",
        "tiny.yaml": LINE.replace('"50 s"', "1e-300").replace('"55 s"', "1e-300"),
        "long.yaml": LONG,
    }
    for name, text in files.items():
        (d / name).write_text(text)
    (d / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    (d / "adir.yaml").mkdir()
    (d / "afile").write_text("not a folder\n")
    (d / "corrupt" / "replications").mkdir(parents=True)
    (d / "corrupt" / "replications" / "manifest.json").write_text("garbage\n")
    one = ["--workers", "1", "--quiet"]
    jobs = {  # the long ones first
        "ctrl_c_dask": (_interrupted, ["run", "long.yaml", "--dask", "local", "--workers", "2",
                                       "--out", "dask_out", "--quiet"], d / "dask_out", 60),
        "ctrl_c_sweep": (_interrupted, ["run", "long.yaml", "--vary", "stations.weld.buffer=1,2",
                                        "--workers", "2", "--out", "sweep_out", "--quiet"],
                         d / "sweep_out", 60),
        "tiny": (_command, ["run", "tiny.yaml", *one], 12),
        "validate_files": (_command, ["validate", "good.yaml", "tab.yaml", "dup.yaml",
                                      "list.yaml", "latin1.yaml", "missing.yaml", "adir.yaml"], 60),
        "validate_reach": (_command, ["validate", "flow.yaml", "vary.yaml"], 60),
        "flow_run": (_command, ["run", "flowrun.yaml", "--engine", "flowline", *one], 60),
        "out_file": (_command, ["run", "good.yaml", "--out", "afile", *one], 60),
        "corrupt_manifest": (_command, ["run", "good.yaml", "--out", "corrupt", "--resume", *one], 60),
        "vary_empty": (_command, ["run", "good.yaml", "--vary", "stations.weld.servers=,,", *one], 60),
        "dask_scheme": (_command, ["run", "good.yaml", "--dask", "foo://bar", "--quiet"], 60),
        "set_typo": (_command, ["run", "good.yaml", "--set", "stations.weld.serverz=3", *one], 60),
        "compare_one": (_command, ["compare", "good.yaml"], 60),
    }
    with ThreadPoolExecutor(max_workers=5) as pool:
        futures = {name: pool.submit(job[0], job[1], d, *job[2:]) for name, job in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


# ================================================================ behaves well (pass)


def test_yaml_and_file_level_mistakes_are_one_located_message_each(cli) -> None:
    """Tab, duplicate key, list at the top, not UTF-8, missing file, a directory, several
    files at once: every problem printed, exit 2, no traceback."""
    result = cli["validate_files"]
    assert_clean(result)
    err = result.stderr
    assert "good.yaml: ok" in err
    assert "tab.yaml: line 7, column 1: YAML syntax error" in err and "not tabs" in err
    assert "dup.yaml: stations (line 9, column 1): duplicate key 'stations'" in err
    assert "list.yaml: line 1, column 1: the file holds a list" in err
    assert "latin1.yaml: line 1: the file is not UTF-8" in err
    assert "missing.yaml: (top level): cannot read the scenario file: no such file" in err
    assert "adir.yaml: (top level): cannot read the scenario file: it is a directory" in err


def test_extends_cycle_missing_base_and_bad_base_name_the_right_file(tmp_path: Path) -> None:
    write(tmp_path, "extends: b.yaml\nname: a\n", "a.yaml")
    write(tmp_path, "extends: a.yaml\nname: b\n", "b.yaml")
    cycle = problems(tmp_path / "a.yaml")
    assert "cycle" in cycle[0].message and "a.yaml -> b.yaml -> a.yaml" in cycle[0].message
    missing = problems(write(tmp_path, "extends: nope.yaml\nname: a\n", "m.yaml"))
    assert missing[0].where == "extends" and "no such file" in missing[0].message
    write(tmp_path, LINE.replace("buffer: 5", "buffer: -5"), "badbase.yaml")
    bad = problems(write(tmp_path, "extends: badbase.yaml\nname: child\n", "child.yaml"))
    assert bad[0].file.endswith("badbase.yaml") and bad[0].where == "stations.weld.buffer"
    gone = problems(write(tmp_path, "extends: badbase.yaml\nrun: {horizon: null}\n", "d.yaml"))
    assert any(p.where == "run.horizon" and "missing required key" in p.message for p in gone)


@pytest.mark.parametrize("old, new, where, expect", [
    ('"50 s"', '"5 parsecs"', "stations.coat.process_time", "unknown time unit 'parsecs'"),
    ('"50 s"', '"-3 s"', "stations.coat.process_time", "must not be negative"),
    ('"50 s"', '.nan', "stations.coat.process_time", "finite"),
    ('"50 s"', 'true', "stations.coat.process_time", "true and false are no numbers"),
    ('"50 s"', '{triangular: ["80 s", "55 s", "50 s"]}', "stations.coat.process_time", "min <= mode <= max"),
    ('"50 s"', '{uniform: ["70 s", "50 s"]}', "stations.coat.process_time", "a <= b"),
    ('"50 s"', '{empirical: []}', "stations.coat.process_time", "non-empty"),
    ('"50 s"', '{weibull: {shape: 0, scale: "8 h"}}', "stations.coat.process_time", "weibull.shape"),
    ('"50 s"', '{erlang: {mean: "60 s", k: 1.5}}', "stations.coat.process_time", "erlang.k"),
    ('"50 s"', '{lognormal: {mean: "60 s", cv: -0.2}}', "stations.coat.process_time", "cv must be positive"),
    ("buffer: 5", "buffer: -1", "stations.weld.buffer", "at least 0"),
    ("buffer: 5", "buffer: 5, servers: 0", "stations.weld.servers", "at least 1"),
    ("buffer: 5", "buffer: 5, scrap: 1.5", "stations.weld.scrap", "at most 1"),
    ("buffer: 5", "buffer: 5, failures: {mtbf: 0, mttr: 10}", "stations.weld.failures.mtbf", "positive mean"),
    ("route: [coat, weld]", "route: [coat, wled]", "products.cell.route[1]", "Did you mean 'weld'?"),
    ("route: [coat, weld]", "route: []", "products.cell.route", "must not be empty"),
    ("route: [coat, weld]", "route: [coat, {station: weld, rework: {p: 0.1, to: grade}}]",
     "products.cell.route[1].rework.to", "unknown rework target 'grade'"),
    ("route: [coat, weld]", "route: [{station: coat, rework: {p: 0.1, to: weld}}, weld]",
     "products.cell.route[0].rework.to", "comes later in the route"),
    ("route: [coat, weld]", "route: [coat, weld]\n    release: {conwip: 0}", "products.cell.release.conwip", "at least 1"),
    ("replications: 1", "replications: 0", "run.replications", "at least 1"),
    ("seed: 1", "seed: -1", "run.seed", "at least 0"),
    ('horizon: "1 d"', 'horizon: 0', "run.horizon", "must be positive"),
    ("seed: 1", "seed: 1, engine: flowlin", "run.engine", "Did you mean 'flowline'?"),
])
def test_wrong_values_name_the_key_path_and_the_fix(tmp_path, old, new, where, expect) -> None:
    assert old in LINE
    found = problems(write(tmp_path, LINE.replace(old, new, 1)))
    assert any(p.where == where and expect in p.message and p.line for p in found), found


def test_command_line_mistakes_exit_2_with_one_message(cli) -> None:
    typo = cli["set_typo"]
    assert_clean(typo)
    assert "--set stations.weld.serverz: unknown key 'serverz'. Did you mean 'servers'?" in typo.stderr
    one = cli["compare_one"]
    assert_clean(one)
    assert "at least two scenarios" in one.stderr


# ================================================================ problems found (fail)


# Expected: `twin validate` reports what `twin run` refuses with exit 2 (results.md: "check
# files; print each problem; exit 2 if any"). Happened: a file with `run.engine: flowline`
# and rework (outside the flowline engine's reach) and a file whose `vary:` levels are
# invalid (servers 0) both print "ok" with exit 0, while `twin run` exits 2 for each.
def test_validate_reports_what_run_refuses_flowline_reach_and_vary_levels(cli) -> None:
    result = cli["validate_reach"]
    assert "flow.yaml: ok" not in result.stderr, result.stderr
    assert "vary.yaml: ok" not in result.stderr, result.stderr
    assert result.returncode == 2


# Expected: the flowline engine's refusal names the file, like every scenario error.
# Happened: "error: engine flowline: products.cell.route[1].rework: ..." - no file name
# (with `twin compare a.yaml b.yaml` one cannot tell which scenario is meant), no line.
def test_flowline_refusal_names_the_scenario_file(cli) -> None:
    result = cli["flow_run"]
    assert_clean(result)
    assert "flowrun.yaml" in result.stderr, result.stderr


# Expected: `--out` naming an existing file is a command-line mistake: exit 2 and a message
# saying the folder is a file. Happened: exit 1, "twin: internal error: NotADirectoryError:
# [Errno 20] Not a directory: 'afile/replications' (... please report it)".
def test_out_pointing_at_a_file_is_a_clear_command_line_error(cli) -> None:
    result = cli["out_file"]
    assert_clean(result)
    assert "afile" in result.stderr


# Expected: a corrupt manifest in the --resume folder is refused with a clear message
# (exit 2, naming manifest.json). Happened: exit 1, "twin: internal error: JSONDecodeError:
# Expecting value: line 1 column 1 (char 0) (... please report it)".
def test_resume_with_a_corrupt_manifest_is_a_clear_error(cli) -> None:
    result = cli["corrupt_manifest"]
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert "manifest" in result.stderr, result.stderr


# Expected: a sweep whose only --vary option lists no values is refused (exit 2), as
# `--vary KEY` without values is. Happened: `--vary stations.weld.servers=,,` runs nothing,
# exits 0 and prints pandas' "Empty DataFrame / Columns: [] / Index: []" on stdout.
def test_vary_with_no_values_is_refused(cli) -> None:
    result = cli["vary_empty"]
    assert "Empty DataFrame" not in result.stdout
    assert_clean(result)


# Expected: a malformed --dask address (unknown scheme, no port) is a wrong command line:
# exit 2. Happened: exit 1 ("twin: run failed: --dask foo://bar: cannot reach the Dask
# scheduler (unknown address scheme 'foo' ...)"). (An unreachable but well-formed address
# is reported after Dask's 15 s connect timeout, exit 1: that part behaves well.)
def test_malformed_dask_address_is_a_command_line_error(cli) -> None:
    result = cli["dask_scheme"]
    assert_clean(result)
    assert "foo://bar" in result.stderr


# Expected: a process time far below the clock's resolution is refused when loaded, or the
# run stops at once (simulated time does not advance). Happened: `process_time: 1e-300` is
# accepted and `twin run` simulates at t ~ 1e-294 s until run.max_events (2e9 events, about
# 70 minutes on this machine at ~480,000 events/s): a hang for the user.
def test_a_process_time_the_clock_cannot_resolve_does_not_hang(cli) -> None:
    result = cli["tiny"]
    assert result.returncode is not None, "twin run of process_time 1e-300 still running after 12 s"
    assert "Traceback" not in result.stderr
    assert result.returncode in (1, 2)


# Expected: open arrivals 0 s apart are refused when loaded, as a process time with a zero
# mean is ("must have a positive mean"). Happened: `release: {interarrival: 0}` loads; the
# run releases 5,000,001 units at t = 0 (35 s, ~1 GB) until run.max_wip stops it, exit 1.
def test_interarrival_of_zero_is_refused_when_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, LINE.replace("route: [coat, weld]",
                                        "route: [coat, weld]\n    release: {interarrival: 0}"))
    found = problems(path)
    assert any(p.where.startswith("products.cell.release") for p in found), found


# Expected: rework with p = 1 (every unit goes back, none can ever finish) is refused at
# load with the key path. Happened: it loads and runs; throughput 0, WIP stuck, no warning.
def test_rework_with_certainty_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, LINE.replace(
        "route: [coat, weld]", "route: [coat, {station: weld, rework: {p: 1, to: coat}}]"))
    found = problems(path)
    assert any(p.where == "products.cell.route[1].rework.p" for p in found), found


# Expected: a negative run.max_wall is refused like every negative duration. Happened: it
# loads ("-1 h" -> -3600 s); every replication of a longer run then fails with "took more
# than -3600 s of wall time (run.max_wall)", exit 1.
def test_negative_max_wall_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, LINE.replace("seed: 1}", 'seed: 1, max_wall: "-1 h"}'))
    found = problems(path)
    assert any(p.where == "run.max_wall" for p in found), found


# Expected: a lognormal or gamma with a huge cv (loaded without complaint) gives finite,
# non-negative process times. Happened: cv = 1e200 overflows cv*cv, every draw is NaN; the
# run "succeeds" with a station that never finishes a unit and `twin run --json` prints
# `"busy": NaN` (not JSON).
@pytest.mark.parametrize("dist", ['{lognormal: {mean: "60 s", cv: 1e200}}',
                                  '{gamma: {mean: "60 s", cv: 1e200}}'])
def test_huge_cv_is_refused_or_samples_finite_times(tmp_path: Path, dist: str) -> None:
    path = write(tmp_path, LINE.replace('"55 s"', dist))
    try:
        scenario = load(path)
    except ScenarioError as e:
        assert "stations.weld.process_time" in str(e)
        return
    draws = scenario.stations["weld"].process_time.sample(np.random.default_rng(1), 1000)
    assert np.all(np.isfinite(draws)) and np.all(draws >= 0), draws[:5]


# Expected (docs/scenario-format.md, Errors): YAML 1.1's `1_000` is text in twin, and "a key
# that wants ... a number or a duration says so". Happened: `buffer: 1_000` loads as 1000,
# `energy_kwh: 3_76` as 376 kWh, `power_kw.busy: 1_5` as 15 kW, `process_time: 5_0` as 50 s
# (Python's float() reads the underscores); `servers: 1_0` is refused, as promised.
@pytest.mark.parametrize("old, new", [
    ("buffer: 5", "buffer: 1_000"),
    ("route: [coat, weld]", "route: [coat, weld]\n    energy_kwh: 3_76"),
    ("buffer: 5", "buffer: 5, power_kw: {busy: 1_5}"),
    ('"50 s"', "5_0"),
])
def test_yaml_1_1_underscore_numbers_are_refused(tmp_path: Path, old: str, new: str) -> None:
    problems(write(tmp_path, LINE.replace(old, new, 1)))


# Expected: the loader and `twin schema` (docs: "prints the same as a JSON Schema") agree;
# what the schema refuses, `twin validate` refuses. Happened: quoted numbers such as
# `scrap: "0.5"`, `buffer: "5"`, `speed`/`length`/`energy_kwh` as text are accepted by the
# loader (pydantic's lax float coercion) but rejected by the schema - while `servers: "2"`,
# `conwip: "5"` and `floors.*.height: "6"` are refused by both.
@pytest.mark.parametrize("old, new", [("buffer: 5", 'buffer: 5, scrap: "0.5"'),
                                      ("buffer: 5", 'buffer: "5"')])
def test_loader_accepts_nothing_the_json_schema_rejects(tmp_path: Path, old: str, new: str) -> None:
    text = LINE.replace(old, new)
    doc = yaml.load(text, Loader=ScenarioLoader)
    schema_errors = list(jsonschema.Draft202012Validator(scenario_json_schema()).iter_errors(doc))
    assert schema_errors  # the schema refuses it ...
    problems(write(tmp_path, text))  # ... so must the loader


# Expected: a whole-number key given 2.0 or 1e3 says what was written. Happened: "expected a
# whole number, got 2" and "--set stations.weld.servers: expected a whole number, got 1000"
# - the message contradicts itself.
def test_whole_number_message_shows_the_value_as_written(tmp_path: Path) -> None:
    found = problems(write(tmp_path, LINE.replace("buffer: 5", "buffer: 5, servers: 2.0")))
    assert not found[0].message.endswith("got 2"), found[0].message
    over = problems(write(tmp_path, LINE), ["stations.weld.servers=1e3"])
    assert not over[0].message.endswith("got 1000"), over[0].message


# Expected: "Did you mean" never suggests the very name that was written. Happened:
# `release: {conwip: 3, interarrival: 5}` -> "unknown key 'conwip'. Did you mean 'conwip'?";
# `--set extends=base.yaml` -> "unknown key 'extends'. Did you mean 'extends'?".
def test_did_you_mean_never_suggests_the_same_name(tmp_path: Path) -> None:
    both = problems(write(tmp_path, LINE.replace(
        "route: [coat, weld]", "route: [coat, weld]\n    release: {conwip: 3, interarrival: 5}")))
    ext = problems(write(tmp_path, LINE, "b.yaml"), ["extends=line.yaml"])
    for p in both + ext:
        assert "Did you mean 'conwip'" not in p.message and "Did you mean 'extends'" not in p.message, p


# Expected (spec: "for an unknown name: the closest known one"): a misspelt station in a
# --set key path gets "Did you mean 'weld'?". Happened: `--set stations.wled.servers=3` ->
# "--set stations.wled.process_time: missing required key 'process_time'" (a key path the
# user never typed, no hint); `--vary stations.wled.servers=1,2` says the same, as "--set".
def test_set_with_a_misspelt_station_suggests_the_known_one(tmp_path: Path) -> None:
    found = problems(write(tmp_path, LINE), ["stations.wled.servers=3"])
    assert any("weld" in p.message for p in found), found


# Expected: pydantic's wording never reaches the user. Happened: twin.run(seed=10**30) and
# `twin run --seed 100000000000000000000000000000` -> "--seed: Input should be less than or
# equal to 9223372036854775807"; engine="foo" -> "Input should be 'simpy' or 'flowline'";
# a top-level key `1: 3` -> "Keys should be strings, got 1".
def test_no_pydantic_wording_in_messages(tmp_path: Path) -> None:
    scenario = load(write(tmp_path, LINE))
    texts = []
    for kw in ({"seed": 10**30}, {"engine": "foo"}):
        with pytest.raises(ScenarioError) as info:
            twin.run(scenario, **kw)
        texts.append(str(info.value))
    texts += [str(p) for p in problems(write(tmp_path, LINE + "1: 3\n", "k.yaml"))]
    for text in texts:
        assert "Input should be" not in text and "Keys should be strings" not in text, text


# Expected: a mapping key that is not text is reported at that key, as written. Happened:
# `stations: {1.5: ...}` and `stations: {null: ...}` -> 'stations: the name "stations" must
# be text; quote it' (blames the parent); `stations: {true: ...}` -> 'stations.1: the name 1
# must be text'; a top-level `null: 3` has no line at all.
def test_a_non_text_key_is_named_as_written(tmp_path: Path) -> None:
    flt = problems(write(tmp_path, LINE + "  1.5: {process_time: 5}\n"))
    assert any("1.5" in str(p) for p in flt), flt
    assert not any('the name "stations"' in p.message for p in flt), flt
    top = problems(write(tmp_path, LINE + "null: 3\n", "n.yaml"))
    assert all(p.line is not None for p in top), top


# Expected: a key path under `vary:` that does not fit KEY.PATH says so. Happened:
# `vary: {factorial: {name: [a, b]}}` -> 'vary.factorial.name: the name "name" must be text;
# quote it' - it is text; the real rule (a dotted path of letters, digits, _ and -) is not
# told, so a station named e.g. "wéld" cannot be swept and the message does not say why.
def test_vary_key_path_message_says_what_is_wrong(tmp_path: Path) -> None:
    found = problems(write(tmp_path, LINE + "vary:\n  factorial:\n    name: [a, b]\n"))
    assert not any("must be text; quote it" in p.message for p in found), found


# Expected: a value YAML reads as a date is reported in the scenario's words. Happened:
# `stops: [[2024-12-24, 2024-12-26]]` -> "expected a duration such as 30 or "18 s", got
# datetime.date(2024, 12, 24); or ... datetime.date(2024, 12, 26)" (a Python repr).
def test_a_date_is_not_shown_as_a_python_repr(tmp_path: Path) -> None:
    text = LINE.replace("weld: {process_time: \"55 s\", buffer: 5}",
                        "weld: {process_time: \"55 s\", buffer: 5, calendar: c}") + (
        "calendars:\n  c:\n    shifts: [[\"6 h\", \"14 h\"]]\n"
        "    stops: [[2024-12-24, 2024-12-26]]\n")
    found = problems(write(tmp_path, text))
    assert found and not any("datetime" in p.message for p in found), found


# Expected: a non-number inside a point's coordinates is located at that coordinate, as
# `.nan` there is (logistics.points.a[0]). Happened: `a: [true, 0]` -> "logistics.points
# (line ..., column 11): expected a number, got true at 0" (the parent mapping's place).
def test_boolean_coordinate_is_located_at_the_coordinate(tmp_path: Path) -> None:
    text = LINE.replace("route: [coat, weld]", "route: [coat, weld]\n    transport: agv") + (
        "logistics:\n  points: {a: [true, 0], coat: [0, 0], weld: [10, 0]}\n"
        "  paths: [[coat, weld], [a, coat]]\n"
        "  fleets:\n    agv: {vehicles: 1, speed_loaded: 1, home: coat}\n")
    found = problems(write(tmp_path, text))
    assert any(p.where == "logistics.points.a[0]" for p in found), found


# Expected: two --vary options for one key path are combined or refused. Happened: the
# second silently replaces the first (`--vary X=1 --vary X=2` runs only X=2).
def test_repeated_vary_key_is_not_silently_dropped() -> None:
    try:
        factors = parse_vary_option(["stations.weld.servers=1", "stations.weld.servers=2"])
    except ScenarioError:
        return
    assert factors["stations.weld.servers"] == [1, 2], factors


# Expected: a --vary value that is not YAML gets one clear line like --set's. Happened: the
# message embeds PyYAML's multi-line dump ('in "<unicode string>", line 1, column 4:' and a
# caret line).
def test_vary_yaml_error_is_one_line() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_vary_option(["stations.weld.servers=[1,"])
    text = str(info.value)
    assert "\n" not in text and "<unicode string>" not in text, text


# Expected: initial WIP that the run's own guard (run.max_wip, default 5,000,000) refuses at
# t = 0 is refused when loaded, naming initial_wip. Happened: `initial_wip: {weld: {cell:
# 5000001}}` (buffer 1e8 allows it) passes `twin validate`; `twin run` builds every unit,
# then fails with "runaway run ... arrivals outpace capacity" (wrong cause), exit 1.
def test_initial_wip_above_max_wip_is_refused_when_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, LINE.replace("buffer: 5", "buffer: 100000000")
                 + "initial_wip:\n  weld: {cell: 5000001}\n")
    found = problems(path)
    assert any(p.where.startswith("initial_wip") or p.where == "run.max_wip" for p in found), found


# ------------------------------------------------------------ interruption (Ctrl-C)


# Expected (docs/experiments.md: --resume finishes an interrupted sweep): Ctrl-C of a sweep
# under --out says, as a plain run does, that the finished replications are kept and that
# --resume completes them. Happened: only "twin: interrupted" (exit 130).
def test_interrupted_sweep_says_what_is_kept_and_how_to_resume(cli) -> None:
    result = cli["ctrl_c_sweep"]
    assert result.returncode == 130 and "Traceback" not in result.stderr, result.stderr
    assert "--resume" in result.stderr, result.stderr


# Expected: Ctrl-C prints a short message and no traceback, whichever backend runs the
# replications. Happened: with `--dask local`, the Dask nanny/worker processes print
# several tracebacks (asyncio.CancelledError, KeyboardInterrupt) and "Worker process still
# alive after 4.0 seconds, killing" before twin's own "interrupted" line.
def test_ctrl_c_with_dask_local_prints_no_traceback(cli) -> None:
    result = cli["ctrl_c_dask"]
    assert result.returncode == 130, result.stderr
    assert "--resume" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
