"""Cross-checks of the initial work in process: each entry names a station and a product
that visits it, and fits into the station's machines (a warehouse's storage places) and
buffer (run once on the validated scenario)."""

from __future__ import annotations

from twin.errors import did_you_mean
from twin.scenario.schema import Scenario, StoredUnits
from twin.scenario.yamldoc import KeyPath


def units(given: int | StoredUnits) -> int:
    """The number of units of an `initial_wip` entry (a count, or units in store)."""
    return given if isinstance(given, int) else given.units


def initial_wip_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Unknown stations or products, products that never visit the station, `remaining`
    dwell away from a warehouse, and more units than a station holds."""
    found: list[tuple[KeyPath, str]] = []
    stations, products = scenario.stations, scenario.products
    for sname, counts in scenario.initial_wip.items():
        at: KeyPath = ("initial_wip", sname)
        station = stations.get(sname)
        if station is None:
            found.append((at, f"unknown station {sname!r}.{did_you_mean(sname, list(stations))}"))
            continue
        for pname, given in counts.items():
            if isinstance(given, StoredUnits) and station.warehouse is None:
                found.append((at + (pname,), f"{sname} is no warehouse: give the number of "
                                             f"units ({given.units}); `remaining` dwell "
                                             f"applies to units in a warehouse's store"))
        for pname in counts:
            if pname not in products:
                found.append((at + (pname,), f"unknown product {pname!r}."
                                             f"{did_you_mean(pname, list(products))}"))
            elif all(step.station != sname for step in products[pname].route):
                found.append((at + (pname,), f"product {pname} never visits {sname} (its "
                                             f"route does not list it)"))
        total = sum(units(given) for given in counts.values())
        if station.warehouse is not None:
            held, where = station.warehouse.places, "in its storage places"
        else:
            held = station.servers * (station.batch.size if station.batch else 1)
            where = "on its machines"
        room = held + (station.buffer if station.buffer is not None else total)
        if total > room:
            found.append((at, f"{total} units do not fit into {sname}: it holds "
                              f"{held} {where} and {station.buffer} in its "
                              f"buffer; give at most {room}"))
    for pname, product in products.items():  # (its N units are in the system from time 0)
        conwip = getattr(product.release, "conwip", None)
        if isinstance(conwip, int) and conwip > scenario.run.max_wip:
            found.append((("products", pname, "release", "conwip"),
                          f"CONWIP keeps {conwip} units in the system, more than "
                          f"run.max_wip ({scenario.run.max_wip}) allows; lower it or raise "
                          f"run.max_wip"))
    everywhere = sum(units(given) for counts in scenario.initial_wip.values()
                     for given in counts.values())
    if everywhere > scenario.run.max_wip:  # (the run's runaway guard would stop it at once)
        found.append((("initial_wip",), f"{everywhere} units in all at time 0, more than "
                                        f"run.max_wip ({scenario.run.max_wip}) allows in the "
                                        f"system; start with fewer or raise run.max_wip"))
    return found
