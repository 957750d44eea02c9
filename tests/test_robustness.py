"""Issue 6: whatever a user writes, twin either simulates it or says clearly what is wrong.

Valid scenarios are mutated at random — values replaced by numbers at the edges (0, tiny,
huge, negative), by other distributions or by nonsense — and then loaded *and run*. The only
acceptable outcomes are a result whose identities hold, a ScenarioError listing located
problems, or replications recorded as failed with a diagnosed reason (deadlock, runaway run).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin
from twin.errors import ScenarioError

from support import key_paths

BASE: dict[str, Any] = {
    "name": "mutant",
    "run": {"horizon": "2 h", "replications": 1, "seed": 3},
    "products": {
        "cell": {
            "route": ["coat", {"station": "weld", "rework": {"p": 0.05, "to": "coat"}}, "test",
                      "bake"],
            "release": {"interarrival": {"exponential": "30 s"}},
        },
        "tray": {"route": ["weld", "test"], "release": {"conwip": 3}, "transport": "agv"},
    },
    "stations": {
        "coat": {"process_time": {"lognormal": {"mean": "18 s", "cv": 0.2}},
                 "failures": {"mtbf": {"exponential": "1 h"}, "mttr": "5 min"}},
        "weld": {"servers": 2, "process_time": {"uniform": ["15 s", "25 s"]}, "scrap": 0.01,
                 "buffer": 2, "power_kw": {"busy": 150, "starved": 60}, "setup": "1 min",
                 "failures": {"mtbf": {"weibull": {"shape": 1.5, "scale": "2 h"}},
                              "mttr": {"exponential": "10 min"}, "mode": "operation"}},
        "test": {"process_time": {"triangular": ["5 s", "8 s", "20 s"]}, "buffer": 0},
        "bake": {"process_time": "2 min", "batch": {"size": 4, "min": 2}, "buffer": 8},
    },
    "initial_wip": {"weld": {"tray": 2}},
    "logistics": {
        "points": {"depot": [0, 0], "weld": [20, 0], "test": [20, 15]},
        "paths": [["depot", "weld"], {"from": "weld", "to": "test", "length": 18},
                  {"from": "test", "to": "depot", "one_way": True}],
        "fleets": {"agv": {"vehicles": 2, "speed_loaded": 1.2, "speed_empty": 1.8,
                           "load_time": "10 s", "unload_time": {"exponential": "8 s"},
                           "home": "depot", "power_kw": {"moving_loaded": 1.5}}},
    },
}

EDGES = st.one_of(
    st.sampled_from([0, 1, 2, -1, 0.5, 1e-6, 1e6, 10**5, "0 s", "1 s", "1e-6 s", "1000 d",
                     "-5 min", "saturated", "coat", "weld", None, True, [], {}]),
    st.sampled_from([{"exponential": "1 s"}, {"conwip": 1}, {"interarrival": 0.001},
                     {"empirical": ["0 s", "1 s"]}, {"normal": {"mean": "1 s", "sd": "5 s"}},
                     {"p": 1.0, "to": "test"}, {"p": 0.9, "to": "coat"}]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-3, 50),
)




def _mutant(data: st.DataObject) -> dict:
    doc = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(key_paths(doc)))
        if path[:2] in (("run", "horizon"), ("run", "replications")):
            continue  # keep every run short
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if data.draw(st.booleans()) and isinstance(parent, dict) and len(path) > 1:
            del parent[path[-1]]
        else:
            # a copy: sampled [] and {} are shared objects a later step could fill in,
            # which would change what the strategy draws next time (hypothesis: flaky)
            parent[path[-1]] = copy.deepcopy(data.draw(EDGES))
    return doc


def _check(path: Path) -> str:
    """Load and run briefly; return which acceptable outcome it was."""
    try:
        scenario = twin.load(path, ["run.max_wall=5 s", "run.max_events=3000000",
                                    "run.max_wip=20000"])
    except ScenarioError as e:
        assert e.problems and all(p.message and p.file for p in e.problems)
        return "scenario error"
    results = twin.run(scenario, warmup=0)
    for failure in results.meta["failed"]:
        assert failure["error"] and "Traceback" not in failure["error"]
        assert any(word in failure["error"] for word in ("deadlock", "runaway")), failure
    if not len(results.measures):
        return "failed replication"
    doc = results.summary()
    for name, station in doc["stations"].items():
        assert sum(station["states"].values()) == pytest.approx(1.0, abs=1e-9), name
    for name, fleet in doc.get("fleets", {}).items():
        assert sum(fleet["states"].values()) == pytest.approx(1.0, abs=1e-9), name
    return "ran"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_scenario_runs_or_fails_cleanly(tmp_path: Path, data: st.DataObject) -> None:
    file = tmp_path / "mutant.yaml"
    file.write_text(yaml.safe_dump(_mutant(data)), encoding="utf-8")
    assert _check(file) in ("scenario error", "failed replication", "ran")


def test_the_unmutated_scenario_runs(tmp_path: Path) -> None:
    file = tmp_path / "base.yaml"
    file.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    assert _check(file) == "ran"


@pytest.mark.parametrize("change", [
    {"stations": {"test": {"process_time": "-1 s"}}},
    {"products": {"cell": {"route": ["coat", "weld", "tset"]}}},
    {"stations": {"test": {"process_time": "0.000001 s"}}},
])
def test_the_command_line_never_shows_a_traceback(tmp_path: Path, change: dict) -> None:
    doc = copy.deepcopy(BASE)
    for section, entries in change.items():
        for name, values in entries.items():
            doc[section][name].update(values)
    file = tmp_path / "case.yaml"
    file.write_text(yaml.safe_dump(doc), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "twin.cli", "run", str(file), "--quiet",
                           "--set", "run.max_wall=3 s"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1, 2)
    assert "Traceback" not in proc.stderr
    if proc.returncode:
        assert proc.stderr.strip(), "a failure must say why"
