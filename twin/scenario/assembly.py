"""Cross-checks of assembly stations: kits name real parts whose routes end at the station,
and exactly one product, released by assembly, is made there (run once on the validated
scenario, like the other cross-checks)."""

from __future__ import annotations

from twin.errors import did_you_mean
from twin.scenario.network import step_fleet
from twin.scenario.schema import Conwip, Scenario
from twin.scenario.yamldoc import KeyPath, _Index


def assembly_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Everything about assembly stations the schema cannot see."""
    found: list[tuple[KeyPath, str]] = []
    products, stations = scenario.products, scenario.stations
    parts_at: dict[str, str] = {}  # part product -> its assembly station
    for sname, st in stations.items():
        if st.assembly is None:
            continue
        where: KeyPath = ("stations", sname, "assembly")
        most = max(st.assembly.parts.values())
        if st.buffer is not None and st.buffer < most:
            found.append((("stations", sname, "buffer"),
                          f"each part waits in a lane of `buffer` places, and a kit takes up "
                          f"to {most} of one part: give buffer at least {most}, not "
                          f"{st.buffer} (no kit could ever be complete)"))
        for part in st.assembly.parts:
            if part not in products:
                found.append((where + ("parts", part), f"unknown product {part!r}."
                              f"{did_you_mean(part, list(products))}"))
            elif part in parts_at:
                found.append((where + ("parts", part), f"{part} is already a part at "
                              f"{parts_at[part]}; a product's units end at one assembly "
                              f"station"))
            else:
                parts_at[part] = sname
        made = [p for p, spec in products.items()
                if spec.release == "assembly" and spec.route[0].station == sname]
        if not made:
            found.append((where, f"no product is made here: give the assembled product "
                                 f"release: assembly and a route beginning at {sname}"))
        elif len(made) > 1:
            found.append((where, f"{', '.join(made)} are all made here; an assembly "
                                 f"station makes one product"))
        if sname in scenario.initial_wip:
            found.append((("initial_wip", sname), "initial work in process at an assembly "
                          "station is not modelled (its parts wait in lanes); start the "
                          "parts upstream"))
    for pname, spec in products.items():
        route = spec.route
        at: KeyPath = ("products", pname)
        if spec.release == "assembly":
            first = stations.get(route[0].station)
            if first is None or first.assembly is None:
                found.append((at + ("release",), f"release: assembly needs a route beginning "
                              f"at an assembly station (stations.S.assembly); "
                              f"{route[0].station} is none"))
            elif route[0].rework is not None:
                found.append((at + ("route", _Index(0), "rework"), "rework right after "
                              "assembly is not modelled; decide it at a later step"))
        for k, step in enumerate(route):
            if step.rework is not None and step.rework.to in stations and \
                    stations[step.rework.to].assembly is not None:
                found.append((at + ("route", _Index(k), "rework", "to"), "rework back to an "
                              "assembly station is not modelled; send it to a later station"))
            st = stations.get(step.station)
            if st is None or st.assembly is None:
                continue
            made_here = spec.release == "assembly" and k == 0
            part_here = parts_at.get(pname) == step.station and k == len(route) - 1
            if not (made_here or part_here):
                found.append((at + ("route", _Index(k)), f"{step.station} is an assembly "
                              f"station: only its parts (as the last step of their routes) "
                              f"and the product it makes (as the first) visit it"))
            elif part_here and (step.rework is not None or step.process_time is not None):
                found.append((at + ("route", _Index(k)), "a part is not processed at its "
                              "assembly station (the kit is): no rework or process_time "
                              "there"))
        if pname in parts_at:
            kit = stations[parts_at[pname]].assembly.parts[pname]
            if spec.release == "saturated" and len(route) == 1:
                found.append((at + ("release",), f"{pname} is released saturated straight into "
                              f"its lane at {parts_at[pname]}, where nothing releases it; give "
                              f"it release: {{interarrival: ...}} or {{conwip: N}}, or a "
                              f"station before {parts_at[pname]}"))
            if isinstance(spec.release, Conwip) and spec.release.conwip < kit:
                found.append((at + ("release", "conwip"), f"only {spec.release.conwip} units of "
                              f"{pname} ever circulate, fewer than the {kit} a kit at "
                              f"{parts_at[pname]} needs; raise the CONWIP limit to at least "
                              f"{kit}"))
            last = route[-1].station
            if last != parts_at[pname]:
                found.append((at + ("route",), f"{pname} is a part at {parts_at[pname]}: its "
                              f"route must end there (it ends at {last})"))
            carrier = step_fleet(spec, 0)
            if carrier is not None and len(route) == 1:
                own = route[0].transport is not None
                found.append((at + (("route", _Index(0), "transport") if own else
                                    ("transport",)),
                              f"{pname} is released straight into its lane at "
                              f"{parts_at[pname]}, so fleet {carrier} never carries it; leave "
                              f"transport out, or begin its route at the station the "
                              f"vehicles fetch it from"))
    found += _cycles(scenario, parts_at)
    return found


def _cycles(scenario: Scenario, parts_at: dict[str, str]) -> list[tuple[KeyPath, str]]:
    """Products that (through sub-assemblies) would be parts of themselves."""
    made_at = {p: spec.route[0].station for p, spec in scenario.products.items()
               if spec.release == "assembly"}
    found: list[tuple[KeyPath, str]] = []
    for part, station in parts_at.items():
        chain, product = [part], next((p for p, s in made_at.items() if s == station), None)
        while product is not None and product not in chain and product in parts_at:
            chain.append(product)
            product = next((p for p, s in made_at.items() if s == parts_at[product]), None)
        if product == part:
            found.append((("stations", station, "assembly", "parts", part),
                          f"{part} would be a part of itself ({' -> '.join(chain + [part])}); "
                          f"an assembled product cannot go into its own kit"))
    return found
