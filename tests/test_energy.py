"""Energy analysis against hand-computed answers: kWh per station, state and carrier, facility
loads, peak demand, time-of-use cost, CO2 and shares per area."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import twin
from twin.analysis import energy
from twin.errors import ScenarioError

# Two machines in a row, constant times, no buffer between them: `a` (1 min) is busy one
# minute and blocked the next while `b` (2 min) is always busy. The warm-up (3630 s) ends
# mid-cycle and the 10 h horizon holds exactly 300 cycles of 2 min, so over the horizon
# a: busy 5 h, blocked 5 h; b: busy 10 h; 300 units finish (b ends a unit every 2 min).
# The clock: run_starts_at 21570 s + warm-up 3630 s = 7:00, so the horizon is 7:00-17:00.
LINE = """
name: energy line
run: {horizon: "10 h", warmup: "3630 s", seed: 1}
products:
  cell: {route: [a, b], energy_kwh: 2.0}
stations:
  a:
    area: electrode
    process_time: "1 min"
    power_kw: {busy: 10, blocked: 4}
    heat_kw: {busy: 5}
  b:
    area: assembly
    process_time: "2 min"
    buffer: 0
    power_kw: {busy: 20, starved: 1}
    recovered_kw: {busy: 3}
energy:
  facility:
    dry: {kw: 100, area: assembly}
    hvac: {kw: 50, carrier: heat}
  tariff: {"0 h": 0.1, "8 h": 0.3, "20 h": 0.2}
  run_starts_at: "21570 s"
  heat_price: 0.05
  currency: CNY
  co2_kg_per_kwh: 0.5
  heat_co2_kg_per_kwh: 0.2
"""

# By hand, over the 10 h horizon:
A_EL = 10 * 5 + 4 * 5          # 70 kWh
A_HEAT = 5 * 5                 # 25 kWh
B_EL = 20 * 10                 # 200 kWh
B_REC = 3 * 10                 # 30 kWh
DRY = 100 * 10                 # 1000 kWh
HVAC = 50 * 10                 # 500 kWh heat
TOTAL = A_EL + B_EL + DRY - B_REC          # 1240 kWh net electricity
HEAT = A_HEAT + HVAC                       # 525 kWh
UNITS = 300
# Net power is 124 kW in every interval (a averages 7 kW over any whole number of cycles).
# Clock 7:00-8:00 at 0.1, 8:00-17:00 at 0.3.
EL_COST = 124 * 1 * 0.1 + 124 * 9 * 0.3    # 347.2


def _scenario(tmp_path: Path, text: str = LINE) -> twin.Scenario:
    path = tmp_path / "line.yaml"
    path.write_text(text)
    return twin.load(path)


@pytest.fixture(scope="module")
def line(tmp_path_factory) -> twin.Results:
    return twin.run(_scenario(tmp_path_factory.mktemp("energy")), replications=2)


def test_station_state_carrier_kwh_exact(line) -> None:
    table = energy.breakdown(line.measures, line.meta)
    rep0 = table[(table["replication"] == 0) & (table["kwh"] != 0)]
    got = {(r.entity, r.carrier, r.state): r.kwh for r in rep0.itertuples()}
    assert got == pytest.approx({
        ("a", "electricity", "busy"): 50.0, ("a", "electricity", "blocked"): 20.0,
        ("a", "heat", "busy"): A_HEAT,
        ("b", "electricity", "busy"): B_EL, ("b", "recovered", "busy"): B_REC,
        ("dry", "electricity", "on"): DRY, ("hvac", "heat", "on"): HVAC,
    }, rel=1e-9)
    assert set(rep0.loc[rep0["source"] == "facility", "entity"]) == {"dry", "hvac"}


def test_totals_per_unit_and_per_product_kwh(line) -> None:
    t = energy.totals(line.measures, line.meta, line.timeline).loc[0]
    assert t["electricity_kwh"] == pytest.approx(A_EL + B_EL + DRY)
    assert t["recovered_kwh"] == pytest.approx(B_REC)
    assert t["total_kwh"] == pytest.approx(TOTAL)
    assert t["heat_kwh"] == pytest.approx(HEAT)
    assert t["energy_kwh"] == pytest.approx(TOTAL + HEAT)
    assert t["finished"] == UNITS
    assert t["kwh_per_unit"] == pytest.approx(TOTAL / UNITS)
    assert t["energy_per_unit_kwh"] == pytest.approx((TOTAL + HEAT) / UNITS)
    assert t["kwh_per_kwh_product"] == pytest.approx((TOTAL + HEAT) / (UNITS * 2.0))


def test_cost_and_co2_by_hand(line) -> None:
    t = energy.totals(line.measures, line.meta, line.timeline).loc[0]
    assert t["electricity_cost"] == pytest.approx(EL_COST, rel=1e-9)
    assert t["heat_cost"] == pytest.approx(HEAT * 0.05)
    assert t["cost"] == pytest.approx(EL_COST + HEAT * 0.05)
    assert t["cost_per_unit"] == pytest.approx((EL_COST + HEAT * 0.05) / UNITS)
    assert t["co2_kg"] == pytest.approx(TOTAL * 0.5 + HEAT * 0.2)
    # without a timeline the period's mean price is used: the same here, power being constant
    flat = energy.totals(line.measures, line.meta, None).loc[0]
    assert flat["electricity_cost"] == pytest.approx(EL_COST, rel=1e-9)
    # the peak comes from the engine's own 15-minute demand tracker, timeline or not
    assert flat["peak_kw"] == pytest.approx(t["peak_kw"])


def test_constant_power_peak(line) -> None:
    series = energy.power_series(line.timeline, line.meta)
    assert len(series) == 2 * 40  # 15-minute intervals over 10 h, two replications
    assert series["interval_h"].to_numpy() == pytest.approx(0.25)
    assert series["net_kw"].to_numpy() == pytest.approx(124.0, rel=1e-9)
    assert series["heat_kw"].to_numpy() == pytest.approx(52.5, rel=1e-9)  # 25/10 + 50
    peak = energy.peak_demand(series)
    assert peak["peak_kw"].to_numpy() == pytest.approx(124.0, rel=1e-9)


def test_timeline_energy_adds_up_to_the_measures(line) -> None:
    series = energy.power_series(line.timeline, line.meta)
    t = energy.totals(line.measures, line.meta, line.timeline)
    by_rep = (series["net_kw"] * series["interval_h"]).groupby(series["replication"]).sum()
    assert by_rep.to_numpy() == pytest.approx(t["total_kwh"].to_numpy(), rel=1e-9)


def test_area_shares(line) -> None:
    areas = energy.by_area(energy.breakdown(line.measures, line.meta)).xs(0, level="replication")
    plant = TOTAL + HEAT
    assert areas.loc["electrode", "net"] == pytest.approx(A_EL + A_HEAT)
    assert areas.loc["assembly", "net"] == pytest.approx(B_EL - B_REC + DRY)
    assert areas.loc["hvac", "net"] == pytest.approx(HVAC)  # no area: its own, by its name
    assert areas["share"].to_dict() == pytest.approx({
        "electrode": (A_EL + A_HEAT) / plant, "assembly": (B_EL - B_REC + DRY) / plant,
        "hvac": HVAC / plant})


def test_summary_block(line) -> None:
    doc = energy.summary_block(line.measures, line.meta, line.timeline)
    assert doc["total_kwh"]["mean"] == pytest.approx(TOTAL)
    assert doc["kwh_per_unit"]["mean"] == pytest.approx(TOTAL / UNITS)
    assert doc["peak_kw"]["mean"] == pytest.approx(124.0)
    assert doc["demand_interval_h"] == 0.25
    assert doc["cost"]["currency"] == "CNY"
    assert doc["by_area"]["assembly"]["share"] == pytest.approx(1170 / (TOTAL + HEAT))
    assert doc["by_station"]["a"]["electricity"] == pytest.approx({"busy": 50.0, "blocked": 20.0})
    assert doc["facility"]["hvac"] == {"kwh": {"mean": 500.0, "ci95": [500.0, 500.0]},
                                       "carrier": "heat", "area": "hvac"}
    summary = line.summary()  # the run's summary document carries the same fixed fields
    assert summary["energy"]["total_kwh"]["mean"] == pytest.approx(TOTAL)


def _timeline(rows: list[tuple[int, float, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([(r, t, "station", e, m, v) for r, t, e, m, v in rows],
                        columns=["replication", "time_h", "kind", "entity", "measure", "value"])


def test_peak_on_a_known_profile() -> None:
    # Interval kWh over 15 minutes: station x draws 100, 300, 200 kWh (400, 1200, 800 kW);
    # station y recovers 50 kWh in the second interval (200 kW); a facility load adds 50 kW.
    # Net: 450, 1050, 850 kW -> peak 1050 kW in [0.25, 0.5). The last interval is short.
    tl = _timeline([
        (0, 0.25, "x", "energy_kwh", 100.0), (0, 0.5, "x", "energy_kwh", 300.0),
        (0, 0.6, "x", "energy_kwh", 80.0),
        (0, 0.25, "y", "recovered_kwh", 0.0), (0, 0.5, "y", "recovered_kwh", 50.0),
        (0, 0.6, "y", "recovered_kwh", 0.0),
    ])
    meta = {"warmup_h": 0.0, "energy": {"facility": {"f": {"kw": 50.0}}}}
    series = energy.power_series(tl, meta)
    assert series["net_kw"].to_numpy() == pytest.approx([450.0, 1050.0, 850.0])
    assert series["interval_h"].to_numpy() == pytest.approx([0.25, 0.25, 0.1])
    peak = energy.peak_demand(series).loc[0]
    assert (peak["peak_kw"], peak["start_h"], peak["end_h"]) == pytest.approx((1050, 0.25, 0.5))


def test_tariff_integral_by_hand() -> None:
    # 22:00-6:00 at 0.3, 6:00-22:00 at 0.8 (the mapping is cyclic over the day)
    steps = [{"at_h": 6.0, "price": 0.8}, {"at_h": 22.0, "price": 0.3}]
    day = 6 * 0.3 + 16 * 0.8 + 2 * 0.3
    assert energy.price_integral(steps, [24.0, 48.0]) == pytest.approx([day, 2 * day])
    # 20:00 to 6:00 the next day: 2 h at 0.8, 8 h at 0.3
    assert energy.mean_price(steps, [20.0], [30.0])[0] == pytest.approx((1.6 + 2.4) / 10)
    # two days and a bit later, the same hours cost the same
    assert energy.mean_price(steps, [68.0], [78.0])[0] == pytest.approx(0.4)
    hours = [3.0, 6.0, 21.99, 22.0, 29.5, 30.0]
    assert energy.price_at(steps, hours).tolist() == [0.3, 0.8, 0.8, 0.3, 0.3, 0.8]


def test_tariff_forms_and_mistakes(tmp_path: Path) -> None:
    flat = _scenario(tmp_path, LINE.replace('tariff: {"0 h": 0.1, "8 h": 0.3, "20 h": 0.2}',
                                            "tariff: 0.25"))
    assert [s.model_dump() for s in flat.energy.tariff] == [{"at_h": 0.0, "price": 0.25}]
    for bad, words in (('tariff: {"24 h": 0.1}', "before"),
                       ('tariff: {"8 h": 0.1, "480 min": 0.2}', "twice"),
                       ("tariff: {}", "at least one price")):
        with pytest.raises(ScenarioError, match=words):
            _scenario(tmp_path, LINE.replace(
                'tariff: {"0 h": 0.1, "8 h": 0.3, "20 h": 0.2}', bad))


def test_facility_and_coordinates_mistakes(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="electricity' or 'heat"):
        _scenario(tmp_path, LINE.replace("carrier: heat", "carrier: steam"))
    with pytest.raises(ScenarioError, match="both x and y"):
        _scenario(tmp_path, LINE.replace("area: electrode", "area: electrode\n    x: 3"))
