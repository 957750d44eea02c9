"""The flowline engine against the SimPy engine on the 10-station line; and a big sweep.

The line of benchmarks/engine_overhead.py: 10 single-machine stations, exponential process
times of mean 1 s, input buffers of 3, blocking after service, saturated release. Prints
  * the kernel's cost per station visit (draws pre-computed, so only the recursion counts;
    goal <= 10 ns), keeping every station's figures, and keeping only the line's (as sweeps),
  * the time per finished unit of both engines through their `simulate` (draws and the
    bottleneck included) and the speed-up (goal >= 500x); and, for comparison, the
    recursion's own time per finished unit (the kernel figure above per unit),
  * the time per finished unit of a sweep on one worker (what screening layouts costs: no
    bottleneck, draws made once per worker) and its speed-up over the SimPy engine,
  * the time for 10,000 buffer allocations (0..5 per station) of the line at about
    20,000 finished units each, on 2 worker processes (goal <= 60 s).

    python benchmarks/flowline.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import twin.sweep as sw
from twin.engine import flowline as fl
from twin.engine import replication
from twin.model import build
from twin.scenario.schema import Scenario

STATIONS = 10
BUFFER = 3
RATE = 0.74  # units per second of the line (about)
SWEEP_RATE = 0.61  # mean units per second over random allocations of 0..5 places


def scenario(units: int, rate: float = RATE) -> Scenario:
    stations = {f"s{i}": {"process_time": {"exponential": 1.0}, "buffer": BUFFER}
                for i in range(STATIONS)}
    return Scenario.model_validate({
        "name": "10-station line", "run": {"horizon": units / rate, "seed": 1},
        "products": {"u": {"route": list(stations), "release": "saturated"}},
        "stations": stations,
    })


def finished(result) -> int:
    return int(next(v for kind, _, m, v in result.measures if m == "finished"))


def kernel_ns_per_visit(units: int, rounds: int, stats: bool = True) -> tuple[float, float]:
    """Best time of the recursion per station visit and per finished unit (s), on a feed
    holding every draw already (`stats`: keeping each station's figures, else only the
    line's)."""
    model = build(scenario(units))
    feed = fl.Feed(1, 0, keep=True)
    fl.run_line(model, feed, 0.0, record=False)  # draws every value once
    best = float("inf")
    for _ in range(rounds):
        feed.rewind()
        t0 = time.perf_counter()
        _, state = fl.run_line(model, feed, 0.0, record=False, stats=stats)
        best = min(best, time.perf_counter() - t0)
    from twin.kernels.flowline import G_FIN, I_ARR
    return best / int(state.si[:, I_ARR].sum()) * 1e9, best / int(state.gi[G_FIN])


def per_unit(simulate, model, rounds: int) -> tuple[float, int]:
    best, n = float("inf"), 0
    for _ in range(rounds):
        result = simulate(model, 0, 1, 0.0)
        n = finished(result)
        best = min(best, result.simulate_s / n)
    return best, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    simpy_units = 5_000 if args.quick else 50_000
    fast_units = 50_000 if args.quick else 1_000_000
    allocations = 500 if args.quick else 10_000
    sweep_units = 20_000

    t0 = time.perf_counter()
    fl.prepare()
    print(f"kernels compiled or loaded in {time.perf_counter() - t0:.2f} s (not timed below)")

    ns, kernel_unit = kernel_ns_per_visit(fast_units, 3)
    print(f"kernel: {ns:.2f} ns per station visit (goal <= 10)")
    ns, _ = kernel_ns_per_visit(fast_units, 3, stats=False)
    print(f"kernel, the line's figures only (sweeps): {ns:.2f} ns per station visit")

    slow, n_slow = per_unit(replication.simulate, build(scenario(simpy_units)), 1)
    fast, n_fast = per_unit(fl.simulate, build(scenario(fast_units)), 3)
    print(f"simpy engine:    {slow * 1e6:9.3f} us per finished unit ({n_slow} units)")
    print(f"flowline engine: {fast * 1e6:9.3f} us per finished unit ({n_fast} units)")
    print(f"speed-up per unit: {slow / fast:.0f}x (goal >= 500x)")
    print(f"the recursion alone (draws pre-made, no bottleneck): {kernel_unit * 1e6:.3f} us "
          f"per finished unit, {slow / kernel_unit:.0f}x the SimPy engine's time per unit")

    sc = scenario(sweep_units, SWEEP_RATE)
    layouts = sw.sample(sc, allocations, buffers={n: (0, 5) for n in sc.stations}, seed=7)
    few = layouts.iloc[:min(allocations, 300)]
    t0 = time.perf_counter()
    one = sw.sweep(sc, few, workers=1)
    screen = (time.perf_counter() - t0) / one["finished"].sum()
    print(f"sweep on one worker: {screen * 1e6:9.3f} us per finished unit ({len(few)} "
          f"allocations); speed-up per unit over the SimPy engine: {slow / screen:.0f}x")
    t0 = time.perf_counter()
    table = sw.sweep(sc, layouts, workers=args.workers)
    secs = time.perf_counter() - t0
    print(f"sweep: {allocations} allocations x {table['finished'].mean():.0f} finished units "
          f"each on {args.workers} workers in {secs:.1f} s "
          f"({secs / allocations * 1e3:.2f} ms per allocation; goal: 10,000 in <= 60 s)")


if __name__ == "__main__":
    main()
