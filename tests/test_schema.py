"""The generated JSON Schema, and every scenario shipped in scenarios/ loads."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from twin.scenario.distributions import KINDS
from twin.scenario.load import load, load_document, scenario_json_schema

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p for p in (ROOT / "scenarios").rglob("*.yaml")
                   if "parts" not in p.parts and not p.name.startswith("_"))

EXAMPLE = """\
name: two-machine line
run: {horizon: "30 d", warmup: "2 d", replications: 3, seed: 1}
products:
  cell:
    route: [coat, {station: weld, rework: {p: 0.02, to: coat}}]
    release: {interarrival: {exponential: "20 s"}}
    energy_kwh: 3.76
stations:
  coat: {process_time: {triangular: ["50 s", "55 s", "80 s"]}, buffer: 4}
  weld:
    servers: 2
    process_time: {lognormal: {mean: "18 s", cv: 0.1}}
    scrap: 0.01
    failures: {mtbf: {weibull: {shape: 1.5, scale: "8 h"}}, mttr: {exponential: "30 min"}}
    power_kw: {busy: 150, starved: 60}
"""


def test_schema_is_draft_2020_12_and_round_trips() -> None:
    schema = scenario_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "twin scenario, format version 1"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert json.loads(json.dumps(schema)) == schema


def test_schema_names_every_top_level_key_and_distribution_form() -> None:
    schema = scenario_json_schema()
    assert {"name", "description", "extends", "run", "products", "stations"} <= set(schema["properties"])
    assert {"name", "run", "products", "stations"} <= set(schema["required"])
    assert schema["additionalProperties"] is False
    text = json.dumps(schema)
    for kind in KINDS[1:]:  # constant is written as a bare duration
        assert f'"{kind}"' in text


def _validator() -> Any:
    return jsonschema.Draft202012Validator(scenario_json_schema())


def test_a_valid_scenario_satisfies_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "line.yaml"
    path.write_text(EXAMPLE)
    load(path)  # the loader accepts it ...
    errors = list(_validator().iter_errors(yaml.safe_load(EXAMPLE)))
    assert errors == []  # ... and so does the schema an editor would use


@pytest.mark.parametrize("change", [
    lambda d: d["stations"]["weld"].update(serverz=2),
    lambda d: d["stations"]["weld"].update(servers="two"),
    lambda d: d["stations"]["weld"].update(process_time={"lognormol": {"mean": "18 s", "cv": 0.1}}),
    lambda d: d["run"].pop("horizon"),
    lambda d: d.pop("products"),
])
def test_the_schema_rejects_what_the_loader_rejects(change: Any) -> None:
    doc = yaml.safe_load(EXAMPLE)
    change(doc)
    assert list(_validator().iter_errors(doc))


@pytest.mark.parametrize("path", SCENARIOS, ids=[str(p.relative_to(ROOT)) for p in SCENARIOS])
def test_shipped_scenario_loads_and_satisfies_the_schema(path: Path) -> None:
    assert load(path).name
    assert [e.message for e in _validator().iter_errors(load_document(path))] == []


RICH = ["gigafactory/cell_line.yaml", "gigafactory/cell_line_aging.yaml",
        "examples/electrode_shop_two_floors.yaml", "examples/electrode_shop_agv_battery.yaml",
        "examples/two_shift_packing.yaml", "examples/cell_assembly.yaml",
        "examples/electrode_shop_agv_traffic.yaml"]


def _numbers(node: Any, path: tuple = ()) -> list[tuple]:
    """Key paths of every number (not boolean) in a document."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _numbers(v, path + (k,))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _numbers(v, path + (i,))]
    return [path] if isinstance(node, (int, float)) and not isinstance(node, bool) else []


@pytest.mark.parametrize("name", RICH)
def test_a_boolean_is_no_number_for_the_loader_nor_for_the_schema(name: str) -> None:
    """pydantic's lax mode would read `true` as 1; every number of these scenarios, turned
    into `true`, is refused by the loader exactly when the JSON Schema refuses it."""
    from pydantic import ValidationError

    from twin.scenario.schema import Scenario

    doc = load_document(ROOT / "scenarios" / name)
    doc.pop("extends", None)
    validator = _validator()
    refused = 0
    for path in _numbers(doc):
        changed = copy.deepcopy(doc)
        node = changed
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = True
        schema_refuses = bool(list(validator.iter_errors(changed)))
        try:
            Scenario.model_validate(changed)
            loader_refuses = False
        except ValidationError as e:
            loader_refuses = True
            assert "got true" in str(e) or "bool" not in str(e), (path, e)
        assert loader_refuses == schema_refuses, path
        refused += loader_refuses
    assert refused >= len(_numbers(doc)) - 2  # vary values may be anything


def _properties(schema: dict) -> list[tuple[str, str, dict]]:
    return [(name, key, prop) for name, d in schema.get("$defs", {}).items()
            for key, prop in d.get("properties", {}).items()]


def test_every_key_has_a_description_and_valid_examples() -> None:
    """An editor shows each key's description and examples: every property of the JSON
    Schema has both (or refers to a definition that has them), and each example is valid
    for that very key."""
    schema = scenario_json_schema()
    defs = schema["$defs"]
    checked = 0
    for name, key, prop in _properties(schema):
        if "$ref" in prop and "examples" not in prop:
            continue  # (its definition is checked where it is defined)
        assert prop.get("description") or "anyOf" in prop, (name, key)
        assert prop.get("examples"), (name, key)
        sub = jsonschema.Draft202012Validator({**prop, "$defs": defs})
        for example in prop["examples"]:
            errors = list(sub.iter_errors(example))
            assert not errors, (name, key, example, errors[0].message)
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("full", [False, True], ids=["without defaults", "in full"])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_a_dumped_scenario_reads_back_the_same(path: Path, tmp_path: Path, full: bool) -> None:
    """A validated scenario dumped to plain data (as a notebook saves a changed scenario)
    is a scenario file again: the JSON Schema accepts it and loading it gives the same
    scenario, hash included. Distributions and tariffs dump in the form a file writes.
    In full, every default is written too (`at_shift_end: pause` on stations without a
    calendar among them, which the loader takes: it is what such a station does)."""
    from twin.scenario.load import scenario_hash

    scenario = load(path)
    data = scenario.model_dump(mode="json", by_alias=True, exclude_defaults=not full)
    errors = [e.message[:200] for e in
              jsonschema.Draft202012Validator(scenario_json_schema()).iter_errors(data)]
    assert errors == []
    copy_path = tmp_path / "dumped.yaml"
    copy_path.write_text(yaml.safe_dump(data, sort_keys=False))
    again = load(copy_path)
    assert again == scenario
    assert scenario_hash(again) == scenario_hash(scenario)


def test_distributions_dump_as_written() -> None:
    from twin.scenario.distributions import parse_distribution, written

    for raw, form in [(90, 90.0), ("2 min", 120.0), ({"exponential": "1 h"}, {"exponential": 3600.0}),
                      ({"erlang": {"mean": 60, "k": 4}}, {"erlang": {"mean": 60.0, "k": 4}}),
                      ({"uniform": ["1 s", "3 s"]}, {"uniform": [1.0, 3.0]}),
                      ({"weibull": {"shape": 1.5, "scale": "8 h"}},
                       {"weibull": {"shape": 1.5, "scale": 28800.0}})]:
        d = parse_distribution(raw)
        assert written(d) == form
        assert parse_distribution(written(d)) == d
