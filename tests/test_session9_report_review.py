"""Session 9 review: what a planner sees in the reports of the gigafactory scenarios.

Two CLI runs, shared by the tests (short horizons, about a minute together):
- `twin run cell_line.yaml --horizon "2 d" --replications 2 --event-log --json --out`;
- `twin compare cell_line.yaml cell_line_stage2.yaml cell_line_mix.yaml --horizon "2 d"
  --replications 2 --json --out`.
Expected values are recomputed from the scenario files (read with plain YAML), the written
tables and the event log, never copied from the tool's own summary.
"""

from __future__ import annotations

import html as htmllib
import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from tests.support import twin_command, without_timing

ROOT = Path(__file__).resolve().parents[1]
GIGA = ROOT / "scenarios" / "gigafactory"
HORIZON_H = 48.0
WARMUP_H = 120.0  # the scenario's own 5 d
YEAR_H = 8760.0
STATES = ("busy", "starved", "blocked", "down", "setup", "off_shift")

BASE_NAME = "gigafactory cell line (1175 Ah)"
STAGE2_NAME = "gigafactory cell line, stage 2 (1175 Ah)"
MIX_NAME = "gigafactory cell line, 1175 Ah and 587 Ah mix"


# --- helpers ---------------------------------------------------------------------------------

def _seconds(text) -> float:
    """'14 s', '1.5 min', '12 h', '2 d' or a number of seconds -> seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    value, unit = str(text).split()
    return float(value) * {"s": 1, "min": 60, "h": 3600, "d": 86400}[unit]


def _mean_seconds(pt) -> float:
    """Mean of a process-time entry of the scenario format (as written in the YAML files)."""
    if isinstance(pt, (str, int, float)):
        return _seconds(pt)
    (kind, arg), = pt.items()
    if kind in ("lognormal", "normal"):
        return _seconds(arg["mean"])
    if kind == "uniform":
        return (_seconds(arg[0]) + _seconds(arg[1])) / 2
    if kind == "exponential":
        return _seconds(arg)
    raise AssertionError(f"unexpected distribution {pt}")


def _scenario(name: str) -> dict:
    """A gigafactory scenario file as plain data, with `extends` merged (one level)."""
    data = yaml.safe_load((GIGA / name).read_text())
    base = data.pop("extends", None)
    if base is None:
        return data
    merged = _scenario(base)

    def merge(a, b):
        for k, v in b.items():
            if isinstance(v, dict) and isinstance(a.get(k), dict):
                merge(a[k], v)
            else:
                a[k] = v
    merge(merged, data)
    return merged


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(twin_command() + args, cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _visible_text(page: str) -> str:
    """The page's text without embedded images, <pre> blocks (JSON) and tags."""
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r"<pre>.*?</pre>", "", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " | ", page)
    return htmllib.unescape(page)


def _tables(page: str) -> list[list[dict[str, str]]]:
    """Every <table> of the page as a list of {header: cell text} rows."""
    out = []
    for body in re.findall(r"<table>(.*?)</table>", page, flags=re.S):
        head = [htmllib.unescape(h) for h in re.findall(r"<th>(.*?)</th>", body)]
        rows = []
        for tr in re.findall(r"<tbody>(.*?)</tbody>", body, flags=re.S)[0].split("</tr>"):
            cells = [htmllib.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr)]
            if cells:
                rows.append(dict(zip(head, cells)))
        out.append(rows)
    return out


def _table_with(page: str, header: str) -> list[dict[str, str]]:
    found = [t for t in _tables(page) if t and header in t[0]]
    assert found, f"no table with a column {header!r}"
    return found[0]


def _first_number(cell: str) -> float:
    """The first number of a display cell such as '207.6 [193.1, 222]' or '81.4%'."""
    m = re.match(r"\s*([-+]?[\d,]*\.?\d+(?:e[-+]?\d+)?)", cell)
    assert m, f"no number in {cell!r}"
    return float(m.group(1).replace(",", ""))


def _t_interval(x: np.ndarray) -> tuple[float, float, float]:
    n = len(x)
    m = float(np.mean(x))
    h = stats.t.ppf(0.975, n - 1) * np.std(x, ddof=1) / math.sqrt(n)
    return m, m - h, m + h


def _wide(measures: pd.DataFrame, kind: str) -> pd.DataFrame:
    return (measures[measures["kind"] == kind]
            .pivot_table(index=["replication", "entity"], columns="measure", values="value"))


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def base(tmp_path_factory):
    out = tmp_path_factory.mktemp("s9") / "base"
    proc = _run(["run", str(GIGA / "cell_line.yaml"), "--horizon", "2 d", "--replications", "2",
                 "--workers", "2", "--quiet", "--event-log", "--json", "--out", str(out)], ROOT)
    return {
        "out": out,
        "stdout": json.loads(proc.stdout),
        "summary": json.loads((out / "summary.json").read_text()),
        "measures": pd.read_parquet(out / "measures.parquet"),
        "events": pd.read_parquet(out / "event_log.parquet"),
        "page": (out / "report.html").read_text(),
        "scenario": _scenario("cell_line.yaml"),
    }


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("s9") / "cmp"
    files = ["cell_line.yaml", "cell_line_stage2.yaml", "cell_line_mix.yaml"]
    proc = _run(["compare", *(str(GIGA / f) for f in files), "--horizon", "2 d",
                 "--replications", "2", "--workers", "2", "--quiet", "--json",
                 "--out", str(out)], ROOT)
    doc = json.loads(proc.stdout)
    labels = {BASE_NAME: "gigafactory-cell-line-1175-Ah",
              STAGE2_NAME: "gigafactory-cell-line-stage-2-1175-Ah",
              MIX_NAME: "gigafactory-cell-line-1175-Ah-and-587-Ah-mix"}
    dirs = {}
    for name in doc["scenarios"]:
        cands = [d for d in out.iterdir() if d.is_dir() and (d / "summary.json").exists()
                 and json.loads((d / "summary.json").read_text())["scenario"] == name]
        assert len(cands) == 1, (name, list(out.iterdir()))
        dirs[name] = cands[0]
    return {"out": out, "doc": doc, "dirs": dirs, "labels": labels,
            "files": dict(zip([BASE_NAME, STAGE2_NAME, MIX_NAME], files)),
            "page": (out / "compare.html").read_text()}


# --- the run: summary, tables, report --------------------------------------------------------

def test_json_on_stdout_is_the_written_summary(base):
    assert without_timing(base["stdout"]) == without_timing(base["summary"])
    assert base["summary"]["horizon_h"] == HORIZON_H
    assert base["summary"]["warmup_h"] == WARMUP_H


def test_throughput_and_gwh_per_year_follow_the_definition(base):
    """throughput = finished / period; gwh_per_year = throughput x energy_kwh x 8760 / 1e6,
    energy_kwh taken from the scenario file."""
    energy_kwh = base["scenario"]["products"]["cell-1175"]["energy_kwh"]
    prod = _wide(base["measures"], "product").xs("cell-1175", level="entity")
    thr = prod["finished"] / HORIZON_H
    gwh = thr * energy_kwh * YEAR_H / 1e6
    p = base["summary"]["products"]["cell-1175"]
    assert p["throughput_per_h"]["mean"] == pytest.approx(thr.mean(), rel=1e-9)
    assert p["gwh_per_year"]["mean"] == pytest.approx(gwh.mean(), rel=1e-9)
    m, lo, hi = _t_interval(gwh.to_numpy())
    assert p["gwh_per_year"]["ci95"] == pytest.approx([lo, hi], rel=1e-9)
    assert p["final_yield"]["mean"] == pytest.approx(
        (prod["finished"] / (prod["finished"] + prod["scrapped"])).mean(), rel=1e-9)


def test_station_energy_is_power_times_state_time_from_the_scenario(base):
    """energy_kwh = sum over states of power (scenario file, per machine) x machine-hours."""
    st = _wide(base["measures"], "station")
    for name, spec in base["scenario"]["stations"].items():
        rows = st.xs(name, level="entity")
        power = spec.get("power_kw", {})
        expected = sum(power.get(s, 0.0) * rows[f"{s}_h"] for s in STATES)
        got = base["summary"]["stations"][name]["energy_kwh"]["mean"]
        assert got == pytest.approx(expected.mean(), rel=1e-9, abs=1e-6), name
        # machine-hours add up to servers x period
        total = sum(rows[f"{s}_h"] for s in STATES)
        assert np.allclose(total, spec.get("servers", 1) * HORIZON_H, rtol=1e-9), name


def test_net_electricity_and_kwh_per_unit(base):
    """total_kwh = stations' electricity - recovered + facility electricity x period;
    kwh_per_unit = total_kwh / finished (facility loads from the scenario file)."""
    st = _wide(base["measures"], "station")
    stations = base["scenario"]["stations"]
    elec = sum(stations[n].get("power_kw", {}).get(s, 0.0) * st.xs(n, level="entity")[f"{s}_h"]
               for n in stations for s in STATES)
    rec = sum(stations[n].get("recovered_kw", {}).get(s, 0.0) * st.xs(n, level="entity")[f"{s}_h"]
              for n in stations for s in STATES)
    facility = sum(v["kw"] for v in base["scenario"]["energy"]["facility"].values()
                   if v.get("carrier", "electricity") == "electricity")
    total = elec - rec + facility * HORIZON_H
    finished = _wide(base["measures"], "product")["finished"].groupby(level="replication").sum()
    e = base["summary"]["energy"]
    assert e["total_kwh"]["mean"] == pytest.approx(total.mean(), rel=1e-9)
    assert e["kwh_per_unit"]["mean"] == pytest.approx((total / finished).mean(), rel=1e-9)


def test_oee_recomputed_from_scenario_times(base):
    """OEE = A x E x Q with planned run time per unit = mean process time / servers
    (/ batch size at a batch station), actual production time = busy machine-hours / servers."""
    st = _wide(base["measures"], "station")
    for name, spec in base["scenario"]["stations"].items():
        rows = st.xs(name, level="entity")
        servers = spec.get("servers", 1)
        batch = (spec.get("batch") or {}).get("size", 1)
        planned_h = _mean_seconds(spec["process_time"]) / servers / batch / 3600
        assert np.allclose(rows["planned_unit_time_h"], planned_h, rtol=1e-9), name
        a = rows["busy_h"] / (servers * HORIZON_H - rows["off_shift_h"])
        e = planned_h * rows["produced"] / (rows["busy_h"] / servers)
        q = (rows["produced"] - rows["scrapped"] - rows["reworked"]) / rows["produced"]
        s = base["summary"]["stations"][name]
        assert s["oee"]["mean"] == pytest.approx((a * e * q).mean(), rel=1e-9), name
        assert s["utilization"]["mean"] == pytest.approx(
            (rows["busy_h"] / (servers * HORIZON_H)).mean(), rel=1e-9), name


def test_busy_time_and_wait_match_the_event_log(base):
    """Stations without failures: busy hours = process events clipped to the measured period
    (up to the units still on a machine at the end); wait_h = queue time of the units that
    started in the period / their number (zeros included)."""
    ev = base["events"]
    st = _wide(base["measures"], "station")
    start, end = WARMUP_H, WARMUP_H + HORIZON_H
    for name in ("hot_press", "insert", "leak_test", "grading", "slit"):
        spec = base["scenario"]["stations"][name]
        slack_h = spec.get("servers", 1) * 2 * _mean_seconds(spec["process_time"]) / 3600
        for r, rows in st.xs(name, level="entity").iterrows():
            x = ev[(ev.replication == r) & (ev.station == name)]
            p = x[x.activity == "process"]
            busy = (np.minimum(p.end_h, end) - np.maximum(p.start_h, start)).clip(lower=0).sum()
            assert busy == pytest.approx(rows["busy_h"], abs=slack_h), (name, r)
            q = x[(x.activity == "queue") & (x.end_h >= start) & (x.end_h < end)]
            assert (q.end_h - q.start_h).sum() / rows["waits"] == pytest.approx(
                rows["wait_h"], rel=0.02, abs=1e-5), (name, r)


def test_report_tables_agree_with_summary(base):
    page, s = base["page"], base["summary"]
    p = s["products"]["cell-1175"]
    prow = _table_with(page, "GWh/year")[0]
    assert prow["product"] == "cell-1175"
    thr = p["throughput_per_h"]["mean"]
    assert _first_number(prow["throughput (units/h)"]) == pytest.approx(thr, rel=1e-3)
    assert _first_number(prow["annual capacity (units/year)"]) == pytest.approx(
        thr * YEAR_H, rel=1e-3)
    assert _first_number(prow["GWh/year"]) == pytest.approx(p["gwh_per_year"]["mean"], rel=1e-3)
    assert _first_number(prow["lead time (h)"]) == pytest.approx(p["lead_time_h"]["mean"],
                                                                 rel=1e-3)
    rows = {r["station"]: r for r in _table_with(page, "A × E × Q")}
    assert set(rows) == set(s["stations"])
    for name, st in s["stations"].items():
        r = rows[name]
        assert _first_number(r["busy"]) == pytest.approx(100 * st["utilization"]["mean"], abs=0.051)
        assert _first_number(r["OEE"]) == pytest.approx(100 * st["oee"]["mean"], abs=0.051)
        assert _first_number(r["electricity (kWh)"]) == pytest.approx(
            st["energy_kwh"]["mean"], rel=1e-3, abs=0.51)
        share = s["bottleneck"]["sole"][name]["mean"], s["bottleneck"]["shifting"][name]["mean"]
        sole, shifting = (float(x.strip().rstrip("%")) for x in
                          r["bottleneck sole + shifting"].split("+"))
        assert (sole, shifting) == pytest.approx((100 * share[0], 100 * share[1]), abs=0.051)
    totals = {r["quantity"]: r for r in _table_with(page, "quantity")}
    e = s["energy"]
    for label, key, unit in (("net electricity (total_kwh)", "total_kwh", "kWh"),
                             ("net electricity per unit (kwh_per_unit)", "kwh_per_unit",
                              "kWh/unit"),
                             ("final energy per kWh of product", "kwh_per_kwh_product",
                              "kWh/kWh"),
                             ("peak electric demand", "peak_kw", "kW")):
        assert totals[label]["unit"] == unit
        assert _first_number(totals[label]["value"]) == pytest.approx(e[key]["mean"], rel=1e-3)
    areas = {r["area"]: r for r in _table_with(page, "net energy (kWh)")}
    assert set(areas) == set(e["by_area"])
    # the shares are of the final energy (electricity + heat - recovered): they add to it
    assert sum(v["kwh"]["mean"] for v in e["by_area"].values()) == pytest.approx(
        e["energy_kwh"]["mean"], rel=1e-9)


def test_report_has_no_nan_and_its_figures_exist(base):
    page = base["page"]
    text = _visible_text(page)
    for bad in ("nan", "NaN", "None", "inf"):
        assert not re.search(rf"(?<![\w-]){bad}(?![\w-])", text), bad
    for ref in re.findall(r"href='(figures/[^']+\.png)'", page):
        assert (base["out"] / ref).is_file(), ref
    assert len(re.findall(r"src='data:image/png;base64,", page)) >= 8


def test_flagship_line_matches_the_domain_brief(base):
    """gigafactory.md: one line turns out 200 cells/h; ~6 GWh/year a line, so 9-10 lines
    make 56 GWh; drying and calendering more than half of the energy; formation 20-30 %;
    20-38 kWh per kWh of cell (Degen et al.)."""
    s = base["summary"]
    thr = s["products"]["cell-1175"]["throughput_per_h"]["mean"]
    assert 180 <= thr <= 220
    gwh = s["products"]["cell-1175"]["gwh_per_year"]["mean"]
    assert 8 <= math.ceil(56 / gwh) <= 10
    share = {a: v["share"] for a, v in s["energy"]["by_area"].items()}
    assert share["coating & drying"] + share["calendering & slitting"] \
        + share["vacuum drying"] > 0.5
    assert 0.2 <= share["formation"] <= 0.3
    assert 20 <= s["energy"]["kwh_per_kwh_product"]["mean"] <= 38
    # the base line's bottleneck is the stackers (cell_line_stage2.yaml's premise)
    assert s["bottleneck"]["station"] == "stack"


# --- compare ---------------------------------------------------------------------------------

def _per_replication(d: Path, scenario: dict) -> pd.DataFrame:
    m = pd.read_parquet(d / "measures.parquet")
    prod, st = _wide(m, "product"), _wide(m, "station")
    cols = {}
    for name in prod.index.get_level_values("entity").unique():
        rows = prod.xs(name, level="entity")
        e_kwh = scenario["products"][name]["energy_kwh"]
        cols[f"throughput_per_h:{name}"] = rows["finished"] / HORIZON_H
        cols[f"gwh_per_year:{name}"] = rows["finished"] / HORIZON_H * e_kwh * YEAR_H / 1e6
        cols[f"lead_time_h:{name}"] = rows["lead_time_h"]
    cols["wip"] = _wide(m, "system").droplevel("entity")["wip_mean"]
    stations = scenario["stations"]
    elec = sum(stations[n].get("power_kw", {}).get(s, 0.0) * st.xs(n, level="entity")[f"{s}_h"]
               for n in stations for s in STATES)
    rec = sum(stations[n].get("recovered_kw", {}).get(s, 0.0) * st.xs(n, level="entity")[f"{s}_h"]
              for n in stations for s in STATES)
    facility = sum(v["kw"] for v in scenario["energy"]["facility"].values()
                   if v.get("carrier", "electricity") == "electricity")
    total = elec - rec + facility * HORIZON_H
    cols["net_electricity_kwh"] = total
    cols["kwh_per_unit"] = total / prod["finished"].groupby(level="replication").sum()
    return pd.DataFrame(cols)


def test_compare_paired_differences_recomputed(comparison):
    doc = comparison["doc"]
    assert doc["baseline"] == BASE_NAME and doc["scenarios"][0] == BASE_NAME
    per = {n: _per_replication(comparison["dirs"][n], _scenario(comparison["files"][n]))
           for n in doc["scenarios"]}
    base = per[BASE_NAME]
    kpi_cols = {"throughput_per_h:cell-1175": "throughput_per_h:cell-1175",
                "gwh_per_year:cell-1175": "gwh_per_year:cell-1175",
                "lead_time_h:cell-1175": "lead_time_h:cell-1175", "wip": "wip",
                "kwh_per_unit": "kwh_per_unit"}
    for name in (STAGE2_NAME, MIX_NAME):
        for kpi, col in kpi_cols.items():
            e = doc["kpis"][kpi]
            assert e["values"][name]["mean"] == pytest.approx(per[name][col].mean(), rel=1e-9)
            diff = (per[name][col] - base[col]).to_numpy()
            m, lo, hi = _t_interval(diff)
            assert e["difference"][name]["mean"] == pytest.approx(m, rel=1e-9, abs=1e-9), kpi
            assert e["difference"][name]["ci95"] == pytest.approx([lo, hi], rel=1e-9,
                                                                  abs=1e-9), kpi
            sign = -1 if kpi.startswith(("lead_time", "wip", "kwh_per_unit")) else +1
            if lo <= 0 <= hi:
                expected = "no significant difference"
            else:
                higher = lo > 0
                winner = name if (higher and sign > 0) or (not higher and sign < 0) else BASE_NAME
                expected = f"{winner} is better"
            assert e["verdict"][name] == expected, (kpi, name)


def test_compare_values_match_each_scenarios_summary(comparison):
    doc = comparison["doc"]
    for name, d in comparison["dirs"].items():
        s = json.loads((d / "summary.json").read_text())
        for p, v in s["products"].items():
            for k in ("throughput_per_h", "gwh_per_year", "lead_time_h"):
                assert doc["kpis"][f"{k}:{p}"]["values"][name]["mean"] == pytest.approx(
                    v[k]["mean"], rel=1e-12)
        assert doc["kpis"]["wip"]["values"][name]["mean"] == pytest.approx(s["wip"]["mean"])
        assert doc["kpis"]["kwh_per_unit"]["values"][name]["mean"] == pytest.approx(
            s["energy"]["kwh_per_unit"]["mean"])


def test_compare_energy_kpi_means_what_the_summary_field_of_that_name_means(comparison):
    """The comparison's KPI `energy_kwh` is the net electricity (summary `energy.total_kwh`),
    while in summary.json, in the same output folder, `energy.energy_kwh` is the final energy
    (net electricity + heat). One name, two quantities (here a third apart): a planner
    reading compare.json or compare.html beside summary.json takes the wrong one."""
    doc = comparison["doc"]
    for name, d in comparison["dirs"].items():
        s = json.loads((d / "summary.json").read_text())
        assert doc["kpis"]["total_kwh"]["values"][name]["mean"] == pytest.approx(
            s["energy"]["total_kwh"]["mean"], rel=1e-9), name
        if "energy_kwh" in doc["kpis"]:
            assert doc["kpis"]["energy_kwh"]["values"][name]["mean"] == pytest.approx(
                s["energy"]["energy_kwh"]["mean"], rel=1e-9), name


def test_compare_page_says_which_scenario_is_which(comparison):
    page = comparison["page"]
    kpis = _table_with(page, "KPI")
    head = list(kpis[0])
    assert head[1] == BASE_NAME
    assert f"{STAGE2_NAME} − {BASE_NAME}" in head and f"{MIX_NAME} − {BASE_NAME}" in head
    facts = {r["fact"]: r["value"] for r in _table_with(page, "fact")}
    assert facts["baseline"] == BASE_NAME
    runs = _table_with(page, "sha256")
    assert [r["scenario"] for r in runs] == [BASE_NAME, STAGE2_NAME, MIX_NAME]
    for r in runs:
        assert _first_number(r["horizon (h)"]) == HORIZON_H
        assert _first_number(r["warm-up (h)"]) == WARMUP_H


def test_compare_page_shows_no_nan_for_a_kpi_missing_in_the_baseline(comparison):
    """The mix has a product (cell-587) the baseline lacks: its rows' difference cells show
    'nan' in compare.html (the text output shows '-' and the verdict 'no data')."""
    text = _visible_text(comparison["page"])
    for bad in ("nan", "NaN", "None", "inf"):
        assert not re.search(rf"(?<![\w-]){bad}(?![\w-])", text), bad


def test_compare_kpi_chart_tells_the_scenarios_apart(comparison):
    """compare_kpis labels each bar with the scenario's name cut to 14 characters: every
    gigafactory scenario becomes 'gigafactory ce', so the bars of the stages cannot be told
    apart (no legend either)."""
    from twin.report.compare_figures import compare_kpis_figure
    fig = compare_kpis_figure({}, comparison["doc"])
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    legend = ax.get_legend() or fig.legends
    assert legend or len(set(labels)) == len(comparison["doc"]["scenarios"]), labels
    assert (comparison["out"] / "figures" / "compare_kpis.png").is_file()
