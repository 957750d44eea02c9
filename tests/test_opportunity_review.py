"""Review of opportunity charging (`logistics.fleets.F.battery.opportunity: true`).

Expected values are worked out by hand from docs/modelling.md (Batteries and charging), or
are invariants any battery model must satisfy (energy balance, bounds, places, dispatch).

The shuttle (as in tests/test_opportunity_charging.py): units arrive at a every `every`,
take 10 s there and are carried 100 m to b. Loaded at 1 m/s (100 s, 3.6 kW: 0.1 kWh), empty
or to a charger at 2 m/s (50 s between a and b, or between h and a: 0.05 kWh). Battery 2 kWh,
threshold 0.4 kWh, charge_to 1.8 kWh, chargers deliver 1.6 kW: 2250 s per kWh.
"""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin
from twin.engine.replication import Replication
from twin.engine.vehicles import BatteryVehicle, Fleet
from twin.errors import ScenarioError
from twin.experiment import prepare
from twin.model import CHARGING, IDLE
from twin.scenario.load import load

H = 3600.0
KWH_S = 2250.0  # seconds of charging per kWh at 1.6 kW

SHUTTLE = """\
    name: opportunity review shuttle
    run: {{horizon: "{horizon}"{run}}}
    products:
      tray: {{route: [a, b], release: {{interarrival: {every}}}, transport: agv}}
    stations:
      a: {{process_time: "10 s"{station_a}}}
      b: {{process_time: "10 s"}}
    {calendars}
    logistics:
      points: {{h: [-100, 0], a: [0, 0], b: [100, 0]}}
      paths: [[h, a], [a, b]]
      fleets:
        agv:
          vehicles: {vehicles}
          speed_loaded: 1
          speed_empty: 2
          home: {home}
          power_kw: {{moving_loaded: 3.6, moving_empty: 3.6{power}}}
          battery:
            capacity_kwh: 2
            initial: {initial}
            recharge_below: 0.2
            charge_to: 0.9
            charge_kw: 1.6
            efficiency: {efficiency}
            chargers: {chargers}
    {opportunity}"""


def shuttle(tmp_path: Path, horizon: str = "1 h", every: str = '"600 s"', vehicles: int = 1,
            home: str = "a", initial: float = 0.5, chargers: str = "[a]",
            opportunity: str | None = "true", power: str = "", run: str = "",
            efficiency: float = 1.0, station_a: str = "", calendars: str = "",
            name: str = "shuttle.yaml") -> Path:
    key = "" if opportunity is None else f"        opportunity: {opportunity}\n"
    path = Path(tmp_path) / name
    path.write_text(textwrap.dedent(SHUTTLE.format(
        horizon=horizon, every=every, vehicles=vehicles, home=home, initial=initial,
        chargers=chargers, opportunity=key, power=power, run=run, efficiency=efficiency,
        station_a=station_a, calendars=calendars)))
    return path


def fleet_measures(res: twin.Results, replication: int = 0) -> dict[str, float]:
    m = res.measures
    m = m[(m.replication == replication) & (m.kind == "fleet")]
    return dict(zip(m["measure"], m["value"]))


def run(path: Path, *overrides: str) -> dict[str, float]:
    res = twin.run(load(path, overrides=list(overrides)))
    assert res.summary()["run"]["failed_replications"] == []
    return fleet_measures(res)


# =========================================================================================
# bad input
# =========================================================================================

@pytest.mark.parametrize("value", ["yes", "no", "on", "off"])
def test_yaml11_words_are_not_booleans_for_opportunity(tmp_path, value) -> None:
    """docs/scenario-format.md: `.battery.opportunity` is "`true` or `false` only". The
    YAML 1.1 words yes/no/on/off are not `true`/`false`; a file saying `opportunity: yes`
    must be rejected with one error naming the key, not silently read as true (a user who
    wrote `no` may mean something else entirely, e.g. a typo for `none`)."""
    with pytest.raises(ScenarioError) as e:
        load(shuttle(tmp_path, opportunity=value))
    text = str(e.value)
    assert "logistics.fleets.agv.battery.opportunity" in text
    assert text.count("battery.opportunity") == 1


@pytest.mark.parametrize("value", ["1", "null", "'yes'", "'true'", "2.0", "{}"])
def test_non_boolean_opportunity_gives_one_clear_error(tmp_path, value) -> None:
    with pytest.raises(ScenarioError) as e:
        load(shuttle(tmp_path, opportunity=value))
    text = str(e.value)
    assert "logistics.fleets.agv.battery.opportunity" in text
    assert text.count("battery.opportunity") == 1


# =========================================================================================
# hand traces
# =========================================================================================

def test_a_move_arriving_exactly_when_the_vehicle_reaches_the_charger_means_no_charge(
        tmp_path) -> None:
    """The AGV idles at b with 1 kWh, sets out by opportunity at 0 and reaches the charger
    at a at 50 s; units arrive every 40 s, so the first is asked for at 40 + 10 = 50 s,
    exactly when it arrives. modelling.md: "if a move waits when it arrives, it takes that
    move at once and does not charge". It charges for 0 s and 0 kWh: that is no charge
    begun, and certainly no charge 'cut short'. Counting it inflates charges_per_h and
    interrupted_charges_per_h with a charge that never happened (and the count depends on
    which of two simultaneous events SimPy happens to process first)."""
    m = run(shuttle(tmp_path, horizon="55 s", every='"40 s"', home="b", initial=0.5))
    assert m["charging_h"] == 0.0  # nothing was charged ...
    assert m["charged_kwh"] == 0.0
    # ... so nothing was begun or cut short
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (0, 0, 0)


def test_charge_to_reached_exactly_when_a_move_comes_is_a_full_charge(tmp_path) -> None:
    """The AGV at a with 1.6 kWh tops up 0.2 kWh: 450 s. Units every 440 s: the first is
    asked for at 450 s, when the charge is complete. Not a charge cut short."""
    m = run(shuttle(tmp_path, horizon="460 s", every='"440 s"', initial=0.8))
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (1, 1, 0)
    assert m["charging_h"] == pytest.approx(450 / H, rel=1e-9)


def test_three_idle_vehicles_one_place_take_turns(tmp_path) -> None:
    """Three AGVs idle at b with 1 kWh, one place at a, no units. Vehicle 0 sets out at 0
    (50 s, 0.05 kWh) and charges 0.85 kWh (1912.5 s) to 1962.5 s. The freed place goes to
    an idle one (equal charge, equal distance: the lowest number), which drives 50 s and
    charges 1912.5 s to 3925 s; then the third, to 5887.5 s. Nobody ever waits in line."""
    m = run(shuttle(tmp_path, horizon="2 h", every='"1000 h"', vehicles=3, home="b",
                    initial=0.5))
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (3, 3, 0)
    assert m["waiting_charger_h"] == 0.0
    assert m["to_charger_h"] == pytest.approx(3 * 50 / H, rel=1e-12)
    assert m["charging_h"] == pytest.approx(3 * 1912.5 / H, rel=1e-12)
    assert m["idle_h"] == pytest.approx(3 * 2 - (3 * 1962.5) / H, rel=1e-12)
    assert m["battery_end_kwh"] == pytest.approx(3 * 1.8, rel=1e-12)
    # one place: at most one vehicle charging at a time, so the utilisation is a share <= 1
    assert m["charging_h"] <= 2.0 + 1e-12
    res = twin.run(load(shuttle(tmp_path, horizon="2 h", every='"1000 h"', vehicles=3,
                                home="b", initial=0.5)))
    b = res.summary()["fleets"]["agv"]["battery"]
    # a place reserved for a vehicle still driving to it does not count as used
    assert b["charger_utilization"]["mean"] == pytest.approx(3 * 1912.5 / 7200, rel=1e-12)
    assert b["charge_wait_h"]["mean"] == 0.0 and b["charger_queue_mean"]["mean"] == 0.0


def test_initial_below_threshold_with_opportunity_is_a_forced_charge(tmp_path) -> None:
    """Initial 0.3 kWh (0.15, below the 0.2 threshold) at a: a forced charge to 1.8 kWh,
    1.5 kWh = 3375 s, never cut short by the units asked for at 610 s, 1210 s, ...; counted
    as a charge, not as an opportunity charge."""
    m = run(shuttle(tmp_path, horizon="3380 s", initial=0.15))
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (1, 0, 0)
    assert m["charging_h"] == pytest.approx(3375 / H, rel=1e-12)
    assert m["trips"] == 0


def test_warmup_counts_only_charges_of_the_measured_period(tmp_path) -> None:
    """Warm-up 500 s, then 2550 s measured (to 3050 s). The AGV charges by opportunity from
    0, 760, 1360, 1960, 2560 s; these are cut short at 610, 1210, 1810, 2410 and 3010 s.
    In the measured period 4 charges begin (760 ... 2560 s). `interrupted_charges` is
    documented as "opportunity charges cut short", a subset of `opportunity_charges` (the
    report even shows them side by side as a rate): the cut-short count of the period
    must not count a charge that the period's `opportunity_charges` does not contain, else
    'cut short' / 'opportunity' exceeds 100 %. The charges counted as cut short in the
    period are those begun in it: 760, 1360, 1960, 2560 -> cut at 1210, 1810, 2410, 3010."""
    m = run(shuttle(tmp_path, horizon="2550 s", run=', warmup: "500 s"'))
    assert m["opportunity_charges"] == 4
    assert m["interrupted_charges"] <= m["opportunity_charges"]
    assert m["interrupted_charges"] == 4


def test_warmup_energy_balance_and_start_charge(tmp_path) -> None:
    """Warm-up 500 s: the AGV at a charges by opportunity from 1 kWh, so at 500 s it holds
    1 + 500 / 2250 kWh. After warm-up: end - start = delivered - drawn, exactly."""
    m = run(shuttle(tmp_path, horizon="2550 s", run=', warmup: "500 s"'))
    assert m["battery_start_kwh"] == pytest.approx(1 + 500 / KWH_S, rel=1e-12)
    drawn = sum(v for k, v in m.items() if k.startswith("energy_") and k.endswith("_kwh"))
    assert m["battery_end_kwh"] - m["battery_start_kwh"] == pytest.approx(
        m["charged_kwh"] - drawn, abs=1e-12)
    assert m["trips"] == 4  # ending at 710, 1310, 1910, 2510 s (the next ends at 3110 s)


def test_a_topped_vehicle_does_not_top_up_again_until_it_drains_to_the_threshold(
        tmp_path) -> None:
    """Two AGVs with 1 kWh at a, one place at a, no units; idle vehicles draw 0.36 kW
    (0.0001 kWh/s), charging ones nothing. Vehicle 0 tops up 0.8 kWh, 0..1800 s. Vehicle 1,
    idle and wanting, gets the freed place at 1800 s with 1 - 0.18 = 0.82 kWh: 0.98 kWh,
    2205 s, to 4005 s. Vehicle 0, charged to charge_to and without a move since, never tops
    up again; it drains from 1.8 kWh to the 0.4 kWh threshold in 14000 s (at 15800 s) and
    then charges as forced: 1.4 kWh, 3150 s (cut by the 5 h horizon at 18000 s: 2200 s).
    Vehicle 1 reaches the threshold at 4005 + 14000 = 18005 s, after the horizon."""
    m = run(shuttle(tmp_path, horizon="5 h", every='"1000 h"', vehicles=2, initial=0.5,
                    power=", idle: 0.36, charging: 0"))
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (3, 2, 0)
    assert m["charging_h"] == pytest.approx((1800 + 2205 + 2200) / H, rel=1e-12)
    assert m["waiting_charger_h"] == 0.0
    assert m["idle_h"] == pytest.approx(10 - (1800 + 2205 + 2200) / H, rel=1e-12)


def test_opportunity_charger_on_another_floor_by_lift(tmp_path) -> None:
    """AGV idle at b (first floor) with 1 kWh, charger at a (ground). Riding a lift counts
    in `lift_to_charger_h` and the drive in `to_charger_h`; the energy balance holds and
    the charge ends at charge_to. The lift ride: wait for the car coming up from ground
    (6 m at 0.5 m/s: 12 s), in 4 s, 12 s of travel, out 4 s; drives 10 m + 20 m at 2 m/s."""
    path = shuttle(tmp_path, every='"1000 h"', home="b", initial=0.5,
                   power=", riding_lift: 1.8, waiting_lift: 0.36")
    m = run(path, "logistics.points={a: [0, 0], lift-0: [20, 0], lift-1: [20, 0], b: [30, 0]}",
            "logistics.paths=[[a, lift-0], [lift-1, b]]",
            "logistics.floors={ground: {height: 0, points: [a, lift-0]}, "
            "first: {height: 6, points: [lift-1, b]}}",
            "logistics.lifts={lift: {points: [lift-0, lift-1], home: ground, speed: 0.5, "
            "load_time: 4, unload_time: 4}}")
    assert (m["charges"], m["opportunity_charges"]) == (1, 1)
    assert m["to_charger_h"] == pytest.approx(15 / H, rel=1e-12)
    assert m["lift_to_charger_h"] == pytest.approx(32 / H, rel=1e-12)
    drawn = sum(v for k, v in m.items() if k.startswith("energy_") and k.endswith("_kwh"))
    # 15 s at 3.6 kW + 12 s waiting at 0.36 kW + 20 s riding at 1.8 kW
    assert drawn == pytest.approx((15 * 3.6 + 12 * 0.36 + 20 * 1.8) / H, rel=1e-9)
    assert m["charged_kwh"] == pytest.approx(1.8 - (1.0 - drawn), rel=1e-9)
    assert m["battery_end_kwh"] == pytest.approx(1.8, rel=1e-12)


# =========================================================================================
# invariants on random shuttles
# =========================================================================================

class Watch:
    """Records and checks, at every state change, what must always hold."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.begun = [0, 0]  # charges begun: [forced, by opportunity]
        self.cut = 0  # opportunity charges left below charge_to
        self.started: dict[str, float] = {}  # when each vehicle's charge began

    def install(self, monkeypatch) -> None:
        original_enter = BatteryVehicle.enter
        original_ready = Fleet.ready
        watch = self

        def enter(v: BatteryVehicle, state: int, now: float) -> None:
            fleet = v.fleet
            b = fleet.spec.battery
            old = v.state
            level = v.charge_at(now)
            top = max(b.charge_to, b.initial) + 1e-9
            if not (-1e-9 <= level <= top):
                watch.problems.append(f"{v.name} at {now}: charge {level} out of [0, {top}]")
            if old == CHARGING and state != CHARGING and not v.spare:
                # a forced charge ends only at charge_to
                if level < b.charge_to - 1e-9:
                    watch.problems.append(
                        f"{v.name} at {now}: forced charge ended at {level} < {b.charge_to}")
            if state == CHARGING and v.spare and level <= b.threshold + 1e-12:
                watch.problems.append(f"{v.name} at {now}: opportunity charge begun at "
                                      f"{level} <= threshold")
            if state == IDLE and fleet.requests:
                watch.problems.append(f"{v.name} at {now}: idle while a move waits")
            if state == CHARGING and v.spare and fleet.requests:
                watch.problems.append(f"{v.name} at {now}: charges by opportunity while a "
                                      f"move waits")
            if state == CHARGING and old != CHARGING:
                watch.begun[v.spare] += 1
                watch.started[v.name] = now
            if old == CHARGING and state != CHARGING and v.spare:
                if now == watch.started[v.name]:  # taken the instant it began: no charge
                    watch.begun[True] -= 1
                elif level < b.charge_to - 1e-9:
                    watch.cut += 1
            original_enter(v, state, now)
            if state == CHARGING and state != old:
                here = sum(1 for u in fleet.vehicles if u.state == CHARGING and u.at == v.at)
                places = dict(b.chargers)[v.at]
                if here > places:
                    watch.problems.append(f"{v.name} at {now}: {here} charging at a point "
                                          f"with {places} places")

        def ready(fleet: Fleet, move) -> None:
            original_ready(fleet, move)
            if fleet.requests and (fleet.idle or fleet.topping):
                watch.problems.append(f"t={fleet.env.now}: a move waits with "
                                      f"{len(fleet.idle)} idle vehicles and "
                                      f"{len(fleet.topping)} charging by opportunity")

        monkeypatch.setattr(BatteryVehicle, "enter", enter)
        monkeypatch.setattr(Fleet, "ready", ready)


def _replicate(path: Path, horizon: str, warmup: float = 0.0):
    scenario = load(path)
    model = prepare(scenario, replications=1, horizon=horizon, warmup=warmup)
    rep = Replication(model, 0, model.seed, warmup)
    rep.env.run(until=rep.end)
    return rep


shuttles = st.fixed_dictionaries({
    "vehicles": st.integers(1, 4),
    "home": st.sampled_from(["a", "b", "h"]),
    "initial": st.sampled_from([0.15, 0.25, 0.5, 0.8, 0.95, 1.0]),
    "chargers": st.sampled_from(["[a]", "{a: 2}", "[h]", "[h, b]", "{b: 1, h: 2}"]),
    "every": st.sampled_from(['"200 s"', '"450 s"', '{exponential: "120 s"}',
                              '{exponential: "300 s"}', '{exponential: "900 s"}']),
    # (waiting in line for a place draws nothing: a long line is documented as unbounded)
    "power": st.sampled_from([", waiting_charger: 0", ", idle: 0.36, waiting_charger: 0",
                              ", idle: 0.9, charging: 0.2, waiting_charger: 0"]),
    "efficiency": st.sampled_from([1.0, 0.8]),
})


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(p=shuttles)
def test_invariants_on_random_shuttles(p, monkeypatch) -> None:
    """Per vehicle: initial + charge_kw x charging time - sum(power x state time) = end
    charge; the charge stays within [0, max(charge_to, initial)]; charging places are never
    exceeded; a forced charge always ends at charge_to; an opportunity charge is begun above
    the threshold; a vehicle never idles while a move waits. Fleet: state hours sum to
    vehicles x horizon, grid energy = delivered / efficiency, the published end charge is
    the vehicles' sum, and opportunity/interrupted counts are consistent."""
    watch = Watch()
    with monkeypatch.context() as mp:
        watch.install(mp)
        with tempfile.TemporaryDirectory() as tmp:
            path = shuttle(Path(tmp), horizon="6 h", **p)
            rep = _replicate(path, "6 h")
            fleet = rep.fleets[0]
            spec = fleet.spec
            b = spec.battery
            ends = 0.0
            for v in fleet.vehicles:
                seconds = list(v.totals)
                seconds[v.state] += rep.end - v.since
                assert sum(seconds) == pytest.approx(rep.end, rel=1e-12)
                used = sum(kw * s for kw, s in zip(spec.power_kw, seconds)) / H
                delivered = b.charge_kw * seconds[CHARGING] / H
                end = v.charge_at(rep.end)
                assert end == pytest.approx(b.initial + delivered - used, abs=1e-9), v.name
                assert -1e-9 <= end <= max(b.charge_to, b.initial) + 1e-9
                ends += end
            assert fleet.interrupted <= fleet.opportunity_charges <= fleet.charges
            assert watch.problems == []
            # the counters agree with what the vehicles did (a charge still under way at
            # the end is not cut short)
            assert fleet.opportunity_charges == watch.begun[True]
            assert fleet.charges == sum(watch.begun)
            assert fleet.interrupted == watch.cut
            res = twin.run(load(path), horizon="6 h", warmup=0, replications=1)
    m = fleet_measures(res)
    states = [k for k in m if k.endswith("_h") and k[:-2] in twin.model.ALL_VEHICLE_STATES]
    assert sum(m[k] for k in states) == pytest.approx(p["vehicles"] * 6, rel=1e-12)
    assert m["charger_kwh"] == pytest.approx(m["charged_kwh"] / p["efficiency"], rel=1e-12)
    assert m["charged_kwh"] == pytest.approx(1.6 * m["charging_h"], rel=1e-12)
    assert m["battery_end_kwh"] == pytest.approx(ends, rel=1e-12, abs=1e-12)
    assert m["battery_start_kwh"] == pytest.approx(p["vehicles"] * 2 * p["initial"], rel=1e-12)
    places = sum(int(x) for x in (["1"] * p["chargers"].count(",") + ["1"])
                 ) if p["chargers"].startswith("[") else None
    if places is not None:
        assert m["charger_places"] == places
    assert m["charging_h"] <= m["charger_places"] * 6 + 1e-9
    assert m["waiting_charger_h"] >= 0 and m["interrupted_charges"] <= m["opportunity_charges"]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(p=shuttles, warmup=st.sampled_from([600.0, 1800.0, 3700.0]))
def test_balance_and_counts_after_warmup_on_random_shuttles(p, warmup) -> None:
    """After a warm-up: end - start = delivered - drawn exactly; state hours add up to
    vehicles x the measured period; opportunity charges are a subset of charges."""
    with tempfile.TemporaryDirectory() as tmp:
        path = shuttle(Path(tmp), horizon="4 h", run=f', warmup: "{warmup} s"', **p)
        m = run(path)
    drawn = sum(v for k, v in m.items() if k.startswith("energy_") and k.endswith("_kwh"))
    assert m["battery_end_kwh"] - m["battery_start_kwh"] == pytest.approx(
        m["charged_kwh"] - drawn, abs=1e-9)
    assert 0 <= m["battery_start_kwh"] <= p["vehicles"] * 2 + 1e-9
    assert m["opportunity_charges"] <= m["charges"]
    states = [k for k in m if k.endswith("_h") and k[:-2] in twin.model.ALL_VEHICLE_STATES]
    assert sum(m[k] for k in states) == pytest.approx(p["vehicles"] * 4, rel=1e-12)
    assert m["charged_kwh"] == pytest.approx(1.6 * m["charging_h"], rel=1e-12)
    # (interrupted <= opportunity across the warm-up boundary: see
    # test_warmup_counts_only_charges_of_the_measured_period)


# =========================================================================================
# dispatch and throughput
# =========================================================================================

def test_opportunity_does_not_lower_throughput_when_idle_time_is_plenty(tmp_path) -> None:
    """Two AGVs, units every exp(900 s) on average (the AGVs are idle most of the time).
    With the same seeds (common random numbers) the units delivered with opportunity
    charging are never fewer than without by more than the units in transit at the end;
    over 5 replications the total is at least the same."""
    path = shuttle(tmp_path, horizon="2 d", every='{exponential: "900 s"}', vehicles=2,
                   initial=1.0, chargers="[h]", power=", idle: 0.36, waiting_charger: 0",
                   run=', replications: 5, warmup: "4 h"')
    off = twin.run(load(path, overrides=["logistics.fleets.agv.battery.opportunity=false"]))
    on = twin.run(load(path))
    t_off = [fleet_measures(off, r)["trips"] for r in range(5)]
    t_on = [fleet_measures(on, r)["trips"] for r in range(5)]
    for a, b in zip(t_off, t_on):
        assert b >= a - 2
    assert sum(t_on) >= sum(t_off) - 2
    # and the response is not worse on average than the (plenty-idle) fleet without it by
    # more than one drive from a charger to the pickup (50 s)
    r_off = sum(fleet_measures(off, r)["response_h"] for r in range(5)) / 5
    r_on = sum(fleet_measures(on, r)["response_h"] for r in range(5)) / 5
    assert r_on <= r_off + 50 / H


def test_a_move_never_waits_for_a_vehicle_driving_to_charge_when_another_is_idle(
        tmp_path) -> None:
    """Two AGVs at b with 1 kWh, one place at h (200 m away). Vehicle 0 sets out to h by
    opportunity at 0 (100 s); vehicle 1 finds no free place and stays idle at b. The first
    unit is asked for at 110 s at a: the idle vehicle 1 takes it (50 s empty from b:
    response 50 s), and its trip ends at 260 s."""
    res = twin.run(load(shuttle(tmp_path, horizon="270 s", every='"100 s"', vehicles=2,
                                home="b", chargers="[h]", initial=0.5)))
    f = fleet_measures(res)
    assert f["trips"] == 1
    assert f["response_h"] == pytest.approx(50 / H, rel=1e-12)


# =========================================================================================
# shift calendars
# =========================================================================================

CALENDAR = """calendars:
      days: {shifts: [["6 h", "14 h"]]}"""


@pytest.mark.parametrize("at_shift_end", ["pause", "finish"])
def test_off_shift_station_leaves_the_agv_to_charge_and_balances_hold(
        tmp_path, at_shift_end, monkeypatch) -> None:
    """Station a works 6 h to 14 h; the AGVs run round the clock. Off shift no unit comes,
    so the AGVs top up while idle; the balance holds, and nothing breaks the invariants of
    Watch (with `finish`, work runs on past 14 h and moves keep coming in overtime)."""
    watch = Watch()
    watch.install(monkeypatch)
    path = shuttle(tmp_path, horizon="3 d", every='"300 s"', vehicles=2, initial=0.8,
                   chargers="[h]", power=", idle: 0.36, waiting_charger: 0",
                   station_a=f", calendar: days, at_shift_end: {at_shift_end}",
                   calendars=CALENDAR)
    rep = _replicate(path, "3 d")
    assert watch.problems == []
    fleet = rep.fleets[0]
    b = fleet.spec.battery
    # at 6 h on the last day (after a night of 16 h idle with chargers free) every AGV
    # holds charge_to less nothing (topped vehicles drain idle; check they are > threshold)
    for v in fleet.vehicles:
        assert v.charge_at(rep.end) > b.threshold
    assert fleet.interrupted <= fleet.opportunity_charges
    m = run(path)
    drawn = sum(v for k, v in m.items() if k.startswith("energy_") and k.endswith("_kwh"))
    assert m["battery_end_kwh"] - m["battery_start_kwh"] == pytest.approx(
        m["charged_kwh"] - drawn, abs=1e-9)
    assert m["trips"] > 0


# =========================================================================================
# summary JSON
# =========================================================================================

def _battery_summary(path: Path, *overrides: str) -> dict:
    return twin.run(load(path, overrides=list(overrides))).summary()["fleets"]["agv"]


def test_summary_opportunity_fields_mean_what_results_md_says(tmp_path) -> None:
    """opportunity_charges_per_h = opportunity_charges / period;
    interrupted_charges_per_h = interrupted_charges / period; charges_per_h minus
    opportunity_charges_per_h is the forced charges per hour (>= 0)."""
    path = shuttle(tmp_path, horizon="3 h", vehicles=2, initial=0.3,
                   power=", idle: 0.36", run=', warmup: "600 s"')
    res = twin.run(load(path))
    b = res.summary()["fleets"]["agv"]["battery"]
    m = fleet_measures(res)
    hours = 3.0
    assert b["opportunity_charges_per_h"]["mean"] == pytest.approx(
        m["opportunity_charges"] / hours, rel=1e-12)
    assert b["interrupted_charges_per_h"]["mean"] == pytest.approx(
        m["interrupted_charges"] / hours, rel=1e-12)
    assert b["charges_per_h"]["mean"] == pytest.approx(m["charges"] / hours, rel=1e-12)
    assert b["charges_per_h"]["mean"] - b["opportunity_charges_per_h"]["mean"] >= -1e-12
    assert b["charger_kwh"]["mean"] == pytest.approx(b["charged_kwh"]["mean"], rel=1e-12)


def test_summary_without_battery_or_without_opportunity_is_unchanged(tmp_path) -> None:
    """A fleet without a battery has no `battery` block; with a battery but without
    opportunity the block has exactly the documented keys (no opportunity ones), and the
    measures have no opportunity_charges / interrupted_charges."""
    documented = {"charges_per_h", "charging_share", "charge_wait_h", "charger_utilization",
                  "charger_queue_mean", "charged_kwh", "charger_kwh"}
    plain = _battery_summary(shuttle(tmp_path, opportunity=None))
    assert set(plain["battery"]) == documented
    off = _battery_summary(shuttle(tmp_path, opportunity="false"))
    assert set(off["battery"]) == documented
    on = _battery_summary(shuttle(tmp_path))
    assert set(on["battery"]) == documented | {"opportunity_charges_per_h",
                                               "interrupted_charges_per_h"}
    text = shuttle(tmp_path, opportunity=None).read_text()
    bare = tmp_path / "bare.yaml"
    bare.write_text(text[:text.index("    battery:")])
    no_battery = _battery_summary(bare)
    assert "battery" not in no_battery
    for state in ("to_charger", "waiting_charger", "charging"):
        assert no_battery["states"][state] == 0.0
    # the spec'd fleet fields are the same with and without a battery
    assert set(no_battery) | {"battery"} == set(on)


def test_an_opportunity_trip_across_a_lift_never_runs_the_battery_flat(tmp_path) -> None:
    """Ground floor: a (station, charger, home) and b, 100 m apart; the only way up is a
    one-way 1000 m loop from a to the lift (back from the lift to a: 10 m); upstairs, a
    charger u 10 m from the lift. The car rests upstairs (home: first). Two AGVs start at a
    with 0.56 kWh (threshold 0.3 kWh, which the load's reach check accepts: its worst case
    is from u, 0.29 kWh). Vehicle 0 takes the place at a. Vehicle 1 may charge by
    opportunity only at a point "its charge can reach" (modelling.md); the run up is 1000 m
    (0.5 kWh) + a wait of 12 s for the car to come down at 36 kW (0.12 kWh) + 20 s riding at
    1.8 kW (0.01 kWh) + 10 m (0.005 kWh) = 0.635 kWh > 0.56 kWh. So it must not set out
    (or the model must count the wait): no battery may run flat, and the replication must
    not fail. Counting the lift at its nominal ride time without the wait for the car (as
    if the car were always waiting) lets it set out and run flat at ~506 s."""
    path = shuttle(tmp_path, horizon="1 h", every='"1000 h"', vehicles=2, initial=0.28,
                   chargers="[a, u]", home="a", power=", riding_lift: 1.8, waiting_lift: 36")
    overrides = [
        "logistics.fleets.agv.battery.recharge_below=0.15",
        "logistics.points={a: [0, 0], b: [100, 0], lift-0: [10, 0], lift-1: [10, 0], "
        "u: [20, 0]}",
        "logistics.paths=[[a, b], {from: a, to: lift-0, length: 1000, one_way: true}, "
        "{from: lift-0, to: a, length: 10, one_way: true}, [lift-1, u]]",
        "logistics.floors={ground: {height: 0, points: [a, b, lift-0]}, "
        "first: {height: 6, points: [lift-1, u]}}",
        "logistics.lifts={lift: {points: [lift-0, lift-1], home: first, speed: 0.5, "
        "load_time: 4, unload_time: 4}}"]
    scenario = load(path, overrides=overrides)  # the load accepts it: threshold covers it
    res = twin.run(scenario)
    assert res.summary()["run"]["failed_replications"] == []
    m = fleet_measures(res)
    assert m["battery_end_kwh"] > 0


def test_a_vehicle_driving_to_charge_is_not_taken_and_takes_the_waiting_move_on_arrival(
        tmp_path) -> None:
    """One AGV idle at b with 1 kWh sets out by opportunity to the charger at a (50 s).
    Units every 30 s: the first is asked for at 40 s while it drives; it is not taken on
    the way, and on arrival at 50 s it takes the waiting move without charging (loading at
    50 s: response 10 s), carries it to b (100 s, trip ends at 150 s), and drives empty
    back to a for the next unit, waiting since 70 s (5 s of it by the 155 s horizon)."""
    m = run(shuttle(tmp_path, horizon="155 s", every='"30 s"', home="b", initial=0.5))
    assert (m["charges"], m["opportunity_charges"], m["interrupted_charges"]) == (0, 0, 0)
    assert m["charging_h"] == 0.0
    assert m["trips"] == 1
    assert m["response_h"] == pytest.approx(10 / H, rel=1e-12)
    assert m["to_charger_h"] == pytest.approx(50 / H, rel=1e-12)
    assert m["moving_empty_h"] == pytest.approx(5 / H, rel=1e-12)
    assert m["battery_end_kwh"] == pytest.approx(1.0 - 0.055 - 0.1, rel=1e-12)


def test_two_fleets_naming_one_charging_point_each_have_their_own_place(tmp_path) -> None:
    """Fleets agv and agv2, one AGV each idle at b with 1 kWh, both with one charging place
    at a and opportunity charging: each drives 50 s and charges 0.85 kWh (1912.5 s) at
    once, side by side (the places are the fleet's own), neither waits."""
    path = shuttle(tmp_path, horizon="2 h", every='"1000 h"', home="b", initial=0.5)
    res = twin.run(load(path, overrides=[
        "logistics.fleets.agv2={vehicles: 1, speed_loaded: 1, speed_empty: 2, home: b, "
        "power_kw: {moving_loaded: 3.6, moving_empty: 3.6}, battery: {capacity_kwh: 2, "
        "initial: 0.5, recharge_below: 0.2, charge_to: 0.9, charge_kw: 1.6, chargers: [a], "
        "opportunity: true}}",
        "products.tray2={route: [a, b], release: {interarrival: '1000 h'}, transport: agv2}"]))
    m = res.measures
    for name in ("agv", "agv2"):
        f = m[(m.kind == "fleet") & (m.entity == name)]
        f = dict(zip(f["measure"], f["value"]))
        assert (f["charges"], f["opportunity_charges"]) == (1, 1)
        assert f["charging_h"] == pytest.approx(1912.5 / H, rel=1e-12)
        assert f["waiting_charger_h"] == 0.0
        assert f["battery_end_kwh"] == pytest.approx(1.8, rel=1e-12)
