"""Floors and lifts of the logistics section: which floor each point lies on, where each
lift stops, and the cross-checks that name every mistake in them.

A scenario without `logistics.floors` has one floor and no lifts. With floors, every point
lies on exactly one floor, a path stays on its floor, and only lifts join floors; a lift
stops at one point on each of its floors (docs/scenario-format.md, Floors and lifts).
"""

from __future__ import annotations

from twin.errors import did_you_mean
from twin.scenario.schema import Lift, Logistics, Scenario
from twin.scenario.yamldoc import KeyPath, _Index


def floor_of(lg: Logistics) -> dict[str, str]:
    """point -> its floor (the first floor listing it); empty without floors."""
    out: dict[str, str] = {}
    for fname, floor in lg.floors.items():
        for p in floor.points:
            out.setdefault(p, fname)
    return out


def lift_stops(lg: Logistics, lift: Lift) -> list[tuple[str, str]]:
    """(floor, point) where the lift stops, in the order listed; a list of points takes
    each point's floor. Call only on a scenario whose lift problems are none."""
    if isinstance(lift.points, dict):
        return list(lift.points.items())
    where = floor_of(lg)
    return [(where[p], p) for p in lift.points]


def lift_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Points on no floor or on two, floors at one height, paths across floors, lifts
    without floors, and lift stops that are unknown or not on the floor they claim."""
    lg = scenario.logistics
    if lg is None or (not lg.floors and not lg.lifts):
        return []
    found: list[tuple[KeyPath, str]] = []
    points = list(lg.points)
    if not lg.floors:
        name = next(iter(lg.lifts))
        return [(("logistics", "lifts", name),
                 f"lift {name} needs floors: add logistics.floors, {{floor: {{height: "
                 f"METRES, points: [...]}}}}, and put the lift's points on them")]
    where: dict[str, str] = {}
    heights: dict[float, str] = {}
    for fname, floor in lg.floors.items():
        at: KeyPath = ("logistics", "floors", fname)
        if floor.height in heights:
            found.append((at + ("height",),
                          f"floors {heights[floor.height]} and {fname} are both at "
                          f"{floor.height:g} m; each floor needs its own height"))
        heights.setdefault(floor.height, fname)
        for i, p in enumerate(floor.points):
            if p not in lg.points:
                found.append((at + ("points", _Index(i)), _unknown(p, points, "point",
                                                                   "logistics.points")))
            elif p in where:
                found.append((at + ("points", _Index(i)),
                              f"point {p} is already on floor {where[p]}; a point lies on "
                              f"one floor only (give the other floor a point of its own)"))
            else:
                where[p] = fname
    for p in lg.points:
        if p not in where:
            found.append((("logistics", "points", p),
                          f"point {p} is on no floor: list it under "
                          f"logistics.floors.FLOOR.points (floors: "
                          f"{', '.join(lg.floors)})"))
    for i, path in enumerate(lg.paths):
        a, b = where.get(path.from_), where.get(path.to)
        if a is not None and b is not None and a != b:
            found.append((("logistics", "paths", _Index(i)),
                          f"the path from {path.from_} (floor {a}) to {path.to} (floor {b}) "
                          f"joins two floors; a path stays on its floor: join floors with a "
                          f"lift under logistics.lifts"))
    taken = {**{f: "fleet" for f in lg.fleets}, **{s: "station" for s in scenario.stations}}
    for lname, lift in lg.lifts.items():
        found += _stop_problems(lg, lname, lift, where, points)
        if lname in taken:
            found.append((("logistics", "lifts", lname),
                          f"lift {lname!r} has the name of a {taken[lname]}; bottleneck "
                          f"results list both, so give the lift another name"))
    return found


def _stop_problems(lg: Logistics, lname: str, lift: Lift, where: dict[str, str],
                   points: list[str]) -> list[tuple[KeyPath, str]]:
    """A lift's stops: known floors and points, each point on its floor, one per floor."""
    at: KeyPath = ("logistics", "lifts", lname)
    found: list[tuple[KeyPath, str]] = []
    floors = list(lg.floors)
    if isinstance(lift.points, dict):
        pairs = [((f,), f, p) for f, p in lift.points.items()]
    else:
        pairs = [((_Index(i),), where.get(p), p) for i, p in enumerate(lift.points)]
    served: dict[str, str] = {}
    for key, floor, p in pairs:
        here = at + ("points",) + key
        if isinstance(lift.points, dict) and floor not in lg.floors:
            found.append((here, _unknown(floor, floors, "floor", "logistics.floors")))
            continue
        if p not in lg.points:
            found.append((here, _unknown(p, points, "point", "logistics.points")))
            continue
        if p not in where:
            continue  # on no floor: reported with the floors
        if where[p] != floor:
            found.append((here, f"lift {lname}'s point on floor {floor} is {p}, which lies on "
                                f"floor {where[p]} (logistics.floors.{where[p]}.points); "
                                f"choose a point on floor {floor}"))
            continue
        if floor in served:
            found.append((here, f"lift {lname} stops twice on floor {floor} (points "
                                f"{served[floor]} and {p}); give it one point per floor"))
        served.setdefault(floor, p)
    if lift.home is not None and lift.home not in served and not found:
        found.append((at + ("home",),
                      f"lift {lname} does not stop on floor {lift.home!r}."
                      f"{did_you_mean(lift.home, list(served))} Its floors: "
                      f"{', '.join(served)}"))
    return found


def _unknown(name: str, known: list[str], what: str, where: str) -> str:
    return f"unknown {what} {name!r}.{did_you_mean(name, known)} {what.capitalize()}s are " \
           f"listed under {where}"
