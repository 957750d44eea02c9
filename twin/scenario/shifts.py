"""Cross-checks of shift calendars: every station's `calendar` names a calendar of the
scenario (run once on the validated scenario, like the other cross-checks)."""

from __future__ import annotations

from twin.errors import did_you_mean
from twin.scenario.schema import Scenario
from twin.scenario.yamldoc import KeyPath


def calendar_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Stations under a calendar the scenario does not define, and `at_shift_end` without
    a calendar."""
    found: list[tuple[KeyPath, str]] = []
    known = list(scenario.calendars)
    for sname, station in scenario.stations.items():
        name = station.calendar
        if name is not None and name not in scenario.calendars:
            hint = did_you_mean(name, known) if known else \
                " Define it under calendars: (e.g. calendars: {" + name + \
                ": {shifts: [[\"6 h\", \"22 h\"]]}})."
            found.append((("stations", sname, "calendar"), f"unknown calendar {name!r}.{hint}"))
        if name is None and "at_shift_end" in station.model_fields_set:
            found.append((("stations", sname, "at_shift_end"),
                          "at_shift_end applies under a shift calendar, and the station has "
                          "none: give it a calendar (stations." + sname + ".calendar) or "
                          "remove at_shift_end."))
    return found
