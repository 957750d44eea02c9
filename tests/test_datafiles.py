"""Empirical distributions read from CSV files (`{empirical: {file, column, unit}}`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import twin
from twin.errors import ScenarioError
from twin.scenario.datafiles import read_durations
from twin.scenario.load import scenario_hash, scenario_json_schema

LINE = """\
name: measured
run: {{horizon: "1 h"}}
products: {{p: {{route: [a]}}}}
stations:
  a: {{process_time: {{empirical: {body}}}}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_column_with_a_header_units_and_gaps(tmp_path: Path) -> None:
    f = write(tmp_path / "t.csv", "\ufeffunit,cycle_min,note\n1,1.5,x\n2,,gap\n3,2,y\n\n4,\"90 s\",z\n")
    assert read_durations(str(f), "cycle_min", "min") == [90.0, 120.0, 90.0]
    one = write(tmp_path / "one.csv", "42 s\n1 min\n7\n")  # no header: every row a value
    assert read_durations(str(one)) == [42.0, 60.0, 7.0]


@pytest.mark.parametrize("text, column, unit, fragment", [
    ("a,b\n1,2\n", None, "s", "several columns (a, b); name one with column:"),
    ("cycle_s\n1\n", "cycle", "s", "no column 'cycle' (columns: cycle_s). Did you mean 'cycle_s'?"),
    ("1\n2\n", "cycle_s", "s", "no header row"),
    ("x\n1\nabc\n", None, "s", "line 3: 'abc' is not a duration"),
    ("x\n1\n-2\n", None, "s", "line 3: '-2' must be a finite duration, not negative"),
    ("x\n", None, "s", "holds no values"),
    ("", None, "s", "holds no values"),
    ("1\n", None, "hours", "unit 'hours' is no time unit"),
    ("id,cycle_s,cycle_s\nA,1,9\n", "cycle_s", "s", "has 2 columns named 'cycle_s'"),
    ("id,cycle_s\nA,1\n\"B, 2\",2,300\n", "cycle_s", "s",
     "line 3: 3 cells, but the header names 2 columns"),
])
def test_bad_files_say_what_and_where(tmp_path: Path, text, column, unit, fragment) -> None:
    f = write(tmp_path / "t.csv", text)
    with pytest.raises(ValueError, match=None) as e:
        read_durations(str(f), column, unit)
    assert fragment in str(e.value)
    assert unit != "s" or str(f) in str(e.value)  # (a file's problem names the file)


def test_names_are_relative_to_the_file_that_gives_them(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path / "data" / "a.csv", "cycle_s\n30\n")
    base = write(tmp_path / "line.yaml", LINE.format(body="{file: data/a.csv, column: cycle_s}"))
    child = write(tmp_path / "variants" / "child.yaml", "extends: ../line.yaml\nname: child\n")
    monkeypatch.chdir(tmp_path / "variants")  # neither file's folder matters but its own
    for path in (base, child):
        assert twin.load(path).stations["a"].process_time.params == (30.0,)
    # on the command line, a name is relative to the current directory
    write(tmp_path / "variants" / "b.csv", "40\n")
    over = twin.load(base, ["stations.a.process_time={empirical: {file: b.csv}}"])
    assert over.stations["a"].process_time.params == (40.0,)


def test_problems_are_placed_at_the_key(tmp_path: Path) -> None:
    path = write(tmp_path / "line.yaml", LINE.format(body="{file: missing.csv}"))
    with pytest.raises(ScenarioError) as e:
        twin.load(path)
    (p,) = e.value.problems
    assert p.file == str(path) and p.where == "stations.a.process_time" and p.line == 5
    assert "missing.csv: no such file" in p.message
    path = write(tmp_path / "typo.yaml", LINE.format(body="{file: a.csv, colum: x}"))
    with pytest.raises(ScenarioError, match="no parameter 'colum'. Did you mean 'column'"):
        twin.load(path)


def test_the_values_drive_the_run_and_the_hash(tmp_path: Path) -> None:
    data = write(tmp_path / "a.csv", "cycle_s\n30\n30\n")
    path = write(tmp_path / "line.yaml", LINE.format(body="{file: a.csv}"))
    first = twin.load(path)
    results = twin.run(first, workers=1)
    finished = results.products()["finished"].iloc[0]
    # every draw is 30 s: units finish at 30, 60, ..., 3570 s; the one at 3600 s is at the
    # end of the horizon, which is not in it (the measured period is [0, 3600))
    assert finished == 3600 / 30 - 1
    data.write_text("cycle_s\n20\n")
    second = twin.load(path)
    assert scenario_hash(second) != scenario_hash(first)  # new data, new scenario


def test_the_json_schema_takes_the_file_form() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    doc = {"name": "x", "run": {"horizon": "1 h"}, "products": {"p": {"route": ["a"]}},
           "stations": {"a": {"process_time": {"empirical": {"file": "a.csv", "unit": "min"}}}}}
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    assert list(validator.iter_errors(doc)) == []
    doc["stations"]["a"]["process_time"]["empirical"]["unit"] = "hours"
    assert list(validator.iter_errors(doc)) != []


def test_trailing_commas_paths_in_code_and_underscores(tmp_path: Path) -> None:
    f = write(tmp_path / "t.csv", "cycle_s,\n30,\n40,\n")  # a spreadsheet's trailing comma
    assert read_durations(str(f)) == [30.0, 40.0]
    with pytest.raises(ValueError, match="line 2: '1_000' is not a duration"):
        read_durations(str(write(tmp_path / "u.csv", "cycle_s\n1_000\n")))
    from twin.scenario.distributions import parse_distribution

    assert parse_distribution({"empirical": {"file": f}}).params == (30.0, 40.0)  # a Path


def test_the_report_lists_a_long_column_in_short() -> None:
    from twin.report.html import _shortened

    data = {"stations": {"a": {"process_time": {"empirical": list(range(1000))}}}, "x": [1, 2]}
    short = _shortened(data)
    assert short["stations"]["a"]["process_time"]["empirical"] == \
        list(range(20)) + ["... 1,000 values in all"]
    assert short["x"] == [1, 2]


def test_a_file_is_parsed_once_per_contents(tmp_path: Path, monkeypatch) -> None:
    """A `vary:` experiment loads its scenario once per point: the column is parsed once,
    and parsed again only when the file's bytes change (even at the same size and time)."""
    from twin.scenario import datafiles

    parsed = []
    real = datafiles._parse
    monkeypatch.setattr(datafiles, "_parse", lambda *a: parsed.append(a[1]) or real(*a))
    data = write(tmp_path / "a.csv", "cycle_s\n30\n40\n")
    path = write(tmp_path / "line.yaml", LINE.format(body="{file: a.csv}")
                 + "vary:\n  factorial: {stations.a.buffer: [1, 2, 3]}\n")
    from twin.vary import load_points

    points, scenarios = load_points(path)
    assert len(points) == 3 and len(parsed) == 1  # (and the base scenario: 4 loads)
    assert all(sc.stations["a"].process_time.params == (30.0, 40.0)
               for sc in scenarios.values())
    stat = data.stat()
    data.write_text("cycle_s\n50\n60\n")  # same size; the same time too
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert twin.load(path).stations["a"].process_time.params == (50.0, 60.0)
    assert len(parsed) == 2
    assert read_durations(str(data)) == [50.0, 60.0] and len(parsed) == 2


def test_pipes_devices_and_huge_files_are_refused(tmp_path: Path) -> None:
    """Only regular files are read: a pipe (which would block the loader until something
    writes to it) and a device that never ends are refused at once, as scenario, base or
    data file; so is a file larger than the limit (before it is read)."""
    import subprocess
    import sys

    fifo = tmp_path / "times.csv"
    os.mkfifo(fifo)
    script = (f"import twin, sys\nfrom twin.scenario.datafiles import read_durations\n"
              f"try:\n    read_durations({str(fifo)!r})\nexcept ValueError as e:\n"
              f"    print(e)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert "is not a regular file" in done.stdout
    base = write(tmp_path / "line.yaml", "extends: /dev/zero\nname: x\n")
    with pytest.raises(ScenarioError, match="cannot read the base file '/dev/zero': it is not a "
                                            "regular file"):
        twin.load(base)
    from twin.scenario import files
    big = write(tmp_path / "big.csv", "cycle_s\n" + "1\n" * 1000)
    with pytest.raises(OSError, match="more than the 100 a file here may have"):
        files.read_bytes(big, 100)
