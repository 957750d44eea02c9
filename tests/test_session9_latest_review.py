"""Review of the latest changes: resumable flowline sweeps (out=, chunks, validation,
total_buffer), error messages (did-you-mean over `extends:`, misspelt keys said once,
--vary problems merged across levels, YAML hints, CLI hints), CSV --resume, run options
that a sweep would replace, compare with one paired replication."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import twin
from twin import sweep as sw
from twin.cli import main
from twin.errors import ScenarioError
from twin.scenario.load import load
from twin.scenario.schema import Scenario


def line(route=None, release=None, **run) -> Scenario:
    stations = {f"s{i}": {"process_time": {"exponential": 1.0 + 0.2 * i}, "buffer": 1}
                for i in range(3)}
    product = {"route": route or list(stations)}
    if release is not None:
        product["release"] = release
    return Scenario.model_validate({
        "name": "review line",
        "run": {"horizon": 400, "warmup": 40, "seed": 4, "replications": 2, **run},
        "products": {"u": product}, "stations": stations})


def layouts(n: int = 170) -> pd.DataFrame:
    i = np.arange(n)
    return pd.DataFrame({"stations.s1.buffer": i % 6, "stations.s2.buffer": (i // 6) % 4})


# ------------------------------------------------------------------ sweeps: resume


def test_resume_after_truncated_empty_and_missing_chunks_equals_uninterrupted(tmp_path):
    sc, lay = line(), layouts()
    ref = sw.sweep(sc, lay, workers=1)
    assert len(ref) == 170 * 2
    out = tmp_path / "screen"
    pd.testing.assert_frame_equal(sw.sweep(sc, lay, workers=1, out=out), ref)
    chunks = sorted((out / "chunks").glob("c*.parquet"))
    assert [c.name for c in chunks] == [f"c{i:07d}.parquet" for i in (0, 50, 100, 150)]
    data = chunks[1].read_bytes()
    chunks[1].write_bytes(data[: len(data) // 2])  # truncated
    chunks[2].write_bytes(b"")  # empty
    chunks[3].unlink()  # never written
    (out / "sweep.parquet").unlink()
    pd.testing.assert_frame_equal(sw.sweep(sc, lay, workers=1, out=out), ref)
    assert pd.read_parquet(out / "sweep.parquet").shape == ref.shape


def test_interrupted_sweep_resumes_and_simulates_only_the_rest(tmp_path, monkeypatch):
    sc, lay = line(), layouts()
    ref = sw.sweep(sc, lay, workers=1)
    real = sw._evaluate
    calls: list[int] = []

    def flaky(*args):
        calls.append(args[2][0])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(sw, "_evaluate", flaky)
    out = tmp_path / "screen"
    with pytest.raises(KeyboardInterrupt):
        sw.sweep(sc, lay, workers=1, out=out)
    assert len(list((out / "chunks").glob("c*.parquet"))) == 2
    calls.clear()
    table = sw.sweep(sc, lay, workers=1, out=out)
    assert sorted(calls) == [100, 150]  # only the chunks not saved
    pd.testing.assert_frame_equal(table, ref)


def test_a_folder_of_another_sweep_is_refused(tmp_path):
    sc, lay = line(), layouts(60)
    out = tmp_path / "screen"
    sw.sweep(sc, lay, workers=1, out=out)
    for other in (lay.iloc[::-1], lay[lay.columns[::-1]], lay.head(59)):
        with pytest.raises(ScenarioError, match="holds another sweep"):
            sw.sweep(sc, other, workers=1, out=out)
    with pytest.raises(ScenarioError, match="holds another sweep"):
        sw.sweep(sc, lay, workers=1, out=out, seed=5)
    with pytest.raises(ScenarioError, match="holds another sweep"):
        sw.sweep(line(horizon=500), lay, workers=1, out=out)


def test_out_a_file_is_refused_and_a_run_folder_is_left_intact(tmp_path):
    sc, lay = line(), layouts(10)
    f = tmp_path / "a_file"
    f.write_text("keep")
    with pytest.raises(ScenarioError, match="file, not a folder"):
        sw.sweep(sc, lay, workers=1, out=f)
    assert f.read_text() == "keep"
    run_dir = tmp_path / "run"
    twin.run(sc, out=run_dir, workers=1)
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert before
    sw.sweep(sc, lay, workers=1, out=run_dir)
    assert {p: p.read_bytes() for p in before} == before


# ------------------------------------------------------------- sweeps: layouts


def test_numpy_dtypes_give_the_same_table_as_python_ints():
    sc = line(replications=1)
    base = pd.DataFrame({"stations.s1.buffer": [0, 3], "stations.s2.servers": [1, 2]})
    ref = sw.sweep(sc, base, workers=1)
    for b, s in (("int32", "uint8"), ("float32", "float64"), ("Int64", "int16")):
        other = base.astype({"stations.s1.buffer": b, "stations.s2.servers": s})
        t = sw.sweep(sc, other, workers=1)
        for c in ("finished", "throughput_per_h", "total_buffer", "total_servers"):
            assert t[c].tolist() == ref[c].tolist(), (b, s, c)


@pytest.mark.parametrize("column,value", [
    ("stations.s1.buffer", -1), ("stations.s1.buffer", 1.5), ("stations.s1.buffer", True),
    ("stations.s1.buffer", "3"), ("stations.s1.buffer", -math.inf),
    ("stations.s1.servers", 0), ("stations.s1.servers", math.inf),
    ("stations.s1.servers", 2.5), ("stations.s1.servers", np.bool_(True)),
    ("stations.s9.buffer", 1), ("stations.s1.capacity", 1),
])
def test_impossible_layouts_are_refused(column, value):
    lay = pd.DataFrame({column: pd.Series([2 if "buffer" in column else 1, value],
                                          dtype=object)})
    with pytest.raises(ScenarioError, match="sweep: layout"):
        sw.sweep(line(replications=1), lay, workers=1)


def test_unlimited_buffer_as_inf_counts_as_inf_and_equals_a_huge_buffer():
    sc = line(replications=1)
    lay = pd.DataFrame({"stations.s1.buffer": [math.inf, 100_000]})
    t = sw.sweep(sc, lay, workers=1)
    assert math.isinf(t["total_buffer"][0]) and t["total_buffer"][1] == 100_000 + 1
    assert t["finished"][0] == t["finished"][1]  # never full either way


def test_none_buffer_from_grid_is_an_unlimited_buffer():
    """The module says `math.inf or None: an unlimited buffer`; grid() of [None, 2] (and
    any numeric column holding None) stores None as NaN, which sweep then refuses."""
    sc = line(replications=1)
    lay = sw.grid(sc, buffers={"s1": [None, 2]})
    t = sw.sweep(sc, lay, workers=1)
    inf = sw.sweep(sc, pd.DataFrame({"stations.s1.buffer": [math.inf]}), workers=1)
    assert math.isinf(t["total_buffer"][0])
    assert t["finished"][0] == inf["finished"][0]


def test_empty_layouts_give_an_empty_table_with_the_documented_columns(tmp_path):
    sc = line()
    empty = sw.grid(sc, buffers={"s1": []})
    assert len(empty) == 0
    t = sw.sweep(sc, empty, workers=1, out=tmp_path / "e")
    assert len(t) == 0
    for c in ("layout", "stations.s1.buffer", "total_buffer", "total_servers",
              "replication", "finished", "throughput_per_h", "lead_time_h", "wip_mean"):
        assert c in t.columns, c


def test_total_buffer_leaves_out_only_the_first_station_under_saturated_release():
    lay = pd.DataFrame({"stations.s0.buffer": [5, math.inf], "stations.s1.buffer": [2, 2],
                        "stations.s2.buffer": [3, 3]})
    sat = sw.sweep(line(replications=1), lay, workers=1)
    assert sat["total_buffer"].tolist() == [5.0, 5.0]
    # the first station of the route (not of the stations mapping) is the one left out
    rt = sw.sweep(line(route=["s2", "s0", "s1"], replications=1), lay, workers=1)
    assert rt["total_buffer"].tolist() == [7.0, math.inf]
    arr = sw.sweep(line(release={"interarrival": {"exponential": 2.0}}, replications=1),
                   lay, workers=1)
    assert arr["total_buffer"][0] == 10.0 and math.isinf(arr["total_buffer"][1])
    assert (sat["total_servers"] == 3).all()


def test_sample_refuses_an_empty_range_and_names_the_station():
    sc = line()
    with pytest.raises(ScenarioError, match="s1"):
        sw.sample(sc, 5, buffers={"s1": (3, 2)})
    with pytest.raises(ScenarioError, match="Did you mean 's1'"):
        sw.sample(sc, 5, buffers={"s_1": (0, 2)})
    s = sw.sample(sc, 200, buffers={"s1": (2, 2)}, servers={"s0": (1, 3)}, seed=3)
    assert (s["stations.s1.buffer"] == 2).all()
    assert set(s["stations.s0.servers"]) == {1, 2, 3}


# ------------------------------------------------------------------ messages

BASE = """\
name: base
run: {horizon: "8 h"}
products:
  tray: {route: [weld, paint]}
stations:
  weld: {process_time: "60 s", failures: {mtbf: "1 h", mttr: "5 min"}}
  paint: {process_time: "50 s"}
"""


def problems(tmp_path: Path, text: str, name: str = "child.yaml") -> list[str]:
    (tmp_path / "base.yaml").write_text(BASE)
    p = tmp_path / name
    p.write_text(text)
    return [f"{x.where}: {x.message}" for x in twin.check(str(p))]


def test_misspelt_station_over_base_gets_did_you_mean_but_a_new_one_does_not(tmp_path):
    got = problems(tmp_path, "extends: base.yaml\nstations:\n  wedl: {buffer: 3}\n"
                             "  assembly_cell: {buffer: 2}\n")
    wedl = [m for m in got if "wedl" in m]
    cell = [m for m in got if "assembly_cell" in m]
    assert len(wedl) == 1 and "Did you mean 'weld'" in wedl[0]
    assert len(cell) == 1 and "Did you mean" not in cell[0] and "adds a new" not in cell[0]


def test_did_you_mean_note_not_on_an_unrelated_value_problem_of_a_new_station(tmp_path):
    """paint2 is a new station the route uses; its negative buffer has nothing to do with a
    misspelling of 'paint', yet the message says 'Did you mean 'paint'?'."""
    got = problems(tmp_path, "extends: base.yaml\nproducts:\n  tray: {route: [weld, paint, "
                             "paint2]}\nstations:\n  paint2: {process_time: \"50 s\", "
                             "buffer: -1}\n")
    assert len(got) == 1 and "at least 0" in got[0]
    assert "Did you mean" not in got[0]


def test_misspelt_field_key_over_base_is_hinted_once(tmp_path):
    """`failure:` for the base's `failures:` (a schema key, not a name): the unknown-key
    message already says Did you mean 'failures'?; the extends note repeats it."""
    got = problems(tmp_path, "extends: base.yaml\nstations:\n  weld: {failure: "
                             "{mtbf: \"2 h\", mttr: \"5 min\"}}\n")
    assert len(got) == 1 and "failure" in got[0]
    assert got[0].count("Did you mean") == 1, got[0]


def test_no_note_on_a_problem_of_a_station_the_base_has(tmp_path):
    got = problems(tmp_path, "extends: base.yaml\nstations:\n  weld: {buffer: -2}\n")
    assert len(got) == 1 and "at least 0" in got[0] and "Did you mean" not in got[0]


def test_misspelt_top_level_key_said_once_and_a_missing_other_key_still_said(tmp_path):
    got = problems(tmp_path, 'name: x\nstationz:\n  a: {process_time: "60 s"}\n'
                             "products:\n  tray: {route: [a]}\n", "top.yaml")
    assert len(got) == 2, got
    assert any("stationz" in m and "Did you mean 'stations'" in m for m in got)
    assert any("missing required key 'run'" in m for m in got)
    assert not any("missing required key 'stations'" in m for m in got)


def test_missing_key_kept_when_the_unknown_key_is_hinted_towards_another_key(tmp_path):
    """`speed:` in a fleet: the message suggests 'speed_empty', and the missing required
    'speed_loaded' (which `speed` also resembles) is never said."""
    got = problems(tmp_path, """\
name: x
run: {horizon: "8 h"}
products:
  tray: {route: [a, b], transport: agv}
stations:
  a: {process_time: "60 s"}
  b: {process_time: "50 s"}
logistics:
  points: {a: [0, 0], b: [10, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: 1, speed: 1.2, home: a}
""", "fleet.yaml")
    said = " | ".join(got)
    assert "speed" in said
    # the fix must name speed_loaded somewhere: as the suggestion or as missing
    assert "speed_loaded" in said, said


def test_set_note_still_works(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text(BASE)
    assert main(["validate", str(tmp_path / "base.yaml"), "--set",
                 "stations.wedl.buffer=3"]) != 0
    err = capsys.readouterr()
    text = err.out + err.err
    assert "--set" in text and "Did you mean 'weld'" in text


def test_yaml_indentation_error_gets_a_hint(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text('name: x\nrun:\n  horizon: "1 h"\n   seed: 3\nproducts: {}\n')
    got = twin.check(str(p))
    assert got and "indentation" in got[0].message and got[0].line == 4


def test_experiment_vary_scalar_says_to_give_a_list(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE)
    with pytest.raises(ScenarioError, match="list"):
        twin.experiment(str(tmp_path / "base.yaml"), vary={"stations.weld.buffer": 3})


def test_negative_horizon_option_hint(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text(BASE)
    with pytest.raises(SystemExit) as e:
        main(["run", str(tmp_path / "base.yaml"), "--horizon", "-1d"])
    assert e.value.code == 2
    assert "--horizon=" in capsys.readouterr().err


def vary_errors(tmp_path, capsys, *vary: str) -> list[str]:
    (tmp_path / "base.yaml").write_text(BASE)
    argv = ["run", str(tmp_path / "base.yaml"), "--horizon", "1 h", "--quiet"]
    for v in vary:
        argv += ["--vary", v]
    assert main(argv) == 2
    cap = capsys.readouterr()
    return [ln for ln in (cap.out + cap.err).splitlines() if "error" in ln]


def test_vary_only_the_shared_problem_is_merged(tmp_path, capsys):
    lines = vary_errors(tmp_path, capsys, "stations.weld.bufer=1,2,3",
                        "stations.paint.buffer=-1,x,4")
    bufer = [ln for ln in lines if "bufer" in ln]
    assert len(bufer) == 1 and "levels 1, 2, 3" in bufer[0]
    paint = [ln for ln in lines if "stations.paint.buffer" in ln]
    assert len(paint) == 2
    assert any("level -1:" in ln for ln in paint) and any("level x:" in ln for ln in paint)
    assert not any("levels" in ln for ln in paint)


def test_vary_mapping_levels_with_different_problems_are_not_merged(tmp_path, capsys):
    """Two levels, {busy: x} and {starved: x}, each a bad number under another key: they
    come out as one garbled 'levels {busy, {starved: x}: ...' (the level pattern stops at
    the first ': ' inside a mapping level)."""
    lines = vary_errors(tmp_path, capsys, "stations.weld.power_kw={busy: x},{starved: x}")
    assert not any("levels {busy, {" in ln for ln in lines), lines
    # (fixed by carrying each level's text beside its problem: the two levels share the
    # same message word for word at the same entry, so they are said once, both named)
    assert len(lines) == 1, lines
    assert 'levels {busy: x}, {starved: x}: expected a number, got "x"' in lines[0]


# ------------------------------------------------------------------ CSV --resume


def numeric_line(tmp_path: Path, extra: str = "") -> Scenario:
    route = '["10", "020", "1e3"' + (f', "{extra}"' if extra else "") + "]"
    text = f"""\
name: numeric names
run: {{horizon: "3 h", warmup: "10 min", replications: 3, seed: 3}}
products:
  "7": {{route: {route}}}
stations:
  "10": {{process_time: {{exponential: "50 s"}}, buffer: 2,
         failures: {{mtbf: "1 h", mttr: "5 min"}}}}
  "020": {{process_time: {{exponential: "55 s"}}, buffer: 2, scrap: 0.05}}
  "1e3": {{process_time: {{exponential: "40 s"}}, buffer: 1}}
"""
    if extra:
        text += f'  "{extra}": {{process_time: {{exponential: "30 s"}}, buffer: 1}}\n'
    p = tmp_path / "line.yaml"
    p.write_text(text)
    return load(p)


def resumed_equals_uninterrupted(tmp_path: Path, sc: Scenario) -> None:
    whole = twin.run(sc, out=tmp_path / "a", table_format="csv", event_log=True)
    twin.run(sc, out=tmp_path / "b", table_format="csv", event_log=True)
    for f in (tmp_path / "b" / "replications").glob("r00001*"):
        f.unlink()
    resumed = twin.run(sc, out=tmp_path / "b", table_format="csv", event_log=True,
                       resume=True)
    for name in ("measures", "events", "active_periods", "timeline"):
        pd.testing.assert_frame_equal(getattr(resumed, name).reset_index(drop=True),
                                      getattr(whole, name).reset_index(drop=True))
    pd.testing.assert_frame_equal(resumed.stations(), whole.stations())
    pd.testing.assert_frame_equal(resumed.products(), whole.products())
    a, b = whole.summary(), resumed.summary()
    for s in (a, b):
        s.pop("timing", None)
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True,
                                                                    default=str)


def test_csv_resume_keeps_numeric_looking_names_text(tmp_path):
    sc = numeric_line(tmp_path)
    resumed_equals_uninterrupted(tmp_path, sc)
    stored = pd.read_csv(tmp_path / "b" / "replications" / "r00000.measures.csv", dtype=str)
    assert {"10", "020", "1e3", "7"} <= set(stored["entity"])


def test_csv_resume_keeps_a_station_named_nan(tmp_path):
    """A station (a valid name) called 'nan' is read back as NaN, then '' on --resume."""
    sc = numeric_line(tmp_path, extra="nan")
    resumed_equals_uninterrupted(tmp_path, sc)


# ------------------------------------------------------------------ run options, compare


def test_run_option_replaced_by_a_sweep_of_run_keys_is_refused(tmp_path, capsys):
    (tmp_path / "base.yaml").write_text(BASE)
    assert main(["run", str(tmp_path / "base.yaml"), "--horizon", "1 h", "--quiet",
                 "--vary", "run.horizon=1 h,2 h"]) == 2
    cap = capsys.readouterr()
    assert "--horizon" in cap.out + cap.err
    with pytest.raises(ScenarioError, match="--seed"):
        twin.experiment(str(tmp_path / "base.yaml"), vary={"run.seed": [1, 2]}, seed=3)


def test_compare_one_paired_replication_gives_no_verdict():
    from twin.analysis.compare import compare

    sc = line(replications=1)
    a = twin.run(sc, engine="flowline").measures
    b = twin.run(sc.model_copy(update={"stations": {
        **sc.stations, "s1": sc.stations["s1"].model_copy(update={"buffer": 5})}}),
        engine="flowline").measures
    doc = compare({"a": a, "b": b})
    verdicts = [v for e in doc["kpis"].values() for v in e["verdict"].values()]
    assert verdicts and all("no verdict" in v for v in verdicts)
