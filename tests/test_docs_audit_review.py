"""Review of the user documentation (README, docs/scenario-format.md, docs/results.md,
docs/experiments.md) against the program.

Guards of the facts checked in the review: every YAML example of scenario-format.md
validates, every key of `twin schema` is documented and its documented default is the
schema's, the documented error messages are the ones twin prints, every summary field,
measure and timeline measure a run writes is named in results.md, and the README's
commands refer to keys and files that exist. The test marked as a known bug fails for a
real reason (see its docstring).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

import twin
from twin.cli import main
from twin.scenario.load import scenario_json_schema

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
FORMAT = (DOCS / "scenario-format.md").read_text()
RESULTS = (DOCS / "results.md").read_text()
EXPERIMENTS = (DOCS / "experiments.md").read_text()
ENERGY = (DOCS / "energy.md").read_text()
README = (REPO / "README.md").read_text()
TUTORIAL_LINE = REPO / "scenarios" / "examples" / "tutorial_line.yaml"


def _yaml_blocks(text: str) -> list[tuple[int, str]]:
    return [(text[:m.start()].count("\n") + 1, m.group(1))
            for m in re.finditer(r"```yaml\n(.*?)```", text, re.S)]


def _validate(path: Path, capsys, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["validate", str(path), *extra])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


# --- scenario-format.md: every example validates --------------------------------------------

def _complete(block: dict) -> dict:
    """A fragment of the page made a whole scenario: placeholders (`{...}`) and `extends`
    dropped, a name and a run added, and each station, product and point the fragment names
    but does not define added in its plainest form. The fragment's own keys are kept as
    written."""
    d = {k: v for k, v in block.items() if not (isinstance(v, dict) and list(v) == ["..."])}
    d.pop("extends", None)
    d.setdefault("name", "doc example")
    d.setdefault("run", {"horizon": "1 h"})
    stations = d.setdefault("stations", {})
    products = d.setdefault("products", {})
    logistics = d.get("logistics") or {}
    if not products:
        if d.get("initial_wip"):  # each product through the stations it has units at
            for station, units in d["initial_wip"].items():
                for product in units:
                    products.setdefault(product, {"route": []})["route"].append(station)
        elif logistics.get("conveyors"):  # a route for every move a conveyor carries
            for i, c in enumerate(logistics["conveyors"].values()):
                products[f"p{i}"] = {"route": [c["from"], c["to"]]}
        else:
            products["unit"] = {"route": [next(iter(stations), "s")]}
    for p in products.values():
        for step in p["route"]:
            names = [step] if isinstance(step, str) else [step["station"]] + (
                [step["rework"]["to"]] if "rework" in step else [])
            for name in names:
                stations.setdefault(name, {"process_time": "1 s"})
    if logistics.get("paths") and not logistics.get("points"):
        ends = []
        for path in logistics["paths"]:
            ends += list(path) if isinstance(path, list) else [path["from"], path["to"]]
        logistics["points"] = {p: [10 * i, 0] for i, p in enumerate(dict.fromkeys(ends))}
    return d


FORMAT_BLOCKS = _yaml_blocks(FORMAT)


def test_scenario_format_has_its_examples():
    # the overview, changeovers, batch, assembly, initial WIP, calendars, logistics, lifts,
    # conveyors, congestion and warehouses each show one
    assert len(FORMAT_BLOCKS) >= 11


@pytest.mark.parametrize("line,text", FORMAT_BLOCKS, ids=[f"line{n}" for n, _ in FORMAT_BLOCKS])
def test_scenario_format_example_validates(line, text, tmp_path, capsys):
    scenario = _complete(yaml.safe_load(text))
    path = tmp_path / f"example_{line}.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    status, output = _validate(path, capsys)
    assert status == 0, f"docs/scenario-format.md line {line}:\n{output}"


# --- scenario-format.md: the schema's keys and defaults -------------------------------------

SCHEMA = scenario_json_schema()
DEFS = SCHEMA["$defs"]
# keys documented on another page: the energy block (energy.md) and sweeps (experiments.md)
ELSEWHERE = {"Energy": ENERGY, "FacilityLoad": ENERGY, "Vary": EXPERIMENTS}


def _keys(node, found: set[str]) -> None:
    """Every property name anywhere in a schema node (distributions, setups and paths are
    inline, not in $defs)."""
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            found.add(name)
            _keys(sub, found)
        for key, sub in node.items():
            if key != "properties":
                _keys(sub, found)
    elif isinstance(node, list):
        for sub in node:
            _keys(sub, found)


@pytest.mark.parametrize("definition", ["(top level)", *DEFS])
def test_every_schema_key_is_documented(definition):
    node = {"properties": SCHEMA["properties"]} if definition == "(top level)" else DEFS[definition]
    if definition == "(top level)":  # only its own keys; the rest is in $defs
        found = set(SCHEMA["properties"])
    else:
        found = set()
        _keys(node, found)
    page = ELSEWHERE.get(definition, FORMAT)
    missing = sorted(k for k in found if not re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", page))
    assert not missing, f"{definition}: keys of `twin schema` not in the docs: {missing}"


# (definition, key, default as docs/scenario-format.md and docs/experiments.md state it)
DOCUMENTED_DEFAULTS = [
    ("Run", "warmup", 0), ("Run", "replications", 1), ("Run", "seed", 0),
    ("Run", "engine", "simpy"), ("Run", "precision", 0.02), ("Run", "max_replications", 100),
    ("Run", "max_wip", 5_000_000), ("Run", "max_events", 2_000_000_000),
    ("Run", "max_wall", None),
    ("Product", "release", "saturated"), ("Product", "campaign", 1),
    ("Station", "servers", 1), ("Station", "buffer", None), ("Station", "scrap", 0),
    ("Station", "at_shift_end", "pause"), ("Failures", "mode", "time"),
    ("Warehouse", "cranes", 1), ("Warehouse", "pick_deposit", 0),
    ("Fleet", "load_time", 0), ("Fleet", "unload_time", 0), ("Fleet", "speed_empty", None),
    ("Battery", "initial", 1), ("Battery", "charge_to", 1), ("Battery", "efficiency", 1),
    ("Battery", "opportunity", False),
    ("Lift", "cars", 1), ("Lift", "load_time", 0), ("Lift", "unload_time", 0),
    ("Conveyor", "accumulating", True),
]


@pytest.mark.parametrize("definition,key,default", DOCUMENTED_DEFAULTS,
                         ids=[f"{d}.{k}" for d, k, _ in DOCUMENTED_DEFAULTS])
def test_documented_default_is_the_schemas(definition, key, default):
    assert DEFS[definition]["properties"][key].get("default") == default


def test_documented_limits_are_the_schemas():
    # "at most 100,000 servers, buffers up to 10⁸, ... replications up to 100,000"
    station = DEFS["Station"]["properties"]
    assert station["servers"]["maximum"] == 100_000
    assert max(a.get("maximum", 0) for a in station["buffer"]["anyOf"]) == 10 ** 8
    reps = DEFS["Run"]["properties"]["replications"]["anyOf"]
    assert max(a.get("maximum", 0) for a in reps) == 100_000


# --- scenario-format.md: the error messages it shows ------------------------------------------

HEAD = "name: errors\nrun:\n  horizon: \"1 h\"\n"
ERROR_FILES = {  # files that put each mistake at the line and column the page shows
    "unknown station 'wled'": HEAD + "stations:\n  weld:\n    process_time: \"1 s\"\n"
                              "    servers: 1\nproducts:\n  cell:\n    route: [weld, wled]\n",
    "unknown key 'serverz'": HEAD + "# a comment\n" * 5 + "products:\n  cell: {route: [weld]}\n"
                             "stations:\n  weld:\n    process_time: 1\n    serverz: 2\n",
    "YAML syntax error": HEAD + "# a comment\n" * 3 + "products:\n  c:\n    route: [a]\n"
                         "stations:\n  a:\n\tprocess_time: 1\n",
    "expected a number, got true": HEAD + "products:\n  cell: {route: [coat, weld]}\n"
                                   "stations:\n  coat: {process_time: \"1 s\"}\n"
                                   "  weld: {process_time: \"1 s\", buffer:  true}\n",
}


@pytest.mark.parametrize("marker", list(ERROR_FILES))
def test_scenario_format_error_example_is_printed(marker, tmp_path, capsys, monkeypatch):
    shown = next(line for line in FORMAT.splitlines()
                 if line.startswith("error: line.yaml") and marker in line)
    monkeypatch.chdir(tmp_path)
    Path("line.yaml").write_text(ERROR_FILES[marker])
    status, output = _validate(Path("line.yaml"), capsys)
    assert status == 2
    assert shown in output.splitlines()


# --- results.md: every field, measure and timeline measure a run writes ---------------------

SHORT = ["run.horizon=12 h", "run.warmup=1 h", "run.replications=2"]
RUNS = {  # scenario -> overrides; what each adds to the summary
    "examples/tutorial_line.yaml": SHORT,                   # stations, energy, energy_kwh
    "examples/electrode_shop_two_floors.yaml": SHORT,       # fleets, lifts
    "examples/electrode_shop_agv_opportunity.yaml": SHORT,  # batteries, opportunity charging
    "examples/electrode_shop_agv_traffic.yaml": SHORT,      # limited paths
    # conveyors, batches, a warehouse; a warm-up after which the conveyors hold up the flow
    "examples/formation_conveyor.yaml": ["run.horizon=12 h", "run.warmup=1 d",
                                         "run.replications=2"],
    "examples/cell_assembly.yaml": SHORT,                   # assembly parts
}
ENTITIES = {"products", "stations", "fleets", "lifts", "conveyors", "paths", "by_area",
            "by_station", "facility"}  # mappings of entity names to their fields
NAMES_ONLY = {"share", "sole", "shifting", "versions"}  # entity or package names to numbers


@pytest.fixture(scope="module")
def runs():
    out = {}
    for name, overrides in RUNS.items():
        scenario = twin.load(REPO / "scenarios" / name, overrides=overrides)
        out[name] = twin.run(scenario, workers=1)
    return out


def _field_names(node, parent: str = "") -> set[str]:
    """The field names of a summary document, entity and package names left out."""
    names: set[str] = set()
    if not isinstance(node, dict) or set(node) == {"mean", "ci95"} or parent in NAMES_ONLY:
        return names
    for key, value in node.items():
        if parent in ENTITIES:  # `key` is an entity: only its fields count
            names |= _field_names(value, "")
        else:
            names.add(key)
            names |= _field_names(value, key)
    return names


def _documented(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) is not None


def test_every_summary_field_is_in_results_md(runs):
    missing = set()
    for name, results in runs.items():
        for field in _field_names(results.summary()):
            if not _documented(field, RESULTS):
                missing.add((name, field))
    assert not missing, f"summary fields not documented in docs/results.md: {sorted(missing)}"


STATES = ("busy starved blocked down setup off_shift moving_loaded moving_empty loading "
          "unloading waiting idle to_charger waiting_charger charging waiting_lift riding_lift "
          "moving stopped empty").split()


def _measure_pattern(measure: str) -> str:
    for state in sorted(STATES, key=len, reverse=True):
        for pattern in ("energy_{state}_kwh", "heat_{state}_kwh", "recovered_{state}_kwh",
                        "{state}_h"):
            if measure == pattern.replace("{state}", state):
                return pattern
    return measure


def _paragraph(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def test_every_measure_is_listed_in_results_md(runs):
    listing = _paragraph(RESULTS, "Measures of `measures`", "Measures of `timeline`")
    missing = set()
    for results in runs.values():
        for kind, measure in results.measures[["kind", "measure"]].drop_duplicates().values:
            name = _measure_pattern(measure)
            if not _documented(name, listing):
                missing.add((kind, name))
    assert not missing, f"measures not listed in docs/results.md: {sorted(missing)}"


def test_every_timeline_measure_is_listed_in_results_md(runs):
    listing = _paragraph(RESULTS, "Measures of `timeline`", "Beside them")
    # "..., system `wip_mean`, and stations, fleets, ... `bottleneck_sole_h, ..."
    bottleneck_kinds = listing[listing.index("`wip_mean`"):listing.index("`bottleneck_sole_h")]
    plural = {"station": "stations", "fleet": "fleets", "lift": "lifts", "conveyor": "conveyors"}
    for results in runs.values():
        for kind, measure in results.timeline[["kind", "measure"]].drop_duplicates().values:
            assert _documented(measure, listing), (kind, measure)
            if measure.startswith("bottleneck_"):  # the kinds listed with these measures
                assert plural[kind] in bottleneck_kinds, (kind, bottleneck_kinds)


def test_active_periods_name_every_resource_kind():
    scenario = twin.load(REPO / "scenarios" / "examples" / "electrode_shop_two_floors.yaml",
                         overrides=["run.horizon=1 d", "run.warmup=1 h"])
    results = twin.run(scenario, replications=1, workers=1, event_log=True)
    named = set(results.active_periods["station"])
    assert {"agv", "lift"} <= named  # a fleet and a lift, as results.md says
    row = next(line for line in RESULTS.splitlines() if line.startswith("| `active_periods`"))
    assert "fleet, lift or conveyor" in row


def test_summary_products_fields_in_the_documented_order(runs):
    table = _paragraph(RESULTS, "| field | meaning |", "Energy quantities")
    documented = []
    for row in table.splitlines():
        if row.startswith("| `products.P."):
            cell = row.split("|")[1]
            documented += [f.strip("`.").removeprefix("products.P.")
                           for f in re.findall(r"`[^`]+`", cell)]
    product = next(iter(runs["examples/cell_assembly.yaml"].summary()["products"].values()))
    assert [f for f in documented if f in product] == list(product)


def test_compare_document_has_the_documented_keys(tmp_path, capsys):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(TUTORIAL_LINE.read_text())
    b.write_text("extends: a.yaml\nname: two sealers\nstations:\n  laser_seal:\n"
                 "    servers: 2\n")
    capsys.readouterr()
    status = main(["compare", str(a), str(b), "--horizon", "2 h", "--warmup", "0",
                   "--replications", "2", "--workers", "1", "--json", "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    assert status == 0
    assert set(doc) == {"baseline", "scenarios", "seed", "replications", "kpis"}
    assert doc["baseline"] == "tutorial line"
    for kpi in doc["kpis"].values():
        assert set(kpi) == {"values", "difference", "verdict"}
        assert set(kpi["difference"]) == set(kpi["verdict"]) == {"two sealers"}
    assert doc["kpis"]["total_kwh"]["verdict"]["two sealers"].endswith(
        ("higher than tutorial line", "lower than tutorial line", "no significant difference"))


# --- README ---------------------------------------------------------------------------------

def test_readme_commands_use_keys_of_the_tutorial_line(capsys):
    overrides = set(re.findall(r"--set (\S+)", README.split("## Documentation")[0]))
    overrides |= set(re.findall(r'overrides=\["([^"]+)"\]', README))
    assert overrides
    for override in overrides:
        status, output = _validate(TUTORIAL_LINE, capsys, "--set", override)
        assert status == 0, (override, output)


def test_readme_names_files_that_exist():
    for name in set(re.findall(r"`((?:scenarios|notebooks)/[\w/.-]+\.(?:yaml|ipynb))`", README)):
        assert (REPO / name).exists(), name
    for name in set(re.findall(r"`(\w+\.yaml)`", README)) - {"line.yaml"}:  # the tutorial's
        assert list((REPO / "scenarios").rglob(name)), name


# --- program bugs ---------------------------------------------------------------------------

def test_misspelt_station_in_vary_key_is_reported_at_the_vary_entry(tmp_path, capsys):
    """Known bug. docs/scenario-format.md (Errors): "`twin validate` reports everything
    `twin run` would refuse before running: besides the file itself, the levels of its
    `vary:` points", every mistake "with the file, the key path"; the spec
    (../shared/spec/scenario.md, Errors) wants "the file, the place". A `vary:` key naming a
    station that does not exist is reported as `<command line>: --set stations.X...`, as if
    the user had typed a --set option, not at `vary.factorial.stations.X.servers` of the
    file that holds it (twin/vary.py `_locate_level` matches only problems at or under the
    varied key, and this one is at the new station's `process_time`). The same happens for
    `twin run line.yaml --vary stations.X.servers=1,2`, which is reported as a `--set`."""
    base = tmp_path / "line.yaml"
    base.write_text(TUTORIAL_LINE.read_text())
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("extends: line.yaml\nname: sweep\nvary:\n  factorial:\n"
                     "    stations.laser_sael.servers: [1, 2]\n")
    status, output = _validate(sweep, capsys)
    assert status == 2
    assert "laser_sael" in output
    assert "<command line>" not in output and "--set" not in output, output
    assert "sweep.yaml" in output
    assert "vary.factorial.stations.laser_sael.servers" in output
