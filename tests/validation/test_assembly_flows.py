"""Assembly stations against hand-computed flows and Little's law (docs/validation.md,
Assembly)."""

from __future__ import annotations

import copy

import pytest

import twin
from twin.scenario.schema import Scenario


def _run(doc: dict, **options) -> dict:
    return twin.run(Scenario.model_validate({"name": "assembly", **doc}), **options).summary()


LINE = {
    "run": {"horizon": "10 h", "warmup": "1 h"},
    "products": {"anode": {"route": ["cut_a", "stack"]},
                 "cathode": {"route": ["cut_c", "stack"]},
                 "cell": {"route": ["stack", "weld"], "release": "assembly"}},
    "stations": {"cut_a": {"process_time": 10}, "cut_c": {"process_time": 12},
                 "stack": {"process_time": 8, "buffer": 5,
                           "assembly": {"parts": {"anode": 1, "cathode": 1}}},
                 "weld": {"process_time": 6}},
}


def test_the_slowest_part_paces_the_assembly() -> None:
    """Anodes every 10 s, cathodes every 12 s, one of each per cell: a cell every 12 s
    (300/h); the anode cutter is blocked 2 s in 12 once its lane is full; the stacker is
    busy 8 s in 12; every part released is consumed; a cell's lead time is 8 + 6 s."""
    doc = _run(LINE)
    p = doc["products"]
    assert p["cell"]["throughput_per_h"]["mean"] == pytest.approx(300)
    assert p["anode"]["consumed"]["mean"] == p["cathode"]["consumed"]["mean"] == 3000
    assert p["anode"]["finished"]["mean"] == 0
    assert doc["stations"]["cut_a"]["states"]["blocked"] == pytest.approx(2 / 12)
    assert doc["stations"]["cut_c"]["states"]["blocked"] == 0.0
    assert doc["stations"]["stack"]["utilization"]["mean"] == pytest.approx(8 / 12)
    assert p["cell"]["lead_time_h"]["mean"] == pytest.approx(14 / 3600)
    # a cathode is consumed as it arrives: its time in the system is its 12 s of cutting
    assert p["cathode"]["consumed_time_h"]["mean"] == pytest.approx(12 / 3600)
    assert doc["wip"]["mean"] == pytest.approx(doc["checks"]["littles_law_wip"]["mean"])


def test_two_of_a_part_per_kit_halve_its_pace() -> None:
    """Two anodes per cell at 10 s each: a kit every 20 s (180 cells/h); now the cathode
    cutter waits, blocked 8 s in 20; the first anode of a kit waits 10 s for the second,
    so anodes spend 10 + 5 s in the system on average."""
    doc = copy.deepcopy(LINE)
    doc["stations"]["stack"]["assembly"]["parts"]["anode"] = 2
    out = _run(doc)
    p = out["products"]
    assert p["cell"]["throughput_per_h"]["mean"] == pytest.approx(180)
    assert p["anode"]["consumed"]["mean"] == 2 * p["cathode"]["consumed"]["mean"] == 3600
    assert out["stations"]["cut_c"]["states"]["blocked"] == pytest.approx(8 / 20)
    assert out["stations"]["stack"]["utilization"]["mean"] == pytest.approx(8 / 20)
    assert p["anode"]["consumed_time_h"]["mean"] == pytest.approx(15 / 3600)
    assert out["wip"]["mean"] == pytest.approx(out["checks"]["littles_law_wip"]["mean"])


def test_sub_assemblies_and_randomness_keep_flow_balance_and_little() -> None:
    """A stack (2 anodes + 2 cathodes) is itself a part of the cell (1 stack + 1 can), with
    random times, scrap and failures: over the measured period parts are consumed in kit
    proportion (to the kits under way at the ends), and WIP = Σ rate × time in system."""
    out = _run({
        "run": {"horizon": "3 d", "warmup": "6 h", "replications": 3, "seed": 5},
        "products": {
            "anode": {"route": ["cut_a", "stack"]},
            "cathode": {"route": ["cut_c", "stack"]},
            "stack": {"route": ["stack", "press", "weld"], "release": "assembly"},
            "can": {"route": ["deep_draw", "weld"]},
            "cell": {"route": ["weld", "fill"], "release": "assembly"},
        },
        "stations": {
            "cut_a": {"process_time": {"exponential": "5 s"}, "buffer": 4},
            "cut_c": {"process_time": {"gamma": {"mean": "5.5 s", "cv": 0.5}}},
            "stack": {"process_time": {"lognormal": {"mean": "9 s", "cv": 0.3}}, "buffer": 6,
                      "assembly": {"parts": {"anode": 2, "cathode": 2}},
                      "failures": {"mtbf": {"exponential": "2 h"},
                                   "mttr": {"exponential": "10 min"}}},
            "press": {"process_time": {"exponential": "10 s"}, "buffer": 3, "scrap": 0.02},
            "deep_draw": {"process_time": {"exponential": "8 s"}},
            "weld": {"process_time": {"exponential": "11 s"}, "buffer": 2,
                     "assembly": {"parts": {"stack": 1, "can": 1}}},
            "fill": {"process_time": {"exponential": "9 s"}, "buffer": 5},
        },
    })
    p = out["products"]
    kits = p["stack"]["released"]["mean"]  # stacks made in the period
    assert p["anode"]["consumed"]["mean"] == pytest.approx(2 * kits, abs=1e-9)
    assert p["cathode"]["consumed"]["mean"] == pytest.approx(2 * kits, abs=1e-9)
    assert p["can"]["consumed"]["mean"] == pytest.approx(p["stack"]["consumed"]["mean"])
    assert p["cell"]["released"]["mean"] == pytest.approx(p["stack"]["consumed"]["mean"])
    # stacks either become cells, are scrapped at the press, or are on their way
    made = p["stack"]["released"]["mean"]
    left = p["stack"]["consumed"]["mean"] + p["stack"]["scrapped"]["mean"]
    assert abs(made - left) <= 3 + 2 + 1 + 6 + 1  # press, its buffer, weld's lane, ...
    little = out["checks"]["littles_law_wip"]["mean"]
    assert out["wip"]["mean"] == pytest.approx(little, rel=0.03)
    assert p["cell"]["throughput_per_h"]["mean"] > 200
