"""Cross-checks of shift calendars: every station's and every arrival stream's `calendar`
names a calendar of the scenario (run once on the validated scenario, like the other
cross-checks)."""

from __future__ import annotations

from twin.errors import did_you_mean
from twin.scenario.schema import Interarrival, Scenario
from twin.scenario.yamldoc import KeyPath


def calendar_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Stations and arrivals under a calendar the scenario does not define, and
    `at_shift_end: finish` without a calendar."""
    found: list[tuple[KeyPath, str]] = []
    users: list[tuple[KeyPath, str | None]] = [
        (("stations", s, "calendar"), station.calendar)
        for s, station in scenario.stations.items()]
    users += [(("products", p, "release", "calendar"), product.release.calendar)
              for p, product in scenario.products.items()
              if isinstance(product.release, Interarrival)]
    for where, name in users:
        if name is not None and name not in scenario.calendars:
            found.append((where, _unknown(name, list(scenario.calendars))))
    for sname, station in scenario.stations.items():
        # (the default, `pause`, is what a station without a calendar does: a scenario
        # written out in full says it, and reads back)
        if station.calendar is None and station.at_shift_end != "pause":
            found.append((("stations", sname, "at_shift_end"),
                          "at_shift_end applies under a shift calendar, and the station has "
                          "none: give it a calendar (stations." + sname + ".calendar) or "
                          "remove at_shift_end."))
    return found


def _unknown(name: str, known: list[str]) -> str:
    hint = did_you_mean(name, known) if known else \
        " Define it under calendars: (e.g. calendars: {" + name + \
        ": {shifts: [[\"6 h\", \"22 h\"]]}})."
    return f"unknown calendar {name!r}.{hint}"
