"""Assembly stations in the engine: the event log, shift calendars, the JSON Schema, and
scenarios that refuse to run on the flowline engine."""

from __future__ import annotations

import copy

import pytest

import twin
from twin.engine import flowline as fl
from twin.engine import replication
from twin.model import build
from twin.scenario.load import scenario_json_schema
from twin.scenario.schema import Scenario

jsonschema = pytest.importorskip("jsonschema")

DOC = {
    "name": "stacking",
    "run": {"horizon": "2 d", "seed": 4},
    "products": {"anode": {"route": ["cut_a", "stack"]},
                 "cathode": {"route": ["cut_c", "stack"]},
                 "cell": {"route": ["stack", "weld"], "release": "assembly"}},
    "stations": {
        "cut_a": {"process_time": {"exponential": "10 s"}, "buffer": 2},
        "cut_c": {"process_time": {"gamma": {"mean": "11 s", "cv": 0.4}},
                  "failures": {"mtbf": {"exponential": "1 h"}, "mttr": {"exponential": "5 min"}}},
        "stack": {"process_time": {"lognormal": {"mean": "12 s", "cv": 0.2}}, "buffer": 3,
                  "assembly": {"parts": {"anode": 2, "cathode": 1}}},
        "weld": {"process_time": {"exponential": "9 s"}, "buffer": 1,
                 "failures": {"mtbf": {"exponential": "30 min"}, "mttr": 60,
                              "mode": "operation"}},
    },
}


def test_parts_are_consumed_when_their_cell_is_released() -> None:
    res = twin.run(Scenario.model_validate(DOC), event_log=True)
    log = res.events
    consumed = log[log.activity == "consumed"]
    released = log[(log.activity == "release") & (log["product"] == "cell")]
    assert len(released) > 100
    # every cell's kit (2 anodes, 1 cathode) leaves at the moment the cell enters
    per_time = consumed.groupby("start_h")["product"].value_counts().unstack(fill_value=0)
    assert set(per_time.index) == set(released.start_h)
    assert (per_time["anode"] == 2).all() and (per_time["cathode"] == 1).all()
    assert (consumed.station == "stack").all()
    # and no part unit ever finishes or shows up after it was consumed
    gone = dict(zip(consumed.unit, consumed.start_h))
    later = log[log.unit.isin(gone) & (log.start_h > log.unit.map(gone))]
    assert later.empty and not log[(log.activity == "finish") &
                                   log["product"].isin(["anode", "cathode"])].size


def test_a_shared_calendar_only_changes_the_clock_of_an_assembly_line() -> None:
    """As for lines (tests/validation/test_shift_calendars.py): under one calendar the
    assembly line makes exactly what the round-the-clock line makes in the worked hours."""
    doc = copy.deepcopy(DOC)
    doc["calendars"] = {"c": {"shifts": [["6 h", "22 h"]], "breaks": [["12 h", "12.5 h"]],
                              "days": ["mon", "tue", "wed", "thu", "fri"]}}
    for st in doc["stations"].values():
        st["calendar"] = "c"
    model = build(Scenario.model_validate(doc))
    worked = model.stations[0].calendar.worked(model.horizon)
    plain = copy.deepcopy(DOC)
    plain["run"]["horizon"] = worked

    def measures(m):
        return {(k, e, n): v for k, e, n, v in replication.simulate(m, 0, 4, 0.0).measures}

    a, b = measures(model), measures(build(Scenario.model_validate(plain)))
    for p in ("anode", "cathode", "cell"):
        for what in ("released", "finished"):
            assert a[("product", p, what)] == b[("product", p, what)]
    assert a[("product", "anode", "consumed")] == b[("product", "anode", "consumed")] > 0
    assert a[("station", "stack", "busy_h")] == pytest.approx(b[("station", "stack", "busy_h")])


def test_an_assembly_scenario_satisfies_the_json_schema() -> None:
    jsonschema.validate(DOC, scenario_json_schema())
    bad = copy.deepcopy(DOC)
    bad["stations"]["stack"]["assembly"] = {"parts": {"anode": 0}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, scenario_json_schema())
    with pytest.raises(ValueError):
        Scenario.model_validate(bad)


def test_the_flowline_engine_refuses_assembly() -> None:
    problem = fl.unsupported(build(Scenario.model_validate(DOC)))
    assert problem is not None and "products" in problem


def test_the_report_lists_parts_apart_from_products(tmp_path) -> None:
    """Parts have no throughput of their own: the HTML report shows them in a parts table
    (consumed per hour, time in the system), not among the products and their cards."""
    from twin.report.html import parts_table, products_table, write_report

    res = twin.run(Scenario.model_validate(DOC))
    doc = res.summary()
    products = products_table(res, doc)
    parts = parts_table(res, doc)
    assert list(products["product"]) == ["cell"]
    assert list(parts["part"]) == ["anode", "cathode"]
    # two anodes per cell: consumed at twice the cells' rate (to the kits under way)
    anodes = doc["products"]["anode"]["consumed"]["mean"]
    cells = doc["products"]["cell"]["released"]["mean"]
    assert anodes == 2 * cells
    text = write_report(res, doc, tmp_path, Scenario.model_validate(DOC)).read_text()
    assert "Parts joined by assembly stations" in text
    assert "throughput cell" in text and "throughput anode" not in text


def test_compare_has_no_throughput_rows_for_parts() -> None:
    from twin.analysis.compare import replication_kpis

    res = twin.run(Scenario.model_validate(DOC))
    kpis = replication_kpis(res.measures, res.meta)
    assert "throughput_per_h:cell" in kpis
    assert not [c for c in kpis if c.endswith((":anode", ":cathode"))]
