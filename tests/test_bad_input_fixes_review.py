"""Review of the bad-input fixes (commits 0f5968a..ef83cc8): bounds of quantities (1e9) and
durations (1e15 s), regular files only, --out checked before the run, --vary quoting and
clashes, CSV header checks, the "was deleted (null)" note, and failure timelines read only
up to the end of the run on the flowline engine.

Each check rests on the docs (scenario-format.md, experiments.md), on spec/scenario.md
("Every mistake in a scenario is a clear error naming the file, the place ... what is
wrong"), on YAML itself, or on the SimPy engine as reference. Tests marked "BUG" in their
docstring failed when written; they hold the correct expectation.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import twin
from support import twin_command
from test_flowline import assert_same, assert_same_records, line
from twin.cli import main
from twin.engine import flowline as fl
from twin.engine import replication
from twin.errors import ScenarioError
from twin.model import build
from twin.scenario.datafiles import read_durations
from twin.vary import load_points, parse_vary_option

ROOT = Path(__file__).resolve().parents[1]
BATTERY = ROOT / "scenarios" / "examples" / "electrode_shop_agv_battery.yaml"
FLOORS = ROOT / "scenarios" / "examples" / "electrode_shop_two_floors.yaml"

BASE = """\
    name: base
    run: {horizon: "1 h", warmup: 0, replications: 1, seed: 3}
    products:
      p: {route: [cut, press]}
    stations:
      cut: {process_time: "5 s", x: -10.5, y: -3}
      press: {process_time: "6 s", buffer: 3}
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def problems(path, overrides=()) -> list[str]:
    """The problems' texts of loading `path` with `overrides` ([] when it loads)."""
    try:
        twin.load(path, list(overrides))
    except ScenarioError as e:
        return [str(p) for p in e.problems]
    return []


# --- nothing valid refused -----------------------------------------------------------------
def test_every_shipped_scenario_still_validates() -> None:
    files = sorted(str(p) for p in (ROOT / "scenarios").rglob("*.yaml"))
    assert len(files) > 30
    done = subprocess.run([*twin_command(), "validate", *files], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(": ok") == len(files)


NEW_BOUND = re.compile(r"at most 1e\+09|at least -1e\+09|at least 0\.01|far too large")


def _strip_ellipses(node):
    if isinstance(node, dict):
        return {k: _strip_ellipses(v) for k, v in node.items() if k != "..." and v != "..."}
    if isinstance(node, list):
        return [_strip_ellipses(v) for v in node if v != "..."]
    return node


def test_no_docs_yaml_example_meets_a_new_bound(tmp_path) -> None:
    """Every ```yaml block of the docs (fragments completed with a name, a run and a
    product): whatever else a fragment lacks, none of its values is refused by the new
    bounds."""
    seen = 0
    for md in sorted((ROOT / "docs").glob("*.md")):
        for block in re.findall(r"```yaml\n(.*?)```", md.read_text(), re.S):
            try:
                doc = yaml.safe_load(block)
            except yaml.YAMLError:
                continue
            if not isinstance(doc, dict):
                continue
            doc = _strip_ellipses(doc)
            doc.pop("extends", None)
            doc.setdefault("name", "doc")
            doc.setdefault("run", {"horizon": "1 h"})
            if isinstance(doc.get("stations"), dict) and "products" not in doc:
                doc["products"] = {"p": {"route": list(doc["stations"])}}
            path = tmp_path / f"doc{seen}.yaml"
            path.write_text(yaml.safe_dump(doc))
            seen += 1
            hit = [p for p in problems(path) if NEW_BOUND.search(p)]
            assert hit == [], (md.name, hit)
    assert seen > 15


def test_negative_coordinates_heights_and_prices_still_allowed(tmp_path) -> None:
    path = write(tmp_path / "line.yaml", BASE + """\
    energy:
      tariff: [{at_h: 0, price: -0.05}, {at_h: 12, price: 0.3}]
      heat_price: -2
    """)
    assert problems(path) == []
    assert problems(FLOORS, ["logistics.floors.ground.height=-7",
                             "logistics.floors.first.height=-1e9",
                             "logistics.points.lift-0=[-160, -40]",
                             "logistics.points.lift-1=[-160, -40]"]) == []


STATION_FIELDS = {"cut": {"process_time": '"5 s"', "x": "-10.5", "y": "-3"},
                  "press": {"process_time": '"6 s"', "buffer": "3"}}


@pytest.mark.parametrize("how", ["yaml", "set"])
@pytest.mark.parametrize("key, value, ok", [
    ("stations.cut.x", "1e9", True), ("stations.cut.x", "1000000000", True),
    ("stations.cut.x", "-1e9", True), ("stations.cut.x", "1.000001e9", False),
    ("stations.cut.y", "-1.000001e9", False),
    ("stations.press.power_kw", "{busy: 1e9, down: 0}", True),
    ("stations.press.power_kw", "{busy: 1.000001e9}", False),
    ("stations.press.process_time", "1e15", True),
    ("stations.press.process_time", '"1e15 s"', True),
    ("stations.press.process_time", "1.000001e15", False),
    ("stations.press.process_time", '"1.000001e15 s"', False),
    ("stations.press.failures", '{mtbf: "1e9 h", mttr: "1 min"}', True),
    ("stations.press.failures", '{mtbf: {exponential: "1e9 h"}, mttr: "1 min"}', True),
    ("stations.press.failures", '{mtbf: {gamma: {mean: "1e9 h", cv: 1}}, mttr: 60}', True),
    ("stations.press.failures", '{mtbf: {exponential: 2e15}, mttr: 60}', False),
])
def test_bounds_at_and_just_above(tmp_path, how, key, value, ok) -> None:
    """At the bound accepted, just above refused at its key (in a file and with --set)."""
    if how == "set":
        path, overrides = write(tmp_path / "line.yaml", BASE), [f"{key}={value}"]
    else:  # the station's line written anew, the value as it is written on the command line
        station, field = key.split(".")[1:]
        fields = dict(STATION_FIELDS[station], **{field: value})
        text = textwrap.dedent(BASE)
        old = next(ln for ln in text.splitlines() if ln.startswith(f"  {station}: "))
        text = text.replace(old, f"  {station}: {{{', '.join(f'{k}: {v}' for k, v in fields.items())}}}")
        path, overrides = tmp_path / "line.yaml", []
        path.write_text(text)
    found = problems(path, overrides)
    if ok:
        assert found == []
    else:
        assert len(found) == 1 and key in found[0], found
        if how == "yaml":
            assert re.search(r"\(line [67], column", found[0]), found


def test_charger_efficiency_bound() -> None:
    eff = "logistics.fleets.agv.battery.efficiency"
    assert problems(BATTERY, [f"{eff}=0.01"]) == []
    [p] = problems(BATTERY, [f"{eff}=0.0099"])
    assert eff in p and "at least 0.01" in p


def test_a_bound_message_shows_the_value_given() -> None:
    """BUG (twin/scenario/yamldoc.py _show, used by messages._message): a value just above
    1e9 that happens to be whole, e.g. 1.0000001e9 (1000000100.0), is shown with `:g`, so
    the message reads "must be at most 1e+09, got 1e+09": it contradicts itself and does
    not say what is wrong."""
    for value in ("1.0000001e9", "1000000001.0"):
        [p] = problems(FLOORS, [f"logistics.floors.first.height={value}"])
        shown = re.search(r"got (\S+)", p).group(1)
        assert shown != "1e+09" and float(shown) > 1e9, p


def test_a_huge_negative_duration_is_called_negative(tmp_path) -> None:
    """BUG (twin/units.py parse_duration): -2e15 s is refused as "far too large (more than
    1e+15 s)"; what is wrong is its sign, as -5 s says ("must not be negative")."""
    path = write(tmp_path / "line.yaml", BASE)
    [small] = problems(path, ["stations.press.process_time=-5"])
    assert "negative" in small
    [big] = problems(path, ["stations.press.process_time=-2e15"])
    assert "negative" in big, big


# --- data files ----------------------------------------------------------------------------
def test_csv_trailing_commas_quoted_commas_and_short_rows_still_fine(tmp_path) -> None:
    trail = tmp_path / "trail.csv"
    trail.write_text("cycle_s,\n5,\n6,\n")
    assert read_durations(str(trail)) == [5.0, 6.0]
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('id,cycle_s,note\n"A, x",5,"n, 1"\nB\nC,6\nD,7,\n')
    assert read_durations(str(quoted), "cycle_s") == [5.0, 6.0, 7.0]
    other_dups = tmp_path / "dups.csv"  # a name given twice that is not the one asked for
    other_dups.write_text("note,note,cycle_s\na,b,5\n")
    assert read_durations(str(other_dups), "cycle_s") == [5.0]
    wide = tmp_path / "wide.csv"
    wide.write_text("id,cycle_s\nA,5\n\nB,6,extra\n")
    with pytest.raises(ValueError, match=r"wide.csv, line 4: 3 cells"):
        read_durations(str(wide), "cycle_s")
    dup = tmp_path / "dup.csv"
    dup.write_text("cycle_s, cycle_s \n1,2\n")
    with pytest.raises(ValueError, match="2 columns named 'cycle_s'"):
        read_durations(str(dup), "cycle_s")


def test_data_file_durations_are_bounded_too(tmp_path) -> None:
    """BUG (twin/scenario/datafiles.py _seconds): docs/scenario-format.md says durations are
    at most 1e15 s (1e308 gave overflows), but a number in an empirical data file bypasses
    parse_duration: 1e300 (or 1e12 in weeks) is accepted as a process time."""
    data = tmp_path / "t.csv"
    data.write_text("cycle_s\n1e300\n2\n")
    with pytest.raises(ValueError, match=r"t.csv, line 2"):
        read_durations(str(data))
    data.write_text("cycle_w\n1e12\n")  # 6e17 s
    with pytest.raises(ValueError, match=r"t.csv, line 2"):
        read_durations(str(data), unit="w")


def test_a_too_large_duration_cell_says_so(tmp_path) -> None:
    """BUG (twin/scenario/datafiles.py _seconds): a cell "2e15 s" is a duration, only too
    large; the message says it "is not a duration", hiding what is wrong."""
    data = tmp_path / "t.csv"
    data.write_text('cycle\n"2e15 s"\n2\n')
    with pytest.raises(ValueError) as e:
        read_durations(str(data))
    assert "line 2" in str(e.value) and "is not a duration" not in str(e.value), str(e.value)


# --- files ---------------------------------------------------------------------------------
def test_symlinks_and_relative_paths_are_read(tmp_path, monkeypatch) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "t.csv").write_text("cycle_s\n5\n6\n")
    write(real / "base.yaml", BASE)
    (tmp_path / "base_link.yaml").symlink_to(real / "base.yaml")
    (tmp_path / "data_link.csv").symlink_to(real / "t.csv")
    child = write(tmp_path / "child.yaml", """\
        extends: base_link.yaml
        stations:
          press: {process_time: {empirical: {file: data_link.csv}}}
        """)
    (tmp_path / "child_link.yaml").symlink_to(child)
    sc = twin.load(tmp_path / "child_link.yaml")
    assert sc.stations["press"].process_time.params == (5.0, 6.0)
    monkeypatch.chdir(tmp_path)
    assert twin.load("child.yaml").stations["cut"].x == -10.5
    assert main(["validate", "child.yaml", "./child_link.yaml", "real/../child.yaml"]) == 0


def test_a_fifo_and_a_folder_are_refused_at_once(tmp_path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    for name, fragment in (("pipe.yaml", "not a regular file"), (".", "a directory")):
        done = subprocess.run([*twin_command(), "validate", name], capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)
        assert done.returncode == 2 and fragment in done.stderr


# --- --out ---------------------------------------------------------------------------------
def test_out_into_an_existing_empty_folder_and_a_new_nested_one(tmp_path, capsys) -> None:
    path = write(tmp_path / "line.yaml", BASE)
    empty = tmp_path / "empty"
    empty.mkdir()
    nested = tmp_path / "a" / "b" / "c"
    for out in (empty, nested):
        assert main(["run", str(path), "--quiet", "--workers", "1", "--out", str(out)]) == 0
        assert (out / "summary.json").is_file()
    capsys.readouterr()


# --- --vary levels -------------------------------------------------------------------------
def test_vary_levels_with_quotes() -> None:
    assert parse_vary_option(['name={name: "a, b"},{name: c}']) == {
        "name": [{"name": "a, b"}, {"name": "c"}]}
    assert parse_vary_option(["name='a, b',c"]) == {"name": ["a, b", "c"]}
    assert parse_vary_option(["name='it''s, x',y"]) == {"name": ["it's, x", "y"]}
    assert parse_vary_option(['name=[1, "2]"],[3]']) == {"name": [[1, "2]"], [3]]}


def test_vary_level_with_an_escaped_double_quote() -> None:
    """BUG (twin/vary.py _split_levels): YAML's "a \\", b" is one text (a ", b), but the
    splitter ends the quote at the escaped one, so the level is cut at its comma and
    refused as not valid YAML, although it is quoted as the message recommends."""
    assert parse_vary_option([r'name="a \", b",c']) == {"name": ['a ", b', "c"]}


def test_vary_level_with_an_apostrophe_is_not_merged_with_the_next() -> None:
    """BUG (twin/vary.py _split_levels), a regression of 0f5968a: an apostrophe inside a
    plain level (Bob's cell) opens a "quote" that never closes, so every later comma is
    ignored and the levels silently become one ("Bob's cell,other"): a sweep of one point
    instead of two. In YAML a quote only quotes at the start of a scalar."""
    assert parse_vary_option(["stations.cut.area=Bob's cell,other"]) == {
        "stations.cut.area": ["Bob's cell", "other"]}
    assert parse_vary_option(["stations.cut.area={a: O'Neil},b"]) == {
        "stations.cut.area": [{"a": "O'Neil"}, "b"]}


# --- sweeps: what must not be refused ------------------------------------------------------
SWEEP = BASE + """\
    vary:
      factorial:
        stations.press.buffer: [1, 2]
      variants:
        big: {stations.press: {process_time: "4 s", buffer: 9}}
        slow: {stations.cut.process_time: "7 s"}
    """


def test_vary_on_a_key_the_file_varies_replaces_it(tmp_path, capsys) -> None:
    path = write(tmp_path / "sweep.yaml", SWEEP)
    pts, scenarios = load_points(path, (), {"stations.press.buffer": [5, 6, 7]})
    assert len(pts) == 6
    assert sorted({s.stations["press"].buffer for s in scenarios.values()}) == [5, 6, 7]
    # also with a file level that --vary repeats, and from the command line
    assert main(["run", str(path), "--quiet", "--workers", "1", "--set", "run.horizon=60",
                 "--vary", "stations.press.buffer=1,3"]) == 0
    capsys.readouterr()


def test_a_variant_holding_a_factorial_key_gets_the_level_on_top(tmp_path) -> None:
    pts, scenarios = load_points(write(tmp_path / "sweep.yaml", SWEEP))
    big = {label: s for label, s in scenarios.items() if label.startswith("big/")}
    assert sorted(s.stations["press"].buffer for s in big.values()) == [1, 2]
    assert all(s.stations["press"].process_time.params == (4.0,) for s in big.values())


def test_set_vary_empty_and_set_holding_a_swept_key(tmp_path) -> None:
    path = write(tmp_path / "sweep.yaml", SWEEP)
    for overrides in (["vary=", "stations.press.buffer=7"],
                      ["stations.press.buffer=7", "vary="]):
        pts, scenarios = load_points(path, overrides)
        assert [p.label for p in pts] == ["base"]
        assert scenarios["base"].stations["press"].buffer == 7
    path = write(tmp_path / "sweep2.yaml", BASE + """\
    vary:
      factorial: {stations.press.buffer: [1, 2]}
      variants: {slow: {stations.cut.process_time: "7 s"}}
    """)
    pts, scenarios = load_points(path, ['stations.press={process_time: "3 s", buffer: 4}'])
    assert sorted(s.stations["press"].buffer for s in scenarios.values()) == [1, 2]
    assert all(s.stations["press"].process_time.params == (3.0,) for s in scenarios.values())


def test_set_of_a_key_only_one_variant_sets_is_not_lost(tmp_path) -> None:
    """BUG (twin/vary.py _clashes), a false positive: a --set of a key that one variant
    sets is refused because "the sweep sets it at every point ... so this --set would be
    lost", but the other variants' points do use it (a variant overrides the base, --set
    included, only at its own points)."""
    path = write(tmp_path / "sweep.yaml", BASE + """\
    vary:
      variants:
        fast_cut: {stations.cut.process_time: "4 s"}
        wide_press: {stations.press.servers: 2}
    """)
    pts, scenarios = load_points(path, ['stations.cut.process_time="3 s"'])
    assert scenarios["fast_cut"].stations["cut"].process_time.params == (4.0,)
    assert scenarios["wide_press"].stations["cut"].process_time.params == (3.0,)


# --- sweeps: what must be refused, at its place --------------------------------------------
def test_clashes_are_still_refused(tmp_path) -> None:
    path = write(tmp_path / "sweep.yaml", SWEEP)
    with pytest.raises(ScenarioError, match="--set stations.press.buffer"):
        load_points(path, ["stations.press.buffer=5"])
    with pytest.raises(ScenarioError, match="level 1 is given twice"):
        load_points(path, (), {"stations.press.buffer": [1, 1]})
    with pytest.raises(ScenarioError, match="lies inside stations.press"):
        load_points(path, (), {"stations.press": [{"process_time": 2}]})


def test_a_clash_in_a_base_file_is_placed_in_the_base(tmp_path) -> None:
    """BUG (twin/vary.py load_points, the clashes' Problem): a sweep whose `vary:` is in a
    base file (extends) names the child file with the base's line: "child.yaml:
    vary.factorial... (line 10, ...)" where child.yaml has 2 lines. The line must go with
    the file that holds it. (The older _locate_level does the same for a bad level.)"""
    base = write(tmp_path / "base.yaml", BASE + """\
    vary:
      factorial:
        stations.press.buffer: [1, 2, 1]
    """)
    child = write(tmp_path / "child.yaml", "extends: base.yaml\nname: child\n")
    with pytest.raises(ScenarioError) as e:
        load_points(base)
    [p] = e.value.problems
    assert p.file == str(base) and p.line == 10
    with pytest.raises(ScenarioError) as e:
        load_points(child)
    [p] = e.value.problems
    assert (p.file, p.line) == (str(base), 10) or (p.file == str(child) and p.line is None), \
        (p.file, p.line)


# --- the deletion note ---------------------------------------------------------------------
def test_the_deletion_note_where_it_belongs(tmp_path) -> None:
    write(tmp_path / "base.yaml", BASE)
    child = write(tmp_path / "child.yaml", "extends: base.yaml\nstations:\n  press: null\n")
    [p] = problems(child)
    assert f"(stations.press was deleted (null) in {child}, line 3)" in p
    # a deletion that has nothing to do with the problem adds nothing
    child2 = write(tmp_path / "child2.yaml", "extends: base.yaml\nstations:\n  cut:\n"
                                             "    x: null\n    servers: 0\n")
    [p] = problems(child2)
    assert "deleted" not in p


def test_the_deletion_note_not_on_a_namesake(tmp_path) -> None:
    """BUG (twin/scenario/load.py _note_deletions): notes match on the last key's name
    alone. A child deletes the *product* press; the base's route has a typo 'pres'. The
    message "unknown station 'pres'. Did you mean 'press'?" quotes 'press' (the station,
    which still exists), so it gets "(products.press was deleted (null) in child.yaml,
    line 3)": it points at the deletion, not at the typo that is the fix."""
    write(tmp_path / "base.yaml", """\
        name: base
        run: {horizon: "1 h"}
        products:
          p: {route: [cut, pres]}
          press: {route: [cut]}
        stations:
          cut: {process_time: "5 s"}
          press: {process_time: "6 s"}
        """)
    child = write(tmp_path / "child.yaml", "extends: base.yaml\nproducts:\n  press: null\n")
    [p] = problems(child)
    assert "unknown station 'pres'" in p
    assert "was deleted" not in p, p


# --- flowline: failure timelines up to the end ---------------------------------------------
def test_flowline_equals_simpy_when_units_finish_after_the_end() -> None:
    """Random lines with time-dependent failures where one station's process time is near
    or beyond the run (units straddle the end): the flowline engine's summary is the SimPy
    engine's (300 such lines were run while reviewing; 30 here)."""
    rng = random.Random(7)
    for _ in range(30):
        n = rng.randint(1, 4)
        horizon = rng.choice([100.0, 300.0, 1200.0])
        stations = {}
        for k in range(n):
            st = {"process_time": rng.choice([10, 7.5, {"exponential": 8},
                                              {"uniform": [2, 20]}])}
            if rng.random() < 0.5:
                st["buffer"] = rng.choice([0, 1, 3])
            if rng.random() < 0.7:
                st["failures"] = {"mtbf": rng.choice([100, 55, {"exponential": 40}]),
                                  "mttr": rng.choice([20, 30, {"exponential": 10}]),
                                  "mode": "time"}
            if rng.random() < 0.2:
                st["servers"] = 2
            stations[f"s{k}"] = st
        stations[f"s{rng.randrange(n)}"]["process_time"] = rng.choice(
            [horizon * 0.9, horizon * 2, 1e7, {"uniform": [horizon / 3, horizon * 3]}])
        release = rng.choice(["saturated", {"conwip": 3},
                              {"interarrival": {"exponential": 5}}])
        sc = line(stations, release, horizon=horizon, warmup=rng.choice([0.0, 20.0]),
                  seed=rng.randint(0, 999), replications=2)
        assert_same(twin.run(sc).summary(), twin.run(sc, engine="flowline").summary())


@pytest.mark.parametrize("horizon", [1200.0, 1300.0, 1310.0, 1420.0])
@pytest.mark.parametrize("slow", [95.0, 130.0, 1e12])
def test_flowline_records_with_constant_times_around_the_end(horizon, slow) -> None:
    """Constant times put failures exactly at the end (1300 = a's third cycle) and units
    that end after it; 1e12 s is the case that never finished before 8fbf512."""
    sc = line({"a": {"process_time": 10, "failures": {"mtbf": 100, "mttr": 20}},
               "b": {"process_time": slow, "buffer": 0,
                     "failures": {"mtbf": 55, "mttr": 30}}},
              horizon=horizon, warmup=0.0)
    model = build(sc)
    assert_same_records(replication.simulate(model, 0, model.seed, 0.0),
                        fl.simulate(model, 0, model.seed, 0.0))
