"""Review of `at_shift_end: finish`, arrivals by calendar, booleans/YAML 1.2 and the CLI.

Every expected value below is computed by hand from the documented rules
(docs/modelling.md "Shift calendars", /work/shared/spec/*.md), never copied from a run.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

import twin
from twin.cli import main
from twin.engine import replication
from twin.model import build
from twin.scenario.schema import Scenario

from support import twin_command

H = 3600.0
STATES = ("busy", "starved", "blocked", "down", "setup", "off_shift")
DAY = {"day": {"shifts": [["0 h", "8 h"]]}}


def _measures(doc: dict) -> dict:
    sc = Scenario.model_validate({"name": "review", **doc})
    model = build(sc)
    result = replication.simulate(model, 0, 1, float(sc.run.warmup))  # (warm-up in s)
    return {(kind, entity, name): v for kind, entity, name, v in result.measures}


def _st(m: dict, station: str, what: str) -> float:
    return m[("station", station, what)]


def _states_sum(m: dict, station: str) -> float:
    return sum(_st(m, station, f"{s}_h") for s in STATES)


def _cure(horizon: str, **station) -> dict:
    st = {"process_time": "3 h", "calendar": "day", "at_shift_end": "finish", **station}
    return {"run": {"horizon": horizon}, "calendars": DAY,
            "products": {"u": {"route": ["cure"], "release": "saturated"}},
            "stations": {"cure": st}}


# --- 1. at_shift_end: finish ------------------------------------------------------------

def test_operation_failure_before_shift_end_pauses_the_repair_and_the_unit() -> None:
    """Operation-dependent failure after 7.5 busy hours (constant), repair 1 h, 3 h units,
    shift 0-8 h, finish. Units 0-3, 3-6; the third starts at 6 and fails at 7.5 (1.5 h
    done). At 8 h the machine is DOWN under repair -> per the docs it "stops as under
    pause": 0.5 h of repair is left for the next shift (24-24.5 h), then 1.5 h of work
    (24.5-26 h). So by 20 h only 2 units are finished, and the machine never works off
    shift (no unit can be finished between 8 h and 24 h)."""
    doc = _cure("20 h", failures={"mtbf": "7.5 h", "mttr": "1 h", "mode": "operation"})
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 2
    assert _st(m, "cure", "busy_h") == pytest.approx(7.5, abs=1e-9)
    assert _st(m, "cure", "down_h") == pytest.approx(0.5, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") == pytest.approx(12.0, abs=1e-9)


def test_operation_failure_before_shift_end_next_day_schedule() -> None:
    """Same as above, horizon 27 h: day 2 repair 24-24.5, unit 3 24.5-26, unit 4 from 26.
    Finished 3; busy 7.5 + 2.5 = 10 h; down 0.5 + 0.5 = 1 h; off 16 h."""
    doc = _cure("27 h", failures={"mtbf": "7.5 h", "mttr": "1 h", "mode": "operation"})
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 3
    assert _st(m, "cure", "busy_h") == pytest.approx(10.0, abs=1e-9)
    assert _st(m, "cure", "down_h") == pytest.approx(1.0, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") == pytest.approx(16.0, abs=1e-9)


def test_time_failure_right_before_shift_end_pauses() -> None:
    """Time-dependent failure at 7.5 h of on-shift up time, repair 1 h (on-shift time).
    Unit 3 (6 h) has 1.5 h left at 7.5; the machine is down at 8 -> paused; repair
    finishes 24.5 h; unit 3 ends 26 h; unit 4 from 26 h. Horizon 27 h: finished 3, busy
    7.5 + 2.5, down 0.5 + 0.5, off 16."""
    doc = _cure("27 h", failures={"mtbf": "7.5 h", "mttr": "1 h"})
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 3
    assert _st(m, "cure", "busy_h") == pytest.approx(10.0, abs=1e-9)
    assert _st(m, "cure", "down_h") == pytest.approx(1.0, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") == pytest.approx(16.0, abs=1e-9)


def test_operation_failure_during_overtime_is_down_in_overtime() -> None:
    """mtbf 8.5 busy hours: unit 3 (6-...) fails at 8.5 h in overtime, repair 1 h ->
    9.5 h (the docs: `down` after an operation-dependent failure in overtime), then 0.5 h
    -> done at 10 h, off shift after. Horizon 20 h: 3 finished, busy 0-8.5 and 9.5-10 = 9,
    down 1, off 10."""
    doc = _cure("20 h", failures={"mtbf": "8.5 h", "mttr": "1 h", "mode": "operation"})
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 3
    assert _st(m, "cure", "busy_h") == pytest.approx(9.0, abs=1e-9)  # 0-8.5, 9.5-10
    assert _st(m, "cure", "down_h") == pytest.approx(1.0, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") == pytest.approx(10.0, abs=1e-9)


def test_next_step_on_the_same_station_does_not_start_off_shift() -> None:
    """Route [cure, cure] (two operations on one station), 3 h each, finish. Unit 1: steps
    0-3, 3-6; unit 2 step 1: 6-9 in overtime. "Nothing new starts off shift under either
    rule": its second operation starts the next day at 0 h. So by 20 h one unit is finished
    and the machine is busy 9 h (not 12)."""
    doc = _cure("20 h")
    doc["products"]["u"]["route"] = ["cure", "cure"]
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 1
    assert _st(m, "cure", "busy_h") == pytest.approx(9.0, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") == pytest.approx(11.0, abs=1e-9)


def test_setup_in_overtime_two_products() -> None:
    """Two saturated products taking turns (campaign 1), setup 1.5 h, process 3 h,
    shift 0-8 h, finish. u 0-3; setup 3-4.5; v 4.5-7.5; setup 7.5-9 (under way at 8:
    finished in overtime, "the unit's setup and processing"), u 9-12; then off.
    One day: 3 finished, busy 9, setup 3, off 12, 2 changeovers."""
    doc = _cure("1 d", setup="1.5 h")
    doc["products"] = {"u": {"route": ["cure"], "release": "saturated"},
                       "v": {"route": ["cure"], "release": "saturated"}}
    m = _measures(doc)
    assert m[("product", "u", "finished")] + m[("product", "v", "finished")] == 3
    assert _st(m, "cure", "busy_h") == pytest.approx(9.0, abs=1e-9)
    assert _st(m, "cure", "setup_h") == pytest.approx(3.0, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") == pytest.approx(12.0, abs=1e-9)
    assert _st(m, "cure", "changeovers") == 2


def test_overtime_running_into_the_next_shift() -> None:
    """Shifts 0-8 and 8.5-16.5 h daily, 3 h units, finish: units end 3,6,9 (over the
    8-8.5 gap: overtime, busy), 12, 15, 18 (overtime past 16.5); off 18-24. Two days:
    12 units, busy 36 h, off 12 h, never starved."""
    doc = _cure("2 d")
    doc["calendars"] = {"day": {"shifts": [["0 h", "8 h"], ["8.5 h", "16.5 h"]]}}
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 12
    assert _st(m, "cure", "busy_h") == pytest.approx(36.0, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") == pytest.approx(12.0, abs=1e-9)
    assert _st(m, "cure", "starved_h") == pytest.approx(0.0, abs=1e-9)


def test_planned_stop_during_work_finishes_the_unit() -> None:
    """Shift 0-8 h, planned stop 5-7 h on day 1, 3 h units, finish. Unit 2 (3-6) is under
    way when the stop begins: finished at 6, off 6-7, unit 3 7-10 (overtime past 8).
    Day 2: 0-3, 3-6, 6-9. Two days: 6 finished, busy 18, off 30."""
    doc = _cure("2 d")
    doc["calendars"] = {"day": {"shifts": [["0 h", "8 h"]], "stops": [["5 h", "7 h"]]}}
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 6
    assert _st(m, "cure", "busy_h") == pytest.approx(18.0, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") == pytest.approx(30.0, abs=1e-9)


def test_warmup_ending_in_overtime_states_and_energy() -> None:
    """Warm-up 8.5 h ends in overtime (unit 3: 6-9). Measured 8.5-32.5 h: busy 8.5-9 and
    24-32.5 = 9 h, off 15 h; states sum to 24; energy = 10 kW x busy + 1 kW x off."""
    doc = _cure("1 d", power_kw={"busy": 10, "off_shift": 1})
    doc["run"]["warmup"] = "8.5 h"
    m = _measures(doc)
    assert _states_sum(m, "cure") == pytest.approx(24.0, abs=1e-9)
    assert _st(m, "cure", "busy_h") == pytest.approx(9.0, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") == pytest.approx(15.0, abs=1e-9)
    assert _st(m, "cure", "energy_busy_kwh") == pytest.approx(90.0, abs=1e-6)
    assert _st(m, "cure", "energy_off_shift_kwh") == pytest.approx(15.0, abs=1e-6)


def test_oee_availability_never_above_one_with_overtime(tmp_path: Path) -> None:
    """With overtime the planned time is the time not off shift; availability = busy /
    planned <= 1 and OEE <= 1. One machine, finish: busy 9 h of 9 h planned a day."""
    doc = _cure("3 d")
    sc = Scenario.model_validate({"name": "oee", **doc})
    s = twin.run(sc, replications=1, seed=0).summary()
    oee = s["stations"]["cure"]["oee"]["mean"]
    assert 0.0 <= oee <= 1.0 + 1e-9
    # 3 h planned per unit x 3 units a day / 9 h planned a day = 1 exactly
    assert oee == pytest.approx(1.0, abs=1e-9)


def test_batch_oven_cycle_spanning_two_shift_ends() -> None:
    """A 20 h oven cycle (batch 2) under an 8 h shift (0-8 h) with finish: a batch starts at
    2 s (the feeder's two 1 s units) and runs in overtime to 20 h + 2 s; the next at 24 h
    (its units fed overnight), the third at 48 h. Over 3 days: 3 batches = 6 units, busy
    60 h, starved 2 s, off 12 h - 2 s."""
    doc = {"run": {"horizon": "3 d"}, "calendars": DAY,
           "products": {"u": {"route": ["feed", "oven"], "release": "saturated"}},
           "stations": {"feed": {"process_time": "1 s", "buffer": 0},
                        "oven": {"process_time": "20 h", "batch": {"size": 2}, "buffer": 4,
                                 "calendar": "day", "at_shift_end": "finish"}}}
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 6
    assert _st(m, "oven", "busy_h") == pytest.approx(60.0, abs=1e-9)
    assert _st(m, "oven", "starved_h") == pytest.approx(2 / H, abs=1e-9)
    assert _st(m, "oven", "off_shift_h") == pytest.approx(12.0 - 2 / H, abs=1e-9)


def test_unit_finished_in_overtime_goes_onto_a_round_the_clock_line() -> None:
    """cure (finish, 3 h) hands to pack (round the clock, 1 h, unlimited buffer). Units
    leave cure at 3, 6, 9 each day and pack finishes them 1 h later: 3 a day, the third
    at 10 h. 2 days: 6 finished; pack busy 6 h, cure busy 18 h, cure never blocked."""
    doc = _cure("2 d")
    doc["products"]["u"]["route"] = ["cure", "pack"]
    doc["stations"]["pack"] = {"process_time": "1 h"}
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 6
    assert _st(m, "pack", "busy_h") == pytest.approx(6.0, abs=1e-9)
    assert _st(m, "cure", "busy_h") == pytest.approx(18.0, abs=1e-9)
    assert _st(m, "cure", "blocked_h") == pytest.approx(0.0, abs=1e-9)


# --- 2. arrivals by calendar -------------------------------------------------------------

def _arrivals(horizon: str, gap: str, cal: dict, **run) -> dict:
    return {"run": {"horizon": horizon, **run}, "calendars": {"deliv": cal},
            "products": {"u": {"route": ["a"],
                               "release": {"interarrival": gap, "calendar": "deliv"}}},
            "stations": {"a": {"process_time": "1 s"}}}


def test_arrivals_with_breaks_hand_computed() -> None:
    """Calendar 0-8 h with a 3-4 h break (7 worked h a day), gap 2 h of worked time:
    day 1 at 2, 5, 7 (worked 2, 4, 6); day 2 (worked 7 at 24 h) at 25, 27, 30 (and 32 =
    end of shift, worked 14). Horizon 31 h: 6 released and finished."""
    cal = {"shifts": [["0 h", "8 h"]], "breaks": [["3 h", "4 h"]]}
    m = _measures(_arrivals("31 h", "2 h", cal))
    assert m[("product", "u", "released")] == 6
    assert m[("product", "u", "finished")] == 6


def test_arrivals_with_a_stop_and_warmup() -> None:
    """Calendar 0-8 h daily, stop 24-30 h (run time), gap 2 h of worked time: arrivals at
    2, 4, 6, 8 h (worked 8 h at the end of day 1); day 2 works only 30-32 h, so the next
    (worked 10 h) is at 32 h. Warm-up 4.5 h, horizon 27 h: measured [4.5, 31.5) h holds
    the arrivals at 6 and 8 h only -> 2 released."""
    cal = {"shifts": [["0 h", "8 h"]], "stops": [["24 h", "30 h"]]}
    m = _measures(_arrivals("27 h", "2 h", cal, warmup="4.5 h"))
    assert m[("product", "u", "released")] == 2


def test_arrivals_follow_run_starts_at_offset() -> None:
    """energy.run_starts_at 6 h: time 0 is Monday 06:00. A calendar 06:00-14:00 is then
    on at 0-8 h of the run. Gap 2 h: arrivals at 2, 4, 6, (8); horizon 7 h -> 3; and
    with run_starts_at 0 the same calendar is on 6-14 h -> arrivals 8, 10 -> 0 by 7 h."""
    cal = {"shifts": [["6 h", "14 h"]]}
    doc = _arrivals("7 h", "2 h", cal)
    doc["energy"] = {"run_starts_at": "6 h"}
    assert _measures(doc)[("product", "u", "released")] == 3
    assert _measures(_arrivals("7 h", "2 h", cal))[("product", "u", "released")] == 0


def test_two_products_with_their_own_arrival_calendars() -> None:
    """u: calendar 0-8 h, gap 2 h -> 2, 4, 6 a day, and the 4th at worked 8 h, which is 8 h
    on the clock, the very end of the shift: shifts are half-open (off at 8 h), so it
    arrives at the next shift's start, 24 h (see test_every_arrival_is_on_shift); v:
    calendar 12-20 h, gap 3 h -> 15, 18 (21 would be worked 9 h: next day 13 h) ... day 2:
    worked 9, 12 -> 37, 40 (13 h, 16 h of day 2); 15 -> 43. Horizon 44 h:
    u: 2, 4, 6, 24, 26, 28, 30 -> 7; v: 15, 18, 37, 40, 43 -> 5."""
    doc = {"run": {"horizon": "44 h"},
           "calendars": {"early": {"shifts": [["0 h", "8 h"]]},
                         "late": {"shifts": [["12 h", "20 h"]]}},
           "products": {"u": {"route": ["a"],
                              "release": {"interarrival": "2 h", "calendar": "early"}},
                        "v": {"route": ["a"],
                              "release": {"interarrival": "3 h", "calendar": "late"}}},
           "stations": {"a": {"process_time": "1 s"}}}
    m = _measures(doc)
    assert m[("product", "u", "released")] == 7
    assert m[("product", "v", "released")] == 5


def test_every_arrival_is_on_shift() -> None:
    """"units arrive only on shift" (docs). Calendar 0-8 h (half-open: off at 8 h), stations
    round the clock with a 1 s process: a unit released at 8 h exactly would arrive off
    shift. Gap 2 h: worked 8 h is reached at 8 h, but the first on-shift moment with 8
    worked hours behind it is 24 h. Horizon 8.5 h: arrivals at 2, 4, 6 only."""
    m = _measures(_arrivals("8.5 h", "2 h", {"shifts": [["0 h", "8 h"]]}))
    assert m[("product", "u", "released")] == 3


# --- 3. booleans and YAML 1.2 ------------------------------------------------------------

BASE = """\
name: b
run: {{horizon: "1 d"}}
products:
  u: {{route: [a], release: saturated}}
stations:
  a: {{process_time: {pt}, buffer: {buf}}}
"""


def _load(tmp_path: Path, text: str):
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return twin.load(str(p))


@pytest.mark.parametrize("pt", ["{empirical: [60, true]}", "{uniform: [false, 70]}",
                                "{lognormal: {mean: 60, cv: true}}", "true"])
def test_booleans_in_distributions_are_errors(tmp_path: Path, pt: str) -> None:
    from twin.errors import ScenarioError
    with pytest.raises(ScenarioError):
        _load(tmp_path, BASE.format(pt=pt, buf=2))


def test_yes_is_text_and_an_error_for_a_number(tmp_path: Path) -> None:
    with pytest.raises(Exception) as e:
        _load(tmp_path, BASE.format(pt=60, buf="yes"))
    assert "buffer" in str(e.value)


def test_sexagesimal_shift_time_is_not_silently_seconds(tmp_path: Path) -> None:
    """YAML 1.1 reads 6:00 as the base-60 integer 360. A shift written [6:00, 14:00] means
    06:00-14:00 to anyone; the scenario must either mean that or fail loudly — never a
    calendar on from 6 min to 14 min (spec: "fail loudly on any mistake"; YAML 1.2 has
    no base-60 numbers)."""
    text = BASE.format(pt=60, buf=2).replace("buffer: 2}", "buffer: 2, calendar: day}")
    text += "calendars:\n  day: {shifts: [[6:00, 14:00]]}\n"
    try:
        sc = _load(tmp_path, text)
    except Exception:
        return  # a loud error is fine
    shift = sc.calendars["day"].shifts[0]
    assert (shift.from_, shift.to) == (6 * H, 14 * H)


def test_1e3_is_a_number_for_a_count_too(tmp_path: Path) -> None:
    """YAML 1.2 reads 1e3 as the number 1000; process_time: 1e3 is accepted as 1000 s, so
    buffer: 1e3 (1000, a whole number) must be accepted the same way (or both refused)."""
    sc = _load(tmp_path, BASE.format(pt="1e3", buf=2))
    assert sc.stations["a"].process_time is not None
    sc = _load(tmp_path, BASE.format(pt=60, buf="1e3"))
    assert sc.stations["a"].buffer == 1000


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


LINE = """\
    name: cli line
    run: {horizon: "2 h", replications: 2, seed: 4}
    products:
      p: {route: [a], release: {interarrival: {exponential: "3 min"}}}
    stations:
      a: {process_time: {exponential: "2 min"}, buffer: 3, power_kw: {busy: 4}}
"""


def test_set_yes_is_a_clear_error_status_2(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "l.yaml", LINE)
    code = main(["run", str(path), "--set", "stations.a.buffer=yes", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "buffer" in err and "Traceback" not in err


def test_vary_on_off_is_a_clear_error_status_2(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "l.yaml", LINE)
    code = main(["run", str(path), "--vary", "stations.a.buffer=on,off", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err


def test_set_true_for_a_number_is_error(tmp_path: Path, capsys) -> None:
    path = _write(tmp_path, "l.yaml", LINE)
    code = main(["run", str(path), "--set", "run.seed=true", "--quiet"])
    assert code == 2


# --- 4. CLI -----------------------------------------------------------------------------

def test_json_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    path = _write(tmp_path, "l.yaml", LINE)
    cmd = " ".join(twin_command()) + f" run {path} --json --quiet --workers 1 | head -c 5"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True,
                         text=True, timeout=300)
    assert out.stdout == "{\n  \""[:5] or len(out.stdout) == 5
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr
    assert out.returncode in (0, 1)  # (results.md: 1 for anything but success)


def test_compare_two_scenarios_with_the_same_name(tmp_path: Path, capsys) -> None:
    a = _write(tmp_path, "a.yaml", LINE)
    b = _write(tmp_path, "b.yaml", LINE.replace("buffer: 3", "buffer: 1"))
    out = tmp_path / "out"
    code = main(["compare", str(a), str(b), "--out", str(out), "--quiet"])
    assert code == 0
    folders = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "figures")
    assert len(folders) == 2 and folders[0] != folders[1], folders


def test_compare_replications_auto(tmp_path: Path, capsys) -> None:
    a = _write(tmp_path, "a.yaml", LINE)
    b = _write(tmp_path, "b.yaml", LINE.replace("name: cli line", "name: other").replace(
        "buffer: 3", "buffer: 1"))
    code = main(["compare", str(a), str(b), "--replications", "auto", "--json", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    json.loads(out)


def test_compare_total_energy_has_no_better_verdict(tmp_path: Path, capsys) -> None:
    """More units in the same time use more energy: total energy is no goodness measure."""
    a = _write(tmp_path, "a.yaml", LINE)
    b = _write(tmp_path, "b.yaml", LINE.replace("name: cli line", "name: other").replace(
        "3 min", "1.5 min").replace("buffer: 3", "buffer: 30"))
    code = main(["compare", str(a), str(b), "--quiet", "--replications", "8",
                 "--horizon", "20 h"])
    text = capsys.readouterr().out
    assert code == 0
    assert "throughput_per_h:p" in text and "no significant" not in text.split(
        "throughput_per_h:p")[-1].splitlines()[0], text  # (the design sees a difference)
    verdicts = text.split("cli line:")[-1]
    lines = [ln for ln in verdicts.splitlines() if ln.strip().startswith("total_kwh")]
    assert lines, text
    assert all("better" not in ln and "worse" not in ln for ln in lines), lines


# --- 1b. more `finish` corners ----------------------------------------------------------

def test_rework_on_the_same_station_does_not_keep_the_machine_on_overnight() -> None:
    """Rework back to the same station with p = 0.999: the unit loops ~1000 times. Each
    pass is a new processing start ("nothing new starts off shift under either rule"), so
    the machine may finish the pass under way at 8 h in overtime (to 11 h at the latest)
    but is off shift at least 13 h of each 24 h day: over 3 days >= 39 h off shift.
    Working round the clock in "overtime" would make `finish` a 24 h calendar."""
    doc = _cure("3 d")
    doc["products"]["u"]["route"] = [{"station": "cure", "rework": {"p": 0.999, "to": "cure"}}]
    m = _measures(doc)
    assert _st(m, "cure", "off_shift_h") >= 39.0 - 1e-9
    assert _st(m, "cure", "busy_h") <= 33.0 + 1e-9


def test_time_failure_at_the_shift_end_instant_is_never_down_off_shift() -> None:
    """mode: time, mtbf 8 h of on-shift up time (constant), mttr 1 h (on-shift time), 3 h
    units, shift 0-8 h, finish. The failure is due at 8 h, the very instant the shift ends.
    Whichever way the tie goes, the repair runs on shift (24-25 h) and no failure strikes
    in overtime, so in [0, 24 h) the machine is never `down`: busy 8 h (work on shift) or
    9 h (unit 3 finished in overtime), down 0, the rest off shift."""
    doc = _cure("1 d", failures={"mtbf": "8 h", "mttr": "1 h"})
    m = _measures(doc)
    assert _st(m, "cure", "down_h") == pytest.approx(0.0, abs=1e-9)
    busy = _st(m, "cure", "busy_h")
    assert busy in (pytest.approx(8.0, abs=1e-9), pytest.approx(9.0, abs=1e-9))
    assert _st(m, "cure", "off_shift_h") == pytest.approx(24.0 - busy, abs=1e-9)


def test_assembly_station_finishes_its_kit_in_overtime() -> None:
    """Part lines A, B (1 s, round the clock, buffer-limited) feed an assembler (3 h,
    calendar 0-8 h, finish). Kit 1 at 1 s (the first parts), kits end 3 h + 1 s,
    6 h + 1 s, 9 h + 1 s (the third in overtime); day 2 kits from 24 h (parts waited):
    24-27, 27-30, 30-33. Two days: 6 C finished, busy 18 h, starved 1 s, off 30 h - 1 s."""
    doc = {"run": {"horizon": "2 d"}, "calendars": DAY,
           "products": {"A": {"route": ["ca", "asm"]}, "B": {"route": ["cb", "asm"]},
                        "C": {"route": ["asm"], "release": "assembly"}},
           "stations": {"ca": {"process_time": "1 s", "buffer": 0},
                        "cb": {"process_time": "1 s", "buffer": 0},
                        "asm": {"process_time": "3 h", "buffer": 2, "calendar": "day",
                                "at_shift_end": "finish",
                                "assembly": {"parts": {"A": 1, "B": 1}}}}}
    m = _measures(doc)
    assert m[("product", "C", "finished")] == 6
    assert _st(m, "asm", "busy_h") == pytest.approx(18.0, abs=1e-9)
    assert _st(m, "asm", "starved_h") == pytest.approx(1 / H, abs=1e-9)
    assert _st(m, "asm", "off_shift_h") == pytest.approx(30.0 - 1 / H, abs=1e-9)


def test_unit_finished_in_overtime_onto_a_conveyor() -> None:
    """cure (finish, 3 h, 0-8 h) -> belt 10 m at 1 m/s -> pack (1 h, round the clock).
    Units leave cure at 3, 6, 9 h (9 in overtime), reach pack 10 s later and are finished
    1 h after that. Two days: 6 finished; cure busy 18 h, never blocked; pack busy 6 h."""
    doc = _cure("2 d")
    doc["products"]["u"]["route"] = ["cure", "pack"]
    doc["stations"]["pack"] = {"process_time": "1 h", "buffer": 0}
    doc["logistics"] = {"conveyors": {"belt": {"from": "cure", "to": "pack", "length": 10,
                                               "speed": 1, "pitch": 2,
                                               "accumulating": True}}}
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 6
    assert _st(m, "cure", "busy_h") == pytest.approx(18.0, abs=1e-9)
    assert _st(m, "cure", "blocked_h") == pytest.approx(0.0, abs=1e-9)
    assert _st(m, "pack", "busy_h") == pytest.approx(6.0, abs=1e-9)


@pytest.mark.parametrize("x, text", [(999.6, "1,000"), (999.97, "1,000"), (-999.7, "-1,000"),
                                     (12345.6, "12,346"), (999.4, "999"), (0.5, "0.5")])
def test_number_never_falls_back_to_scientific_at_the_rounding_edge(x: float,
                                                                    text: str) -> None:
    """`number` promises 3 significant digits, and numbers of 4+ whole digits in full with
    separators ("88,830 kWh rather than 8.88e+04"). 999.6 rounds to 1000 at 3 digits: it
    must read 1,000, not 1e+03."""
    from twin.analysis.stats import number
    assert number(x) == text


def test_yaml12_words_are_names(tmp_path: Path) -> None:
    """Under YAML 1.2 `no`, `on`, `off` are text: a calendar named `no` and a station named
    `on` work (YAML 1.1 would read them as booleans)."""
    text = textwrap.dedent("""\
        name: words
        run: {horizon: "1 d"}
        calendars:
          no: {shifts: [["0 h", "8 h"]]}
        products:
          u: {route: [on], release: saturated}
        stations:
          on: {process_time: "3 h", calendar: no, at_shift_end: finish}
    """)
    sc = _load(tmp_path, text)
    m = twin.run(sc, replications=1, seed=0).summary()
    # 3 units a day, as in the finish schedule (0-3, 3-6, 6-9)
    assert m["products"]["u"]["throughput_per_h"]["mean"] == pytest.approx(3 / 24)


def test_set_sexagesimal_value_is_not_silently_seconds(tmp_path: Path, capsys) -> None:
    """--set values are read "as in a scenario file": --set run.horizon=1:30 would be 90 s
    under YAML 1.1's base-60 integers; YAML 1.2 has none, so it is the text "1:30", which
    is no duration: a clear error (status 2) -- not a 90 s run."""
    path = _write(tmp_path, "l.yaml", LINE)
    code = main(["run", str(path), "--set", "run.horizon=1:30", "--quiet", "--json"])
    out = capsys.readouterr().out
    assert code == 2, out[:300]


def test_open_line_on_a_calendar_is_the_round_the_clock_line_on_worked_hours() -> None:
    """Docs: with the stations on the arrivals' calendar, the open line is the
    round-the-clock one on the worked hours' clock, exactly. Calendar: 6-14 and 14-22 h on
    weekdays, break 10-10.5 h, run starting Monday 06:00 (run_starts_at 6 h): 15.5 worked h
    a weekday, 77.5 h a week; 14 d = 2 whole weeks = 155 worked h. So the calendar run over
    14 d finishes exactly the units of the round-the-clock run over 155 h, with the same
    busy hours."""
    cal = {"shifts": [["6 h", "14 h"], ["14 h", "22 h"]],
           "days": ["mon", "tue", "wed", "thu", "fri"], "breaks": [["10 h", "10.5 h"]]}

    def doc(with_cal: bool, horizon: str) -> dict:
        c = {"calendar": "c"} if with_cal else {}
        rel = {"interarrival": {"exponential": "4 min"}, **c}
        return {"run": {"horizon": horizon, "seed": 3}, "calendars": {"c": cal},
                "energy": {"run_starts_at": "6 h"},
                "products": {"u": {"route": ["a", "b"], "release": rel}},
                "stations": {"a": {"process_time": {"exponential": "3 min"}, **c},
                             "b": {"process_time": {"exponential": "3.5 min"}, "buffer": 3,
                                   **c}}}

    on = _measures(doc(True, "14 d"))
    clock = _measures(doc(False, "155 h"))
    assert on[("product", "u", "finished")] == clock[("product", "u", "finished")]
    for s in ("a", "b"):
        assert _st(on, s, "busy_h") == pytest.approx(_st(clock, s, "busy_h"), abs=1e-6)
        assert _st(on, s, "blocked_h") == pytest.approx(_st(clock, s, "blocked_h"), abs=1e-6)
        assert _st(on, s, "off_shift_h") == pytest.approx(14 * 24 - 155.0, abs=1e-6)


def test_arrivals_over_weekends() -> None:
    """Calendar all day Monday to Friday (120 worked h a week), gap 10 h of worked time:
    arrivals at worked 10, 20, ..., none on Saturday or Sunday. The 12th and the 24th fall
    at worked 120 h and 240 h, the very ends of the Fridays (off shift: shifts are
    half-open), so they arrive on the Mondays at 0:00 (168 h and 336 h). Over 13 days (to
    Sunday of week 2): 23; over 11.5 d (Friday noon of week 2: worked 228 h) 22, the 12th
    (Monday 168 h) included."""
    cal = {"shifts": [["0 h", "24 h"]], "days": ["mon", "tue", "wed", "thu", "fri"]}
    assert _measures(_arrivals("13 d", "10 h", cal))[("product", "u", "released")] == 23
    assert _measures(_arrivals("11.5 d", "10 h", cal))[("product", "u", "released")] == 22


def test_batch_oven_operation_failure_before_shift_end_pauses() -> None:
    """Oven: batch of 2, 6 h cycle, shift 6-14 h, finish, operation-dependent failures
    after 7 busy hours (constant), repair 2 h; feeder 1 s (the buffer is full by 6 h).
    Batch 1: 6-12 h. Batch 2 starts 12 h and fails at 13 h (7 busy h): down at 14 h, so it
    "stops as under pause": 1 h of repair left for 30-31 h, then 5 h of cycle 31-36 h.
    Over 30 h only batch 1 (2 units) is finished; the oven is busy 7 h, down 1 h."""
    doc = {"run": {"horizon": "30 h"}, "calendars": {"day": {"shifts": [["6 h", "14 h"]]}},
           "products": {"u": {"route": ["feed", "oven"], "release": "saturated"}},
           "stations": {"feed": {"process_time": "1 s", "buffer": 0},
                        "oven": {"process_time": "6 h", "batch": {"size": 2}, "buffer": 4,
                                 "calendar": "day", "at_shift_end": "finish",
                                 "failures": {"mtbf": "7 h", "mttr": "2 h",
                                              "mode": "operation"}}}}
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 2
    assert _st(m, "oven", "busy_h") == pytest.approx(7.0, abs=1e-9)
    assert _st(m, "oven", "down_h") == pytest.approx(1.0, abs=1e-9)


def test_zero_gap_arrival_does_not_arrive_off_shift() -> None:
    """Gaps drawn from {empirical: [0 s, 2 h]} under a calendar on from 6 h: a zero gap
    counts no worked time, but "units arrive only on shift", so nothing may arrive before
    6 h. Over a 5 h horizon (all off shift) no unit is released, whatever the seed."""
    cal = {"shifts": [["6 h", "14 h"]]}
    for seed in range(8):
        doc = _arrivals("5 h", {"empirical": ["0 s", "2 h"]}, cal)
        doc["run"]["seed"] = seed
        sc = Scenario.model_validate({"name": "zero gap", **doc})
        result = replication.simulate(build(sc), 0, seed, 0.0)
        released = {(k, e, n): v for k, e, n, v in result.measures}[("product", "u", "released")]
        assert released == 0, f"seed {seed}: {released} units arrived off shift"


def test_compare_folders_differ_on_case_insensitive_file_systems() -> None:
    """Two scenarios named `Line` and `line` (unique names, so they are the labels): their
    output folders must not collide on macOS/Windows file systems, which ignore case, or
    one scenario's tables overwrite the other's."""
    from twin.cli import _folders
    folders = _folders(["Line", "line"])
    assert len({f.lower() for f in folders.values()}) == 2, folders


@pytest.mark.parametrize("args", [["schema"], ["compare", "A", "B", "--json", "--quiet"]])
def test_other_commands_into_a_closed_pipe_end_quietly(tmp_path: Path, args) -> None:
    a = _write(tmp_path, "a.yaml", LINE)
    b = _write(tmp_path, "b.yaml", LINE.replace("buffer: 3", "buffer: 1"))
    args = [str(a) if x == "A" else str(b) if x == "B" else x for x in args]
    cmd = " ".join(twin_command() + args) + " | head -c 5"
    out = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True,
                         text=True, timeout=300)
    assert len(out.stdout) == 5
    assert "Traceback" not in out.stderr and "Broken" not in out.stderr, out.stderr
    assert out.returncode in (0, 1)  # (results.md: 1 for anything but success)


def test_unit_finished_in_overtime_handed_to_a_vehicle() -> None:
    """cure (finish, 3 h, 0-8 h) -> AGV (20 m at 1 m/s) -> pack (1 h, round the clock, no
    buffer). Units leave cure at 3, 6 and 9 h (the third finished in overtime, then picked
    up off shift: "finished units may leave"), each reaches pack within a minute and is
    done an hour later. Two days: 6 finished, pack busy 6 h, cure busy 18 h, and cure is
    off shift from the moment its overtime unit is done: at least 30 h - (on-shift waits
    for the vehicle, under a minute each) off shift; never starved."""
    doc = _cure("2 d")
    doc["products"]["u"]["route"] = ["cure", "pack"]
    doc["products"]["u"]["transport"] = "agv"
    doc["stations"]["cure"]["buffer"] = 0
    doc["stations"]["pack"] = {"process_time": "1 h", "buffer": 0}
    doc["logistics"] = {"points": {"cure": [0, 0], "pack": [20, 0]},
                        "paths": [["cure", "pack"]],
                        "fleets": {"agv": {"vehicles": 1, "speed_loaded": 1, "home": "cure"}}}
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 6
    assert _st(m, "pack", "busy_h") == pytest.approx(6.0, abs=1e-9)
    assert _st(m, "cure", "busy_h") == pytest.approx(18.0, abs=1e-9)
    assert _st(m, "cure", "starved_h") == pytest.approx(0.0, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") >= 30.0 - 6 * 60 / H
    assert _states_sum(m, "cure") == pytest.approx(48.0, abs=1e-9)


def test_pause_control_operation_failure_before_shift_end() -> None:
    """Control for the `finish` case above, under `pause`: units 0-3, 3-6, unit 3 from 6 h
    fails at 7.5 h, repair 7.5-8 and 24-24.5 h (on-shift time), work 24.5-26 h. By 20 h:
    2 finished, busy 7.5 h, down 0.5 h, off 12 h."""
    doc = _cure("20 h", failures={"mtbf": "7.5 h", "mttr": "1 h", "mode": "operation"},
                at_shift_end="pause")
    m = _measures(doc)
    assert m[("product", "u", "finished")] == 2
    assert _st(m, "cure", "busy_h") == pytest.approx(7.5, abs=1e-9)
    assert _st(m, "cure", "down_h") == pytest.approx(0.5, abs=1e-9)
    assert _st(m, "cure", "off_shift_h") == pytest.approx(12.0, abs=1e-9)


def test_flowline_refuses_arrival_calendars() -> None:
    """Docs: "The flowline engine refuses it" -- a clear scenario error, not a run that
    ignores the calendar."""
    doc = _arrivals("1 d", "2 h", {"shifts": [["0 h", "8 h"]]})
    doc["run"]["engine"] = "flowline"
    with pytest.raises(Exception) as e:
        sc = Scenario.model_validate({"name": "fl", **doc})
        twin.run(sc, replications=1, seed=0)
    assert "calendar" in str(e.value)
