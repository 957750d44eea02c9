"""Cross-check: times so short that a run could never end within `run.max_events`.

A process time of 1e-300 s (a unit slip, or a typo) is a valid distribution, but the engine
would need about horizon / 1e-300 events to cover the horizon and run for hours before its
runaway guard stops it. Caught here instead, before anything runs, at the key that is wrong.
"""

from __future__ import annotations

from twin.scenario.distributions import Dist
from twin.scenario.schema import Scenario
from twin.scenario.yamldoc import KeyPath


def event_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Process times, interarrival times and times between failures whose mean makes more
    events over the run (warm-up included) than `run.max_events` allows."""
    run = scenario.run
    span = run.horizon + (run.warmup if isinstance(run.warmup, float) else run.horizon)
    found: list[tuple[KeyPath, str]] = []

    def check(at: KeyPath, dist: Dist | None, what: str) -> None:
        if dist is None or not dist.mean > 0:
            return  # (a zero mean is refused where it stands)
        events = span / dist.mean
        if events > run.max_events:
            found.append((at, f"a mean {what} of {dist.mean:.3g} s means about {events:.2g} "
                              f"events in the {span / 3600:.4g} h run, more than "
                              f"run.max_events ({run.max_events:,}) allows; is the unit "
                              f"right (\"18 s\", \"20 min\")?"))

    for sname, st in scenario.stations.items():
        check(("stations", sname, "process_time"), st.process_time, "process time")
        if st.failures is not None:
            check(("stations", sname, "failures", "mtbf"), st.failures.mtbf,
                  "time between failures")
    for pname, product in scenario.products.items():
        for i, step in enumerate(product.route):
            check(("products", pname, "route", i, "process_time"), step.process_time,
                  "process time")
        release = product.release
        check(("products", pname, "release", "interarrival"),
              getattr(release, "interarrival", None), "time between arrivals")
    return found
