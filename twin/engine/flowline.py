"""The flow-line engine: Model -> arrays -> numba kernel -> ReplicationResult.

For lines (one product, a route visiting each station once) it computes what the SimPy
engine computes, from the same named random streams drawn in the same blocks, so that both
give the same summary to floating-point precision; only much faster. Lines of single
machines run on the max-plus recursion (`line_kernel`), time-dependent failures included;
lines with parallel machines (time-dependent failures included: a failure process per
machine, as in SimPy), and the rare single-machine run whose recursion meets a tie only
SimPy's event order decides (an event exactly at the end of the warm-up; with
time-dependent failures, a failure at the instant of a hand-over), run on the event
kernel, which keeps SimPy's order.

    problem = unsupported(model)      # None, or why the model is out of reach (and where)
    result = simulate(model, replication, seed, warmup)

Call `prepare()` once before timing anything: it compiles (or loads) the kernels.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from twin.engine.replication import ReplicationResult
from twin.kernels import flowline as kf
from twin.kernels.failures import FULL
from twin.kernels.tracker import Tracker
from twin.model import STATES, Model
from twin.streams import BLOCK, stream
from twin.engine.records import Row, bottleneck_rows, product_rows, station_rows, system_rows
from twin.units import HOUR

FEED_BLOCKS = 8  # blocks of draws per stream per refill when streaming
PERIODS = 4096  # room for closed active periods per station: when it is full, the kernels
# stop and the periods go to the bottleneck tracker (memory stays O(stations))


def unsupported(model: Model) -> str | None:
    """None if the flowline engine can simulate `model`, else what is outside its reach."""
    hint = "; use engine: simpy"
    if len(model.products) != 1:
        names = ", ".join(p.name for p in model.products)
        return f"products: {len(model.products)} products ({names}); the flowline engine " \
               f"simulates one product{hint}"
    if model.initial_wip:
        return f"initial_wip: the flowline engine starts from an empty line{hint}"
    product = model.products[0]
    carried = [i for i, step in enumerate(product.steps) if step.fleet >= 0]
    if carried:
        at = "transport" if product.transport >= 0 else f"route[{carried[0]}].transport"
        return f"products.{product.name}.{at}: vehicle fleets are outside the flowline " \
               f"engine{hint}"
    if product.arrival_calendar is not None:
        return f"products.{product.name}.release.calendar: arrivals by calendar are outside " \
               f"the flowline engine{hint}"
    if model.lifts:
        return f"logistics.lifts: lifts are outside the flowline engine{hint}"
    if model.conveyors:
        return f"logistics.conveyors: conveyors are outside the flowline engine{hint}"
    if model.fleets:
        return f"logistics.fleets: vehicle fleets are outside the flowline engine{hint}"
    seen: set[int] = set()
    for i, step in enumerate(product.steps):
        where = f"products.{product.name}.route[{i}]"
        name = model.stations[step.station].name
        if step.rework_p > 0:
            return f"{where}.rework: rework loops are outside the flowline engine{hint}"
        if step.station in seen:
            return f"{where}: station {name} is visited a second time; the flowline engine " \
                   f"needs each station once on the route{hint}"
        seen.add(step.station)
    for st in model.stations:
        if st.index not in seen:
            return f"stations.{st.name}: not on the route of {product.name}; the flowline " \
                   f"engine simulates the stations of one line{hint}"
        if st.warehouse is not None:
            return f"stations.{st.name}.warehouse: warehouses are outside the flowline " \
                   f"engine{hint}"
        if st.batch is not None:
            return f"stations.{st.name}.batch: batch stations are outside the flowline " \
                   f"engine{hint}"
        if st.calendar is not None:
            return f"stations.{st.name}.calendar: shift calendars are outside the flowline " \
                   f"engine{hint}"
    return None


class Feed:
    """Pre-drawn values of named random streams, one row each, for the kernels.

    Each row holds values of one stream, drawn `BLOCK` at a time with the same calls as the
    SimPy engine, so the k-th value is the same in both engines. Streaming (the default)
    keeps `FEED_BLOCKS` blocks per row and refills a row when the kernel has used it up:
    memory stays O(streams), not O(units). With `keep=True` every value drawn is kept, so
    the same feed can be rewound (`rewind`) and reused by many runs (sweeps: common random
    numbers at no extra cost).
    """

    def __init__(self, seed: int, replication: int, keep: bool = False):
        self.seed, self.replication, self.keep = seed, replication, keep
        self.rows: dict[tuple[str, str], int] = {}
        self.sources: list[tuple[Callable, np.random.Generator]] = []
        self.dv = np.empty((0, FEED_BLOCKS * BLOCK))
        self.dpos = np.zeros(0, dtype=np.int64)
        self.dfill = np.zeros(0, dtype=np.int64)

    def row(self, purpose: str, entity: str, sample: Callable | None) -> int:
        """The row of stream (purpose, entity); `sample(rng, n)`, or None for uniforms."""
        key = (purpose, entity)
        if key in self.rows:
            return self.rows[key]
        rng = stream(self.seed, self.replication, purpose, entity)
        self.sources.append((sample or _uniforms, rng))
        r = self.rows[key] = len(self.sources) - 1
        self.dv = np.vstack([self.dv, np.empty((1, self.dv.shape[1]))])
        self.dpos = np.append(self.dpos, 0)
        self.dfill = np.append(self.dfill, 0)
        self.refill(r)
        return r

    def refill(self, r: int) -> None:
        """More values for row r (the kernel has read all it had)."""
        sample, rng = self.sources[r]
        if self.keep:
            start = self.dfill[r]
            if start + FEED_BLOCKS * BLOCK > self.dv.shape[1]:
                grown = np.empty((self.dv.shape[0], 2 * self.dv.shape[1]))
                grown[:, :self.dv.shape[1]] = self.dv
                self.dv = grown
        else:
            tail = self.dfill[r] - self.dpos[r]
            self.dv[r, :tail] = self.dv[r, self.dpos[r]:self.dfill[r]]
            self.dpos[r], start = 0, tail
            if start + FEED_BLOCKS * BLOCK > self.dv.shape[1]:
                # a visit needs more than the row holds (failures while a unit waits long)
                grown = np.empty((self.dv.shape[0], 2 * self.dv.shape[1]))
                grown[:, :self.dv.shape[1]] = self.dv
                self.dv = grown
        for b in range(FEED_BLOCKS):
            self.dv[r, start + b * BLOCK:start + (b + 1) * BLOCK] = sample(rng, BLOCK)
        self.dfill[r] = start + FEED_BLOCKS * BLOCK

    def rewind(self) -> None:
        """Read every stream from its first value again (keep=True only)."""
        assert self.keep, "only a feed that keeps its values can be rewound"
        self.dpos[:] = 0


def _uniforms(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.random(n)


@dataclass
class Line:
    """The static arrays of a line, stations in route order (`order[k]` = model index)."""

    order: list[int]
    spec: np.ndarray  # int [J, 5]: servers, room, process row, scrap row, first machine
    cap: np.ndarray  # float [J]: buffer places (inf when unlimited)
    scrap: np.ndarray  # float [J]
    mrow: np.ndarray  # int [M, 2]: failure and repair rows per machine (-1 none)
    par_i: np.ndarray
    par_f: np.ndarray
    init: list[int]  # process numbers in SimPy's creation order

    @property
    def single(self) -> bool:
        return bool((self.spec[:, kf.C_SERVERS] == 1).all())

    @property
    def timed(self) -> bool:
        """Some station has time-dependent failures."""
        return bool(self.spec[:, kf.C_TIME].any())


def build_line(model: Model, feed: Feed, warmup: float, record: bool = True,
               stats: bool = True) -> Line:
    """Arrays of `model` for the kernels; registers the streams it reads in `feed`.

    `record`: note active periods (the bottleneck); `stats`: keep each station's figures
    (without, the recursion keeps only the line's: units, lead time, WIP; sweeps)."""
    product = model.products[0]
    order = [step.station for step in product.steps]
    n_st = len(order)
    spec = np.full((n_st, kf.N_SPEC), -1, dtype=np.int64)
    cap = np.zeros(n_st)
    scrap = np.zeros(n_st)
    mrows: list[tuple[int, int]] = []
    first: dict[int, int] = {}
    for k, j in enumerate(order):
        st = model.stations[j]
        first[j] = len(mrows)
        spec[k, kf.C_SERVERS] = st.servers
        spec[k, kf.C_ROOM] = -1 if math.isinf(st.capacity) else int(st.capacity) + st.servers
        step = product.steps[k]  # the product's own process time here, if it has one
        spec[k, kf.C_ROWP] = feed.row("process", step.stream or st.name,
                                      (step.process_time or st.process_time).sample)
        spec[k, kf.C_M0] = len(mrows)
        timed = st.failures is not None and not st.failures.operation_dependent
        spec[k, kf.C_TIME] = int(timed)
        if timed and not math.isinf(st.capacity):
            # a place frees when a unit leaves the buffer (the ring holds starts), or with
            # no buffer when the machine is free and up
            spec[k, kf.C_ROOM] = int(st.capacity) if st.capacity > 0 else kf.ROOM_UP
        cap[k] = st.capacity
        scrap[k] = st.scrap
        if st.scrap > 0:
            spec[k, kf.C_ROWS] = feed.row("scrap", st.name, None)
        for i in range(st.servers):
            f = st.failures
            if f is None:
                mrows.append((-1, -1))
            else:
                name = f"{st.name}/{i}"
                mrows.append((feed.row("failure", name, f.mtbf.sample),
                              feed.row("repair", name, f.mttr.sample)))
    kind = {"saturated": kf.SATURATED, "interarrival": kf.INTERARRIVAL,
            "conwip": kf.CONWIP}[product.release]
    if kind == kf.SATURATED:
        spec[0, kf.C_ROOM] = -1  # nothing ever waits to enter the first station
    row_a = feed.row("arrivals", product.name, product.interarrival.sample) \
        if kind == kf.INTERARRIVAL else -1
    par_i = np.array([kind, product.conwip, row_a, int(record), int(stats)], dtype=np.int64)
    par_f = np.array([warmup, warmup + model.horizon])
    n_m = len(mrows)
    init = []  # SimPy's order: each machine's process, then its failure process (if timed)
    for j, st in enumerate(model.stations):
        timed = st.failures is not None and not st.failures.operation_dependent
        for i in range(st.servers):
            init.append(first[j] + i)
            if timed:
                init.append(n_m + 3 + first[j] + i)
    if kind != kf.SATURATED:
        init.append(n_m)
    if kind == kf.INTERARRIVAL:
        init.append(n_m + 1)
    if warmup > 0:
        init.append(n_m + 2)
    mrow = np.array(mrows, dtype=np.int64).reshape(n_m, 2)
    return Line(order, spec, cap, scrap, mrow, par_i, par_f, init)


class State:
    """Everything a kernel changes, as arrays; `run` drives a kernel to the end."""

    def __init__(self, line: Line, events: bool):
        n_st, n_m = len(line.order), line.mrow.shape[0]
        self.line, self.events = line, events
        # stations with time-dependent failures, or None: the line kernel without their code
        self.timed = line.spec[:, kf.C_TIME].copy() if line.timed else None
        self.sf = np.zeros((n_st, kf.N_SF))
        self.si = np.zeros((n_st, kf.N_SI), dtype=np.int64)
        self.gf = np.zeros(kf.N_GF)
        self.gi = np.zeros(kf.N_GI, dtype=np.int64)
        self.sf[:, kf.F_PS] = self.sf[:, kf.F_PE] = -1.0  # no active period pending
        record = line.par_i[kf.P_RECORD]
        self.pst = np.zeros((n_st, PERIODS if record else 1))
        self.pen = np.zeros_like(self.pst)
        w, end = line.par_f[kf.P_WARMUP], line.par_f[kf.P_END]
        self.tracker = Tracker(n_st, w, end) if record else None
        if events:
            n_p = 2 * n_m + 3  # machines, release, arrivals, warm-up, failure processes
            # (each waits on one event at most: the heap and the FIFO hold n_p)
            self.pi = np.zeros((n_p, kf.N_QI), dtype=np.int64)
            self.pf = np.zeros((n_p, kf.N_QF))
            for k in range(n_st):
                m0 = line.spec[k, kf.C_M0]
                self.pi[m0:m0 + line.spec[k, kf.C_SERVERS], kf.Q_ST] = k
            self.pi[:n_m, kf.Q_STATE] = kf.STARVED
            self.pi[:n_m, kf.Q_BASE] = kf.STARVED
            self.pi[:n_m, kf.Q_RES] = kf.M_INIT
            self.pi[n_m:n_m + 3, kf.Q_RES] = (kf.R_LOOP, kf.A_INIT, kf.W_INIT)
            self.pi[n_m + 3:, kf.Q_RES] = kf.T_INIT
            finite = line.cap[np.isfinite(line.cap)]
            self.qv = np.zeros((n_st, 2, _pow2(min(int(finite.max(initial=1)), 1024))))
            self.dq = np.zeros((n_st, 2, int(line.spec[:, kf.C_SERVERS].max()) + 1),
                               dtype=np.int64)
            self.ht = np.zeros(n_p)
            self.he = np.zeros(n_p, dtype=np.int64)
            self.hp = np.zeros(n_p, dtype=np.int64)
            self.fifo = np.zeros(n_p, dtype=np.int64)
            self.fifo[:len(line.init)] = line.init
            self.gi[kf.G_FN] = len(line.init)
            self.gi[kf.G_GROW] = -1
            # CONWIP cards freed, not yet turned into units (their release times, a ring)
            self.cards = np.zeros(max(int(line.par_i[kf.P_CONWIP]), 1))
            if line.par_i[kf.P_KIND] == kf.CONWIP:  # every card released at time 0
                n = line.par_i[kf.P_CONWIP]
                self.gi[kf.G_BACKLOG] = self.gi[kf.G_REL] = self.gi[kf.G_WIP] = n
        else:
            rooms = line.spec[:, kf.C_ROOM]
            self.ring = np.zeros((n_st, _pow2(min(int(rooms.max(initial=1)), 1024))))
            self.exits = np.zeros(max(int(line.par_i[kf.P_CONWIP]), 1))
            self.exit_id = np.zeros_like(self.exits, dtype=np.int64)
            self.gi[kf.G_CUR] = -1

    def run(self, feed: Feed) -> int:
        """Drive the kernel until it is done; returns TIE if the recursion hit one."""
        ln = self.line
        while True:
            if self.events:
                status = kf.event_kernel(
                    ln.spec, ln.cap, ln.scrap, ln.mrow, ln.par_i, ln.par_f, feed.dv, feed.dpos,
                    feed.dfill, self.sf, self.si, self.gf, self.gi, self.pi, self.pf, self.qv,
                    self.dq, self.ht, self.he, self.hp, self.fifo, self.pst, self.pen,
                    self.cards)
            else:
                status = kf.line_kernel(
                    ln.spec, ln.scrap, ln.mrow, ln.par_i, ln.par_f, feed.dv, feed.dpos,
                    feed.dfill, self.sf, self.si, self.gf, self.gi, self.ring, self.exits,
                    self.exit_id, self.pst, self.pen, self.timed)
            if status == kf.TIE:
                return status
            if status == kf.DONE:
                if self.tracker is not None:
                    self.flush(final=True)
                return status
            if status == kf.NEED_DRAWS:
                feed.refill(int(self.gi[kf.G_ARG]))
            else:
                self._grow()

    def flush(self, final: bool = False) -> None:
        """Hand the stations' closed active periods to the tracker and let it decide as far
        as they allow (`final`: to the end of the run)."""
        sf, si, tracker = self.sf, self.si, self.tracker
        ps, pe = sf[:, kf.F_PS], sf[:, kf.F_PE]
        pending = pe > ps
        # the tracker numbers stations as the model does (ties go to the lower number)
        order = np.asarray(self.line.order)
        ops, ope = np.empty_like(ps), np.empty_like(pe)
        ops[order], ope[order] = ps, pe
        for k in range(si.shape[0]):
            if self.events:  # settled periods, already pruned the SimPy engine's way
                tracker.add(order[k], self.pst[k], self.pen[k], int(si[k, kf.I_NPER]))
            else:  # dropped when inside another station's open period
                tracker.add(order[k], self.pst[k], self.pen[k], int(si[k, kf.I_NPER]), ops, ope)
            si[k, kf.I_NPER] = 0
        if final:
            until = self.line.par_f[kf.P_END]
        elif self.events:  # no period can begin before a pending or open one, or now
            active = si[:, kf.I_ACTIVE] >= self.line.spec[:, kf.C_SERVERS]
            until = min(self.gf[kf.G_NOW], ps[pending].min(initial=np.inf),
                        sf[active, kf.F_OPENED].min(initial=np.inf))
        else:  # nor, in the recursion, before a station's open period or its last departure
            until = np.where(pending, ps, sf[:, kf.F_FREE]).min()
        tracker.resolve(float(until), final)

    def _grow(self) -> None:
        """Make room: hand full active period buffers to the tracker (or widen them, when
        one visit's periods fill one: many failures while a unit waits); widen departure
        rings or queues."""
        if self.gi[kf.G_ARG] == FULL and self.si[:, kf.I_NPER].max() == 0:
            self.pst = np.concatenate([self.pst, np.zeros_like(self.pst)], axis=1)
            self.pen = np.concatenate([self.pen, np.zeros_like(self.pen)], axis=1)
        elif self.tracker is not None and \
                2 * (self.si[:, kf.I_NPER].max() + 2) >= self.pst.shape[1]:
            self.flush()
        if not self.events:
            old = self.ring
            width = old.shape[1]
            rooms = self.line.spec[:, kf.C_ROOM]
            if ((rooms > width) & (self.si[:, kf.I_ARR] >= width)).any():
                new = np.zeros((old.shape[0], 2 * width))
                for j in range(old.shape[0]):
                    r = np.arange(max(0, self.si[j, kf.I_ARR] - width), self.si[j, kf.I_ARR])
                    new[j, r & (2 * width - 1)] = old[j, r & (width - 1)]
                self.ring = new
        elif (self.si[:, kf.I_QEND] == self.qv.shape[2]).any():
            old = self.qv
            width = old.shape[2]
            new = np.zeros((old.shape[0], 2, 2 * width))
            for j in range(old.shape[0]):
                idx = (self.si[j, kf.I_QHEAD] + np.arange(self.si[j, kf.I_QEND])) % width
                new[j, :, :len(idx)] = old[j][:, idx]
                self.si[j, kf.I_QHEAD] = 0
            self.qv = new

    def prepare_failures(self, feed: Feed) -> None:
        """The recursion's machines draw their first busy time to failure when they start;
        with time-dependent failures, their first down interval at time 0 (as SimPy:
        failure at 0 + ttf, repair at that + ttr)."""
        for k in range(len(self.line.order)):
            r = self.line.mrow[k, 0]
            if r >= 0:
                first = feed.dv[r, feed.dpos[r]]
                feed.dpos[r] += 1
                if self.line.spec[k, kf.C_TIME]:
                    rr = self.line.mrow[k, 1]
                    fail = 0.0 + first
                    self.sf[k, kf.F_TF] = fail
                    self.sf[k, kf.F_TR] = fail + feed.dv[rr, feed.dpos[rr]]
                    feed.dpos[rr] += 1
                else:
                    self.sf[k, kf.F_BTF] = first


def _pow2(n: int) -> int:
    return 1 << max(int(n) - 1, 1).bit_length()


def run_line(model: Model, feed: Feed, warmup: float, record: bool = True,
             events: bool | None = None, stats: bool = True) -> tuple[Line, State]:
    """Simulate one replication on a kernel; `events` forces (or forbids) the event kernel.

    Where the recursion meets a tie only SimPy's event order decides (`TIE`: an event
    exactly at the end of the warm-up, or a failure at the instant of a hand-over), the
    replication is run again, from the same draws, on the event kernel, which keeps
    SimPy's order."""
    line = build_line(model, feed, warmup, record, stats)
    use_events = not line.single if events is None else events
    state = State(line, use_events)
    if not use_events:
        state.prepare_failures(feed)
    if state.run(feed) == kf.TIE:  # only SimPy's event order decides: the event kernel
        if feed.keep:
            feed.rewind()
        else:
            feed = Feed(feed.seed, feed.replication)
        line = build_line(model, feed, warmup, record, stats)
        state = State(line, True)
        state.run(feed)
    return line, state


_prepared = False


def prepare() -> None:
    """Compile (or load from numba's cache) every kernel, outside any timed section."""
    global _prepared
    if _prepared:
        return
    from twin.model import build
    from twin.scenario.schema import Scenario

    doc = {
        "name": "warm-up of the kernels", "run": {"horizon": 50, "warmup": 5},
        "products": {"u": {"route": ["a", "b"], "release": {"conwip": 2}}},
        "stations": {"a": {"process_time": {"exponential": 1}, "scrap": 0.1, "buffer": 1,
                           "failures": {"mtbf": {"exponential": 5}, "mttr": 1,
                                        "mode": "operation"}},
                     "b": {"process_time": 1.5, "buffer": 0}},
    }
    model = build(Scenario.model_validate(doc))
    for events in (False, True):
        run_line(model, Feed(0, 0), 5.0, events=events)
    # and the line kernel's time-dependent failures
    doc["stations"]["b"]["failures"] = {"mtbf": {"exponential": 7}, "mttr": 0.5}
    run_line(build(Scenario.model_validate(doc)), Feed(0, 0), 5.0)
    _prepared = True


def simulate(model: Model, replication: int, seed: int, warmup: float) -> ReplicationResult:
    """One replication of a line model on the flowline engine (see `unsupported`)."""
    prepare()
    started = time.perf_counter()
    line, state = run_line(model, Feed(seed, replication), warmup)
    elapsed = time.perf_counter() - started
    return collect(model, line, state, replication, warmup, elapsed)


def _planned_sum(step, spec, produced: int) -> float | None:
    """The SimPy engine's `Station.planned_sum` (there summed unit by unit; equal to
    rounding): one product, so every unit has its step's mean process time."""
    if not spec.varied:
        return None
    return (step.process_time or spec.process_time).mean * produced


def collect(model: Model, line: Line, state: State, replication: int, warmup: float,
            elapsed: float) -> ReplicationResult:
    """The same records as the SimPy engine's `Replication.collect`, in the same order."""
    sf, si, gf, gi = state.sf, state.si, state.gf, state.gi
    end = warmup + model.horizon
    span = end - warmup
    period_h = model.horizon / HOUR
    p = model.products[0]
    fin, scr = int(gi[kf.G_FIN]), int(gi[kf.G_SCR])
    # no rework on a flow line: every finished unit passed first time
    rows: list[Row] = product_rows(p, period_h, int(gi[kf.G_REL]), fin, scr, fin,
                                   gf[kf.G_LEAD], gf[kf.G_SCRSUM])
    where = {j: k for k, j in enumerate(line.order)}
    for spec in model.stations:
        k = where[spec.index]
        rows += station_rows(
            spec, sf[k, :len(STATES)], sf[k, kf.F_QAREA] / span if span > 0 else 0.0,
            sf[k, kf.F_WAIT], int(si[k, kf.I_WAITS]), int(si[k, kf.I_PROD]),
            int(si[k, kf.I_SCRAP]), 0, sf[k, kf.F_PROC], int(si[k, kf.I_QEND]),
            planned_sum=_planned_sum(p.steps[k], spec, int(si[k, kf.I_PROD])))
    rows += system_rows(gf[kf.G_WIPAREA] / span if span > 0 else 0.0, int(gi[kf.G_WIPSTART]),
                        int(gi[kf.G_WIP]), period_h, warmup)
    names = [st.name for st in model.stations]
    tracker = state.tracker  # Roser's method, decided online in the kernels' batches
    rows += bottleneck_rows([("station", n) for n in names],
                            [float(tracker.sole[j]) for j in range(len(names))],
                            [float(tracker.shifting[j]) for j in range(len(names))])
    return ReplicationResult(replication, rows, {}, simulate_s=elapsed)
