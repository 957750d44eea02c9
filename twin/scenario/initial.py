"""Cross-checks of the initial work in process: each entry names a station and a product
that visits it, and fits into the station's machines and buffer (run once on the validated
scenario)."""

from __future__ import annotations

from twin.errors import did_you_mean
from twin.scenario.schema import Scenario
from twin.scenario.yamldoc import KeyPath


def initial_wip_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Unknown stations or products, products that never visit the station, warehouses,
    and more units than a station holds."""
    found: list[tuple[KeyPath, str]] = []
    stations, products = scenario.stations, scenario.products
    for sname, counts in scenario.initial_wip.items():
        at: KeyPath = ("initial_wip", sname)
        station = stations.get(sname)
        if station is None:
            found.append((at, f"unknown station {sname!r}.{did_you_mean(sname, list(stations))}"))
            continue
        if station.warehouse is not None:
            found.append((at, f"{sname} is a warehouse: starting with units in store is not "
                              f"modelled; start it empty (and use a warm-up)"))
            continue
        for pname in counts:
            if pname not in products:
                found.append((at + (pname,), f"unknown product {pname!r}."
                                             f"{did_you_mean(pname, list(products))}"))
            elif all(step.station != sname for step in products[pname].route):
                found.append((at + (pname,), f"product {pname} never visits {sname} (its "
                                             f"route does not list it)"))
        total = sum(counts.values())
        on_machines = station.servers * (station.batch.size if station.batch else 1)
        room = on_machines + (station.buffer if station.buffer is not None else total)
        if total > room:
            found.append((at, f"{total} units do not fit into {sname}: it holds "
                              f"{on_machines} on its machines and {station.buffer} in its "
                              f"buffer; give at most {room}"))
    for pname, product in products.items():  # (its N units are in the system from time 0)
        conwip = getattr(product.release, "conwip", None)
        if isinstance(conwip, int) and conwip > scenario.run.max_wip:
            found.append((("products", pname, "release", "conwip"),
                          f"CONWIP keeps {conwip} units in the system, more than "
                          f"run.max_wip ({scenario.run.max_wip}) allows; lower it or raise "
                          f"run.max_wip"))
    everywhere = sum(sum(counts.values()) for counts in scenario.initial_wip.values())
    if everywhere > scenario.run.max_wip:  # (the run's runaway guard would stop it at once)
        found.append((("initial_wip",), f"{everywhere} units in all at time 0, more than "
                                        f"run.max_wip ({scenario.run.max_wip}) allows in the "
                                        f"system; start with fewer or raise run.max_wip"))
    return found
