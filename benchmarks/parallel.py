"""Parallel replications: wall time of 8 replications on 1 and on 2 local workers.

The scenario is a 6-station line with failures, scrap and finite buffers whose
replications take a couple of seconds each, so that starting worker processes does not
dominate. The same replications run serially (workers=1), on local worker processes
(workers=2) and, with --dask, on a Dask LocalCluster of 2 workers: once started by twin
(`--dask local`, start-up included) and once already running (`--dask ADDRESS`). Prints each wall time,
the speed-up over the serial run (goal: >= 1.6 on 2 cores) and checks that every backend
gives the same summary.

    python benchmarks/parallel.py [--replications 8] [--horizon "2000 h"] [--dask]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import twin
from twin.scenario.schema import Scenario


def scenario(horizon: str, replications: int) -> Scenario:
    stations = {
        f"s{i}": {
            "process_time": {"exponential": 50 + 5 * i},
            "buffer": 4,
            "failures": {"mtbf": {"exponential": "4 h"}, "mttr": {"exponential": "12 min"}},
            "power_kw": {"busy": 10, "starved": 2, "blocked": 2, "down": 0.5},
        }
        for i in range(6)
    }
    stations["s5"]["scrap"] = 0.01
    return Scenario.model_validate({
        "name": "parallel benchmark line",
        "run": {"horizon": horizon, "replications": replications, "seed": 8},
        "products": {"u": {"route": list(stations), "release": "saturated"}},
        "stations": stations,
    })


def timed(sc: Scenario, **options) -> tuple[float, dict]:
    started = time.perf_counter()
    summary = twin.run(sc, **options).summary()
    elapsed = time.perf_counter() - started
    summary.pop("timing")
    return elapsed, summary


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=8)
    p.add_argument("--horizon", default="2000 h", help="per replication (default 2000 h)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--dask", action="store_true", help="also time a Dask LocalCluster")
    args = p.parse_args()

    sc = scenario(args.horizon, args.replications)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.replications} replications of {args.horizon}, {cores} cores available, "
          f"load average {load:.2f} (other work on the machine lowers the speed-up)")
    twin.run(sc, replications=1, horizon="1 h")  # imports and compilation out of the timing

    serial, reference = timed(sc, workers=1)
    print(f"  1 worker : {serial:7.2f} s  ({serial / args.replications:.2f} s per replication)")
    pool, doc = timed(sc, workers=args.workers)
    assert json.dumps(doc) == json.dumps(reference), "workers changed the results"
    print(f"  {args.workers} workers: {pool:7.2f} s  speed-up {serial / pool:.2f}x")
    if args.dask:
        dask, doc = timed(sc, workers=args.workers, dask="local")
        assert json.dumps(doc) == json.dumps(reference), "Dask changed the results"
        print(f"  Dask local ({args.workers}): {dask:7.2f} s  speed-up {serial / dask:.2f}x "
              f"(cluster start-up and shut-down included)")
        from distributed import LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            address = cluster.scheduler_address
            twin.run(sc, replications=args.workers, horizon="1 h", dask=address)  # warm up
            dask, doc = timed(sc, dask=address)
        assert json.dumps(doc) == json.dumps(reference), "Dask changed the results"
        print(f"  Dask running cluster ({args.workers}): {dask:7.2f} s  "
              f"speed-up {serial / dask:.2f}x")
    goal = 1.6
    verdict = "meets" if serial / pool >= goal else "misses"
    print(f"speed-up {serial / pool:.2f}x on {args.workers} workers {verdict} the goal of {goal}x")


if __name__ == "__main__":
    main()
