"""Every scenario shipped under scenarios/ loads, runs briefly and keeps the identities.

Files in `parts/` folders and files whose name starts with `_` are pieces for `extends:`,
not scenarios of their own. Each scenario runs one replication of a short horizon from
empty (no warm-up), on its own engine; the summary must then satisfy what holds for any
run: state fractions that sum to 1 at every station, and flow balance (every unit released
in the period finished, was scrapped, or is still inside).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import twin

ROOT = Path(__file__).resolve().parents[1] / "scenarios"
HORIZON = "6 h"


def shipped_scenarios() -> list[Path]:
    found = []
    for path in sorted(ROOT.rglob("*.y*ml")):
        rel = path.relative_to(ROOT)
        if "parts" in rel.parts[:-1] or path.name.startswith("_"):
            continue
        found.append(path)
    return found


SCENARIOS = shipped_scenarios()


def test_there_are_scenarios():
    assert any(p.parent.name == "validation" for p in SCENARIOS)
    assert (ROOT / "gigafactory" / "cell_line.yaml") in SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scenario_runs_briefly_and_keeps_the_identities(path):
    scenario = twin.load(path)
    results = twin.run(scenario, replications=1, horizon=HORIZON, warmup=0, workers=1)
    assert results.meta["failed"] == [], results.meta["failed"]
    s = results.summary()
    assert s["replications"] == 1 and s["run"]["replications_ok"] == 1
    assert s["horizon_h"] == 6.0 and s["warmup_h"] == 0.0
    assert set(s["stations"]) == set(scenario.stations)
    assert set(s["products"]) == set(scenario.products)
    for name, station in s["stations"].items():
        assert all(f >= -1e-12 for f in station["states"].values()), name
        assert sum(station["states"].values()) == pytest.approx(1.0, abs=1e-9), name

    m = results.measures

    def total(kind: str, measure: str) -> float:
        return float(m[(m["kind"] == kind) & (m["measure"] == measure)]["value"].sum())

    released = total("product", "released")
    left = total("product", "finished") + total("product", "scrapped") \
        + total("product", "consumed")  # (parts joined into another product by assembly)
    inside = total("system", "wip_end") - total("system", "wip_start")
    assert released == left + inside
    # no warm-up: the run starts empty, or with its initial work in process
    from twin.scenario.initial import units
    assert total("system", "wip_start") == sum(units(n) for counts in
                                               scenario.initial_wip.values()
                                               for n in counts.values())
    assert s["wip"]["mean"] >= 0
