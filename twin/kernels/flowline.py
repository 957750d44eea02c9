"""Flow-line kernels: one replication of a line of stations, on arrays only.

Two kernels compute the same thing, the SimPy engine's `twin/engine/stations.py` semantics
(blocking after service, FIFO buffers, idle machines handed work longest-idle first, blocked
senders let in in the order they blocked, operation-dependent failures, scrap, saturated,
interarrival or CONWIP release, time-dependent failures: `twin.kernels.failures` in
`line_kernel`, a failure process per machine in `event_kernel`), for a line whose route
visits stations 0, 1, ..., J-1:

* `line_kernel` (`twin.kernels.line`): the max-plus departure-time recursion for lines of
  single machines. Unit n starts at station k at max(entry, machine free) and leaves at
  max(completion, the time unit n - (buffer + 1) of the next station left it). A few
  nanoseconds per station visit.
* `event_kernel` (`twin.kernels.events`, with `queues` and `stations`): an event-driven
  kernel for any number of machines per station. It keeps SimPy's own event order (time,
  then scheduling order; zero-delay events after the timed events of the same instant), so
  that even simultaneous events resolve the same way.

Both are resumable: all state lives in the arrays they are handed, and they return a status
when they need more random draws (`NEED_DRAWS`) or more room (`GROW`); the caller refills
or widens the arrays and calls again. A station visit (an event) is a transaction: a kernel
stops before it, never in the middle. Draws come pre-computed in `dv[row, :]`, read at
`dpos[row]` up to `dfill[row]`, one row per named random stream. The statuses and the
arrays' column numbers are in `twin.kernels.columns`.

Times are clipped to the measured window [w, end) with `min(max(t, w), end)`, so an interval
[a, b] contributes clip(b) - clip(a): no branches for the warm-up or the end of the run.
`reference_line` (`twin.kernels.reference`) is the recursion in plain Python over whole
arrays, the reference both kernels are tested against (as is the SimPy engine itself).

This module gathers them under one name for the engine (`twin.engine.flowline`), the sweep
and the tests: `from twin.kernels import flowline as kf`.
"""

from __future__ import annotations

from twin.kernels.columns import (A_ARRIVE, A_INIT, BLOCKED, BUSY, CONWIP, C_M0, C_ROOM, C_TIME, C_ROWP,
                                  C_ROWS, C_SERVERS, DONE, DOWN, F_BTF, F_DPEND, F_FREE, F_TF, F_TR, F_OPENED, F_PDROP,
                                  F_PE, F_PROC, F_PS, F_QAREA, F_QLAST, F_WAIT, GROW, G_A, G_ARG,
                                  G_BACKLOG, G_CUR, G_CURE, G_CURREL, G_DONE, G_EID, G_ENDEXIT,
                                  G_FHEAD, G_FIN, G_FN, G_GROW, G_HN, G_LEAD, G_N, G_NEXIT, G_NOW,
                                  G_PREEXIT, G_PREREL, G_REL, G_RWAIT, G_SCR, G_SCRSUM, G_WIP,
                                  G_WIPAREA, G_WIPLAST, G_WIPSTART, INTERARRIVAL, I_ACTIVE, I_ARR,
                                  I_BHEAD, I_BN, I_IHEAD, I_IN, I_NPER, I_PROD, I_QEND, I_QHEAD,
                                  I_SCRAP, I_WAITS, M_DONE, M_FAILED, M_INIT, M_LOOP, M_REPAIRED,
                                  M_START, NEED_DRAWS, N_GF, N_GI, N_SF, N_SI, N_SPEC, P_CONWIP,
                                  P_END, ROOM_UP,
                                  P_KIND, P_RECORD, P_ROWA, P_WARMUP, Q_BTF, Q_ENT, Q_LEFT, Q_REL,
                                  Q_RES, Q_SINCE, Q_ST, Q_STATE, Q_T, R_LOOP, R_UNBLOCKED,
                                  SATURATED, STARVED, TIE, W_FIRE, W_INIT, N_QI, N_QF, Q_BASE, T_INIT)
from twin.kernels.events import event_kernel
from twin.kernels.line import line_kernel
from twin.kernels.reference import reference_line

__all__ = ["event_kernel", "line_kernel", "reference_line", "A_ARRIVE", "A_INIT", "BLOCKED",
           "BUSY", "CONWIP", "C_M0", "C_ROOM", "C_ROWP", "C_ROWS", "C_SERVERS", "C_TIME", "DONE", "DOWN",
           "F_BTF", "F_DPEND", "F_FREE", "F_TF", "F_TR", "F_OPENED", "F_PDROP", "F_PE", "F_PS", "F_PROC", "F_QAREA",
           "F_QLAST", "F_WAIT", "GROW", "G_A", "G_ARG", "G_BACKLOG", "G_CUR", "G_CURE", "G_CURREL",
           "G_DONE", "G_EID", "G_ENDEXIT", "G_FHEAD", "G_FIN", "G_FN", "G_GROW", "G_HN", "G_LEAD",
           "G_N", "G_NEXIT", "G_NOW", "G_PREEXIT", "G_PREREL", "G_REL", "G_RWAIT", "G_SCR",
           "G_SCRSUM", "G_WIP", "G_WIPAREA", "G_WIPLAST", "G_WIPSTART", "INTERARRIVAL", "I_ACTIVE",
           "I_ARR", "I_BHEAD", "I_BN", "I_IHEAD", "I_IN", "I_NPER", "I_PROD", "I_QEND", "I_QHEAD",
           "I_SCRAP", "I_WAITS", "M_DONE", "M_FAILED", "M_INIT", "M_LOOP", "M_REPAIRED", "M_START",
           "NEED_DRAWS", "N_GF", "N_GI", "N_SF", "N_SI", "N_SPEC", "ROOM_UP", "P_CONWIP", "P_END", "P_KIND", "P_RECORD",
           "P_ROWA", "P_WARMUP", "Q_BTF", "Q_ENT", "Q_LEFT", "Q_REL", "Q_RES", "Q_SINCE", "Q_ST",
           "Q_STATE", "Q_T", "R_LOOP", "R_UNBLOCKED", "SATURATED", "STARVED", "TIE", "W_FIRE",
           "W_INIT", "N_QI", "N_QF", "Q_BASE", "T_INIT"]
