"""Loading scenario files: extends, --set overrides, and where problems are reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from twin.errors import Problem, ScenarioError
from twin.scenario.load import load, load_document, scenario_hash, validate_file
from twin.scenario.schema import Conwip

BASE = """\
name: base line
run:
  horizon: "30 d"
  warmup: "2 d"
products:
  cell:
    route: [coat, weld, grade]
stations:
  coat:
    servers: 2
    process_time: "18 s"
  weld:
    process_time: {lognormal: {mean: "20 s", cv: 0.1}}
    buffer: 4
  grade:
    process_time: 15
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path, overrides: tuple[str, ...] = ()) -> list[Problem]:
    with pytest.raises(ScenarioError) as info:
        load(path, overrides)
    return info.value.problems


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- extends


def test_extends_merges_deletes_nulls_and_replaces_lists(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    top = write(tmp_path, "top.yaml", """\
        extends: base.yaml
        name: top line
        run:
          warmup: null
        products:
          cell:
            route: [coat, grade]
        stations:
          weld:
            servers: 3
          grade: null
          """)
    doc = load_document(top)
    assert "extends" not in doc
    assert doc["run"] == {"horizon": "30 d"}
    assert doc["stations"]["weld"] == {
        "process_time": {"lognormal": {"mean": "20 s", "cv": 0.1}}, "buffer": 4, "servers": 3}
    assert "grade" not in doc["stations"]
    s = load(top, ["stations.grade={process_time: 5}"])
    assert s.name == "top line"
    assert s.run.warmup == 0.0 and s.run.horizon == 30 * 86400
    assert [step.station for step in s.products["cell"].route] == ["coat", "grade"]
    assert s.stations["weld"].servers == 3 and s.stations["weld"].buffer == 4
    assert s.stations["coat"].servers == 2


def test_extends_chain_is_relative_to_each_file(tmp_path: Path) -> None:
    write(tmp_path, "common/base.yaml", BASE)
    write(tmp_path, "common/mid.yaml", "extends: base.yaml\nrun: {replications: 5}\n")
    top = write(tmp_path, "lines/top.yaml", "extends: ../common/mid.yaml\nrun: {seed: 9}\n")
    s = load(top)
    assert (s.run.replications, s.run.seed, s.run.horizon) == (5, 9, 30 * 86400)


def test_extends_cycle_names_the_chain(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "name: b\nextends: a.yaml\n")
    p = only(problems(a))
    assert "a.yaml -> b.yaml -> a.yaml" in p.message
    assert (p.file, p.where, p.line) == (str(tmp_path / "b.yaml"), "extends", 2)


def test_a_file_extending_itself_is_a_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: ./a.yaml\nname: a\n")
    assert "a.yaml -> a.yaml" in only(problems(a)).message


def test_missing_base_is_reported_at_the_extends_key(tmp_path: Path) -> None:
    top = write(tmp_path, "top.yaml", "name: x\n\nextends: nowhere.yaml\n")
    p = only(problems(top))
    assert (p.file, p.where, p.line, p.column) == (str(top), "extends", 3, 10)
    assert "nowhere.yaml" in p.message and "no such file" in p.message


def test_error_in_base_file_points_into_the_base(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml", BASE.replace("servers: 2", "servers: -2"))
    top = write(tmp_path, "top.yaml", "extends: base.yaml\nstations:\n  weld: {servers: zero}\n")
    found = {p.where: p for p in problems(top)}
    assert (found["stations.coat.servers"].file, found["stations.coat.servers"].line) == (str(base), 10)
    assert (found["stations.weld.servers"].file, found["stations.weld.servers"].line) == (str(top), 3)


def test_syntax_error_in_base_file_names_the_base(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", "name: [unclosed\n")
    top = write(tmp_path, "top.yaml", "extends: base.yaml\n")
    p = only(problems(top))
    assert p.file == str(tmp_path / "base.yaml") and "YAML syntax error" in p.message


# ---------------------------------------------------------------- --set


def test_overrides_scalar_duration_mapping_and_new_key(tmp_path: Path) -> None:
    path = write(tmp_path, "line.yaml", BASE)
    s = load(path, [
        "stations.weld.servers=3",
        'run.horizon="2 d"',
        "products.cell.release={conwip: 5}",
        "stations.weld.failures.mtbf={exponential: 8 h}",
        "stations.weld.failures.mttr=30 min",
        "products.cell.route[2]={station: grade, rework: {p: 0.1, to: weld}}",
        "stations.coat.buffer=",  # empty value is null: the key is removed (unlimited)
    ])
    assert s.stations["weld"].servers == 3
    assert s.run.horizon == 2 * 86400
    assert s.products["cell"].release == Conwip(conwip=5)
    assert s.stations["weld"].failures.mtbf.mean == 8 * 3600
    assert s.stations["weld"].failures.mttr.mean == 1800
    assert s.products["cell"].route[2].rework.to == "weld"
    assert s.stations["coat"].buffer is None


@pytest.mark.parametrize("text", ["stations.weld.servers", "=3", " =3", "stations..servers=3",
                                  "stations.weld.servers[=3"])
def test_malformed_override_is_a_command_line_error(tmp_path: Path, text: str) -> None:
    p = only(problems(write(tmp_path, "line.yaml", BASE), (text,)))
    assert (p.file, p.where) == ("<command line>", f"--set {text}")
    assert "KEY.PATH=VALUE" in p.message


def test_override_value_must_be_safe_yaml(tmp_path: Path) -> None:
    p = only(problems(write(tmp_path, "line.yaml", BASE), ("run.seed=!!python/name:os.system",)))
    assert (p.file, p.where) == ("<command line>", "--set run.seed") and "cannot read" in p.message


def test_override_through_a_scalar_is_refused(tmp_path: Path) -> None:
    p = only(problems(write(tmp_path, "line.yaml", BASE), ("stations.weld.buffer.size=3",)))
    assert p.file == "<command line>" and "stations.weld.buffer is 4" in p.message


def test_validation_error_from_override_names_the_set(tmp_path: Path) -> None:
    path = write(tmp_path, "line.yaml", BASE)
    found = problems(path, ("stations.weld.servers=0", "products.cell.release={conwip: 0}"))
    places = {(p.file, p.where) for p in found}
    assert places == {("<command line>", "--set stations.weld.servers"),
                      ("<command line>", "--set products.cell.release.conwip")}
    assert all("at least 1, got 0" in p.message for p in found)


def test_new_station_by_override_without_process_time(tmp_path: Path) -> None:
    p = only(problems(write(tmp_path, "line.yaml", BASE), ("stations.paint.servers=2",)))
    assert p.file == "<command line>" and p.where == "--set stations.paint.process_time"
    assert "missing required key 'process_time'" in p.message


# ---------------------------------------------------------------- positions and messages


def test_line_and_column_of_a_wrong_value(tmp_path: Path) -> None:
    path = write(tmp_path, "line.yaml", BASE.replace("servers: 2", 'servers: "two"'))
    p = only(problems(path))
    assert (p.where, p.line, p.column) == ("stations.coat.servers", 10, 14)
    assert p.message == 'expected a whole number, got "two"'
    assert str(p) == f'{path}: stations.coat.servers (line 10, column 14): expected a whole number, got "two"'


def test_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "line.yaml", "name: x\nrun:\n  horizon: [1, 2\nproducts: {}\n")
    p = only(problems(path))
    assert (p.line, p.column) == (4, 9)
    assert p.message.startswith("YAML syntax error: expected ',' or ']'")
    assert str(p).startswith(f"{path}: line 4, column 9: YAML syntax error")


def test_duplicate_keys_name_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "line.yaml", BASE + "  coat:\n    process_time: 3\n")
    p = only(problems(path))
    assert p.where == "stations.coat" and (p.line, p.column) == (17, 3)
    assert "duplicate key 'coat'" in p.message and "line 9" in p.message and "line 17" in p.message


def test_unknown_key_suggests_the_known_one(tmp_path: Path) -> None:
    p = only(problems(write(tmp_path, "line.yaml", BASE.replace("servers: 2", "serverz: 2"))))
    assert (p.where, p.line, p.column) == ("stations.coat.serverz", 10, 5)
    assert p.message == "unknown key 'serverz'. Did you mean 'servers'?"


def test_unknown_route_station_suggests_the_known_one(tmp_path: Path) -> None:
    p = only(problems(write(tmp_path, "line.yaml", BASE.replace("[coat, weld, grade]", "[coat, wled, grade]"))))
    assert (p.where, p.line, p.column) == ("products.cell.route[1]", 7, 19)
    assert p.message == "unknown station 'wled'. Did you mean 'weld'?"


def test_rework_to_a_later_station_is_rejected(tmp_path: Path) -> None:
    route = "[coat, {station: weld, rework: {p: 0.1, to: grade}}, grade]"
    p = only(problems(write(tmp_path, "line.yaml", BASE.replace("[coat, weld, grade]", route))))
    assert p.where == "products.cell.route[1].rework.to"
    assert "'grade' comes later in the route" in p.message


def test_rework_to_an_earlier_station_or_itself_is_fine(tmp_path: Path) -> None:
    route = "[coat, {station: weld, rework: {p: 0.1, to: coat}}, {station: grade, rework: {p: 0.1, to: grade}}]"
    s = load(write(tmp_path, "line.yaml", BASE.replace("[coat, weld, grade]", route)))
    assert s.products["cell"].route[1].rework.to == "coat"


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    text = (BASE.replace("servers: 2", "servers: 0").replace("buffer: 4", "buffer: -4")
            .replace("[coat, weld, grade]", "[coat, weld, grad]").replace('horizon: "30 d"', "horizon: 5 sec"))
    wheres = {p.where for p in problems(write(tmp_path, "line.yaml", text))}
    assert wheres == {"stations.coat.servers", "stations.weld.buffer", "products.cell.route[2]", "run.horizon"}


def test_unused_stations_are_allowed(tmp_path: Path) -> None:
    s = load(write(tmp_path, "line.yaml", BASE + "  spare:\n    process_time: 9\n"))
    assert "spare" in s.stations


def test_anchors_aliases_and_merge_keys(tmp_path: Path) -> None:
    text = BASE.replace("  coat:\n    servers: 2\n", "  coat: &machine\n    servers: 2\n")
    text += "  polish:\n    <<: *machine\n    process_time: 40\n"
    s = load(write(tmp_path, "line.yaml", text))
    assert s.stations["polish"].servers == 2 and s.stations["polish"].process_time.mean == 40


@pytest.mark.parametrize("text, expected", [
    ("", "the file is empty"),
    ("- a\n- b\n", "holds a list"),
    ("hello\n", "single value"),
    ("name: a\n---\nname: b\n", "more than one YAML document"),
])
def test_document_must_be_one_mapping(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in only(problems(write(tmp_path, "line.yaml", text))).message


def test_unreadable_files(tmp_path: Path) -> None:
    assert "no such file" in only(problems(tmp_path / "absent.yaml")).message
    assert "directory" in only(problems(tmp_path)).message
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    p = only(problems(tmp_path / "latin1.yaml"))
    assert "not UTF-8" in p.message and p.line == 1


def test_huge_integer_duration_is_an_error_not_a_crash(tmp_path: Path) -> None:
    p = only(problems(write(tmp_path, "line.yaml", BASE.replace('"30 d"', "1" + "0" * 400))))
    assert p.where == "run.horizon" and "too large" in p.message


# ---------------------------------------------------------------- validate_file and hash


def test_validate_file_lists_problems(tmp_path: Path) -> None:
    assert validate_file(write(tmp_path, "good.yaml", BASE)) == []
    bad = write(tmp_path, "bad.yaml", BASE.replace("servers: 2", "servers: 0"))
    assert [p.where for p in validate_file(bad)] == ["stations.coat.servers"]
    assert [p.where for p in validate_file(bad, ["stations.coat.servers=1"])] == []


def test_hash_depends_on_content_not_spelling(tmp_path: Path) -> None:
    a = load(write(tmp_path, "a.yaml", BASE))
    spelled = BASE.replace('horizon: "30 d"', "horizon: 2592000").replace("servers: 2", "servers: 2  # two")
    b = load(write(tmp_path, "b.yaml", "# same line, other spelling\n" + spelled))
    c = load(write(tmp_path, "c.yaml", BASE), ["run.seed=1"])
    assert scenario_hash(a) == scenario_hash(b)
    assert scenario_hash(a) != scenario_hash(c)
    assert len(scenario_hash(a)) == 64 and int(scenario_hash(a), 16) >= 0


def test_yaml_1_1_words_are_names_not_booleans(tmp_path) -> None:
    """YAML 1.1 would read `no` and `on` as booleans; as names of a product and a station
    they must stay text (YAML 1.2 booleans: true and false only)."""
    path = tmp_path / "line.yaml"
    path.write_text("name: words\nrun: {horizon: 1 h}\n"
                    "products: {no: {route: [on, off]}}\n"
                    "stations: {on: {process_time: 10 s}, off: {process_time: 5 s}}\n")
    scenario = load(path)
    assert list(scenario.products) == ["no"]
    assert list(scenario.stations) == ["on", "off"]
    assert [s.station for s in scenario.products["no"].route] == ["on", "off"]


def test_check_finds_what_run_refuses_beyond_the_file(tmp_path: Path) -> None:
    """`twin.check` is the API's `twin validate`: a file that loads may still be refused by
    `twin run` (a `vary:` level outside the flowline engine's reach; the engine's reach
    itself); check names it, placed in the file."""
    import twin

    good = write(tmp_path, "good.yaml", BASE)
    assert twin.check(good) == [] and validate_file(good) == []
    flow = write(tmp_path, "flow.yaml", """
name: flow
run: {horizon: "1 h", engine: flowline}
products: {p: {route: [a, b], release: saturated}}
stations:
  a: {process_time: "10 s"}
  b: {process_time: "12 s", servers: 2, batch: {size: 2}}
""")
    assert validate_file(flow) == []  # the file itself is right
    found = twin.check(flow)
    assert len(found) == 1 and found[0].file == str(flow) and found[0].line is not None
    assert "batch" in found[0].message
    varied = write(tmp_path, "varied.yaml", """
name: varied
run: {horizon: "1 h"}
products: {p: {route: [a], release: saturated}}
stations:
  a: {process_time: "10 s"}
vary:
  factorial:
    stations.a.servers: [1, 0]
""")
    assert validate_file(varied) == []
    found = twin.check(varied)
    assert len(found) == 1 and found[0].file == str(varied) and "servers" in str(found[0])


def test_a_problem_caused_by_a_deletion_names_where_it_was_deleted(tmp_path: Path) -> None:
    """A child deletes a station its base's route still visits: the problem is placed in
    the base (where the route is), and says that the child deleted the station, on which
    line (that is where the fix belongs); the same for a deletion by --set."""
    base = write(tmp_path, "base.yaml", """\
        name: base
        run: {horizon: "1 h"}
        products: {p: {route: [cut, press]}}
        stations:
          cut: {process_time: "5 s"}
          press: {process_time: "6 s"}
        """)
    child = write(tmp_path, "child.yaml", """\
        extends: base.yaml
        stations:
          press: null
        """)
    with pytest.raises(ScenarioError) as e:
        load(child)
    [problem] = e.value.problems
    assert problem.file == str(base) and problem.where == "products.p.route[1]"
    assert f"(stations.press was deleted (null) in {child}, line 3)" in problem.message
    with pytest.raises(ScenarioError, match=r"was deleted \(null\) in <command line>"):
        load(base, ["stations.press="])
