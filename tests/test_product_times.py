"""A product's own process time at a route step (extension): the engine uses it, the
flowline engine agrees, and OEE plans with each unit's own time."""

from __future__ import annotations

import pytest

import twin
from twin.engine import flowline as fl
from twin.engine import replication
from twin.model import build
from twin.scenario.schema import Scenario

from test_flowline import assert_same_records


def _scenario(doc: dict) -> Scenario:
    return Scenario.model_validate({"name": "own times", **doc})


def test_own_times_and_setups_give_the_exact_cycle() -> None:
    """Campaigns of 5: a takes 10 s, b the station's 20 s, 30 s per change: a cycle of
    5 × 10 + 30 + 5 × 20 + 30 = 210 s makes 5 of each; with constant times effectiveness is
    exactly 1 because the plan uses each unit's own time (planning every unit at the
    station's 20 s would give 4/3)."""
    sc = _scenario({
        "run": {"horizon": 210 * 100, "seed": 1},
        "products": {"a": {"route": [{"station": "press", "process_time": "10 s"}],
                           "campaign": 5},
                     "b": {"route": ["press"], "campaign": 5}},
        "stations": {"press": {"process_time": "20 s", "setup": "30 s"}},
    })
    doc = twin.run(sc, warmup=0).summary()
    # the first campaign needs no setup, so 100 cycles finish 30 s early: both complete
    assert doc["products"]["a"]["finished"]["mean"] == 500
    assert doc["products"]["b"]["finished"]["mean"] == 500
    press = doc["stations"]["press"]
    assert press["states"]["busy"] == pytest.approx(150 / 210)
    assert press["oee_factors"]["effectiveness"]["mean"] == pytest.approx(1.0)


def test_flowline_uses_the_step_time_and_agrees_with_simpy() -> None:
    """One product with its own (random) time at the middle station: both engines draw it
    from the same named stream, so their records agree."""
    sc = _scenario({
        "run": {"horizon": 20_000, "warmup": 100, "seed": 3},
        "products": {"u": {"route": ["a", {"station": "b", "process_time":
                                           {"gamma": {"mean": "0.8 s", "cv": 0.5}}}, "c"]}},
        "stations": {"a": {"process_time": {"exponential": 1.0}, "buffer": 2},
                     "b": {"process_time": "5 s", "buffer": 1},
                     "c": {"process_time": {"exponential": 0.9}}},
    })
    model = build(sc)
    simpy_ = replication.simulate(model, 0, 3, 100.0)
    fast = fl.simulate(model, 0, 3, 100.0)
    assert_same_records(simpy_, fast)
    rows = {(e, m): v for kind, e, m, v in simpy_.measures if kind == "station"}
    # the station's 5 s would cap the line at 0.2 units/s: the step's 0.8 s is used
    assert rows[("b", "produced")] > 0.5 * 20_000
    assert rows[("b", "planned_unit_time_h")] == pytest.approx(0.8 / 3600)


def test_another_products_time_leaves_the_station_stream_alone() -> None:
    """Common random numbers: giving product a its own time at the press draws a's times
    from a stream of its own, so b's draws from the station's stream are unchanged: b's
    first campaign (before any a) is processed identically, while a's times change."""
    base = {
        "run": {"horizon": 400, "seed": 8},
        "products": {"b": {"route": ["press"], "campaign": 10},
                     "a": {"route": ["press"], "campaign": 10}},
        "stations": {"press": {"process_time": {"exponential": "5 s"}}},
    }
    changed = {**base, "products": {**base["products"], "a": {
        "route": [{"station": "press", "process_time": {"exponential": "50 s"}}],
        "campaign": 10}}}
    one = twin.run(_scenario(base), warmup=0, event_log=True).events
    two = twin.run(_scenario(changed), warmup=0, event_log=True).events

    def first_b(events):
        e = events[(events["product"] == "b") & (events["activity"] == "process")]
        return e.sort_values("start_h").head(10)[["start_h", "end_h"]].to_numpy()

    assert first_b(one) == pytest.approx(first_b(two))
    a_two = two[(two["product"] == "a") & (two["activity"] == "process")]
    a_one = one[(one["product"] == "a") & (one["activity"] == "process")]
    assert (a_two["end_h"] - a_two["start_h"]).mean() > \
        3 * (a_one["end_h"] - a_one["start_h"]).mean()
