"""Where replications run: in this process, in local worker processes, or on a Dask cluster.

Every backend takes the same picklable task, `(model, replication, seed, warmup)`, and
yields `Outcome`s as they finish, in any order. A replication's result depends only on its
task, so the backend never changes the numbers.
"""

from __future__ import annotations

import logging
import os
import signal
import traceback
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

from twin.engine.replication import ReplicationResult
from twin.engine.stations import Deadlock
from twin.errors import RunError
from twin.model import Model


@dataclass
class Outcome:
    """One replication's result, or the error that stopped it (recorded, not raised)."""

    replication: int
    result: ReplicationResult | None
    error: str | None = None
    deadlock: dict | None = None


def simulate_task(model: Model, replication: int, seed: int, warmup: float) -> Outcome:
    """Run one replication with the model's engine; failures come back as data."""
    try:
        if model.engine == "flowline":
            from twin.engine.flowline import simulate
        else:
            from twin.engine.replication import simulate
        return Outcome(replication, simulate(model, replication, seed, warmup))
    except Deadlock as e:
        return Outcome(replication, None, str(e), e.record())
    except RunError as e:  # a diagnosed stop (runaway run): its message says it all
        return Outcome(replication, None, str(e))
    except Exception as e:  # recorded with the replication; the others go on
        last = traceback.extract_tb(e.__traceback__)[-1]
        where = f"{os.path.basename(last.filename)}:{last.lineno}"
        return Outcome(replication, None, f"{type(e).__name__}: {e} (at {where})")


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def run_serial(model: Model, todo: Iterable[int], seed: int, warmup: float) -> Iterator[Outcome]:
    for r in todo:
        yield simulate_task(model, r, seed, warmup)


def run_processes(model: Model, todo: Iterable[int], seed: int, warmup: float,
                  workers: int) -> Iterator[Outcome]:
    """Local worker processes; at most `workers` replications in flight at a time."""
    todo = list(todo)
    pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)))
    pending = {pool.submit(simulate_task, model, r, seed, warmup): r for r in todo}
    finished = False
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                r = pending.pop(future)
                try:
                    yield future.result()
                except Exception as e:  # the worker process itself died
                    yield Outcome(r, None, f"worker failed: {type(e).__name__}: {e}")
        finished = True
    finally:
        if not finished:
            # interrupted (Ctrl-C, or the caller stopped): stop the running replications
            # now rather than at exit; saved ones are kept, the rest rerun with --resume.
            # (Python 3.11 has no public call for this; _processes is the pool's own map.)
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=finished, cancel_futures=True)


def run_dask(model: Model, todo: Iterable[int], seed: int, warmup: float,
             address: str, workers: int) -> Iterator[Outcome]:
    """A Dask distributed cluster at `address`, or a LocalCluster for 'local'."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if address == "local":
        # the workers ignore Ctrl-C (a terminal sends it to the whole process group): this
        # process stops them, so they print no tracebacks of their own. A Python child
        # started with SIGINT ignored keeps ignoring it.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.CRITICAL)
        finally:
            signal.signal(signal.SIGINT, previous)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout=15)
        except (OSError, TimeoutError, ValueError) as e:
            raise RunError(f"--dask {address}: cannot reach the Dask scheduler ({e}); "
                           f"check the address, or use --dask local") from None
    try:
        futures = [client.submit(simulate_task, model, r, seed, warmup, pure=False)
                   for r in todo]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
