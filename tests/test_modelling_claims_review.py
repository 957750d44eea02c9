"""Review of the behavioural claims of docs/modelling.md, docs/energy.md, docs/flowline.md
and docs/validation.md that no other test pins down.

Each case is a tiny scenario with constant times whose result is worked out by hand in its
docstring or comments; the expected values come from that hand computation, never from a
run. All go through the public path (`twin.load` + `twin.run`).
"""

from __future__ import annotations

import textwrap

import pytest

import twin

H = 3600.0


def run(tmp_path, text: str, name: str = "claim.yaml", **options):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    res = twin.run(twin.load(path), **options)
    m = res.measures
    m = m[m.replication == 0]
    values = {(k, e, n): v for k, e, n, v in m[["kind", "entity", "measure", "value"]]
              .itertuples(index=False)}
    return values, res


def st(v, station, measure):
    return float(v[("station", station, measure)])


def pr(v, product, measure):
    return float(v[("product", product, measure)])


# ------------------------------------------------------------------------------------------
# Units, releases and work in process

def test_conwip_unit_waiting_outside_full_first_station_is_released_and_in_wip(tmp_path):
    """modelling.md: a CONWIP unit counts as released from the moment its card is freed,
    also while it waits outside a full first station; the WIP is exactly N at every moment.

    conwip 3 into one machine with buffer 0 and 30 s: one unit on the machine, two waiting
    outside. A unit leaves every 30 s; each finished unit was released 90 s earlier
    (it waited 60 s outside, then 30 s of processing)."""
    v, _ = run(tmp_path, """
        name: conwip outside
        run: {horizon: "1 h"}
        products:
          p: {route: [a], release: {conwip: 3}}
        stations:
          a: {process_time: "30 s", buffer: 0}
    """)
    assert float(v[("system", "", "wip_mean")]) == pytest.approx(3.0, abs=1e-9)
    # departures at 30, 60, ..., 3570 s (the one at 3600 s is past the end)
    assert pr(v, "p", "finished") == 119
    assert pr(v, "p", "released") == 3 + 119
    assert pr(v, "p", "lead_time_h") * H == pytest.approx(
        (30 + 60 + 90 * 117) / 119, rel=1e-9)   # the first two started at 0 and 30 s


def test_open_arrival_waiting_outside_is_not_released(tmp_path):
    """modelling.md (choice): an open arrival waiting outside a full first station is not
    released, not in the WIP, and its lead time starts when it enters.

    A unit every 10 s into one 30 s machine with no buffer: the backlog grows, but each
    released unit goes straight onto the machine, so the lead time is exactly 30 s, at most
    one unit is in the WIP, and units are released only as fast as the machine takes them."""
    v, _ = run(tmp_path, """
        name: open outside
        run: {horizon: "1 h"}
        products:
          p: {route: [a], release: {interarrival: "10 s"}}
        stations:
          a: {process_time: "30 s", buffer: 0}
    """)
    assert pr(v, "p", "lead_time_h") * H == pytest.approx(30.0, rel=1e-9)
    assert float(v[("system", "", "wip_mean")]) <= 1.0 + 1e-9
    assert pr(v, "p", "released") in (120, 121)


def test_initial_wip_counts_against_conwip_and_lead_time_runs_from_zero(tmp_path):
    """modelling.md: initial WIP is not released, its lead time runs from time 0, and a
    CONWIP product's limit counts it.

    conwip 3 with 3 units already at a (60 s each, FIFO): they finish at 60, 120, 180 s
    (lead 60, 120, 180 s); each departure releases one, which joins behind the other two
    and finishes 180 s later. Over 590 s: 9 finished, 9 released (at 60, ..., 540 s), WIP 3
    throughout; mean lead time (60 + 120 + 180 + 6 × 180) / 9 = 160 s."""
    v, _ = run(tmp_path, """
        name: initial wip conwip
        run: {horizon: "590 s"}
        products:
          p: {route: [a], release: {conwip: 3}}
        stations:
          a: {process_time: "60 s"}
        initial_wip:
          a: {p: 3}
    """)
    assert pr(v, "p", "finished") == 9
    assert pr(v, "p", "released") == 9
    assert pr(v, "p", "lead_time_h") * H == pytest.approx(160.0, rel=1e-9)
    assert float(v[("system", "", "wip_mean")]) == pytest.approx(3.0, abs=1e-9)


def test_next_step_on_same_station_goes_on_at_once(tmp_path):
    """modelling.md (choice): when the next step of a route is on the same station the
    machine goes on with it at once, ahead of the units in its buffer.

    Two units at a at time 0, route [a, a], 60 s a visit: the first is done at 120 s, the
    second at 240 s (queued behind the buffer it would be 180 and 240)."""
    v, _ = run(tmp_path, """
        name: oven twice
        run: {horizon: "250 s"}
        products:
          p: {route: [a, a], release: {conwip: 2}}
        stations:
          a: {process_time: "60 s"}
        initial_wip:
          a: {p: 2}
    """)
    assert pr(v, "p", "finished") == 2
    assert pr(v, "p", "lead_time_h") * H == pytest.approx((120 + 240) / 2, rel=1e-9)


# ------------------------------------------------------------------------------------------
# Failures

def test_machine_failing_while_blocked_is_down_and_its_unit_may_leave(tmp_path):
    """modelling.md (Failures, State accounting): a machine that fails while blocked counts
    as down; its finished unit may still be taken by the next station; it takes new work
    only after repair; the time-mode clock runs while blocked.

    a: 10 s, fails after every 25 s up (time mode), 100 s repair; b: 30 s, no buffer.
    a makes unit 1 (0-10, to b 10-40), unit 2 (10-20), is blocked 20-25, fails at 25 and is
    down 25-125; b takes unit 2 at 40 (40-70). Repaired at 125, a makes unit 3 (125-135,
    b 135-165), unit 4 (135-145), blocked 145-150, down 150-250. Over 250 s: a busy 40,
    blocked 10, down 200; b finishes units at 40, 70, 165, 195."""
    v, _ = run(tmp_path, """
        name: fail while blocked
        run: {horizon: "250 s"}
        products:
          p: {route: [a, b], release: saturated}
        stations:
          a:
            process_time: "10 s"
            failures: {mtbf: "25 s", mttr: "100 s", mode: time}
          b: {process_time: "30 s", buffer: 0}
    """)
    assert st(v, "a", "busy_h") * H == pytest.approx(40, abs=1e-6)
    assert st(v, "a", "blocked_h") * H == pytest.approx(10, abs=1e-6)
    assert st(v, "a", "down_h") * H == pytest.approx(200, abs=1e-6)
    assert pr(v, "p", "finished") == 4
    assert st(v, "b", "busy_h") * H == pytest.approx(4 * 30, abs=1e-6)


def test_time_failures_and_repairs_count_on_shift_time_only(tmp_path):
    """modelling.md (Shift calendars): with `mode: time` the time to failure counts only time
    up and on shift, repairs happen on shift too, and off shift takes precedence over down.

    A 0-8 h shift every day, a failure after every 5 h up, repairs of 4 h: on the clock of
    worked hours the machine is up 5 h, down 4 h, again and again. 9 days = 72 worked hours
    = 8 such cycles: up (busy, saturated) 40 h, down 32 h, off shift 9 × 16 = 144 h.
    Energy uses the off-shift power for the off-shift time, a repair under way included:
    40 × 10 + 32 × 5 + 144 × 1 = 704 kWh. OEE's planned time is the time on shift: 40 / 72
    (1 h a unit, 40 units in 40 h busy)."""
    v, res = run(tmp_path, """
        name: failures on shift
        run: {horizon: "9 d"}
        calendars:
          day: {shifts: [["0 h", "8 h"]]}
        products:
          p: {route: [a], release: saturated}
        stations:
          a:
            process_time: "1 h"
            calendar: day
            failures: {mtbf: "5 h", mttr: "4 h", mode: time}
            power_kw: {busy: 10, down: 5, off_shift: 1}
    """)
    assert st(v, "a", "busy_h") == pytest.approx(40, abs=1e-6)
    assert st(v, "a", "down_h") == pytest.approx(32, abs=1e-6)
    assert st(v, "a", "off_shift_h") == pytest.approx(144, abs=1e-6)
    assert pr(v, "p", "finished") == 40
    energy = sum(st(v, "a", f"energy_{s}_kwh") for s in
                 ("busy", "starved", "blocked", "down", "setup", "off_shift"))
    assert energy == pytest.approx(704, abs=1e-6)
    assert res.summary()["stations"]["a"]["oee"]["mean"] == pytest.approx(40 / 72, abs=1e-9)


# ------------------------------------------------------------------------------------------
# Changeovers and campaigns

def test_saturated_campaigns_take_turns_with_setups(tmp_path):
    """modelling.md: saturated products starting at one station take turns, each for its
    campaign; a machine starts set up for its first unit; a change costs the setup time.

    x (campaign 2) and y (campaign 1), 60 s each, 30 s setup: x x s y s | x x s y s ...,
    240 s a cycle, so 45 cycles in 3 h: 90 x, 45 y, 90 changeovers, 2700 s of setup."""
    v, _ = run(tmp_path, """
        name: campaigns
        run: {horizon: "3 h"}
        products:
          x: {route: [a], release: saturated, campaign: 2}
          y: {route: [a], release: saturated, campaign: 1}
        stations:
          a: {process_time: "60 s", setup: "30 s"}
    """)
    assert pr(v, "x", "finished") == 90
    assert pr(v, "y", "finished") == 45
    assert st(v, "a", "changeovers") == 90
    assert st(v, "a", "setup_h") * H == pytest.approx(2700, abs=1e-6)


def test_warmup_mid_setup_counts_only_setups_begun_after_it(tmp_path):
    """modelling.md (Changeovers, Warm-up): `changeovers` counts setups begun in the measured
    period, a setup still running at the end included, its time up to the end in `setup`.

    x, y alternate (campaign 1), 60 s each, 40 s setup: x 0-60, setup 60-100, y 100-160,
    setup 160-200, ... (a setup begins at 60 + 100 k). Warm-up 80 s (mid-setup), horizon
    1000 s: measured [80, 1080]. Setups begun at 160, ..., 1060: 10; setup time 20 (80-100)
    + 9 × 40 + 20 (1060-1080) = 400 s; busy 10 × 60 = 600 s."""
    v, _ = run(tmp_path, """
        name: warmup setup
        run: {horizon: "1000 s", warmup: "80 s"}
        products:
          x: {route: [a], release: saturated}
          y: {route: [a], release: saturated}
        stations:
          a: {process_time: "60 s", setup: "40 s"}
    """)
    assert st(v, "a", "changeovers") == 10
    assert st(v, "a", "setup_h") * H == pytest.approx(400, abs=1e-6)
    assert st(v, "a", "busy_h") * H == pytest.approx(600, abs=1e-6)


def test_operation_failures_ignore_setup_time(tmp_path):
    """modelling.md (Changeovers, choice): `mode: operation` failures count processing time
    only: a setup neither advances the failure clock nor is interrupted.

    x, y alternate: each unit 30 s setup + 60 s; a failure after every 100 s of processing,
    50 s repair. Per 5 units (300 s processing): 3 failures, so 5 × 90 + 150 = 600 s, 30
    units an hour. (Were setups counted, a failure every 100 s of setup + processing: 90 s
    + 45 s per unit, 26.7 an hour.) The first unit has no setup: 10 h, from 30 s on, 299
    units finish (the 300th at 36030 s)."""
    v, _ = run(tmp_path, """
        name: op failures setup
        run: {horizon: "10 h"}
        products:
          x: {route: [a], release: saturated}
          y: {route: [a], release: saturated}
        stations:
          a:
            process_time: "60 s"
            setup: "30 s"
            failures: {mtbf: "100 s", mttr: "50 s", mode: operation}
    """)
    total = pr(v, "x", "finished") + pr(v, "y", "finished")
    assert total in (299, 300)
    assert st(v, "a", "down_h") * H == pytest.approx(50 * (total * 60 // 100), abs=100)


# ------------------------------------------------------------------------------------------
# Bottleneck

def test_multi_machine_station_is_active_only_while_all_machines_are(tmp_path):
    """modelling.md (choice): a station with several machines is active while all of its
    machines are active.

    A unit every 60 s into a (2 machines, 100 s each, taking turns), then b (50 s). Both of
    a's machines are busy 40 s in every 60 s ([60k, 60k + 40)); b is busy [60k + 40,
    60k + 90). Modulo 60 s: b (50 s periods) beats a (40 s) on [0, 30); a alone on
    [30, 40); b alone on [40, 60). The chain b -> a -> b overlaps on [0, 30) (shifting),
    a's period ends as b's begins (sole). Shares: b 50/60, a 40/60. With the 'any machine'
    rule a would be active all the time and the sole bottleneck."""
    _, res = run(tmp_path, """
        name: two machines bottleneck
        run: {horizon: "10 h", warmup: "10 min"}
        products:
          p: {route: [a, b], release: {interarrival: "60 s"}}
        stations:
          a: {process_time: "100 s", servers: 2}
          b: {process_time: "50 s"}
    """)
    share = res.summary()["bottleneck"]["share"]
    assert share["b"] == pytest.approx(50 / 60, abs=2e-3)
    assert share["a"] == pytest.approx(40 / 60, abs=2e-3)


# ------------------------------------------------------------------------------------------
# Vehicles and shift calendars

AGV_DAY = """
    name: vehicles and calendars
    run: {{horizon: "86500 s"}}
    calendars:
      hour: {{shifts: [["0 h", "1 h"]]}}
    products:
      p: {{route: [a, b], release: saturated, transport: agv}}
    stations:
      a: {{process_time: "{a_time}", buffer: 0}}
      b: {{process_time: "10 s", buffer: 0, calendar: hour}}
    logistics:
      points: {{a: [0, 0], b: [20, 0]}}
      paths: [[a, b]]
      fleets:
        agv: {{vehicles: 1, speed_loaded: 1, home: a}}
"""


def test_move_into_off_shift_station_waits_with_the_vehicle_free(tmp_path):
    """modelling.md (Shift calendars, Vehicles): off shift an idle machine is no free place
    for a move; the move waits until the shift begins, the vehicle stays free (never waits
    loaded), and stays where it unloaded.

    b works 0-1 h each day. a's first unit is done at 3610 s, b is off shift: a holds it
    (blocked) until 86400 s; the AGV, at a, loads at once: 20 s loaded to b (86420), b
    processes 86420-86430. a's next unit (86400 + 3610 s) is not done by 86500 s."""
    v, _ = run(tmp_path, AGV_DAY.format(a_time="3610 s"))
    assert st(v, "a", "blocked_h") * H == pytest.approx(86400 - 3610, abs=1e-6)
    assert float(v[("fleet", "agv", "waiting_h")]) == 0
    assert float(v[("fleet", "agv", "moving_loaded_h")]) * H == pytest.approx(20, abs=1e-6)
    assert float(v[("fleet", "agv", "moving_empty_h")]) == 0
    assert pr(v, "p", "finished") == 1
    assert pr(v, "p", "lead_time_h") * H == pytest.approx(86430, abs=1e-6)
    assert st(v, "b", "wait_h") == 0


def test_vehicle_reserved_on_shift_sets_unit_down_and_its_wait_runs_to_the_shift(tmp_path):
    """modelling.md (Shift calendars, Vehicles): a vehicle on its way to a machine reserved
    while the station was on shift sets its unit on that machine, where it waits for the
    next shift; its `wait_h` runs until processing can start.

    a: 1790 s, b: 10 s, works 0-1 h. Unit 1: done 1790, carried 1790-1810, b 1810-1820.
    Unit 2 (a 1790-3580): b idle and on shift, so reserved; the AGV (left at b) runs 20 s
    empty, 20 s loaded: set down on b at 3620, off shift, processed at 86400 (wait 82780 s).
    Unit 3 (a 3600-5390) waits, a blocked, for b's machine: free at 86410, AGV from b, at
    b at 86450, done 86460. b's waits: 0, 82780, 0 s; a blocked 20 (unit 2 waiting for the
    AGV) + 86430 - 5390 s; the AGV never waits loaded."""
    v, _ = run(tmp_path, AGV_DAY.format(a_time="1790 s"))
    assert st(v, "b", "waits") == 3
    assert st(v, "b", "wait_h") * H == pytest.approx(82780 / 3, abs=1e-6)
    assert st(v, "a", "blocked_h") * H == pytest.approx(20 + 86430 - 5390, abs=1e-6)
    assert float(v[("fleet", "agv", "waiting_h")]) == 0
    assert float(v[("fleet", "agv", "moving_empty_h")]) * H == pytest.approx(40, abs=1e-6)
    assert pr(v, "p", "finished") == 3


# ------------------------------------------------------------------------------------------
# Conveyors

def test_conveyor_runs_round_the_clock_into_an_off_shift_buffer(tmp_path):
    """modelling.md (Conveyors): conveyors run round the clock; a `to` station off shift
    takes units from the end into its buffer places, not onto its idle machines; an
    accumulating belt queues up behind the unit waiting at the end; the entry is free p / v
    after each unit got on, whatever happens at the end.

    a: 60 s (saturated), belt 10 m at 1 m/s, pitch 2 m (5 places), b: 30 s, 5 places,
    works 0-12 h. By day unit k rides 60k to 60k + 10 s and b is done by 60k + 40. From
    43200 s (unit 720) b is off shift: units 720-724 fill its buffer, units 725-729 get on
    at 43500, ..., 43740 and close up behind 725 (waiting at the end from 43510); unit 730,
    done at 43800, finds 5 aboard: a blocked 43800-86400.
    Belt `moving`: 719 × 10 + 5 × 10 + 10 + (8 + 6 + 4 + 2) = 7270 s (units 726-729 stop
    k pitches short of the end); `stopped`: 43510-43560, 43568-43620, 43626-43680,
    43684-43740, 43742-86400 = 42870 s."""
    v, _ = run(tmp_path, """
        name: belt into night
        run: {horizon: "1 d"}
        calendars:
          half: {shifts: [["0 h", "12 h"]]}
        products:
          p: {route: [a, b], release: saturated}
        stations:
          a: {process_time: "60 s", buffer: 0}
          b: {process_time: "30 s", buffer: 5, calendar: half}
        logistics:
          conveyors:
            ab: {from: a, to: b, length: 10, speed: 1, pitch: 2}
    """)
    assert st(v, "a", "blocked_h") * H == pytest.approx(86400 - 43800, abs=1e-6)
    assert st(v, "a", "busy_h") * H == pytest.approx(43800, abs=1e-6)
    assert st(v, "b", "queue_end") == 5
    assert pr(v, "p", "finished") == 719
    c = {n: float(v[("conveyor", "ab", n)]) for n in
         ("moving_h", "stopped_h", "empty_h", "carried", "aboard_end")}
    assert c["carried"] == 724 and c["aboard_end"] == 5
    assert c["moving_h"] * H == pytest.approx(7270, abs=1e-6)
    assert c["stopped_h"] * H == pytest.approx(42870, abs=1e-6)
    assert (c["moving_h"] + c["stopped_h"] + c["empty_h"]) == pytest.approx(24, abs=1e-9)


# ------------------------------------------------------------------------------------------
# Warehouses

def test_warehouse_retrievals_go_before_storage(tmp_path):
    """modelling.md (Warehouses): retrievals go before storage; the mean time in a place is
    the dwell plus the wait for a crane.

    One crane, cycles of 5 s pick + 5 s deposit (travel on a 1 m rack at 1000 m/s: at most
    2 ms), dwell 1 s, a unit every 15 s: the crane (20 s per unit) is the bottleneck and the
    infeed always full. Stored at t + 10, the unit's dwell ends at t + 11, so at t + 10 the
    crane stores the next one; at t + 20 the first is due and goes first: retrieval, then
    the second (due at t + 21) at t + 30, then two stores again. Each unit waits in its
    place 10 s (1 s dwell + 9 s); 2 units per 40 s = 180 an hour. (Were storage first, the
    crane would fill all 3 places before any retrieval and units would wait far longer.)"""
    v, _ = run(tmp_path, """
        name: asrs priority
        run: {horizon: "10 h", warmup: "1 h"}
        products:
          p: {route: [w], release: {interarrival: "15 s"}}
        stations:
          w:
            process_time: "1 s"
            warehouse:
              places: 3
              cranes: 1
              rack: {length: 1, height: 1}
              speed: {horizontal: 1000, vertical: 1000}
              pick_deposit: "5 s"
    """)
    assert st(v, "w", "in_store_h") * H == pytest.approx(10, abs=0.01)
    assert st(v, "w", "store_cycle_h") * H == pytest.approx(10, abs=0.003)
    assert pr(v, "p", "throughput_per_h") == pytest.approx(180, abs=0.2)
    # places taken from the start of a store cycle to the pick-up of the unit: A 0-25 s,
    # B 10-35 s of each 40 s (1.25); storage first would keep all 3 places taken
    assert st(v, "w", "stored_mean") == pytest.approx(1.25, abs=0.01)
    # OEE: the planned run time per unit is two expected cycles per crane
    assert st(v, "w", "planned_unit_time_h") * H == pytest.approx(
        2 * (0.001 * (1 + 1 / 3) + 10), rel=1e-9)


# ------------------------------------------------------------------------------------------
# Energy

def test_energy_totals_tariff_clock_after_warmup(tmp_path):
    """energy.md: total = stations' electricity + facility − recovered; energy = total +
    heat; the tariff clock is run_starts_at + warm-up + time; the interval's price applies;
    recovered electricity is credited at the price of the moment; CO2 and heat cost.

    One always-busy machine: 100 kW, heat 5 kW, recovered 2 kW; facility 3 kW electric and
    1 kW heat. Run starts at 6 h, warm-up 3 h, horizon 6 h: clock 9-15 h, price 1 until
    12 h and 2 after. Electricity 600 + 18 = 618, recovered 12, total 606 kWh, heat 30 + 6
    = 36, energy 642; cost 101 kW × (3 × 1 + 3 × 2) = 909, heat 36 × 0.5 = 18; CO2 606 ×
    0.5 + 36 × 0.2 = 310.2 kg; peak 100 − 2 + 3 = 101 kW; 360 units: 606 / 360 kWh a unit."""
    _, res = run(tmp_path, """
        name: energy
        run: {horizon: "6 h", warmup: "3 h"}
        products:
          p: {route: [a], release: saturated}
        stations:
          a: {process_time: "60 s", power_kw: {busy: 100}, heat_kw: {busy: 5},
              recovered_kw: {busy: 2}}
        energy:
          facility: {room: {kw: 3}, steam: {kw: 1, carrier: heat}}
          tariff: {"0 h": 1, "12 h": 2}
          run_starts_at: "6 h"
          heat_price: 0.5
          co2_kg_per_kwh: 0.5
          heat_co2_kg_per_kwh: 0.2
    """)
    e = res.summary()["energy"]
    mean = {k: e[k]["mean"] for k in ("total_kwh", "electricity_kwh", "recovered_kwh",
                                      "heat_kwh", "energy_kwh", "peak_kw", "co2_kg",
                                      "kwh_per_unit")}
    assert mean == pytest.approx({"total_kwh": 606, "electricity_kwh": 618,
                                  "recovered_kwh": 12, "heat_kwh": 36, "energy_kwh": 642,
                                  "peak_kw": 101, "co2_kg": 310.2,
                                  "kwh_per_unit": 606 / 360}, rel=1e-9)
    assert e["cost"]["electricity"]["mean"] == pytest.approx(909, rel=1e-9)
    assert e["cost"]["heat"]["mean"] == pytest.approx(18, rel=1e-9)
    assert e["by_area"]["a"]["kwh"]["mean"] == pytest.approx(600 + 30 - 12, rel=1e-9)


def test_peak_counts_lifts_and_conveyors_but_not_a_fleet_without_battery(tmp_path):
    """energy.md: a fleet without battery is counted in the total (area logistics) but not
    in the peak demand; lifts and conveyors are in both.

    Nothing moves in 10 h (one arrival after 1000 h): station a starved at 4 kW, an AGV
    idle at 1 kW, an unused lift idle at 2 kW, a conveyor at 3 kW in every state. Total
    (4 + 1 + 2 + 3) × 10 = 100 kWh; peak 4 + 2 + 3 = 9 kW."""
    _, res = run(tmp_path, """
        name: peak parts
        run: {horizon: "10 h"}
        products:
          p: {route: [a, b, c], release: {interarrival: "1000 h"}, transport: agv}
        stations:
          a: {process_time: "60 s", power_kw: {starved: 4}}
          b: {process_time: "60 s"}
          c: {process_time: "60 s"}
        logistics:
          points: {a: [0, 0], b: [10, 0], c: [20, 0], l0: [5, 5], l1: [5, 5]}
          floors:
            ground: {height: 0, points: [a, b, c, l0]}
            first: {height: 5, points: [l1]}
          paths: [[a, b], [b, c], [a, l0]]
          lifts:
            lift: {points: [l0, l1], speed: 1, power_kw: {idle: 2}}
          conveyors:
            bc: {from: b, to: c, length: 5, speed: 1, pitch: 1,
                 power_kw: {moving: 3, stopped: 3, empty: 3}}
          fleets:
            agv: {vehicles: 1, speed_loaded: 1, home: a, power_kw: {idle: 1}}
    """)
    e = res.summary()["energy"]
    assert e["total_kwh"]["mean"] == pytest.approx(100, rel=1e-9)
    assert e["peak_kw"]["mean"] == pytest.approx(9, rel=1e-9)


# ------------------------------------------------------------------------------------------
# Batteries

def test_idle_drain_forced_charges_after_warmup(tmp_path):
    """modelling.md (Batteries), energy.md: an idle vehicle that drains leaves for a charger
    the moment it reaches the threshold; it charges at charge_kw less its own draw up to
    charge_to; charging is active for the bottleneck; after a warm-up charges stay, counters
    restart, end − start = delivered − drawn; the grid sees charge_kw / efficiency, in the
    total and the peak.

    10 kWh, idle 1 kW, charging draw (default idle's) 1 kW, charger 5 kW at the home point,
    threshold 0.5: idle 0-5 h, charging (net 4 kW) 5-6.25 h, idle 5 h, ... charges begin at
    5, 11.25, 17.5, 23.75 h. Measured 2-25 h: start 8 kWh, end 10 kWh, 4 charges, 5 h
    charging, 18 h idle; delivered 25 kWh, drawn 23 kWh; grid 25 / 0.8 = 31.25 kWh; peak
    5 / 0.8 = 6.25 kW; the fleet is the (sole) bottleneck the 5 h it charges."""
    v, res = run(tmp_path, """
        name: drain
        run: {horizon: "23 h", warmup: "2 h"}
        products:
          p: {route: [a, b], release: {interarrival: "1000 h"}, transport: agv}
        stations:
          a: {process_time: "60 s"}
          b: {process_time: "60 s"}
        logistics:
          points: {a: [0, 0], b: [10, 0]}
          paths: [[a, b]]
          fleets:
            agv:
              vehicles: 1
              speed_loaded: 1
              home: a
              power_kw: {idle: 1}
              battery: {capacity_kwh: 10, recharge_below: 0.5, charge_kw: 5,
                        efficiency: 0.8, chargers: [a]}
    """)
    f = {n: float(v[("fleet", "agv", n)]) for n in
         ("charges", "charging_h", "idle_h", "battery_start_kwh", "battery_end_kwh",
          "charged_kwh", "charger_kwh", "bottleneck_sole_h")}
    assert f == pytest.approx({"charges": 4, "charging_h": 5, "idle_h": 18,
                               "battery_start_kwh": 8, "battery_end_kwh": 10,
                               "charged_kwh": 25, "charger_kwh": 31.25,
                               "bottleneck_sole_h": 5}, abs=1e-6)
    e = res.summary()["energy"]
    assert e["total_kwh"]["mean"] == pytest.approx(31.25, rel=1e-9)
    assert e["peak_kw"]["mean"] == pytest.approx(6.25, rel=1e-9)


# ------------------------------------------------------------------------------------------
# Batches

def test_time_failure_interrupts_and_resumes_a_batch(tmp_path):
    """modelling.md (Batches): one process time per batch; time-dependent failures interrupt
    and resume the batch (preemptive-resume).

    Batches of 2, 100 s, saturated; a failure after every 170 s up, 30 s repair. Batch 1
    0-100; batch 2 from 100, fails at 170 (70 s done), down 170-200, done 230; batch 3
    230-330; batch 4 from 330, fails at 370 (40 s done), down 370-400, done 460. Over 450 s:
    3 batches = 6 units, down 60 s, busy 390 s, process_h one time per batch."""
    v, _ = run(tmp_path, """
        name: batch failure
        run: {horizon: "450 s"}
        products:
          p: {route: [oven], release: saturated}
        stations:
          oven:
            process_time: "100 s"
            batch: {size: 2}
            buffer: 2
            failures: {mtbf: "170 s", mttr: "30 s", mode: time}
    """)
    assert pr(v, "p", "finished") == 6
    assert st(v, "oven", "down_h") * H == pytest.approx(60, abs=1e-6)
    assert st(v, "oven", "busy_h") * H == pytest.approx(390, abs=1e-6)
    # OEE's planned run time per unit: the batch time / servers / size
    assert st(v, "oven", "planned_unit_time_h") * H == pytest.approx(50, rel=1e-9)


def test_two_ovens_unloading_into_a_full_station_do_not_interleave(tmp_path):
    """modelling.md (Batches, choice): once a unit of a batch has waited its turn in the next
    station's line of blocked senders, the rest of the batch keeps the front of that line;
    the machine takes its next batch only when its last unit has left.

    Two ovens, batches of 2 in 10 s (saturated), into b: 30 s, no buffer. b takes one unit
    every 30 s from 10 s on; the units b processes come in pairs from the same batch
    (same oven start and end), and an oven starts a batch only once both units left: a
    batch every 60 s per b's pace, 2 units a minute."""
    v, res = run(tmp_path, """
        name: ovens unload
        run: {horizon: "1 h"}
        products:
          p: {route: [oven, b], release: saturated}
        stations:
          oven: {process_time: "10 s", batch: {size: 2}, buffer: 4, servers: 2}
          b: {process_time: "30 s", buffer: 0}
    """, event_log=True)
    ev = res.events
    ev = ev[(ev.replication == 0) & (ev.activity == "process")]
    batch_of = {u: (round(s * H, 6), round(e * H, 6)) for u, s, e in
                ev[ev.station == "oven"][["unit", "start_h", "end_h"]].itertuples(index=False)}
    order = ev[ev.station == "b"].sort_values("start_h")["unit"].tolist()
    assert len(order) >= 100
    pairs = [(order[i], order[i + 1]) for i in range(0, len(order) - 1, 2)]
    assert all(batch_of[x] == batch_of[y] for x, y in pairs)
    # b: from 10 s, one unit every 30 s
    assert pr(v, "p", "finished") == 119   # done at 40, 70, ..., 3580 s
    # after the first two, each oven's next batch begins when its last unit got into b
    # (at 10 s + a multiple of 30 s): 40, 100, 160, ... (one every 60 s)
    later = sorted({s for s, _ in batch_of.values() if s > 0})
    assert later[:4] == [40, 100, 160, 220]
    assert all(round((s - 10) % 30, 6) in (0, 30) for s in later)


# ------------------------------------------------------------------------------------------
# Conveyors: accumulating or not

BELT = """
    name: belt {acc}
    run: {{horizon: "99 s"}}
    products:
      p: {{route: [a, b], release: saturated}}
    stations:
      a: {{process_time: "10 s", buffer: 0}}
      b: {{process_time: "25 s", buffer: 0}}
    logistics:
      conveyors:
        ab: {{from: a, to: b, length: 10, speed: 1, pitch: 5, accumulating: {acc}}}
"""


@pytest.mark.parametrize("accumulating, aboard", [(True, (10 + 25 + 40 + 50) / 4),
                                                   (False, (10 + 25 + 40 + 45) / 4)])
def test_accumulating_and_non_accumulating_belts_by_hand(tmp_path, accumulating, aboard):
    """modelling.md (Conveyors): belt of 10 m at 1 m/s, pitch 5 m (2 places), a: 10 s, b:
    25 s without buffer. Units (ui) get on when a is done and the entry allows.

    Accumulating: u1 on 10, end 20, b 20-45; u2 on 20, end 30, waits, b 45-70; u3 on 30,
    closes up (5 m from the end) at 35; u4: 2 aboard, on at 45 (u2 left; entry free since
    35), u3 at the end 50, b 70-95; u4 closes up at 50, end 75, b 95-. Aboard: 10, 25, 40,
    50 s. Non-accumulating: the belt stops 30-45 while u2 waits; u3 got on at 30 on the
    stopped belt; the entry is free once the belt moved 5 m: u4 on at 50, u3 at the end at
    55, belt stops 55-70; u4 at the end at 75. Aboard: 10, 25, 40, 45 s.
    Either way a is blocked 35 s of 99 (40-45/50, 55/60-70, 80-95), 4 units carried, the
    belt `moving` 39 s, `stopped` 50 s and empty 10 s."""
    v, _ = run(tmp_path, BELT.format(acc=str(accumulating).lower()))
    c = {n: float(v[("conveyor", "ab", n)]) * (H if n.endswith("_h") else 1)
         for n in ("carried", "aboard_h", "moving_h", "stopped_h", "empty_h")}
    assert c == pytest.approx({"carried": 4, "aboard_h": aboard, "moving_h": 39,
                               "stopped_h": 50, "empty_h": 10}, abs=1e-6)
    assert st(v, "a", "blocked_h") * H == pytest.approx(35, abs=1e-6)


# ------------------------------------------------------------------------------------------
# Flowline

@pytest.mark.parametrize("engine", ["simpy", "flowline"])
def test_operation_failures_by_hand_on_both_engines(tmp_path, engine):
    """flowline.md: operation-dependent failures in reach, their clock running only while
    busy, exactly as on the SimPy engine; a `setup` is accepted and has no effect (one
    product never changes over).

    a: 60 s, a failure after every 170 s of processing, 30 s repair; b: 10 s. By time t,
    a has processed P with t = P + 30 × floor(P / 170): at t = 3500 s, P = 2990 s (17
    failures, 510 s down); units done by a at P = 60 k, the 49th at P = 2940 (t = 3450),
    through b by 3460: 49 finished."""
    v, _ = run(tmp_path, """
        name: op failures
        run: {horizon: "3500 s"}
        products:
          p: {route: [a, b], release: saturated}
        stations:
          a:
            process_time: "60 s"
            setup: "30 s"
            failures: {mtbf: "170 s", mttr: "30 s", mode: operation}
          b: {process_time: "10 s", buffer: 1}
    """, engine=engine)
    assert pr(v, "p", "finished") == 49
    assert st(v, "a", "down_h") * H == pytest.approx(510, abs=1e-6)
    assert st(v, "a", "busy_h") * H == pytest.approx(2990, abs=1e-6)
    assert st(v, "a", "setup_h") == 0


# ------------------------------------------------------------------------------------------
# Rework

def test_rework_on_the_same_station_is_processed_at_once(tmp_path):
    """modelling.md (choice): rework to the station the unit is on is processed again at once
    (a new draw), not queued; a single machine with no buffer therefore cannot deadlock.

    Saturated, one 60 s machine without buffer, rework p = 0.5 back to itself: visits per
    unit are geometric with mean 2, so 30 units an hour and a lead time of 120 s on average;
    the reworked unit never waits (wait_h 0)."""
    v, res = run(tmp_path, """
        name: rework here
        run: {horizon: "100 h", replications: 1, seed: 7}
        products:
          p: {route: [{station: a, rework: {p: 0.5, to: a}}], release: saturated}
        stations:
          a: {process_time: "60 s", buffer: 0}
    """)
    assert not res.summary().get("deadlocks")
    assert pr(v, "p", "throughput_per_h") == pytest.approx(30, rel=0.05)
    assert pr(v, "p", "lead_time_h") * H == pytest.approx(120, rel=0.05)
    assert st(v, "a", "wait_h") == 0
    assert st(v, "a", "busy_h") == pytest.approx(100, abs=1e-9)


def test_opportunity_charge_once_then_forced_ones_inactive_for_the_bottleneck(tmp_path):
    """modelling.md (Opportunity charging): a vehicle below charge_to that would be idle at
    time 0 charges by opportunity; having charged to charge_to it does not charge again by
    opportunity until it has made a move (it still goes when idle drain takes it to the
    threshold); charging by opportunity is inactive for the bottleneck, a forced charge
    active.

    10 kWh at 0.8, idle 1 kW, charger 5 kW (net 4 kW) at home, threshold 0.5: opportunity
    charge 0-0.5 h to 10 kWh; forced charges at 5.5, 11.75, 18, 24.25 h (1.25 h each, the
    last cut by the end at 25 h: 3 kWh in). 5 charges, 1 by opportunity, 5 h charging, the
    fleet active (and the bottleneck) 4.5 h, end charge 5 + 3 = 8 kWh."""
    v, _ = run(tmp_path, """
        name: opportunity once
        run: {horizon: "25 h"}
        products:
          p: {route: [a, b], release: {interarrival: "1000 h"}, transport: agv}
        stations:
          a: {process_time: "60 s"}
          b: {process_time: "60 s"}
        logistics:
          points: {a: [0, 0], b: [10, 0]}
          paths: [[a, b]]
          fleets:
            agv:
              vehicles: 1
              speed_loaded: 1
              home: a
              power_kw: {idle: 1}
              battery: {capacity_kwh: 10, initial: 0.8, recharge_below: 0.5, charge_kw: 5,
                        chargers: [a], opportunity: true}
    """)
    f = {n: float(v[("fleet", "agv", n)]) for n in
         ("charges", "opportunity_charges", "charging_h", "bottleneck_sole_h",
          "battery_end_kwh")}
    assert f == pytest.approx({"charges": 5, "opportunity_charges": 1, "charging_h": 5,
                               "bottleneck_sole_h": 4.5, "battery_end_kwh": 8}, abs=1e-6)


def test_conveyor_places_count_a_part_pitch_and_carry_v_over_p(tmp_path):
    """modelling.md (Conveyors): places = ceil(L / p), a part pitch counting as one, so a
    free-flowing belt carries v / p whatever its length; a conveyor fed at capacity is the
    bottleneck (active while its entry is occupied and the belt moves).

    L = 3 m, v = 1 m/s, p = 2 m: 2 places; a fast feeder (0.5 s) puts a unit on every 2 s
    (from 0.5 s), each 3 s aboard: 1800 units an hour (with floor(L / p) = 1 place, one
    every 3 s: 1200). The conveyor is the bottleneck nearly all the time."""
    v, res = run(tmp_path, """
        name: short belt
        run: {horizon: "1 h"}
        products:
          p: {route: [a, b], release: saturated}
        stations:
          a: {process_time: "0.5 s", buffer: 0}
          b: {process_time: "0.1 s"}
        logistics:
          conveyors:
            ab: {from: a, to: b, length: 3, speed: 1, pitch: 2}
    """)
    assert float(v[("conveyor", "ab", "places")]) == 2
    # on at 0.5 + 2k s, into b 3 s later, done at 3.6 + 2k < 3600 s: k = 0 .. 1798
    assert pr(v, "p", "finished") == 1799
    assert res.summary()["bottleneck"]["resource"] == "ab"
    assert res.summary()["bottleneck"]["conveyors"]["ab"] > 0.99


def test_cost_without_timeline_uses_the_mean_price(tmp_path):
    """energy.md: without a timeline (flowline) the cost uses the mean price of the measured
    period and there is no peak; the SimPy engine prices each interval. With constant power
    both give 100 kW × (12 h × 1 + 12 h × 2) = 3600."""
    text = """
        name: cost
        run: {horizon: "24 h"}
        products:
          p: {route: [a], release: saturated}
        stations:
          a: {process_time: "60 s", power_kw: {busy: 100}}
        energy:
          tariff: {"0 h": 1, "12 h": 2}
    """
    for engine, peak in (("simpy", 100), ("flowline", None)):
        _, res = run(tmp_path, text, engine=engine)
        e = res.summary()["energy"]
        assert e["cost"]["electricity"]["mean"] == pytest.approx(3600, rel=1e-9)
        assert e["peak_kw"]["mean"] == peak


def test_setup_wait_and_zero_setups(tmp_path):
    """modelling.md (Changeovers): `wait_h` ends when the machine takes the unit, before its
    setup; a change whose setup is 0 takes no time and is no changeover.

    x and y (CONWIP 1 each) both at a at 0: x 0-60 s; y waited 60 s, setup 60-100,
    process 100-160; x's next unit, released at 60, waited 100 s, then y -> x (setup 0)
    160-220. Over 170 s: waits 0, 60, 100 s (mean 53.3), 1 changeover, setup 40 s, busy
    60 + 60 + 10 s."""
    v, _ = run(tmp_path, """
        name: setup wait
        run: {horizon: "170 s"}
        products:
          x: {route: [a], release: {conwip: 1}}
          y: {route: [a], release: {conwip: 1}}
        stations:
          a:
            process_time: "60 s"
            setup: {time: "40 s", changes: [{from: y, to: x, time: 0}]}
        initial_wip:
          a: {x: 1, y: 1}
    """)
    assert st(v, "a", "waits") == 3
    assert st(v, "a", "wait_h") * H == pytest.approx(160 / 3, abs=1e-6)
    assert st(v, "a", "changeovers") == 1
    assert st(v, "a", "setup_h") * H == pytest.approx(40, abs=1e-6)
    assert st(v, "a", "busy_h") * H == pytest.approx(130, abs=1e-6)


# ------------------------------------------------------------------------------------------
# A finished unit leaves its off-shift station: directly, by conveyor, by vehicle

OFF_SHIFT_SENDER = """
    name: off shift sender
    run: {{horizon: "12000 s"}}
    calendars:
      hour: {{shifts: [["0 h", "1 h"]]}}
    products:
      p: {{route: [a, b], release: saturated{transport}}}
    stations:
      a: {{process_time: "1000 s", buffer: 0, calendar: hour}}
      b: {{process_time: "3000 s", buffer: 0}}
    logistics:
      points: {{a: [0, 0], b: [20, 0]}}
      paths: [[a, b]]
      {logistics}
"""


@pytest.mark.parametrize("how, finished, lead, a_busy, a_blocked", [
    # direct: u1 0-1000, b 1000-4000; u2 1000-2000, a blocked 2000-3600, off shift, u2
    # taken by b at 4000 (done 7000); lead (4000 + 6000) / 2
    ("direct", 2, 5000, 2000, 1600),
    # belt (1 place, 10 s): u1 on 1000, b 1010-4010; u2 on 2000, waits at the end; u3
    # 2000-3000, a blocked 3000-3600 then off shift; u3 gets on at 4010 (a off shift),
    # b 7010-10010; lead (4010 + 6010 + 8010) / 3
    ("belt", 3, 6010, 3000, 600),
    # AGV (20 s a run): u1 b 1020-4020; u2 waits for b, a blocked 2000-3600; at 4020 the
    # AGV runs 20 s empty to a (off shift), loads u2, b 4060-7060; lead (4020 + 6060) / 2
    ("agv", 2, 5040, 2000, 1600),
])
def test_finished_unit_leaves_an_off_shift_station(tmp_path, how, finished, lead, a_busy,
                                                   a_blocked):
    """modelling.md (Shift calendars): a blocked machine's finished unit may still move on
    while its own station is off shift (the hand-over needs no machine): directly, onto a
    conveyor, or picked up by a vehicle; the machine is off shift meanwhile and starts
    nothing new."""
    logistics = {"direct": "fleets: {agv: {vehicles: 1, speed_loaded: 1, home: a}}",
                 "belt": "conveyors: {ab: {from: a, to: b, length: 10, speed: 1, pitch: 10}}",
                 "agv": "fleets: {agv: {vehicles: 1, speed_loaded: 1, home: a}}"}[how]
    v, _ = run(tmp_path, OFF_SHIFT_SENDER.format(
        transport=", transport: agv" if how == "agv" else "", logistics=logistics))
    assert pr(v, "p", "finished") == finished
    assert pr(v, "p", "lead_time_h") * H == pytest.approx(lead, abs=1e-6)
    assert st(v, "a", "busy_h") * H == pytest.approx(a_busy, abs=1e-6)
    assert st(v, "a", "blocked_h") * H == pytest.approx(a_blocked, abs=1e-6)
    assert st(v, "a", "off_shift_h") * H == pytest.approx(12000 - 3600, abs=1e-6)


def test_calendars_and_tariff_share_one_clock_from_run_starts_at(tmp_path):
    """scenario-format.md / energy.md / modelling.md: the run (warm-up included) starts on a
    Monday at `energy.run_starts_at`, the clock of both the calendars and the tariff; stops
    count from the run's start; off-shift power for the off-shift time.

    Start Monday 6 h, warm-up 2 h, horizon 24 h: measured run 2-26 h = clock Mon 8 h to Tue
    8 h. Shift 0-8 h Mon and Tue: on shift run 18-26 h less the stop at run 20-21 h: 7 h
    busy (1 h units), 17 h off shift. Energy 16 × 1 (run 2-18, price 3) + (50 + 1) (run
    18-24, price 1) + 20 (run 24-26, price 3) = 87 kWh; cost 48 + 51 + 60 = 159."""
    v, res = run(tmp_path, """
        name: one clock
        run: {horizon: "24 h", warmup: "2 h"}
        calendars:
          early: {shifts: [["0 h", "8 h"]], days: [mon, tue], stops: [["20 h", "21 h"]]}
        products:
          p: {route: [a], release: saturated}
        stations:
          a: {process_time: "1 h", calendar: early, power_kw: {busy: 10, off_shift: 1}}
        energy:
          run_starts_at: "6 h"
          tariff: {"0 h": 1, "6 h": 3}
    """)
    assert st(v, "a", "busy_h") == pytest.approx(7, abs=1e-9)
    assert st(v, "a", "off_shift_h") == pytest.approx(17, abs=1e-9)
    e = res.summary()["energy"]
    assert e["total_kwh"]["mean"] == pytest.approx(87, rel=1e-9)
    assert e["cost"]["electricity"]["mean"] == pytest.approx(159, rel=1e-9)


def test_timeline_intervals_widen_to_a_multiple_of_15_min_for_long_horizons(tmp_path):
    """energy.md: the timeline has 15-minute intervals, or a whole multiple of 15 minutes
    for very long horizons (at most 5,000 a run), and interval energies add up to the total.
    60 days = 5,760 quarter hours: 30-minute intervals, 2,880 of them."""
    v, res = run(tmp_path, """
        name: long
        run: {horizon: "60 d"}
        products:
          p: {route: [a], release: saturated}
        stations:
          a: {process_time: "1 h", power_kw: {busy: 10}}
    """)
    t = res.timeline
    e = t[(t.replication == 0) & (t.entity == "a") & (t.measure == "energy_kwh")]
    assert len(e) == 2880
    assert sorted(e.time_h)[:2] == [0.5, 1.0]
    assert e.value.sum() == pytest.approx(10 * 60 * 24, rel=1e-9)


def test_energy_tables_name_lifts_and_conveyors(tmp_path):
    """energy.md (Tables): energy.csv has a row per source, entity and state, lifts and
    conveyors included (sources `lift`, `conveyor`), and power.csv's net is station −
    recovered + facility + charger + lift + conveyor. Scenario of
    test_peak_counts_lifts_and_conveyors_but_not_a_fleet_without_battery: a 4 kW, AGV 1 kW
    (no battery: in energy.csv, not in power.csv), lift 2 kW, conveyor 3 kW, for 10 h."""
    import subprocess
    import sys

    import pandas as pd

    path = tmp_path / "peak.yaml"
    path.write_text(textwrap.dedent("""
        name: peak parts
        run: {horizon: "10 h"}
        products:
          p: {route: [a, b, c], release: {interarrival: "1000 h"}, transport: agv}
        stations:
          a: {process_time: "60 s", power_kw: {starved: 4}}
          b: {process_time: "60 s"}
          c: {process_time: "60 s"}
        logistics:
          points: {a: [0, 0], b: [10, 0], c: [20, 0], l0: [5, 5], l1: [5, 5]}
          floors:
            ground: {height: 0, points: [a, b, c, l0]}
            first: {height: 5, points: [l1]}
          paths: [[a, b], [b, c], [a, l0]]
          lifts:
            lift: {points: [l0, l1], speed: 1, power_kw: {idle: 2}}
          conveyors:
            bc: {from: b, to: c, length: 5, speed: 1, pitch: 1,
                 power_kw: {moving: 3, stopped: 3, empty: 3}}
          fleets:
            agv: {vehicles: 1, speed_loaded: 1, home: a, power_kw: {idle: 1}}
    """))
    out = tmp_path / "out"
    import os
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(twin.__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-m", "twin", "run", str(path), "--out", str(out)],
                   check=True, capture_output=True, env=env)
    energy = pd.read_csv(out / "energy.csv")
    kwh = energy.groupby("source").kwh.sum().to_dict()
    assert kwh == pytest.approx({"station": 40, "fleet": 10, "lift": 20, "conveyor": 30})
    assert set(energy[energy.source.isin(["lift", "conveyor"])].area) == {"logistics"}
    power = pd.read_csv(out / "power.csv")
    assert power.net_kw.tolist() == pytest.approx([9.0] * 40)
    assert power.lift_kw.tolist() == pytest.approx([2.0] * 40)
    assert power.conveyor_kw.tolist() == pytest.approx([3.0] * 40)


def test_saturated_release_yields_to_other_products_in_the_buffer(tmp_path):
    """modelling.md (saturated): units waiting in the first station's buffer, here another
    product that visits it later on its route, go first; saturated release fills capacity
    nothing else needs, so a saturated product can be starved out.

    x saturated at a (60 s); y arrives every 30 s, passes b (1 s) and joins a's buffer.
    x's first unit takes a at 0 (nothing waits); from 60 s on a's buffer is never empty
    (one y every 30 s, one done every 60 s): x makes exactly 1 unit, y one a minute."""
    v, _ = run(tmp_path, """
        name: starved out
        run: {horizon: "1 h"}
        products:
          x: {route: [a], release: saturated}
          y: {route: [b, a], release: {interarrival: "30 s"}}
        stations:
          a: {process_time: "60 s"}
          b: {process_time: "1 s"}
    """)
    assert pr(v, "x", "finished") == 1
    assert pr(v, "y", "finished") in (58, 59)   # done at 120, 180, ... s
    assert st(v, "a", "starved_h") == 0


def test_flowline_equals_simpy_on_a_line_in_another_order(tmp_path):
    """flowline.md: in reach, a route visiting each station once in any order (not the order
    they are listed in), parallel machines, scrap, CONWIP, a step's own process time and
    operation failures; the flowline engine then gives the SimPy engine's measures to
    floating-point precision."""
    text = """
        name: permuted line
        run: {horizon: "20 h", warmup: "1 h", seed: 5, replications: 2}
        products:
          p:
            route: [c, {station: a, process_time: {gamma: {mean: "50 s", cv: 0.7}}}, b]
            release: {conwip: 6}
        stations:
          a: {process_time: "10 s", servers: 2, buffer: 1, scrap: 0.05,
              failures: {mtbf: {exponential: "1 h"}, mttr: {exponential: "5 min"},
                         mode: operation}}
          b: {process_time: {exponential: "30 s"}, buffer: 2, power_kw: {busy: 3, blocked: 1}}
          c: {process_time: {lognormal: {mean: "25 s", cv: 0.5}}, buffer: 0}
    """
    _, simpy = run(tmp_path, text, engine="simpy")
    _, flow = run(tmp_path, text, engine="flowline")
    key = ["replication", "kind", "entity", "measure"]
    # the peak demand needs the timeline, which the flowline engine does not keep
    # (energy.md: "Without a timeline (the flowline engine) ... there is no peak")
    a = simpy.measures[~simpy.measures.measure.str.startswith("peak_")]
    a = a.set_index(key).value.sort_index()
    b = flow.measures.set_index(key).value.sort_index()
    assert list(a.index) == list(b.index)
    assert b.tolist() == pytest.approx(a.tolist(), rel=1e-9, abs=1e-9, nan_ok=True)
    assert float(a.loc[(0, "product", "p", "scrapped")]) > 0


def test_time_failures_interrupt_and_resume_setups(tmp_path):
    """modelling.md (Changeovers): `mode: time` failures interrupt a setup as they interrupt
    processing (preemptive-resume), and the failure clock runs through setups.

    x, y alternate: 60 s units, 40 s setups (none before the first); a failure after every
    70 s up, 10 s repair. By 500 s the machine was up U with U + 10 floor(U / 70) = 500:
    U = 440 (6 failures, at up-time 70 in a setup, 140, 210, 280 in a setup, 350, 420).
    Work: x 0-60, setup 60-100, y -200, ... 4 units done (the 5th at 460), setups of
    4 × 40 s, busy 280 s, down 60 s, 4 changeovers."""
    v, _ = run(tmp_path, """
        name: setup failures
        run: {horizon: "500 s"}
        products:
          x: {route: [a], release: saturated}
          y: {route: [a], release: saturated}
        stations:
          a:
            process_time: "60 s"
            setup: "40 s"
            failures: {mtbf: "70 s", mttr: "10 s", mode: time}
    """)
    assert pr(v, "x", "finished") + pr(v, "y", "finished") == 4
    assert st(v, "a", "setup_h") * H == pytest.approx(160, abs=1e-6)
    assert st(v, "a", "busy_h") * H == pytest.approx(280, abs=1e-6)
    assert st(v, "a", "down_h") * H == pytest.approx(60, abs=1e-6)
    assert st(v, "a", "changeovers") == 4


def test_lift_ride_to_a_charger_counts_as_recharging(tmp_path):
    """modelling.md (Lifts, Batteries): on the way to a charger the lift time is recharging
    (`lift_to_charger_h`, out of the utilisation, into the charging share); the vehicle
    stays in the lift states and draws their power (default idle's); riding is active.

    AGV at a (ground), charger c1 upstairs; idle 1 kW, 10 kWh, threshold 0.5, charger 5 kW
    (net 4 kW). At 5 h: 10 m to the lift (to_charger, 0 kW), car ready (no wait), ride
    4 + 5 + 4 = 13 s at 1 kW, 10 m to c1; charging from 5 − 13/3600 kWh to 10: 1.25 h +
    3.25 s. Recharging 20 + 13 + 4503.25 s of 36000; utilisation 0; the fleet is active
    (the bottleneck) all that time; lift car: 4 s loading, 5 s moving, 4 s unloading."""
    v, res = run(tmp_path, """
        name: lift to charger
        run: {horizon: "10 h"}
        products:
          p: {route: [a, b], release: {interarrival: "1000 h"}, transport: agv}
        stations:
          a: {process_time: "60 s"}
          b: {process_time: "60 s"}
        logistics:
          points: {a: [0, 0], b: [10, 0], l0: [0, 10], l1: [0, 10], c1: [0, 20]}
          floors:
            ground: {height: 0, points: [a, b, l0]}
            first: {height: 5, points: [l1, c1]}
          paths: [[a, b], [a, l0], [l1, c1]]
          lifts:
            lift: {points: [l0, l1], speed: 1, load_time: "4 s", unload_time: "4 s"}
          fleets:
            agv:
              vehicles: 1
              speed_loaded: 1
              home: a
              power_kw: {idle: 1}
              battery: {capacity_kwh: 10, recharge_below: 0.5, charge_kw: 5, chargers: [c1]}
    """)
    f = {n: float(v[("fleet", "agv", n)]) * H for n in
         ("to_charger_h", "riding_lift_h", "waiting_lift_h", "lift_to_charger_h",
          "charging_h", "bottleneck_sole_h")}
    assert f == pytest.approx({"to_charger_h": 20, "riding_lift_h": 13, "waiting_lift_h": 0,
                               "lift_to_charger_h": 13, "charging_h": 4503.25,
                               "bottleneck_sole_h": 20 + 13 + 4503.25}, abs=1e-6)
    assert float(v[("fleet", "agv", "energy_riding_lift_kwh")]) == pytest.approx(13 / H)
    fleet = res.summary()["fleets"]["agv"]
    assert fleet["utilization"]["mean"] == 0
    assert fleet["battery"]["charging_share"]["mean"] == pytest.approx(
        (20 + 13 + 4503.25) / 36000, rel=1e-9)
    lift = {n: float(v[("lift", "lift", n)]) * H for n in
            ("loading_h", "moving_loaded_h", "unloading_h", "moving_empty_h")}
    assert lift == pytest.approx({"loading_h": 4, "moving_loaded_h": 5, "unloading_h": 4,
                                  "moving_empty_h": 0}, abs=1e-6)


def test_recovered_credited_at_the_price_of_the_moment_and_tariff_wraps(tmp_path):
    """energy.md: recovered electricity is credited at the price of the moment; a
    time-of-use tariff is cyclic (the last price runs past midnight until the first time).

    Tariff 1 from 6 h, 3 from 18 h (so 3 from 0 to 6 h too). A station working 6-18 h,
    recovering 2 kW while busy and drawing 10 kW off shift: cost 12 × (−2) × 1 + 12 × 10 ×
    3 = 336 over a day (crediting at the day's mean price 2 would give 312)."""
    _, res = run(tmp_path, """
        name: recovered price
        run: {horizon: "24 h"}
        calendars:
          day: {shifts: [["6 h", "18 h"]]}
        products:
          p: {route: [a], release: saturated}
        stations:
          a: {process_time: "1 h", calendar: day, power_kw: {off_shift: 10},
              recovered_kw: {busy: 2}}
        energy:
          tariff: {"6 h": 1, "18 h": 3}
    """)
    e = res.summary()["energy"]
    assert e["total_kwh"]["mean"] == pytest.approx(120 - 24, rel=1e-9)
    assert e["cost"]["electricity"]["mean"] == pytest.approx(336, rel=1e-9)


def test_parts_by_vehicle_fill_the_lanes_of_an_off_shift_assembly_station(tmp_path):
    """modelling.md (Assembly, Shift calendars, Vehicles): a part's move reserves a place in
    its lane (a buffer place, free off shift too), so vehicles deliver parts to an off-shift
    assembly station; the kit starts when the shift begins; each part's wait runs from its
    arrival in its lane to the kit's start; the assembled unit's lead time includes the
    assembly; consumed parts leave with their time in the system.

    One AGV at ca; ca (0 m), s (10 m), cc (20 m), 1 m/s. Part A done at 100 s, carried
    100-110; part C done at 200 s, AGV 10 s empty from s, loaded 210-220 (cc blocked 10 s).
    s works from 2 h: kit at 7200 s, cell done 7210 s. Waits 7090 and 6980 s; parts 7200 s
    in the system; cell lead 10 s; AGV 20 s loaded, 10 s empty."""
    v, _ = run(tmp_path, """
        name: parts by AGV into an off-shift assembly
        run: {horizon: "7215 s"}
        calendars:
          late: {shifts: [["2 h", "3 h"]]}
        products:
          A: {route: [ca, s], release: {interarrival: "1000 h"}, transport: agv}
          C: {route: [cc, s], release: {interarrival: "1000 h"}, transport: agv}
          cell: {route: [s], release: assembly}
        stations:
          ca: {process_time: "100 s"}
          cc: {process_time: "200 s"}
          s: {process_time: "10 s", buffer: 2, calendar: late,
              assembly: {parts: {A: 1, C: 1}}}
        initial_wip:
          ca: {A: 1}
          cc: {C: 1}
        logistics:
          points: {ca: [0, 0], s: [10, 0], cc: [20, 0]}
          paths: [[ca, s], [s, cc]]
          fleets:
            agv: {vehicles: 1, speed_loaded: 1, home: ca}
    """)
    assert st(v, "s", "wait_h") * H == pytest.approx((7090 + 6980) / 2, abs=1e-6)
    assert pr(v, "A", "consumed") == 1 and pr(v, "C", "consumed") == 1
    assert pr(v, "A", "consumed_time_h") * H == pytest.approx(7200, abs=1e-6)
    assert pr(v, "cell", "finished") == 1
    assert pr(v, "cell", "lead_time_h") * H == pytest.approx(10, abs=1e-6)
    assert st(v, "cc", "blocked_h") * H == pytest.approx(10, abs=1e-6)
    assert float(v[("fleet", "agv", "moving_loaded_h")]) * H == pytest.approx(20, abs=1e-6)
    assert float(v[("fleet", "agv", "moving_empty_h")]) * H == pytest.approx(10, abs=1e-6)
    assert float(v[("fleet", "agv", "waiting_h")]) == 0
