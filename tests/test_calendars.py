"""Shift calendar arithmetic against a plain reference: the on-shift stretches written out
one by one over a few weeks, summed and walked."""

from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st

from twin.calendars import WEEK, ShiftCalendar, calendar, pattern
from twin.scenario.schema import CalendarSpec

H = 3600.0
HORIZON = 4 * WEEK  # the reference writes out this much


def reference_stretches(spec: CalendarSpec, offset: float) -> list[tuple[float, float]]:
    """On-shift stretches of [0, HORIZON) in simulated time, from the spec directly: every
    shift on every day it begins (weeks -1..5), less every break and stop."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    on, off = [], []
    for week in range(-1, 6):
        for d, day in enumerate(days):
            base = week * WEEK + d * 86400.0 - offset
            for shift in spec.shifts:
                if day in (shift.days if shift.days is not None else spec.days):
                    end = shift.to if shift.to > shift.from_ else shift.to + 86400.0
                    on.append((base + shift.from_, base + end))
            for brk in spec.breaks:
                if brk.days is None or day in brk.days:
                    end = brk.to if brk.to > brk.from_ else brk.to + 86400.0
                    off.append((base + brk.from_, base + end))
    off += [(s.from_, s.to) for s in spec.stops]
    # walk the moments where anything changes; a piece is on if in some shift, in no break
    cuts = sorted({0.0, HORIZON, *(x for span in on + off for x in span
                                   if 0.0 < x < HORIZON)})
    stretches: list[tuple[float, float]] = []
    for a, b in zip(cuts, cuts[1:]):
        mid = (a + b) / 2
        if any(s <= mid < e for s, e in on) and not any(s <= mid < e for s, e in off):
            if stretches and stretches[-1][1] == a:
                stretches[-1] = (stretches[-1][0], b)
            else:
                stretches.append((a, b))
    return stretches


def ref_worked(stretches, t: float) -> float:
    return sum(max(0.0, min(b, t) - a) for a, b in stretches)


def ref_advance(stretches, t: float, d: float) -> float:
    for a, b in stretches:
        if b <= t:
            continue
        a = max(a, t)
        if b - a >= d:
            return a + d
        d -= b - a
    raise AssertionError("beyond the reference's horizon")


minutes = st.integers(0, 24 * 60).map(lambda m: m * 60.0)
span = st.tuples(minutes.filter(lambda x: x < 86400.0), minutes.filter(lambda x: x > 0)) \
    .filter(lambda p: p[0] != p[1])
day_sets = st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
                    min_size=1, max_size=7, unique=True)


@st.composite
def specs(draw) -> CalendarSpec:
    shifts = []
    for a, b in draw(st.lists(span, min_size=1, max_size=3)):
        if draw(st.booleans()):
            shifts.append([a, b])
        else:
            shifts.append({"from": a, "to": b, "days": draw(day_sets)})
    breaks = [[a, b] for a, b in draw(st.lists(span, max_size=2))]
    stops = sorted(draw(st.lists(st.tuples(st.floats(0, 3 * WEEK), st.floats(60, 3 * 86400)),
                                 max_size=3)))
    doc = {"shifts": shifts, "days": draw(day_sets), "breaks": breaks,
           "stops": [[a, a + n] for a, n in stops]}
    try:
        return CalendarSpec.model_validate(doc)
    except ValueError:  # no working time left: not a calendar
        from hypothesis import reject
        reject()


offsets = st.sampled_from([0.0, 6 * H, 22.5 * H])


@settings(max_examples=150, deadline=None)
@given(specs(), offsets, st.lists(st.floats(0, 2 * WEEK), min_size=1, max_size=5),
       st.floats(1.0, 3 * 86400.0))
def test_calendar_matches_written_out_stretches(spec, offset, times, d):
    cal = calendar("c", spec, offset)
    ref = reference_stretches(spec, offset)
    for t in times:
        assert math.isclose(cal.worked(t), ref_worked(ref, t), rel_tol=1e-12, abs_tol=1e-6)
        on = any(a <= t < b for a, b in ref)
        assert cal.is_on(t) == on
        if ref_worked(ref, HORIZON) - ref_worked(ref, t) > d:  # within what is written out
            assert math.isclose(cal.advance(t, d), ref_advance(ref, t, d), rel_tol=1e-12,
                                abs_tol=1e-6)
        nxt = next((max(a, t) for a, b in ref if b > t), None)
        if nxt is not None:
            assert math.isclose(cal.next_on(t), nxt, rel_tol=1e-12, abs_tol=1e-6)
    got = []
    for a, b in cal.shifts():
        if a >= HORIZON:
            break
        got.append((a, min(b, HORIZON)))
    assert len(got) == len(ref)
    for (a, b), (ra, rb) in zip(got, ref):
        assert math.isclose(a, ra, abs_tol=1e-6) and math.isclose(b, rb, abs_tol=1e-6)


def test_a_shift_past_midnight_belongs_to_the_day_it_begins():
    spec = CalendarSpec.model_validate({"shifts": [["22 h", "6 h"]], "days": ["fri"]})
    cal = calendar("night", spec)
    friday_22 = 4 * 86400 + 22 * H
    assert not cal.is_on(friday_22 - 1) and cal.is_on(friday_22)
    assert cal.is_on(friday_22 + 7.9 * H) and not cal.is_on(friday_22 + 8 * H)
    assert cal.on_share == 8 * H / WEEK


def test_work_pauses_over_a_break_and_a_stop():
    spec = CalendarSpec.model_validate({"shifts": [["6 h", "14 h"]], "breaks": [["10 h", "10.5 h"]],
                                        "stops": [["1 d", "2 d"]]})
    cal = calendar("day", spec)
    # 5 h of work begun at 6:00 on day 0: 4 h to the break, 1 h after it -> 11:30
    assert cal.advance(6 * H, 5 * H) == 11.5 * H
    # 3 h begun at 12:30 on day 0: 1.5 h before 14:00; day 1 is stopped; 1.5 h on day 2
    assert cal.advance(12.5 * H, 3 * H) == 2 * 86400 + 7.5 * H
    assert cal.on_time(0, 3 * 86400) == 2 * 7.5 * H


def test_turning_the_week_to_the_start_of_the_run():
    spec = CalendarSpec.model_validate({"shifts": [["6 h", "14 h"]], "days": ["mon"]})
    at_six = calendar("c", spec, offset=6 * H)  # the run starts Monday 6:00
    assert at_six.is_on(0.0) and not at_six.is_on(8 * H)
    assert at_six.next_on(8 * H) == WEEK


def test_round_the_clock_has_one_endless_stretch_cut_by_stops():
    spec = CalendarSpec.model_validate({"shifts": [["0 h", "24 h"]], "stops": [["1 d", "2 d"]]})
    cal = calendar("c", spec)
    assert cal.always
    stretches = cal.shifts()
    assert next(stretches) == (0.0, 86400.0)
    assert next(stretches) == (2 * 86400.0, math.inf)


def test_pattern_takes_breaks_out_of_shifts():
    spec = CalendarSpec.model_validate({"shifts": [["6 h", "14 h"], ["14 h", "22 h"]],
                                        "days": ["mon"], "breaks": [["13.5 h", "14.5 h"]]})
    assert pattern(spec) == ((6 * H, 14.5 * H), (13.5 * H, 22 * H))


def test_next_on_moves_time_on_even_when_a_start_rounds_onto_now():
    # a start a hair after t in real numbers that rounds to t: next_on must not return t
    t = 1e9 + 0.25
    cal = ShiftCalendar("c", (math.fmod(t, WEEK) + 1e-9,), (math.fmod(t, WEEK) + 3600,))
    assert not cal.is_on(t)
    assert cal.next_on(t) > t
