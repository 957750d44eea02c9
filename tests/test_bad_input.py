"""Broken scenarios give one clear ScenarioError each, never a traceback.

Every file in tests/bad_scenarios/ holds one mistake and says, in comments at its top, what
the message must contain (`# expect:`) and, where it matters, the exact place (`# where:`,
`# line:`, `# column:`). Helper files that the corpus extends live in bad_scenarios/parts/.
"""

from __future__ import annotations

import copy
import re
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.errors import ScenarioError
from twin.scenario.load import load
from twin.scenario.schema import Scenario

from support import key_paths

CORPUS = Path(__file__).parent / "bad_scenarios"
FILES = sorted(CORPUS.glob("*.yaml"))


def _header(path: Path) -> dict[str, str]:
    text = path.read_bytes().decode("utf-8", "replace")
    return dict(re.findall(r"^# (expect|where|line|column): (.*)$", text, re.MULTILINE))


def test_corpus_is_large_enough() -> None:
    assert len(FILES) >= 25
    assert all("expect" in _header(f) for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_bad_scenario_is_reported_clearly(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)  # file names as a user would type them
    head = _header(path)
    with pytest.raises(ScenarioError) as info:
        load(path.name)
    text = str(info.value)
    assert path.name in text
    assert head["expect"] in text
    assert "Traceback" not in text and "pydantic" not in text and "Value error" not in text
    matching = [p for p in info.value.problems if head["expect"] in p.message]
    assert matching, text
    problem = matching[0]
    if "where" in head:
        assert (problem.where or "(top level)") == head["where"]
    else:
        assert problem.where or problem.line is not None, "a problem must say where it is"
    if "line" in head:
        assert problem.line == int(head["line"])
        assert f"line {problem.line}" in str(problem)
    if "column" in head:
        assert problem.column == int(head["column"])


def test_every_problem_has_a_message_and_a_file() -> None:
    for path in FILES:
        with pytest.raises(ScenarioError) as info:
            load(path)
        for problem in info.value.problems:
            assert problem.file and problem.message
            assert "[type=" not in problem.message and "literal[" not in problem.message


# ---------------------------------------------------------------- random mutations

VALID: dict[str, Any] = {
    "name": "two-machine line",
    "run": {"horizon": "30 d", "warmup": "2 d", "replications": 2, "seed": 7},
    "products": {
        "cell": {
            "route": ["coat", {"station": "weld", "rework": {"p": 0.05, "to": "coat"}}],
            "release": {"conwip": 4},
            "energy_kwh": 3.76,
            "transport": "agv",
        }
    },
    "logistics": {
        "points": {"depot": [0, 0], "coat": [10, 0], "weld": [10, 25]},
        "paths": [["depot", "coat"], {"from": "coat", "to": "weld", "length": 30}, ["weld", "depot"]],
        "fleets": {"agv": {"vehicles": 3, "speed_loaded": 1.2, "load_time": "10 s", "home": "depot",
                           "power_kw": {"moving_loaded": 1.5, "idle": 0.2},
                           "battery": {"capacity_kwh": 5, "recharge_below": 0.3, "charge_kw": 3,
                                       "chargers": ["depot"]}}},
    },
    "stations": {
        "coat": {"process_time": {"lognormal": {"mean": "18 s", "cv": 0.2}}, "buffer": 4},
        "weld": {
            "servers": 2,
            "process_time": {"uniform": ["15 s", "25 s"]},
            "scrap": 0.01,
            "failures": {"mtbf": {"exponential": "8 h"}, "mttr": {"weibull": {"shape": 1.5, "scale": "30 min"}}},
            "power_kw": {"busy": 150, "starved": 60},
        },
    },
}

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["5 s", "-1 h", "3 sec", "auto", "saturated", "coat", "weld", ""]),
    st.sampled_from([10**400, -(10**400), 1e308, 1e-300, 0.001]),  # overflow and underflow
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)




def _typo(key: str, data: st.DataObject) -> str:
    if not key:
        return "x"
    i = data.draw(st.integers(0, len(key) - 1))
    return key[:i] + data.draw(st.sampled_from(string.ascii_lowercase)) + key[i + 1:]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_scenario_loads_or_raises_scenario_error(tmp_path: Path, data: st.DataObject) -> None:
    doc = copy.deepcopy(VALID)
    for _ in range(data.draw(st.integers(1, 2))):
        places = key_paths(doc)
        if not places:
            break
        path = data.draw(st.sampled_from(places))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["delete", "replace", "rename"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace" or isinstance(parent, list):
            parent[path[-1]] = data.draw(VALUES)
        else:
            parent[_typo(str(path[-1]), data)] = parent.pop(path[-1])
    file = tmp_path / "mutant.yaml"
    file.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    try:
        assert isinstance(load(file), Scenario)
    except ScenarioError as e:
        assert e.problems and all(p.message for p in e.problems)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("ab: -[]{}\n\t\"'&*!|>%@#,?.0123456789")), max_size=80))
def test_random_text_loads_or_raises_scenario_error(tmp_path: Path, text: str) -> None:
    file = tmp_path / "noise.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError):
        load(file)


@pytest.mark.parametrize("doc, where, words", [
    ({"products": {"a": {"route": ["f", "g"]}}, "stations": {"f": {"process_time": 1}}},
     "products.a.route[1].station", "unknown station 'g'"),
    ({"products": {"a": {"route": ["f", {"station": "oven", "rework": {"p": 0.5, "to": "f"}}]}},
      "stations": {"f": {"process_time": 1},
                   "oven": {"process_time": 5, "batch": {"size": 3}}}},
     "products.a.route[1].rework", "processes batches"),
    ({"products": {"a": {"route": ["f"]}}, "stations": {"f": {"process_time": 1}},
      "initial_wip": {"f": {"b": 2}}},
     "initial_wip.f.b", "unknown product 'b'"),
])
def test_a_scenario_built_in_code_is_checked_like_a_file(doc, where, words) -> None:
    """twin.run on a Scenario made with Scenario.model_validate (notebooks) reports what
    `twin.load` would, as one clean ScenarioError, never a traceback or a silent run."""
    import twin
    from twin.scenario.schema import Scenario

    scenario = Scenario.model_validate({"name": "in code", "run": {"horizon": 100}, **doc})
    with pytest.raises(ScenarioError) as info:
        twin.run(scenario)
    (problem,) = info.value.problems
    assert problem.where == where and words in problem.message
