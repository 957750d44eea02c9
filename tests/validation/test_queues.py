"""Queueing theory (validation.md, "Queues"): open single stations and a Jackson tandem.

Each case is a scenario under scenarios/validation/ whose comments derive the answers. A
theoretical value must lie in the 95% CI over the scenario's replications, and that CI must
be tighter than 10% of the value. M/M/c runs through the command line (`twin run --json`),
the others through the Python API.

Where the summary names them: W is the lead time, Wq the station's wait, L the wip, Lq the
station's queue_mean (time-average number in the input buffer, not in the machines).
"""

from __future__ import annotations

import pytest

import twin
from twin.analysis.stats import ci95

# case -> (scenario file, station, theory); theory keys: W, Wq, L, Lq, utilization, TH
SINGLE = {
    "M/M/1": ("mm1.yaml", "server",
              {"W": 5.0, "Wq": 4.0, "L": 4.0, "Lq": 3.2, "utilization": 0.8, "TH": 0.8}),
    # Erlang C = 4/9 enters through Wq = C/(cμ − λ) and Lq = λ·Wq.
    "M/M/c": ("mmc.yaml", "cell",
              {"W": 13 / 9, "Wq": 4 / 9, "L": 26 / 9, "Lq": 8 / 9, "utilization": 2 / 3,
               "TH": 2.0}),
    "M/D/1": ("md1.yaml", "server",
              {"W": 3.0, "Wq": 2.0, "L": 2.4, "Lq": 1.6, "utilization": 0.8, "TH": 0.8}),
    "M/E4/1": ("me41.yaml", "server",
               {"W": 3.5, "Wq": 2.5, "L": 2.8, "Lq": 2.0, "utilization": 0.8, "TH": 0.8}),
}
VIA_CLI = {"M/M/c"}


def _stat(doc: dict, station: str, key: str) -> dict:
    """The summary statistic that estimates theory value `key`."""
    product = doc["products"]["job"]
    st = doc["stations"][station]
    return {
        "W": product["lead_time_h"],
        "Wq": st["wait_h"],
        "L": doc["wip"],
        "Lq": st["queue_mean"],
        "utilization": st["utilization"],
        "TH": product["throughput_per_h"],
    }[key]


def _summary(cases, case: str) -> dict:
    name = SINGLE[case][0]
    return cases.cli(name) if case in VIA_CLI else cases.summary(name)


@pytest.mark.parametrize(("case", "key"), [
    (case, key) for case, (_, _, theory) in SINGLE.items() for key in theory])
def test_single_station(cases, check, case: str, key: str) -> None:
    _, station, theory = SINGLE[case]
    doc = _summary(cases, case)
    check.in_ci(_stat(doc, station, key), theory[key], f"{case} {key}")


def test_cli_document_is_the_summary(cases) -> None:
    """The command line prints the results.md document for the scenario's own run: settings."""
    doc = cases.cli("mmc.yaml")
    run = twin.load(cases.path("mmc.yaml")).run
    assert doc["scenario"] == "M/M/c"
    assert doc["engine"] == "simpy"
    assert (doc["replications"], doc["seed"]) == (run.replications, run.seed)
    assert doc["horizon_h"] == pytest.approx(run.horizon / 3600)
    assert doc["warmup_h"] == pytest.approx(run.warmup / 3600)
    assert set(doc["stations"]) == {"cell"}


# --- Jackson tandem ------------------------------------------------------------------------
LAMBDA = 1.0
MU = {"s1": 2.0, "s2": 1.5, "s3": 2.5}
RHO = {s: LAMBDA / mu for s, mu in MU.items()}
L_STATION = {s: r / (1 - r) for s, r in RHO.items()}          # 1, 2, 0.667
WQ_STATION = {s: r / (mu - LAMBDA) for (s, r), mu in zip(RHO.items(), MU.values())}
LQ_STATION = {s: r * r / (1 - r) for s, r in RHO.items()}     # = λ·Wq
L_TOTAL = sum(L_STATION.values())                             # 3.667
W_TOTAL = sum(1 / (mu - LAMBDA) for mu in MU.values())        # 3.667


@pytest.fixture(scope="module")
def tandem(cases):
    return cases.results("tandem.yaml")


@pytest.fixture(scope="module")
def tandem_doc(cases):
    return cases.summary("tandem.yaml")


@pytest.mark.parametrize("station", list(MU))
def test_tandem_station(tandem, tandem_doc, check, station: str) -> None:
    st = tandem_doc["stations"][station]
    check.in_ci(st["utilization"], RHO[station], f"tandem {station} utilization")
    check.in_ci(st["wait_h"], WQ_STATION[station], f"tandem {station} Wq")
    check.in_ci(st["queue_mean"], LQ_STATION[station], f"tandem {station} Lq")
    # units at the station = in its buffer + in its machines (busy fraction × servers)
    rows = tandem.stations().xs(station, level="entity")
    at_station = rows["queue_mean"] + rows["busy"] * rows["servers"]
    check.in_ci(ci95(at_station.to_numpy(float)), L_STATION[station], f"tandem {station} L")


def test_tandem_line(tandem_doc, check) -> None:
    job = tandem_doc["products"]["job"]
    check.in_ci(tandem_doc["wip"], L_TOTAL, "tandem total wip")
    check.in_ci(job["lead_time_h"], W_TOTAL, "tandem W")
    check.in_ci(job["throughput_per_h"], LAMBDA, "tandem throughput")
