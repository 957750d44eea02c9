"""Cross-checks of shift calendars: every station's `calendar` names a calendar of the
scenario (run once on the validated scenario, like the other cross-checks)."""

from __future__ import annotations

from twin.errors import did_you_mean
from twin.scenario.schema import Scenario
from twin.scenario.yamldoc import KeyPath


def calendar_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Stations under a calendar the scenario does not define."""
    found: list[tuple[KeyPath, str]] = []
    known = list(scenario.calendars)
    for sname, station in scenario.stations.items():
        name = station.calendar
        if name is not None and name not in scenario.calendars:
            hint = did_you_mean(name, known) if known else \
                " Define it under calendars: (e.g. calendars: {" + name + \
                ": {shifts: [[\"6 h\", \"22 h\"]]}})."
            found.append((("stations", sname, "calendar"), f"unknown calendar {name!r}.{hint}"))
    return found
