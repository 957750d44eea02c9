"""Cross-check: times so short that a run could never end within `run.max_events`.

A process time of 1e-300 s (a unit slip, or a typo) is a valid distribution, but the engine
would need about horizon / 1e-300 events to cover the horizon and run for hours before its
runaway guard stops it. Caught here instead, before anything runs, at the key that is wrong.

The count is an upper bound on what a run can do, so that no run that would end is refused:
a product's units over the run are at most the run's span times the least of its release
rate (open arrivals) and the capacity of each station on its route (machines / mean process
time; batch, warehouse and assembly stations are left out, which only loosens the bound),
and each unit takes an event or two per step. Failures of mode `time` come on their own
clock: span / mean time between failures each.
"""

from __future__ import annotations

from twin.scenario.distributions import Dist
from twin.scenario.schema import Scenario
from twin.scenario.yamldoc import KeyPath

EVENTS_PER_STEP = 2  # a unit's start and end at a step (at least)


def event_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Products whose least possible flow still needs more events than `run.max_events`
    (named at the time that limits it), and time-dependent failures too frequent."""
    run = scenario.run
    span = run.horizon + (run.warmup if isinstance(run.warmup, float) else run.horizon)
    found: list[tuple[KeyPath, str]] = []
    for pname, product in scenario.products.items():
        limits: list[tuple[float, KeyPath, Dist]] = []  # (units per second, key, time)
        ia = getattr(product.release, "interarrival", None)
        if ia is not None and ia.mean > 0:
            limits.append((1 / ia.mean, ("products", pname, "release", "interarrival"), ia))
        for i, step in enumerate(product.route):
            st = scenario.stations.get(step.station)
            if st is None or st.batch or st.warehouse or st.assembly:
                continue
            own = step.process_time is not None
            dist = step.process_time if own else st.process_time
            if dist is not None and dist.mean > 0:
                key = ("products", pname, "route", i, "process_time") if own else \
                    ("stations", step.station, "process_time")
                limits.append((st.servers / dist.mean, key, dist))
        if not limits:
            continue
        rate, key, dist = min(limits, key=lambda x: x[0])
        events = span * rate * EVENTS_PER_STEP * len(product.route)
        if events > run.max_events:
            found.append((key, _message(dist, events, span, run.max_events,
                                        f"{pname}'s flow")))
    for sname, st in scenario.stations.items():
        f = st.failures
        if f is not None and f.mode == "time" and f.mtbf.mean > 0:
            events = span / f.mtbf.mean * st.servers
            if events > run.max_events:
                found.append((("stations", sname, "failures", "mtbf"),
                              _message(f.mtbf, events, span, run.max_events, "failures")))
    return found


def _message(dist: Dist, events: float, span: float, limit: int, what: str) -> str:
    return (f"a mean of {dist.mean:.3g} s here lets {what} need up to about {events:.2g} "
            f"events in the {span / 3600:.4g} h run, more than run.max_events ({limit:,}) "
            f"allows; is the unit right (\"18 s\", \"20 min\")?")
