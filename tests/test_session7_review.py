"""Session 7 review: empirical distributions from CSV files, the scenario dump round trip,
twin.check, summary.json after the report, the flowline kernel's `stats` switch.

Each case says what the docs (docs/scenario-format.md, docs/flowline.md, the docstrings of
the public API) or the specs (/work/shared/spec) promise, and what happens. Expected values
come from those texts or from hand computation.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import twin
from twin import sweep as sw
from twin.cli import main
from twin.errors import ScenarioError
from twin.scenario.datafiles import read_durations
from twin.scenario.load import scenario_hash, scenario_json_schema
from twin.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]

LINE = """\
name: measured
run: {{horizon: "1 h", replications: 1, seed: 1}}
products: {{p: {{route: [a]}}}}
stations:
  a: {{process_time: {body}}}
"""


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# ================================================================ 1. data files: bugs

# docs/scenario-format.md: a cell that is not a duration is "an error naming the file and
# its line"; the docstring of read_durations: "the line of a bad cell". A note column of an
# MES export may hold a quoted text with a line break (legal CSV, RFC 4180). The bad cell
# 'abc' below is on line 4 of the file. Happened: the message says line 3 (the number of
# the CSV *record*, not of the line; csv.reader's line_num would be right).
def test_error_line_is_the_files_line_after_a_quoted_line_break(tmp_path: Path) -> None:
    f = write(tmp_path / "mes.csv", 'cycle_s,note\n30,"first\nsecond"\nabc,z\n')
    assert f.read_text().splitlines()[3].startswith("abc")  # line 4 (1-based)
    with pytest.raises(ValueError) as e:
        read_durations(str(f), "cycle_s")
    assert "line 4:" in str(e.value), str(e.value)


# docs/scenario-format.md: `file` is "relative to the scenario file that names it". The
# scenario lives in a folder reached through a symbolic link (proj/scen -> shared/line_a)
# and names ../data/a.csv, i.e. shared/data/a.csv, which is what opening
# proj/scen/../data/a.csv gives (and `extends: ../base.yaml` from the same file is read
# that way). Happened: the name is collapsed textually (os.path.normpath) to
# proj/data/a.csv, "no such file".
def test_data_file_next_to_a_scenario_in_a_symlinked_folder(tmp_path: Path) -> None:
    write(tmp_path / "shared" / "data" / "a.csv", "cycle_s\n30\n")
    write(tmp_path / "shared" / "base.yaml", LINE.format(body="20"))
    write(tmp_path / "shared" / "line_a" / "line.yaml",
          LINE.format(body="{empirical: {file: ../data/a.csv}}"))
    write(tmp_path / "shared" / "line_a" / "child.yaml", "extends: ../base.yaml\nname: c\n")
    (tmp_path / "proj").mkdir()
    try:
        os.symlink(tmp_path / "shared" / "line_a", tmp_path / "proj" / "scen")
    except OSError:  # (no symlinks on this file system)
        pytest.skip("symlinks not available")
    linked = tmp_path / "proj" / "scen"
    # the base of `extends:` is found through the link, as the OS resolves ..
    assert twin.load(linked / "child.yaml").stations["a"].process_time.params == (20.0,)
    # and so should the data file, relative to the scenario file
    assert twin.load(linked / "line.yaml").stations["a"].process_time.params == (30.0,)


# ================================================================ 1. data files: guards

@pytest.mark.parametrize("name, data, column, values", [
    ("crlf", b"cycle_s\r\n52\r\n61\r\n", None, [52.0, 61.0]),
    ("cr only", b"cycle_s\r52\r61\r", None, [52.0, 61.0]),
    ("bom", b"\xef\xbb\xbfcycle_s,id\n52,1\n", "cycle_s", [52.0]),
    ("quoted", b'"cycle_s","id"\n"52","1"\n"1 min","2"\n', "cycle_s", [52.0, 60.0]),
    ("spaces", b"  cycle_s , id\n  52 , 1\n", "cycle_s", [52.0]),
    ("blank lines", b"\n\ncycle_s\n\n52\n  \n61\n", None, [52.0, 61.0]),
])
def test_odd_but_valid_csv_files(tmp_path: Path, name, data, column, values) -> None:
    # docs: a header row is found, quoted cells, gaps and line endings are a CSV's business
    f = write(tmp_path / f"{name}.csv", data)
    assert read_durations(str(f), column) == values


@pytest.mark.parametrize("data, fragment", [
    (b"cycle_s;id\n52;1\n", "line 2: '52;1' is not a duration"),  # semicolons: a clear error
    (b"zeit_\xe4\n52\n", "cannot read"),  # Latin-1, not UTF-8
    (b"x\nnan\n", "line 2"),
    (b"x\n1e400\n", "line 2"),
])
def test_bad_csv_files_name_the_file(tmp_path: Path, data, fragment) -> None:
    f = write(tmp_path / "bad.csv", data)
    with pytest.raises(ValueError) as e:
        read_durations(str(f))
    assert fragment in str(e.value) and str(f) in str(e.value)


def test_a_directory_is_no_data_file(tmp_path: Path) -> None:
    (tmp_path / "d.csv").mkdir()
    path = write(tmp_path / "line.yaml", LINE.format(body="{empirical: {file: d.csv}}"))
    (p,) = twin.check(path)
    assert p.where == "stations.a.process_time" and p.line == 5 and "d.csv" in p.message


def test_paths_with_spaces_absolute_names_and_extends_from_another_folder(
        tmp_path: Path, monkeypatch) -> None:
    # docs: relative to the file that names it (bases and their vary: levels too); an
    # absolute name is used as it is; --set values relative to the current directory
    write(tmp_path / "base dir" / "data" / "a b.csv", "cycle_s\n30\n")
    write(tmp_path / "base dir" / "data" / "c.csv", "cycle_s\n40\n")
    write(tmp_path / "base dir" / "line.yaml", LINE.format(
        body='{empirical: {file: "data/a b.csv"}}') + (
        "vary:\n  factorial:\n    stations.a.process_time:\n"
        "      - {empirical: {file: data/c.csv}}\n      - 10\n"))
    child = write(tmp_path / "other" / "child.yaml",
                  'extends: "../base dir/line.yaml"\nname: child\nstations: {a: {servers: 2}}\n')
    absolute = write(tmp_path / "abs.yaml", LINE.format(
        body="{empirical: {file: %s}}" % json.dumps(str(tmp_path / "base dir/data/c.csv"))))
    write(tmp_path / "cwd" / "d.csv", "50\n")
    monkeypatch.chdir(tmp_path / "cwd")
    assert twin.load(child).stations["a"].process_time.params == (30.0,)
    assert twin.check(child) == []
    from twin.vary import load_points
    _, points = load_points(child)
    assert sorted(s.stations["a"].process_time.mean for s in points.values()) == [10.0, 40.0]
    assert twin.load(absolute).stations["a"].process_time.params == (40.0,)
    over = twin.load(child, ["stations.a.process_time={empirical: {file: d.csv}}"])
    assert over.stations["a"].process_time.params == (50.0,)


def test_cli_validate_and_run_from_another_directory(tmp_path: Path, monkeypatch,
                                                      capsys) -> None:
    write(tmp_path / "s" / "data" / "a.csv", "cycle_s\n30\n")
    path = write(tmp_path / "s" / "line.yaml",
                 LINE.format(body="{empirical: {file: data/a.csv}}"))
    write(tmp_path / "elsewhere" / "b.csv", "60\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["validate", str(path)]) == 0
    capsys.readouterr()
    assert main(["run", str(path), "--json", "--quiet", "--workers", "1", "--vary",
                 "stations.a.process_time={empirical: {file: b.csv}},{empirical: {file: "
                 + str(tmp_path / "s" / "data" / "a.csv") + "}}"]) == 0
    out = capsys.readouterr().out
    # 60 s: units at 60..3540 s finish (59); 30 s: at 30..3570 s (119); 3600 is outside
    assert "59" in out and "119" in out


def test_resume_refuses_when_the_data_changed(tmp_path: Path) -> None:
    # docs: "its scenario_sha256 changes when the data does"; --resume keeps only the same
    # experiment's replications
    data = write(tmp_path / "a.csv", "30\n")
    path = write(tmp_path / "line.yaml", LINE.format(body="{empirical: {file: a.csv}}"))
    out = tmp_path / "out"
    twin.run(twin.load(path), replications=1, out=out)
    data.write_text("20\n")
    with pytest.raises(ScenarioError, match="scenario_sha256"):
        twin.run(twin.load(path), replications=2, out=out, resume=True)


def test_file_values_travel_to_worker_processes(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "cycle_s\n30\n40\n")
    path = write(tmp_path / "line.yaml", LINE.format(body="{empirical: {file: a.csv}}"))
    scenario = twin.load(path)
    one = twin.run(scenario, replications=2, workers=1).summary()
    two = twin.run(scenario, replications=2, workers=2).summary()
    one.pop("timing"), two.pop("timing")
    assert one == two


# ================================================================ 2. dump round trip

def _round_trip(doc: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    scenario = Scenario.model_validate(doc)
    data = scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    errors = list(jsonschema.Draft202012Validator(scenario_json_schema()).iter_errors(data))
    assert errors == []
    again = Scenario.model_validate(yaml.safe_load(yaml.safe_dump(data)))
    assert again == scenario and scenario_hash(again) == scenario_hash(scenario)


@pytest.mark.parametrize("pt", [  # (durations: up to the 1e15 s allowed since session 8)
    1e-300, 1e15, 0.1 + 0.2, {"exponential": 5e-324}, {"lognormal": {"mean": 1e-9, "cv": 100}},
    {"gamma": {"mean": "7.333333333333 h", "cv": 0}}, {"erlang": {"mean": 3, "k": 1000000}},
    {"normal": {"mean": 1e15, "sd": 0}}, {"uniform": [0, 1e-320]},
    {"triangular": [0, 1e-320, 1e15]}, {"weibull": {"shape": 0.01, "scale": 1e-300}},
    {"empirical": [0, 1e-300, 1e15]},
])
def test_odd_distributions_dump_and_read_back(pt) -> None:
    _round_trip({"name": "x", "run": {"horizon": "1 h"}, "products": {"p": {"route": ["a"]}},
                 "stations": {"a": {"process_time": pt}}})


@pytest.mark.parametrize("tariff", [
    {"7.333333333333 h": 0.5}, {"23.999 h": 1, "0 h": 2}, {"86399.99999999999 s": 1},
    {"1e-5 h": 1, "440 min": -0.2}, 0.4,
])
def test_odd_tariffs_dump_and_read_back(tariff) -> None:
    _round_trip({"name": "x", "run": {"horizon": "1 h"}, "products": {"p": {"route": ["a"]}},
                 "stations": {"a": {"process_time": 30}}, "energy": {"tariff": tariff}})


def test_a_file_scenario_dumps_its_values(tmp_path: Path) -> None:
    write(tmp_path / "a.csv", "cycle_s\n30\n1 min\n")
    scenario = twin.load(write(tmp_path / "l.yaml", LINE.format(
        body="{empirical: {file: a.csv}}")))
    data = scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    assert data["stations"]["a"]["process_time"] == {"empirical": [30.0, 60.0]}
    _round_trip(data)


def test_tariff_cost_after_the_serializer_change(tmp_path: Path) -> None:
    # 10 kW busy and starved: 10 kW all day. 12 h at 1.0 + 12 h at 3.0 = 120 + 360 = 480
    path = write(tmp_path / "t.yaml", """\
name: tariff
run: {horizon: "24 h", replications: 1}
products: {p: {route: [a]}}
stations:
  a: {process_time: 60, power_kw: {busy: 10, starved: 10}}
energy:
  tariff: {"0 h": 1.0, "12 h": 3.0}
""")
    doc = twin.run(twin.load(path)).summary()
    assert doc["energy"]["cost"]["electricity"]["mean"] == pytest.approx(480.0)


# The tariff validator takes "already steps" ([{at_h, price}], the form a dump had before
# this change) as they come, and experiment._energy_section promises the analysis "the
# tariff as its steps [{at_h, price}], sorted". A scenario built in code with the steps in
# another order (12 h before 0 h) is the same time-of-use day (docs: "cyclic over the
# day"): 10 kW all day, 12 h at 1.0 + 12 h at 3.0 = 480. Happened: the steps are kept
# unsorted, the cost is 0.0, and the dumped scenario reads back unequal.
def test_tariff_steps_given_in_code_out_of_order(tmp_path: Path) -> None:
    doc = {"name": "tariff", "run": {"horizon": "24 h", "replications": 1},
           "products": {"p": {"route": ["a"]}},
           "stations": {"a": {"process_time": 60, "power_kw": {"busy": 10, "starved": 10}}},
           "energy": {"tariff": [{"at_h": 12, "price": 3.0}, {"at_h": 0, "price": 1.0}]}}
    scenario = Scenario.model_validate(doc)
    cost = twin.run(scenario).summary()["energy"]["cost"]["electricity"]["mean"]
    assert cost == pytest.approx(480.0)
    again = Scenario.model_validate(scenario.model_dump(mode="json", exclude_defaults=True))
    assert again == scenario


# ================================================================ 3. twin.check

# twin/__init__.py: "Public API (mirrors the command line)"; twin.load(path, overrides)
# takes one override passed bare ("one override passed bare, not in a list", merge.py),
# and twin.check(path, overrides) is "as `twin validate` finds it". Happened: check turns
# the bare string into a list of its characters and reports each as a malformed --set.
def test_check_takes_a_bare_override_as_load_does(tmp_path: Path) -> None:
    path = write(tmp_path / "line.yaml", LINE.format(body="30"))
    assert twin.load(path, "stations.a.servers=2").stations["a"].servers == 2
    assert twin.check(path, "stations.a.servers=2") == []


# twin/checks.py: "what it finds is placed in the file at its key's line"; twin.check's
# docstring: problems with "file, key path, line, message". A bad level of the file's own
# vary: section (a data file that does not exist) is at line 9 of the file. Happened: the
# problem has the key path vary.factorial.stations.a.process_time but no line (None).
def test_check_places_a_bad_vary_level_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "line.yaml", LINE.format(body="30") + """\
vary:
  factorial:
    stations.a.process_time:
      - 30
      - {empirical: {file: missing.csv}}
""")
    (p,) = twin.check(path)
    assert p.file == str(path) and p.where == "vary.factorial.stations.a.process_time"
    assert "missing.csv" in p.message
    # the bad level's own line: LINE's 5 lines, then vary:, factorial:, the key, "- 30",
    # and the level on line 10 (the reviewer first counted 9, the line of "- 30")
    assert p.line == 10, p


# vary.load_points: the bad levels are placed "each at the vary: entry (or --vary option)
# that set it"; checks.py: "placed in the file". The file's own vary: section names a
# station that does not exist (stations.b). Happened: the problem is put on the command
# line, "<command line>: --set stations.b.process_time: missing required key ... (--set
# made a new 'b' under stations)", though nothing was given with --set.
def test_check_places_a_vary_key_of_an_unknown_station_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "line.yaml", LINE.format(body="30") + """\
vary:
  factorial:
    stations.b.servers: [1, 2]
""")
    problems = twin.check(path)
    assert problems
    for p in problems:
        assert p.file == str(path), p
        assert p.where.startswith("vary.factorial.stations.b.servers"), p


def test_check_reports_the_flowline_reach_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "two.yaml", """\
name: two products
run: {horizon: "1 h"}
products:
  p: {route: [a]}
  q: {route: [a]}
stations:
  a: {process_time: 30}
""")
    assert twin.check(path) == []
    (p,) = twin.check(path, ["run.engine=flowline"])
    assert p.file == str(path) and p.where == "products" and p.line == 4


# ================================================================ 4. summary.json

def test_summary_is_written_even_when_the_report_fails(tmp_path: Path, monkeypatch,
                                                       capsys) -> None:
    # commit e892433: written once after the report, "written even if the report fails"
    import twin.report.html as html

    def broken(*args, **kwargs):
        raise RuntimeError("report broke")

    monkeypatch.setattr(html, "write_report", broken)
    path = write(tmp_path / "line.yaml", LINE.format(body="30"))
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet",
                 "--workers", "1"]) == 1  # results.md: 1 for anything but success
    doc = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert doc["products"]["p"]["finished"]["mean"] == 119  # 30..3570 s


def test_total_time_includes_the_report(tmp_path: Path, monkeypatch, capsys) -> None:
    # results.md: total_s is "the whole command's" wall time, the report included
    import twin.report.html as html

    real = html.write_report

    def slow(*args, **kwargs):
        time.sleep(0.6)
        return real(*args, **kwargs)

    monkeypatch.setattr(html, "write_report", slow)
    path = write(tmp_path / "line.yaml", LINE.format(body="30"))
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet", "--workers",
                 "1", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    doc = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert doc["timing"]["total_s"] >= 0.6 and doc == printed


# ================================================================ 5. sweep rows

def _line(release=None, pts=(1.0, 1.2, 1.4), failures=None, warmup=100, scrap=0.05,
          const=False):
    stations = {}
    for i, p in enumerate(pts):
        st = {"process_time": p if const else {"exponential": p}, "buffer": 1, "scrap": scrap}
        if failures and i == 1:
            st["failures"] = failures
        stations[f"s{i}"] = st
    product = {"route": list(stations)}
    if release is not None:
        product["release"] = release
    return Scenario.model_validate({
        "name": "x", "run": {"horizon": 1000, "warmup": warmup, "seed": 4, "replications": 2},
        "products": {"u": product}, "stations": stations})


@pytest.mark.parametrize("kind", ["conwip", "interarrival", "op_failures", "tie_saturated",
                                  "tie_conwip"])
def test_sweep_rows_equal_flowline_runs(kind) -> None:
    # sweep.py: "A layout's row is what twin.run(..., engine="flowline") gives for that
    # layout (same seed, same numbers)"; constant times with warm-up 10 put completions
    # on the warm-up boundary (the TIE fallback to the event kernel)
    sc = {"conwip": lambda: _line(release={"conwip": 3}),
          "interarrival": lambda: _line(release={"interarrival": {"exponential": 1.5}}),
          "op_failures": lambda: _line(failures={"mtbf": {"exponential": 20},
                                                 "mttr": {"exponential": 5},
                                                 "mode": "operation"}),
          "tie_saturated": lambda: _line(pts=(1.0, 1.0, 2.0), warmup=10, scrap=0.0,
                                         const=True),
          "tie_conwip": lambda: _line(release={"conwip": 2}, pts=(1.0, 1.0, 2.0), warmup=10,
                                      scrap=0.1, const=True)}[kind]()
    layouts = sw.grid(sc, buffers={"s0": [0, 2], "s1": [0]}, servers={"s2": [1, 2]})
    table = sw.sweep(sc, layouts, workers=1)
    for i, layout in layouts.iterrows():
        stations = {n: st.model_copy(update={
            "buffer": int(layout.get(f"stations.{n}.buffer", st.buffer)),
            "servers": int(layout.get(f"stations.{n}.servers", st.servers))})
            for n, st in sc.stations.items()}
        single = twin.run(sc.model_copy(update={"stations": stations}), engine="flowline")
        m = single.measures
        for r in (0, 1):
            row = table[(table["layout"] == i) & (table["replication"] == r)].iloc[0]
            prod = single.products().xs("u", level="entity").loc[r]
            wip = m[(m["replication"] == r) & (m["kind"] == "system")
                    & (m["measure"] == "wip_mean")]["value"].item()
            assert (row["finished"], row["scrapped"]) == (prod["finished"], prod["scrapped"])
            assert row["throughput_per_h"] == pytest.approx(prod["throughput_per_h"], rel=1e-12)
            assert row["lead_time_h"] == pytest.approx(prod["lead_time_h"], rel=1e-9,
                                                       nan_ok=True)
            assert row["wip_mean"] == pytest.approx(wip, rel=1e-9)
