"""Opportunity charging against a run worked out by hand, the batteries' energy balance with
charges cut short, and the effect an expert expects: fewer charges forced by the threshold.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import twin
from twin.engine.replication import Replication
from twin.experiment import prepare
from twin.model import ALL_VEHICLE_STATES, CHARGING, VEHICLE_STATES

H = 3600.0
EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios/examples/electrode_shop_agv_battery.yaml"

# scenarios/validation/agv_opportunity.yaml, in seconds and kWh. The AGV is asked for at
# 610 s + 600 s * (k - 1), k = 1, 2, ...; a cycle is 100 s loaded (0.1 kWh), 50 s to the
# charger (0.05 kWh) and charging until the next request, 450 s (at 1.6 kW: 0.2 kWh), unless
# the charge reaches CHARGE_TO first. It stands at the pickup, so every response is 0.
KWH_S = 3600 / 1.6  # seconds of charging per kWh
CYCLE_KWH = 0.1 + 0.05
CHARGE_TO = 1.8
FIRST = 610  # charging from time 0 to the first request
START = 1.0 + FIRST / KWH_S  # charge when the first tray takes the AGV off the charger
# charge at the start of the k-th charge after a trip: START - CYCLE_KWH + 0.05 (k - 1);
# the first k whose 450 s reach CHARGE_TO is the first full charge
FULL_K = math.ceil((CHARGE_TO - 450 / KWH_S - (START - CYCLE_KWH)) / 0.05) + 1  # 11
TRIPS = math.floor((100 * H - FIRST) / 600) + 1  # 599: the last request at 359,410 s
FIRST_FULL_S = (CHARGE_TO - (START - CYCLE_KWH + 0.05 * (FULL_K - 1))) * KWH_S  # 402.5 s
STEADY_S = CYCLE_KWH * KWH_S  # 337.5 s: every later charge pays back one cycle
CHARGING_S = (FIRST + 450 * (FULL_K - 1) + FIRST_FULL_S
              + STEADY_S * (TRIPS - FULL_K))  # 203,962.5 s
LOADED_S, TO_CHARGER_S = 100 * TRIPS, 50 * TRIPS


def test_the_hand_worked_run_of_one_agv(cases) -> None:
    """Counts, state times and the end charge of the hand-worked shuttle, exactly."""
    assert (FULL_K, TRIPS, FIRST_FULL_S, CHARGING_S) == (11, 599, pytest.approx(402.5),
                                                          pytest.approx(203962.5))
    m = cases.results("agv_opportunity.yaml").measures
    m = dict(zip(m[m.kind == "fleet"]["measure"], m[m.kind == "fleet"]["value"]))
    assert m["trips"] == TRIPS and m["response_h"] == 0.0
    # one charge from time 0 and one after every trip, all by opportunity; the first and
    # the next FULL_K - 1 are cut short by a tray
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (
        TRIPS + 1, TRIPS + 1, FULL_K)
    assert m["charging_h"] == pytest.approx(CHARGING_S / H, rel=1e-12)
    assert m["moving_loaded_h"] == pytest.approx(LOADED_S / H, rel=1e-12)
    assert m["to_charger_h"] == pytest.approx(TO_CHARGER_S / H, rel=1e-12)
    assert m["moving_empty_h"] == 0.0 and m["waiting_charger_h"] == 0.0
    assert m["idle_h"] == pytest.approx(100 - (CHARGING_S + LOADED_S + TO_CHARGER_S) / H,
                                        rel=1e-12)
    # the last charge ends at charge_to; what came in is what went out, plus 0.8 kWh
    assert m["battery_end_kwh"] == pytest.approx(CHARGE_TO, rel=1e-12)
    assert m["charged_kwh"] == pytest.approx(CHARGING_S / KWH_S, rel=1e-12)
    assert m["charged_kwh"] - CYCLE_KWH * TRIPS == pytest.approx(CHARGE_TO - 1.0, rel=1e-9)


def test_without_opportunity_the_same_agv_charges_only_when_forced(cases) -> None:
    """The same shuttle without opportunity charging: every charge is forced by the
    threshold, and the AGV, idle at b, drives 50 s empty to each pickup."""
    m = cases.results("agv_opportunity.yaml", "logistics.fleets.agv.battery.opportunity=false")
    m = dict(zip(m.measures["measure"], m.measures["value"]))
    assert "opportunity_charges" not in m
    assert m["charges"] > 0 and m["response_h"] > 0


@pytest.fixture(scope="module")
def shop() -> tuple[twin.Results, twin.Results]:
    """The electrode shop's two battery AGVs over 4 days after 1 day of warm-up, three
    replications, without and with opportunity charging."""
    short = ["run.horizon=4 d", "run.warmup=1 d", "run.replications=3"]
    off = twin.run(twin.load(EXAMPLE, overrides=[*short,
                                                 "logistics.fleets.agv.battery.opportunity=false"]))
    on = twin.run(twin.load(EXAMPLE, overrides=[*short,
                                                "logistics.fleets.agv.battery.opportunity=true"]))
    return off, on


def _fleet(res: twin.Results, replication: int) -> dict[str, float]:
    m = res.measures
    m = m[(m.replication == replication) & (m.kind == "fleet")]
    return dict(zip(m["measure"], m["value"]))


def test_the_fleet_battery_balance_holds_with_charges_cut_short(shop) -> None:
    """End - start = delivered - drawn, exactly, in every replication (warm-up included),
    with many opportunity charges cut short by moves."""
    _, on = shop
    for r in range(3):
        m = _fleet(on, r)
        assert m["interrupted_charges"] > 10 and m["opportunity_charges"] > 10
        drawn = sum(m[f"energy_{s}_kwh"] for s in VEHICLE_STATES)
        assert m["battery_end_kwh"] - m["battery_start_kwh"] == pytest.approx(
            m["charged_kwh"] - drawn, abs=1e-9)
        assert m["charged_kwh"] == pytest.approx(3 * m["charging_h"], rel=1e-12)
        assert 0 < m["battery_end_kwh"] <= 0.9 * m["battery_capacity_kwh"] + 1e-9


def test_each_vehicles_balance_holds_and_adds_up_to_the_fleets() -> None:
    """Vehicle by vehicle (the engine's own records; the results keep fleet totals): the
    charge at the end = initial + charge_kw x time charging - sum of power x time per state,
    exactly; the sum over the vehicles is the fleet's published end charge."""
    scenario = twin.load(EXAMPLE, overrides=["logistics.fleets.agv.battery.opportunity=true",
                                             "logistics.fleets.agv.vehicles=3"])
    model = prepare(scenario, replications=1, horizon="3 d", warmup=0)
    rep = Replication(model, 0, model.seed, 0.0)
    rep.env.run(until=rep.end)
    fleet = rep.fleets[0]
    spec = fleet.spec
    assert fleet.interrupted > 5
    ends = []
    for v in fleet.vehicles:
        seconds = list(v.totals)
        seconds[v.state] += rep.end - v.since
        assert sum(seconds) == pytest.approx(rep.end, rel=1e-12)
        used = sum(kw * s for kw, s in zip(spec.power_kw, seconds)) / H
        delivered = spec.battery.charge_kw * seconds[CHARGING] / H
        end = v.charge_at(rep.end)
        assert end == pytest.approx(spec.battery.initial + delivered - used, abs=1e-9), v.name
        assert 0 < end <= spec.battery.charge_to + 1e-9
        ends.append(end)
    assert len(seconds) == len(ALL_VEHICLE_STATES)
    published = twin.run(scenario, horizon="3 d", warmup=0, replications=1)
    assert _fleet(published, 0)["battery_end_kwh"] == pytest.approx(sum(ends), rel=1e-12)


def test_opportunity_charging_spares_forced_charges_when_vehicles_idle_often(shop) -> None:
    """The shop's AGVs are idle more than half the time: charging while idle keeps them
    above the threshold, so (nearly) no charge is forced by it, where without opportunity
    charging every charge is. The price: more driving to the chargers."""
    off, on = shop
    for r in range(3):
        m_off, m_on = _fleet(off, r), _fleet(on, r)
        assert m_off["idle_h"] > 0.5 * m_off["vehicles"] * 4 * 24
        forced_off = m_off["charges"]
        forced_on = m_on["charges"] - m_on["opportunity_charges"]
        assert forced_off >= 10
        assert forced_on <= forced_off / 10
        assert m_on["to_charger_km"] > m_off["to_charger_km"]
