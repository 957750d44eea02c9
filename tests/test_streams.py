"""Random streams: one per (seed, replication, purpose, entity), for common random numbers.

The contract (docs/experiments.md): stream r of purpose P for entity E is drawn from
SeedSequence(seed, spawn_key=(r, key(P), key(E))) in blocks of 1024, so one station's
samples do not depend on any other station's parameters, on the order stations are
declared in, or on the process that computes them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

import twin
from twin.results import Results
from twin.streams import BLOCK, draws, name_key, stream, uniforms

SEED = 20


def spec_stream(seed: int, replication: int, purpose: str, entity: str) -> np.random.Generator:
    """The generator as docs/experiments.md defines it."""
    seq = np.random.SeedSequence(seed, spawn_key=(replication, name_key(purpose), name_key(entity)))
    return np.random.Generator(np.random.PCG64(seq))


LINE = """\
    name: crn line
    run: {{horizon: "6 h", replications: 2, seed: {seed}}}
    products:
      p: {{route: [a, b, c]}}
    stations:
      a: {{process_time: {{exponential: "2 min"}}}}
      b: {{process_time: {b_time}, servers: {b_servers}}}
      c: {{process_time: {{lognormal: {{mean: "1.5 min", cv: 0.3}}}}}}
"""


def run_line(tmp_path: Path, b_time: str = '{exponential: "1 min"}', b_servers: int = 1,
             seed: int = SEED, name: str = "line.yaml") -> Results:
    path = tmp_path / name
    path.write_text(textwrap.dedent(LINE.format(seed=seed, b_time=b_time, b_servers=b_servers)))
    return twin.run(twin.load(path), event_log=True)


def process_times(results: Results, station: str, replication: int = 0) -> np.ndarray:
    """The station's process durations (hours) in the order processing started."""
    ev = results.events
    ev = ev[(ev["activity"] == "process") & (ev["station"] == station)
            & (ev["replication"] == replication)].sort_values("start_h", kind="stable")
    return (ev["end_h"] - ev["start_h"]).to_numpy()


def test_same_key_same_numbers_different_keys_different_numbers():
    first = stream(1, 0, "process", "weld").random(100)
    assert np.array_equal(first, stream(1, 0, "process", "weld").random(100))
    for other in (stream(2, 0, "process", "weld"), stream(1, 1, "process", "weld"),
                  stream(1, 0, "failure", "weld"), stream(1, 0, "process", "weld2"),
                  stream(1, 0, "process", "")):
        assert not np.allclose(first, other.random(100))


def test_stream_follows_the_documented_seed_sequence():
    assert np.array_equal(stream(7, 3, "arrivals", "cell").random(50),
                          spec_stream(7, 3, "arrivals", "cell").random(50))


def test_draws_come_in_fixed_blocks_whatever_the_consumer():
    """The k-th value is the k-th value of the block-wise sequence, however many are taken."""
    it = draws(lambda rng, n: rng.exponential(5.0, n), stream(1, 0, "process", "x"))
    taken = [next(it) for _ in range(BLOCK + 10)]
    rng = spec_stream(1, 0, "process", "x")
    expected = np.concatenate([rng.exponential(5.0, BLOCK), rng.exponential(5.0, BLOCK)])
    assert np.array_equal(taken, expected[:BLOCK + 10])
    u = uniforms(stream(1, 0, "scrap", "x"))
    assert np.array_equal([next(u) for _ in range(5)], spec_stream(1, 0, "scrap", "x").random(5))


def test_name_key_is_the_same_in_every_process():
    names = ["process", "weld", "cell-1175/3", "", "Ünïcode"]
    here = [name_key(n) for n in names]
    assert all(0 <= k < 2**32 for k in here)
    assert len(set(here)) == len(here)
    code = f"from twin.streams import name_key; print([name_key(n) for n in {names!r}])"
    # another process with another str hash seed (this one's is random)
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True, timeout=60).stdout
    assert out.strip() == repr(here)


def test_engine_draws_a_stations_times_from_its_named_stream(tmp_path):
    """Under saturated release station a processes units back to back (b, c unlimited
    buffers), so its k-th process time is the k-th exponential(120 s) of its stream."""
    r = run_line(tmp_path)
    for rep in (0, 1):
        got = process_times(r, "a", rep) * 3600
        expected = spec_stream(SEED, rep, "process", "a").exponential(120.0, BLOCK)[:len(got)]
        assert len(got) > 100
        np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_changing_one_station_leaves_another_stations_samples_unchanged(tmp_path):
    base = run_line(tmp_path)
    slower_b = run_line(tmp_path, b_time='{gamma: {mean: "1.8 min", cv: 0.5}}', name="b1.yaml")
    more_b = run_line(tmp_path, b_servers=3, name="b2.yaml")
    for rep in (0, 1):
        a0 = process_times(base, "a", rep)
        for other in (slower_b, more_b):
            a1 = process_times(other, "a", rep)
            n = min(len(a0), len(a1))
            assert n > 100
            np.testing.assert_array_equal(a0[:n], a1[:n])
        # c (one machine) starts units at other moments, but draws the same sequence
        c0, c1 = process_times(base, "c", rep), process_times(slower_b, "c", rep)
        np.testing.assert_allclose(c0[:50], c1[:50], rtol=1e-9)  # (end - start) rounding
    # ... while b's own times did change
    assert not np.allclose(process_times(base, "b")[:50], process_times(slower_b, "b")[:50])


def test_declaration_order_of_stations_does_not_change_the_samples(tmp_path):
    """Streams are named, not numbered in build order: swapping stations in the file
    (not in the route) gives the same results."""
    forward = run_line(tmp_path).summary()
    text = textwrap.dedent(LINE.format(seed=SEED, b_time='{exponential: "1 min"}', b_servers=1))
    head, stations = text.split("stations:\n")
    lines = stations.strip("\n").split("\n")
    path = tmp_path / "reversed.yaml"
    path.write_text(head + "stations:\n" + "\n".join(reversed(lines)) + "\n")
    backward = twin.run(twin.load(path)).summary()
    for doc in (forward, backward):
        doc.pop("timing")
    assert forward["products"] == backward["products"]
    assert forward["wip"] == backward["wip"]
    for name in ("a", "b", "c"):
        assert forward["stations"][name] == backward["stations"][name]


def test_replications_get_different_samples(tmp_path):
    r = run_line(tmp_path)
    assert not np.allclose(process_times(r, "a", 0)[:50], process_times(r, "a", 1)[:50])


def test_arrivals_unchanged_when_a_station_changes(tmp_path):
    text = """\
        name: arrivals
        run: {{horizon: "5 h", replications: 1, seed: 9}}
        products:
          p: {{route: [a, b], release: {{interarrival: {{exponential: "3 min"}}}}}}
        stations:
          a: {{process_time: {{exponential: "1 min"}}}}
          b: {{process_time: {{exponential: "{b}"}}, servers: {n}}}
    """
    times = []
    for b, n in (("2 min", 1), ("4 min", 2)):
        path = tmp_path / f"arr{n}.yaml"
        path.write_text(textwrap.dedent(text.format(b=b, n=n)))
        ev = twin.run(twin.load(path), event_log=True).events
        times.append(ev[ev["activity"] == "release"]["start_h"].sort_values().to_numpy())
    gaps = np.diff(np.concatenate([[0.0], times[0]])) * 3600
    np.testing.assert_allclose(gaps, spec_stream(9, 0, "arrivals", "p").exponential(
        180.0, BLOCK)[:len(gaps)], rtol=1e-9)
    np.testing.assert_array_equal(times[0], times[1])


def test_failures_of_a_station_unchanged_when_another_station_changes(tmp_path):
    """a's machines fail on their own streams: with b changed (and a never blocked, since
    b's buffer is unlimited), a's down time, busy time and output stay the same."""
    text = """\
        name: failing
        run: {{horizon: "40 h", replications: 2, seed: 4}}
        products:
          p: {{route: [a, b]}}
        stations:
          a:
            servers: 2
            process_time: {{exponential: "2 min"}}
            failures: {{mtbf: {{exponential: "3 h"}}, mttr: {{exponential: "20 min"}}}}
          b: {{process_time: {{exponential: "{b}"}}, servers: {n}}}
    """
    tables = []
    for b, n in (("1 min", 1), ("50 s", 2)):
        path = tmp_path / f"fail{n}.yaml"
        path.write_text(textwrap.dedent(text.format(b=b, n=n)))
        tables.append(twin.run(twin.load(path)).stations().xs("a", level="entity"))
    assert (tables[0]["down_h"] > 0).all()
    for col in ("down_h", "busy_h", "produced"):
        np.testing.assert_array_equal(tables[0][col].to_numpy(), tables[1][col].to_numpy())
    assert not np.array_equal(tables[0]["down_h"].iloc[0], tables[0]["down_h"].iloc[1])
