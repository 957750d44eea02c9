"""Conveyors against hand computation and queueing identities (docs/modelling.md,
Conveyors): a conveyor of length L, speed v and pitch p takes a unit every p / v, carries
it L / v, and holds ceil(L / p) units (20 here, where L / p is whole)."""

from __future__ import annotations

import pytest

L, V, P = 24.0, 0.4, 1.2
TRAVEL, GAP, PLACES = L / V, P / V, 20  # 60 s, 3 s


@pytest.mark.parametrize("feed", [2.0, 4.0, 5.0])
def test_throughput_is_the_least_of_feeder_and_conveyor_rates(cases, check, feed) -> None:
    doc = cases.summary("conveyor_line.yaml", f"stations.feed.process_time={feed}")
    rate = min(1 / feed, V / P) * 3600
    cell = doc["products"]["cell"]
    # the 2 h window catches the steady stream within one unit
    assert cell["throughput_per_h"]["mean"] == pytest.approx(rate, abs=0.5)
    # lead time: processing, the wait for the entry (a fast feeder finishes GAP - feed
    # after the last unit got on; it waits GAP - feed), travel, the sink's 1 s
    wait = max(0.0, GAP - feed)
    check.exact(cell["lead_time_h"], (feed + wait + TRAVEL + 1.0) / 3600, "lead time")
    belt = doc["conveyors"]["belt"]
    check.exact(belt["aboard_h"], TRAVEL / 3600, "time aboard")
    # Little's law on the conveyor, exact in the steady stream
    assert belt["aboard_mean"]["mean"] == pytest.approx(rate / 3600 * TRAVEL, rel=1e-3)
    assert belt["states"]["moving"] == pytest.approx(1.0)
    assert doc["stations"]["feed"]["states"]["blocked"] == pytest.approx(wait / max(feed, GAP))
    # energy: 1.5 kW moving for the whole 2 h
    check.exact(belt["energy_kwh"], 1.5 * 2, "conveyor energy")


@pytest.mark.parametrize("accumulating", [True, False])
def test_a_slower_sink_fills_the_conveyor_and_blocks_the_feeder(cases, check,
                                                                 accumulating) -> None:
    """Feeder 2 s, sink 5 s without buffer. The conveyor fills to its 20 places; each time
    the sink takes a unit the next reaches the end GAP = 3 s later (queued a pitch behind,
    or, on a non-accumulating belt, carried a pitch by the restarted belt) and waits 2 s
    for the sink: the belt moves 3 s and stands 2 s of every 5 s. The feeder gets a unit on
    as one leaves: busy 2 s, blocked 3 s per 5 s. Each unit spends 20 sink cycles aboard."""
    doc = cases.summary("conveyor_line.yaml", "stations.sink.process_time=5",
                        f"logistics.conveyors.belt.accumulating={str(accumulating).lower()}")
    assert doc["products"]["cell"]["throughput_per_h"]["mean"] == pytest.approx(720, abs=0.5)
    belt = doc["conveyors"]["belt"]
    assert belt["aboard_max"]["mean"] == PLACES
    assert belt["aboard_mean"]["mean"] == pytest.approx(PLACES)
    check.exact(belt["aboard_h"], PLACES * 5 / 3600, "time aboard")
    assert belt["states"]["stopped"] == pytest.approx(2 / 5, abs=1e-3)
    assert belt["states"]["moving"] == pytest.approx(3 / 5, abs=1e-3)
    assert doc["stations"]["feed"]["states"]["blocked"] == pytest.approx(3 / 5, abs=1e-3)
    hours = 2.0
    assert belt["energy_kwh"]["mean"] == pytest.approx(
        hours * (1.5 * belt["states"]["moving"] + 0.2 * belt["states"]["stopped"]))
    # the sink is the bottleneck; the conveyor's entry is occupied 3 s of every 5 s
    assert doc["bottleneck"]["resource"] == "sink"


def test_littles_law_on_the_conveyor_and_the_line(cases) -> None:
    res = cases.results("conveyor_random.yaml")
    table = res.conveyors()
    assert len(table) == 4
    for _, row in table.iterrows():
        assert row["carried"] > 8_000
        assert row["aboard_mean"] == pytest.approx(row["carried_per_h"] * row["aboard_h"],
                                                   rel=0.01)
        assert row["aboard_max"] <= 8
        assert row["aboard_h"] * 3600 >= 24.0  # never faster than length / speed
    doc = res.summary()
    wip, flow = doc["wip"]["mean"], doc["checks"]["littles_law_wip"]["mean"]
    assert flow == pytest.approx(wip, rel=0.02)
    # the units aboard are part of the WIP
    assert wip > doc["conveyors"]["belt"]["aboard_mean"]["mean"]
