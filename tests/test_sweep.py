"""Sweeps of buffer allocations and server counts on the flowline engine."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import twin
from twin import sweep as sw
from twin.errors import ScenarioError
from twin.scenario.schema import Scenario


def scenario(route=None, **run) -> Scenario:
    stations = {f"s{i}": {"process_time": {"exponential": 1.0 + 0.2 * i}, "buffer": 1,
                          "scrap": 0.02} for i in range(3)}
    return Scenario.model_validate({
        "name": "sweep line", "run": {"horizon": 2000, "warmup": 100, "seed": 4, **run},
        "products": {"u": {"route": route or list(stations)}}, "stations": stations})


def test_grid_and_sample_layouts() -> None:
    sc = scenario()
    g = sw.grid(sc, buffers={"s0": range(3), "s1": [0, 5]}, servers={"s2": [1, 2]})
    assert list(g.columns) == ["stations.s0.buffer", "stations.s1.buffer",
                               "stations.s2.servers"]
    assert len(g) == 12
    s = sw.sample(sc, 50, buffers={"s0": (0, 4)}, seed=1)
    assert s["stations.s0.buffer"].between(0, 4).all() and len(s) == 50
    with pytest.raises(ScenarioError, match="no station 'x'"):
        sw.grid(sc, buffers={"x": [1]})


def test_sweep_rows_equal_flowline_runs_and_workers_do_not_matter() -> None:
    sc = scenario(replications=2)
    layouts = sw.grid(sc, buffers={"s0": [0, 3], "s1": [0, 2]}, servers={"s2": [1, 2]})
    table = sw.sweep(sc, layouts, workers=1)
    assert len(table) == len(layouts) * 2
    assert list(table.columns[:4]) == ["layout", *layouts.columns]
    pd.testing.assert_frame_equal(table, sw.sweep(sc, layouts, workers=2))
    # every layout, single machines (the line kernel, without the stations' figures) and
    # two servers (the event kernel) alike, gives the line's figures of a full run
    for i, layout in layouts.iterrows():
        row = table[(table["layout"] == i) & (table["replication"] == 1)].iloc[0]
        over = [f"{c}={int(layout[c])}" for c in layouts.columns]
        stations = {name: st.model_copy(update={
            "buffer": int(layout.get(f"stations.{name}.buffer", st.buffer)),
            "servers": int(layout.get(f"stations.{name}.servers", st.servers))})
            for name, st in sc.stations.items()}
        single = twin.run(sc.model_copy(update={"stations": stations}), engine="flowline")
        prod = single.products().xs("u", level="entity").loc[1]
        assert row["finished"] == prod["finished"], over
        assert row["scrapped"] == prod["scrapped"], over
        assert row["throughput_per_h"] == pytest.approx(prod["throughput_per_h"], rel=1e-12)
        assert row["lead_time_h"] == pytest.approx(prod["lead_time_h"], rel=1e-9)
        m = single.measures
        wip = m[(m["replication"] == 1) & (m["kind"] == "system")
                & (m["measure"] == "wip_mean")]["value"].item()
        assert row["wip_mean"] == pytest.approx(wip, rel=1e-9), over
        # (saturated release: s0's buffer stays empty and is not counted; s2 has 1 place)
        assert row["total_buffer"] == int(layout["stations.s1.buffer"]) + 1


def test_more_buffer_never_hurts_much_and_unlimited_is_allowed() -> None:
    sc = scenario()
    table = sw.sweep(sc, sw.grid(sc, buffers={"s1": [0, 1, 4, math.inf]}), workers=1)
    th = table["throughput_per_h"].to_numpy()
    assert th[0] < th[-1]
    assert math.isinf(table["total_buffer"].iloc[-1])


def test_sweep_refuses_what_the_flowline_engine_cannot_do() -> None:
    sc = scenario()
    rework = scenario(["s0", {"station": "s1", "rework": {"p": 0.1, "to": "s0"}}, "s2"])
    with pytest.raises(ScenarioError, match=r"route\[1\]\.rework"):
        sw.sweep(rework, sw.grid(rework, buffers={"s0": [1]}), workers=1)
    with pytest.raises(ScenarioError, match="layout column"):
        sw.sweep(sc, pd.DataFrame({"stations.s0.speed": [1]}), workers=1)


def test_a_sweep_saved_in_a_folder_resumes_where_it_stopped(tmp_path, monkeypatch) -> None:
    """With out=..., each chunk of layouts is saved as it finishes; a second call with the
    same folder reads the saved chunks back and simulates only the missing one, and the
    table equals a sweep without a folder."""
    sc = scenario(replications=2)
    layouts = sw.sample(sc, 2 * sw.CHUNK + 7, buffers={"s0": (0, 4), "s1": (0, 4)}, seed=3)
    plain = sw.sweep(sc, layouts, workers=1)
    out = tmp_path / "screen"
    first = sw.sweep(sc, layouts, workers=1, out=out)
    pd.testing.assert_frame_equal(first, plain)
    chunks = sorted((out / "chunks").glob("c*.parquet"))
    assert [p.name for p in chunks] == ["c0000000.parquet", f"c{sw.CHUNK:07d}.parquet",
                                        f"c{2 * sw.CHUNK:07d}.parquet"]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), plain)
    chunks[1].unlink()  # as if interrupted before that chunk was done
    simulated = []
    evaluate = sw._evaluate
    monkeypatch.setattr(sw, "_evaluate", lambda *a: simulated.append(a[2]) or evaluate(*a))
    again = sw.sweep(sc, layouts, workers=1, out=out)
    assert simulated == [list(range(sw.CHUNK, 2 * sw.CHUNK))]
    pd.testing.assert_frame_equal(again, plain)


def test_a_folder_of_another_sweep_is_refused(tmp_path) -> None:
    sc = scenario()
    layouts = sw.grid(sc, buffers={"s0": [0, 1]})
    sw.sweep(sc, layouts, workers=1, out=tmp_path / "a")
    with pytest.raises(ScenarioError, match="holds another sweep"):
        sw.sweep(sc, sw.grid(sc, buffers={"s0": [0, 2]}), workers=1, out=tmp_path / "a")
    with pytest.raises(ScenarioError, match="holds another sweep"):
        sw.sweep(sc, layouts, workers=1, seed=5, out=tmp_path / "a")


def test_a_sweep_shows_its_progress_on_request(capsys) -> None:
    sc = scenario()
    sw.sweep(sc, sw.grid(sc, buffers={"s0": [0, 1, 2]}), workers=1, progress=True)
    assert "3/3" in capsys.readouterr().err


def test_total_buffer_leaves_out_the_first_buffer_under_saturated_release() -> None:
    """Saturated release keeps the first station's buffer empty, so it is not counted (the
    first station's buffer here is unlimited: counted, every total would be inf)."""
    sc = scenario()
    sc = sc.model_copy(update={"stations": {**sc.stations, "s0": sc.stations["s0"].model_copy(
        update={"buffer": None})}})
    table = sw.sweep(sc, sw.grid(sc, buffers={"s1": [0, 3]}), workers=1)
    assert sorted(table["total_buffer"].unique()) == [0 + 1, 3 + 1]  # s1 + s2 (s2 has 1)


def test_a_saved_chunk_with_the_wrong_rows_is_simulated_again(tmp_path) -> None:
    """A chunk file that reads back but does not hold its layouts once per replication
    (here: one row dropped) is not trusted."""
    sc = scenario(replications=2)
    layouts = sw.sample(sc, sw.CHUNK + 3, buffers={"s0": (0, 4)}, seed=5)
    out = tmp_path / "s"
    plain = sw.sweep(sc, layouts, workers=1, out=out)
    path = out / "chunks" / "c0000000.parquet"
    pd.read_parquet(path).iloc[1:].to_parquet(path, index=False)
    pd.testing.assert_frame_equal(sw.sweep(sc, layouts, workers=1, out=out), plain)
    assert len(pd.read_parquet(path)) == 2 * sw.CHUNK
