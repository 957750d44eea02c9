"""Sweeps (`vary:` and `--vary`): points, labels, validation before running, CRN."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import twin
from twin import ScenarioError
from twin.cli import main
from twin.vary import parse_vary_option, points

BASE = """\
    name: swept line
    run: {horizon: "8 h", replications: 2, seed: 5}
    products:
      p: {route: [a, b, c], release: {interarrival: {exponential: "3 min"}}}
    stations:
      a: {process_time: {exponential: "2 min"}}
      b: {process_time: {exponential: "2 min"}}
      c: {process_time: {exponential: "5 min"}, servers: 2}
"""

SWEEP = BASE + """\
    vary:
      factorial:
        stations.c.servers: [2, 3]
        stations.b.buffer: [1, 4, 10]
      variants:
        slow-b: {stations.b.process_time: {exponential: "2.5 min"}}
        fast-b: {stations.b.process_time: {exponential: "1.5 min"}}
"""


def write(tmp_path: Path, text: str, name: str = "line.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_points_are_every_variant_times_every_factorial_combination(tmp_path):
    scenario = twin.load(write(tmp_path, SWEEP))
    pts = points(scenario.vary)
    assert len(pts) == 2 * 2 * 3
    combos = {(p.factors["variant"], p.factors["stations.c.servers"],
               p.factors["stations.b.buffer"]) for p in pts}
    assert combos == {(v, s, b) for v in ("slow-b", "fast-b") for s in (2, 3) for b in (1, 4, 10)}
    labels = [p.label for p in pts]
    assert len(set(labels)) == len(labels)
    first = pts[0]
    assert first.label.startswith("slow-b/")
    assert "c.servers=2" in first.label and "b.buffer=1" in first.label
    assert set(first.overrides) == {"stations.b.process_time={exponential: 2.5 min}",
                                    "stations.c.servers=2", "stations.b.buffer=1"}


def test_extra_factors_combine_with_the_file_and_replace_the_same_key(tmp_path):
    scenario = twin.load(write(tmp_path, SWEEP))
    extra = parse_vary_option(["stations.a.servers=1,2", "stations.c.servers=4"])
    pts = points(scenario.vary, extra)
    assert len(pts) == 2 * 3 * 1 * 2  # variants x b.buffer x c.servers (now only 4) x a.servers
    assert {p.factors["stations.c.servers"] for p in pts} == {4}
    assert {p.factors["stations.a.servers"] for p in pts} == {1, 2}


def test_no_vary_section_is_one_base_point():
    (only,) = points(None)
    assert only.label == "base" and only.overrides == () and only.factors == {}


def test_vary_option_parsing():
    assert parse_vary_option(["stations.w.servers=1,2,3"]) == {"stations.w.servers": [1, 2, 3]}
    assert parse_vary_option(['stations.w.process_time={exponential: "2 min"},"90 s"']) == {
        "stations.w.process_time": [{"exponential": "2 min"}, "90 s"]}
    for bad in ("stations.w.servers", "=1,2", "stations.w.servers="):
        with pytest.raises(ScenarioError, match="--vary"):
            parse_vary_option([bad])


def test_vary_levels_with_quoted_commas_and_empty_levels():
    """A quoted level keeps its commas (the form the error message recommends); an empty
    level (two commas in a row, or one at an end) is refused, not dropped."""
    assert parse_vary_option(['name="a, b",c']) == {"name": ["a, b", "c"]}
    assert parse_vary_option(["name='x,y',\"z\""]) == {"name": ["x,y", "z"]}
    for bad, level in (("stations.w.buffer=1,,2", 2), ("stations.w.buffer=1,2,", 3),
                       ("stations.w.buffer=,1", 1)):
        with pytest.raises(ScenarioError, match=f"level {level} is empty"):
            parse_vary_option([bad])
    labels = [p.label for p in points(None, {"name": ["a"], "stations.x.buffer": [1]})]
    assert labels == ["name=a,x.buffer=1"]  # (a one-part key is named once)


def test_keys_the_sweep_would_set_twice_are_refused(tmp_path):
    """A factor inside another factor, a variant's key that the factorial varies and a
    --set of a swept key: each would be silently replaced at every point (rows that look
    different but are the same run); each is refused at its place."""
    from twin.vary import load_points

    nested = write(tmp_path, BASE + """\
    vary:
      factorial:
        stations.b.buffer: [1, 2]
        stations.b: [{process_time: "1 min"}]
    """, "nested.yaml")
    with pytest.raises(ScenarioError) as e:
        load_points(nested)
    assert "vary.factorial.stations.b.buffer (line 11" in str(e.value)
    assert "lies inside stations.b" in str(e.value)
    both = write(tmp_path, BASE + """\
    vary:
      factorial: {stations.b.buffer: [1, 2]}
      variants:
        big: {stations.b.buffer: 50}
    """, "both.yaml")
    with pytest.raises(ScenarioError, match="variant big's value is never used"):
        load_points(both)
    with pytest.raises(ScenarioError, match="--set stations.b.buffer: the sweep sets "
                                            "stations.b.buffer at every point"):
        load_points(write(tmp_path, SWEEP, "sweep.yaml"), ["stations.b.buffer=30"])
    with pytest.raises(ScenarioError, match="lies inside stations.b"):
        load_points(write(tmp_path, SWEEP, "sweep.yaml"), (), {"stations.b": [{"buffer": 3}]})
    with pytest.raises(ScenarioError, match="level 2 is given twice"):
        load_points(write(tmp_path, SWEEP, "sweep.yaml"), (), {"stations.a.buffer": [2, 1, 2]})
    many = {"stations.a.buffer": list(range(101)), "stations.b.buffer": list(range(100))}
    with pytest.raises(ScenarioError, match="10,100 points, more than the 10,000"):
        load_points(write(tmp_path, BASE, "base.yaml"), (), many)
    # a --set beside the sweep's keys, or holding one (the sweep sets it on top), is fine
    pts, _ = load_points(write(tmp_path, SWEEP, "sweep.yaml"), ["stations.a.buffer=3"])
    assert len(pts) == 12


def test_a_bad_level_is_reported_with_its_key_path_before_anything_runs(tmp_path, monkeypatch):
    path = write(tmp_path, BASE + """\
    vary:
      factorial:
        stations.c.servers: [2, 0]
        stations.b.buffer: [1, -2]
    """)
    ran = []
    real_run = twin.run
    monkeypatch.setattr(twin, "run", lambda *a, **k: ran.append(1) or real_run(*a, **k))
    with pytest.raises(ScenarioError) as err:
        twin.experiment(path)
    assert ran == []
    text = str(err.value)
    assert "stations.c.servers" in text and "stations.b.buffer" in text
    # the levels come from the file's vary: section, not from a --set on the command line
    assert path.name in text and "--set" not in text
    lines = text.splitlines()
    assert len(lines) == len(set(lines)) == 2  # each bad level once, not once per point


def test_an_unknown_key_in_vary_is_reported_before_anything_runs(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(twin, "run", lambda *a, **k: ran.append(1))
    with pytest.raises(ScenarioError) as err:
        twin.experiment(write(tmp_path, BASE), vary={"stations.c.srvers": [1, 2]})
    assert ran == []
    assert "srvers" in str(err.value)


def test_common_random_numbers_across_points(tmp_path):
    """Unlimited buffers and only the last station varied: nothing reaches back to a or b,
    so their statistics are identical at every point, while c's change."""
    sweep = twin.experiment(write(tmp_path, BASE), vary={"stations.c.servers": [1, 2, 3]})
    m = sweep.measures()
    assert set(m["point"]) == {p.label for p in sweep.points}
    # (bottleneck hours compare a and b with c, so they may change: left out)
    untouched = m[m["entity"].isin(["a", "b"]) & ~m["measure"].str.startswith("bottleneck_")]
    per_point = [grp.drop(columns="point").reset_index(drop=True)
                 for _, grp in untouched.groupby("point", sort=False)]
    for other in per_point[1:]:
        pd.testing.assert_frame_equal(per_point[0], other)
    c_busy = m[(m["entity"] == "c") & (m["measure"] == "busy_h")].groupby("point")["value"].sum()
    assert c_busy.nunique() == 3


def test_table_has_a_row_per_point_with_factors_and_intervals(tmp_path):
    sweep = twin.experiment(write(tmp_path, BASE), vary={"stations.c.servers": [1, 3]})
    table = sweep.table()
    assert list(table["point"]) == [p.label for p in sweep.points]
    assert list(table["stations.c.servers"]) == [1, 3]
    for col in ("throughput_per_h:p", "lead_time_h:p", "wip"):
        assert (table[f"{col}_lo"] <= table[col]).all() and (table[col] <= table[f"{col}_hi"]).all()
    # one server for 5 min jobs arriving every 3 min is overloaded: far longer lead times
    one, three = table["lead_time_h:p"]
    assert one > 2 * three
    # each point's row is that point's own summary
    s = sweep.results[sweep.points[1].label].summary()
    assert table["wip"].iloc[1] == pytest.approx(s["wip"]["mean"])


def test_every_point_is_the_scenario_with_its_overrides(tmp_path):
    path = write(tmp_path, BASE)
    sweep = twin.experiment(path, vary={"stations.c.servers": [3]})
    direct = twin.run(twin.load(path, ["stations.c.servers=3"])).summary()
    swept = sweep.results[sweep.points[0].label].summary()
    for doc in (direct, swept):
        doc.pop("timing")
    assert json.dumps(direct, sort_keys=True) == json.dumps(swept, sort_keys=True)


def test_vary_on_the_command_line_prints_the_table(tmp_path, capsys):
    path = write(tmp_path, BASE)
    out = tmp_path / "out"
    status = main(["run", str(path), "--vary", "stations.c.servers=1,2", "--workers", "1",
                   "--quiet", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0
    lines = captured.out.strip().splitlines()
    assert "point" in lines[0] and "throughput_per_h:p" in lines[0]
    assert len(lines) == 3 and "c.servers=1" in lines[1] and "c.servers=2" in lines[2]
    table = pd.read_parquet(out / "sweep.parquet")
    assert list(table["stations.c.servers"]) == [1, 2]
    measures = pd.read_parquet(out / "measures.parquet")
    assert set(measures["point"]) == set(table["point"])


def test_vary_on_the_command_line_json(tmp_path, capsys):
    path = write(tmp_path, SWEEP)
    status = main(["run", str(path), "--json", "--workers", "1", "--quiet",
                   "--replications", "1", "--horizon", "2 h"])
    doc = json.loads(capsys.readouterr().out)
    assert status == 0
    assert len(doc["points"]) == 12
    for point in doc["points"]:
        assert point["summary"]["replications"] == 1
        assert point["summary"]["horizon_h"] == 2.0
        assert point["factors"]["variant"] in {"slow-b", "fast-b"}


def test_a_refused_sweep_makes_no_out_folder(tmp_path, capsys):
    """A sweep whose levels are refused stops before anything is written: its --out
    folder is not even made (it is made once every point is valid)."""
    path = write(tmp_path, SWEEP)
    out = tmp_path / "out"
    status = main(["run", str(path), "--quiet", "--vary", "stations.a.buffer=1,-2",
                   "--out", str(out)])
    assert status == 2 and not out.exists()
    assert "level -2" in capsys.readouterr().err


def test_a_bad_vary_option_is_exit_2(tmp_path, capsys):
    path = write(tmp_path, BASE)
    assert main(["run", str(path), "--vary", "stations.c.servers=1,zero", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "stations.c.servers" in err and "Traceback" not in err


def test_an_interrupted_sweep_resumes_to_the_same_table(tmp_path):
    """Every point saves its replications; a second run with resume reads them back and
    gives the same results, without simulating them again."""
    from twin.vary import run_sweep

    path = Path(__file__).resolve().parents[1] / "scenarios" / "validation" / "mm1.yaml"
    factors = {"stations.server.servers": [1, 2]}
    out = tmp_path / "sweep"
    first = run_sweep(path, (), factors, out=out, replications=2, horizon="300 h",
                      warmup="10 h")
    saved = sorted(out.glob("points/p*/replications/r*.json"))
    assert len(saved) == 4
    stamps = [p.stat().st_mtime_ns for p in saved]
    again = run_sweep(path, (), factors, out=out, replications=2, horizon="300 h",
                      warmup="10 h", resume=True)
    assert [p.stat().st_mtime_ns for p in saved] == stamps
    pd.testing.assert_frame_equal(first.table(), again.table())


def test_each_point_of_a_sweep_writes_its_summary_and_event_log(tmp_path):
    from twin.vary import run_sweep

    path = Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "two_machine_line.yaml"
    out = tmp_path / "sweep"
    sweep = run_sweep(path, (), {"stations.press.buffer": [1, 2]}, out=out, replications=1,
                      horizon="2 h", warmup=0, event_log=True)
    for i, point in enumerate(sweep.points):
        folder = out / "points" / f"p{i:03d}"
        doc = json.loads((folder / "summary.json").read_text())
        assert doc["products"]["part"]["finished"]["mean"] == pytest.approx(
            sweep.results[point.label].summary()["products"]["part"]["finished"]["mean"])
        assert (folder / "event_log.parquet").exists()
