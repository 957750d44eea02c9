"""Batch stations against hand-computed cycles and queueing identities (docs/validation.md,
Batches)."""

from __future__ import annotations

import pytest

import twin
from twin.engine import flowline as fl
from twin.model import build
from twin.scenario.schema import Scenario


def _scenario(doc: dict) -> Scenario:
    return Scenario.model_validate({"name": "batches", **doc})


def test_saturated_ovens_make_full_batches() -> None:
    """Two ovens of 10 units, 100 s per batch, always fed: 0.2 units/s; the batches that end
    at 100, 200, ..., 900 s count (the one ending at 1000 s is outside [0, 1000))."""
    doc = twin.run(_scenario({
        "run": {"horizon": 1000},
        "products": {"a": {"route": ["oven", "pack"]}},
        "stations": {"oven": {"servers": 2, "process_time": 100, "batch": {"size": 10},
                              "buffer": 20},
                     "pack": {"process_time": 1}},
    }), warmup=0).summary()
    assert doc["products"]["a"]["finished"]["mean"] == 9 * 20
    oven = doc["stations"]["oven"]
    assert oven["utilization"]["mean"] == 1.0
    # planned time per unit 100 s / 2 ovens / 10 units: 180 units in 1000 s of each oven
    assert oven["oee_factors"]["effectiveness"]["mean"] == pytest.approx(0.9)


def test_a_batch_waits_for_its_units() -> None:
    """A unit every 10 s, batches of 5 taking 30 s: a batch starts every 50 s (when its fifth
    unit arrives), so the oven is busy 30 s in 50 and the units wait 40, 30, 20, 10 and 0 s
    (mean 20 s). Measured over whole cycles: warm-up 50 s, horizon 1,000 s."""
    doc = twin.run(_scenario({
        "run": {"horizon": 1000, "warmup": 50},
        "products": {"a": {"route": ["oven"], "release": {"interarrival": 10}}},
        "stations": {"oven": {"process_time": 30, "batch": {"size": 5}, "buffer": 10}},
    })).summary()
    oven = doc["stations"]["oven"]
    assert oven["utilization"]["mean"] == pytest.approx(0.6)
    assert oven["wait_h"]["mean"] == pytest.approx(20 / 3600)
    assert doc["products"]["a"]["throughput_per_h"]["mean"] == pytest.approx(360)
    # lead time: the wait plus the 30 s in the oven
    assert doc["products"]["a"]["lead_time_h"]["mean"] == pytest.approx(50 / 3600)


def test_min_starts_partial_batches() -> None:
    """Batches of up to 10 starting once 2 wait, 15 s each, a unit every 10 s: the oven
    starts at 20 s with 2 units (to 35 s); then 30, 40 wait -> at 40 s start 2 (to 55);
    50 -> 1 waits, 60 -> start 2 at 60 (to 75); so from 40 s on every 20 s a batch of 2,
    busy 15 s in 20."""
    doc = twin.run(_scenario({
        "run": {"horizon": 2000, "warmup": 40},
        "products": {"a": {"route": ["oven"], "release": {"interarrival": 10}}},
        "stations": {"oven": {"process_time": 15, "batch": {"size": 10, "min": 2},
                              "buffer": 20}},
    })).summary()
    oven = doc["stations"]["oven"]
    assert oven["utilization"]["mean"] == pytest.approx(0.75)
    # each batch: one unit waited 10 s, the other 0 s
    assert oven["wait_h"]["mean"] == pytest.approx(5 / 3600)
    # effectiveness: planned 15/10 s per unit, 2 units per 15 s of work
    assert oven["oee_factors"]["effectiveness"]["mean"] == pytest.approx(0.2)


def test_random_batches_keep_flow_balance_and_littles_law() -> None:
    """Random arrivals, batch times and failures: released = finished + change in WIP,
    states sum to 1, and WIP = throughput x lead time (Little) within a few per cent."""
    res = twin.run(_scenario({
        "run": {"horizon": "2000 h", "warmup": "20 h", "replications": 4, "seed": 3},
        "products": {"a": {"route": ["prep", "oven", "pack"],
                           "release": {"interarrival": {"exponential": "60 s"}}}},
        "stations": {
            "prep": {"process_time": {"exponential": "40 s"}, "buffer": 5},
            "oven": {"servers": 2, "process_time": {"uniform": ["40 min", "60 min"]},
                     "batch": {"size": 60, "min": 30}, "buffer": 100,
                     "failures": {"mtbf": {"exponential": "20 h"}, "mttr": "1 h"}},
            "pack": {"process_time": {"exponential": "45 s"}, "buffer": 200},
        }}))
    doc = res.summary()
    m = res.measures
    for r in range(4):
        rows = m[m["replication"] == r].set_index(["kind", "entity", "measure"])["value"]
        released = rows[("product", "a", "released")]
        finished = rows[("product", "a", "finished")]
        wip_start, wip_end = rows[("system", "", "wip_start")], rows[("system", "", "wip_end")]
        assert released == finished + wip_end - wip_start
    for name, st in doc["stations"].items():
        assert sum(st["states"].values()) == pytest.approx(1.0), name
    assert doc["wip"]["mean"] == pytest.approx(doc["checks"]["littles_law_wip"]["mean"],
                                               rel=0.03)


def test_the_flowline_engine_refuses_batches() -> None:
    sc = _scenario({"run": {"horizon": 100},
                    "products": {"a": {"route": ["oven"]}},
                    "stations": {"oven": {"process_time": 5, "batch": {"size": 4}}}})
    problem = fl.unsupported(build(sc))
    assert problem is not None and problem.startswith("stations.oven.batch")


def test_a_batch_is_unloaded_as_a_whole() -> None:
    """Two ovens finish a batch of a and a batch of b at the same instant into a station
    with no buffer: the first oven's turn lasts its whole batch, so the next station sees
    a a a b b b (one changeover, 1 s), not a a b a b b (three)."""
    res = twin.run(_scenario({
        "run": {"horizon": 100},
        "products": {"a": {"route": ["oven", "m"], "release": {"interarrival": "1000 d"}},
                     "b": {"route": ["oven", "m"], "release": {"interarrival": "1000 d"}}},
        "stations": {"oven": {"servers": 2, "process_time": 10, "batch": {"size": 3},
                              "buffer": 6},
                     "m": {"process_time": 5, "buffer": 0, "setup": 1}},
        "initial_wip": {"oven": {"a": 3, "b": 3}},
    }), warmup=0, event_log=True)
    ev = res.events
    order = ev[(ev["activity"] == "process") & (ev["station"] == "m")] \
        .sort_values("start_h")["product"].tolist()
    assert order == ["a", "a", "a", "b", "b", "b"]
    doc = res.summary()
    assert doc["stations"]["m"]["changeovers"]["mean"] == 1
    # m: 10-15, 15-20, 20-25, setup 25-26, 26-31, 31-36, 36-41
    assert doc["products"]["b"]["lead_time_h"]["mean"] == pytest.approx(36 / 3600)
