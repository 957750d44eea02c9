"""`twin compare`: paired differences under common random numbers, with verdicts."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pytest
from scipy import stats

import twin
from twin.analysis.compare import compare, compare_text
from twin.cli import main

LINE = """\
    name: {name}
    run: {{horizon: "12 h", replications: 4, seed: 21}}
    products:
      p: {{route: [a, b, c]}}
    stations:
      a: {{process_time: {{exponential: "1 min"}}, power_kw: {{busy: 3, starved: 1}}}}
      b: {{process_time: {{exponential: "2 min"}}, servers: {servers}, buffer: 4,
          power_kw: {{busy: 6, starved: 2, blocked: 2}}}}
      c: {{process_time: {{exponential: "50 s"}}, buffer: 4, power_kw: {{busy: 2}}}}
"""


def write(tmp_path: Path, name: str, servers: int = 1) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(LINE.format(name=name, servers=servers)))
    return path


def run_json(args: list[str], capsys) -> tuple[int, dict]:
    status = main(["compare", *args, "--workers", "1", "--quiet", "--json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


def test_identical_scenarios_differ_by_exactly_zero(tmp_path, capsys):
    status, doc = run_json([str(write(tmp_path, "one")), str(write(tmp_path, "two"))], capsys)
    assert status == 0
    assert doc["baseline"] == "one" and doc["scenarios"] == ["one", "two"]
    assert doc["seed"] == 21 and doc["replications"] == 4
    headline = {"throughput_per_h:p", "lead_time_h:p", "wip", "total_kwh", "kwh_per_unit"}
    assert headline <= set(doc["kpis"])
    for kpi, entry in doc["kpis"].items():
        d = entry["difference"]["two"]
        assert d["mean"] == 0 and d["ci95"] == [0, 0], kpi
        assert entry["verdict"]["two"] == "no significant difference", kpi
        assert entry["values"]["one"] == entry["values"]["two"], kpi


def test_more_servers_at_the_bottleneck_is_the_better_layout(tmp_path, capsys):
    """b (2 min) limits a line of 1 min and 50 s steps to about 30 units/h; a second
    machine at b lets it make about 60/h (then a limits it)."""
    status, doc = run_json([str(write(tmp_path, "single")), str(write(tmp_path, "double", 2))],
                           capsys)
    assert status == 0
    tp = doc["kpis"]["throughput_per_h:p"]
    assert 25 < tp["values"]["single"]["mean"] < 33
    assert tp["values"]["double"]["mean"] > 45
    lo, hi = tp["difference"]["double"]["ci95"]
    assert lo > 0
    assert tp["verdict"]["double"] == "double is better"
    # the same comparison the other way round: the better one is still named
    status, doc = run_json([str(tmp_path / "double.yaml"), str(tmp_path / "single.yaml")], capsys)
    assert doc["kpis"]["throughput_per_h:p"]["verdict"]["single"] == "double is better"


def test_differences_are_paired_by_replication(tmp_path):
    """The interval of a difference is the Student-t interval of the per-replication
    differences, which common random numbers make much narrower than the unpaired one."""
    single = twin.run(twin.load(write(tmp_path, "single")))
    double = twin.run(twin.load(write(tmp_path, "double", 2)))
    doc = compare({"single": single.measures, "double": double.measures})

    def per_rep(results, measure):
        m = results.measures
        return m[m["measure"] == measure].groupby("replication")["value"].sum().to_numpy()

    a, b = per_rep(single, "wip_mean"), per_rep(double, "wip_mean")
    diff = b - a
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff))
    d = doc["kpis"]["wip"]["difference"]["double"]
    assert d["mean"] == pytest.approx(diff.mean())
    assert d["ci95"] == pytest.approx([diff.mean() - half, diff.mean() + half])



def test_common_random_numbers_sharpen_the_difference(tmp_path):
    """With open arrivals both layouts see the same arrivals, so their throughputs move
    together from replication to replication: the paired differences vary far less than
    the throughputs themselves."""
    text = """\
        name: {name}
        run: {{horizon: "6 h", replications: 6, seed: 2}}
        products:
          p: {{route: [a, b], release: {{interarrival: {{exponential: "2 min"}}}}}}
        stations:
          a: {{process_time: {{exponential: "1 min"}}}}
          b: {{process_time: {{exponential: "{b}"}}}}
    """
    tables = {}
    for name, b in (("slow", "1.5 min"), ("fast", "1 min")):
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(text.format(name=name, b=b)))
        tables[name] = twin.run(twin.load(path)).measures
    doc = compare(tables)
    tp = doc["kpis"]["throughput_per_h:p"]
    paired = tp["difference"]["fast"]["ci95"][1] - tp["difference"]["fast"]["ci95"][0]
    unpaired = tp["values"]["slow"]["ci95"][1] - tp["values"]["slow"]["ci95"][0]
    assert paired < unpaired / 3
    lead = doc["kpis"]["lead_time_h:p"]
    assert lead["verdict"]["fast"] == "fast is better"


def test_compare_text_names_the_verdicts(tmp_path):
    single = twin.run(twin.load(write(tmp_path, "single")), replications=2)
    double = twin.run(twin.load(write(tmp_path, "double", 2)), replications=2)
    text = compare_text(compare({"single": single.measures, "double": double.measures}))
    assert "throughput_per_h:p" in text and "double - single" in text


def test_compare_command_line_writes_its_folder(tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["compare", str(write(tmp_path, "single")), str(write(tmp_path, "double", 2)),
                   "--replications", "2", "--seed", "3", "--horizon", "3 h", "--workers", "1",
                   "--quiet", "--out", str(out)])
    text = capsys.readouterr().out
    assert status == 0
    assert "double is better" in text
    doc = json.loads((out / "compare.json").read_text())
    assert doc["seed"] == 3 and doc["replications"] == 2
    for name in ("single", "double"):
        summary = json.loads((out / name / "summary.json").read_text())
        assert summary["seed"] == 3 and summary["replications"] == 2 and summary["horizon_h"] == 3


def test_compare_needs_two_scenarios(tmp_path, capsys):
    assert main(["compare", str(write(tmp_path, "single")), "--quiet"]) == 2
    assert "two" in capsys.readouterr().err


def test_compare_of_a_bad_scenario_is_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent(LINE.format(name="bad", servers=0)))
    assert main(["compare", str(write(tmp_path, "single")), str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "stations.b.servers" in err and "Traceback" not in err


def test_fleet_utilisation_is_compared_without_calling_either_better(tmp_path):
    """Halving the fleet doubles its utilisation (the same trips shared by fewer vehicles):
    the comparison shows it, as higher or lower, not better or worse."""
    text = """\
        name: {name}
        run: {{horizon: "10 h", replications: 3, seed: 4}}
        products:
          tray: {{route: [a, b], release: {{interarrival: {{exponential: "60 s"}}}}, transport: agv}}
        stations:
          a: {{process_time: {{exponential: "20 s"}}}}
          b: {{process_time: {{exponential: "20 s"}}}}
        logistics:
          points: {{a: [0, 0], b: [30, 0]}}
          paths: [[a, b]]
          fleets:
            agv: {{vehicles: {n}, speed_loaded: 1, load_time: "5 s", unload_time: "5 s", home: a}}
    """
    runs = {}
    for name, n in (("four", 4), ("two", 2)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(text.format(name=name, n=n)))
        runs[name] = twin.run(twin.load(path)).measures
    doc = compare(runs)
    kpi = doc["kpis"]["fleet_utilization:agv"]
    four, two = kpi["values"]["four"]["mean"], kpi["values"]["two"]["mean"]
    assert two == pytest.approx(2 * four, rel=0.15)  # same work, half the vehicles
    assert kpi["verdict"]["two"] == "two higher than four"
