"""Cross-checks of changeovers: every product a station's setup names exists and visits the
station (run once on the validated scenario, like the network's checks)."""

from __future__ import annotations

from twin.errors import did_you_mean
from twin.scenario.yamldoc import KeyPath, _Index
from twin.scenario.schema import Scenario


def setup_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Changes naming an unknown product, or one whose route never visits the station."""
    found: list[tuple[KeyPath, str]] = []
    products = scenario.products
    for sname, station in scenario.stations.items():
        if station.setup is None:
            continue
        visitors = [p for p, spec in products.items()
                    if any(step.station == sname for step in spec.route)]
        for i, change in enumerate(station.setup.changes):
            for key, name in (("from", change.from_), ("to", change.to)):
                at: KeyPath = ("stations", sname, "setup", "changes", _Index(i), key)
                if name not in products:
                    found.append((at, f"unknown product {name!r}."
                                      f"{did_you_mean(name, list(products))}"))
                elif name not in visitors:
                    found.append((at, f"product {name} never visits {sname} (its route "
                                      f"does not list it), so it never needs a setup here"))
    return found
