"""Memory of one replication against its horizon: it should not grow (issue: robustness).

Runs a 6-station line with failures on the SimPy engine (or, with --engine flowline, on the
flowline engine, for ten times longer) for a horizon H and for 4H and prints the peak memory
Python and numpy allocated (tracemalloc) during each, and their ratio (goal: about 1, i.e.
no growth with the horizon). The timeline is capped at 5,000 intervals by
design, so its interval is set to the whole horizon here: what is measured is the engine's
own state (units, clocks, the online bottleneck tracker). With --event-log the log, which
does grow, is kept as well, for contrast.

    python benchmarks/memory.py [--quick] [--event-log] [--engine flowline]
"""

from __future__ import annotations

import argparse
import tracemalloc
from dataclasses import replace

import twin.engine.flowline as flowline
import twin.engine.replication as replication
from twin.model import build
from twin.scenario.schema import Scenario


def model(horizon: float, event_log: bool, operation: bool = False):
    """The line; `operation`: failures count busy time only (the flowline engine's kind)."""
    mode = "operation" if operation else "time"
    stations = {f"s{i}": {"process_time": {"exponential": 1.0}, "buffer": 3,
                          "failures": {"mtbf": {"exponential": 200}, "mttr": 10, "mode": mode}}
                for i in range(6)}
    sc = Scenario.model_validate({
        "name": "memory", "run": {"horizon": horizon, "seed": 1},
        "products": {"u": {"route": list(stations)}}, "stations": stations})
    return replace(build(sc), event_log=event_log)


def peak(horizon: float, event_log: bool, engine: str) -> tuple[int, int]:
    replication.sample_interval = lambda h: h  # one timeline interval (see the docstring)
    m = model(horizon, event_log, engine == "flowline")
    simulate = flowline.simulate if engine == "flowline" else replication.simulate
    flowline.prepare()
    tracemalloc.start()
    result = simulate(m, 0, 1, 0.0)
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    finished = int(next(v for k, _, name, v in result.measures if name == "finished"))
    return top, finished


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter horizons (a smoke test)")
    ap.add_argument("--event-log", action="store_true", help="keep the event log too")
    ap.add_argument("--engine", choices=["simpy", "flowline"], default="simpy")
    args = ap.parse_args()
    if args.engine == "flowline" and args.event_log:
        ap.error("the flowline engine keeps no event log")
    h = 20_000.0 if args.quick else 100_000.0
    if args.engine == "flowline":
        h *= 10
    small, n1 = peak(h, args.event_log, args.engine)
    large, n2 = peak(4 * h, args.event_log, args.engine)
    print(f"horizon {h:,.0f} s: {n1:,} units, peak {small / 1e6:.2f} MB")
    print(f"horizon {4 * h:,.0f} s: {n2:,} units, peak {large / 1e6:.2f} MB")
    print(f"memory ratio 4x horizon / 1x: {large / small:.2f} (goal: about 1 without an "
          f"event log)")


if __name__ == "__main__":
    main()
