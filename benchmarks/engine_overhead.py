"""Engine overhead: twin's SimPy engine against a minimal hand-written SimPy model.

The same 10-station line (exponential process times of mean 1 s, input buffers of 3,
blocking after service, saturated release) is simulated by
  * a hand-written SimPy model: one process per machine, simpy.Store buffers, no statistics;
  * twin, through its public API, with full state accounting and KPIs.
Prints the time per finished unit of each and their ratio (goal: twin <= 1.5x). Both run in
the same process, alternately, so machine noise hits both alike; the best of several rounds
is taken for each.

    python benchmarks/engine_overhead.py [--units 200000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import time

import simpy

import twin
from twin.scenario.schema import Scenario

STATIONS = 10
BUFFER = 3


def hand_written(horizon: float, seed: int) -> int:
    """Minimal SimPy model of the line; returns units finished within `horizon` seconds."""
    env = simpy.Environment()
    stores = [simpy.Store(env, capacity=BUFFER) for _ in range(STATIONS)]
    finished = [0]

    def machine(i: int):
        draw = random.Random(seed * 1000 + i).expovariate  # fastest per-draw sampler in Python
        while True:
            if i == 0:
                unit = object()  # saturated release
            else:
                unit = yield stores[i].get()
            yield env.timeout(draw(1.0))
            if i == STATIONS - 1:
                finished[0] += 1
            else:
                yield stores[i + 1].put(unit)

    for i in range(STATIONS):
        env.process(machine(i))
    env.run(until=horizon)
    return finished[0]


def scenario(horizon: float) -> Scenario:
    stations = {f"s{i}": {"process_time": {"exponential": 1.0}, "buffer": BUFFER}
                for i in range(STATIONS)}
    return Scenario.model_validate({
        "name": "10-station line",
        "run": {"horizon": horizon},
        "products": {"u": {"route": list(stations), "release": "saturated"}},
        "stations": stations,
    })


def twin_run(horizon: float, seed: int) -> tuple[int, float]:
    """Units finished and wall seconds of a twin run, including its KPI summary."""
    t0 = time.perf_counter()
    results = twin.run(scenario(horizon), seed=seed)
    doc = results.summary()
    return int(doc["products"]["u"]["finished"]["mean"]), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=200_000, help="units per run (approx.)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    horizon = args.units * 1.35  # throughput of the line is about 0.74 units/s
    best_hand, best_twin = float("inf"), float("inf")
    for r in range(args.rounds):
        t0 = time.perf_counter()
        n_hand = hand_written(horizon, r)
        hand = (time.perf_counter() - t0) / n_hand
        n_twin, secs = twin_run(horizon, r)
        tw = secs / n_twin
        best_hand, best_twin = min(best_hand, hand), min(best_twin, tw)
        print(f"round {r}: hand-written {hand * 1e6:7.2f} us/unit ({n_hand} units), "
              f"twin {tw * 1e6:7.2f} us/unit ({n_twin} units)")
    print(f"hand-written SimPy: {best_hand * 1e6:.2f} us per finished unit")
    print(f"twin simpy engine:  {best_twin * 1e6:.2f} us per finished unit")
    print(f"ratio twin / hand-written: {best_twin / best_hand:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
