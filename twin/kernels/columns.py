"""The flow-line kernels' vocabulary: status codes, release kinds, machine states and the
column numbers of the state arrays that `line_kernel` and `event_kernel` share with their
caller (`twin.engine.flowline`), plus the event kernel's process columns and resume points.

All state lives in plain arrays; these names say which column holds what.
"""

from __future__ import annotations

# statuses
DONE, NEED_DRAWS, GROW, TIE = 0, 1, 2, 3
# release kinds
SATURATED, INTERARRIVAL, CONWIP = 0, 1, 2
# machine states (twin.model.STATES order); busy, down and setup are active
BUSY, STARVED, BLOCKED, DOWN = 0, 1, 2, 3

# static station spec, int columns: servers, room (buffer + servers; -1 unlimited),
# stream rows of process times and scrap decisions (-1 none), first machine's number,
# time-dependent failures (1, else 0). The line kernel reads C_ROOM as how far back the
# next unit looks in a station's ring: buffer + 1 departures; for a station with
# time-dependent failures, buffer starts (a place frees when a unit leaves the buffer), or
# ROOM_UP with no buffer (a unit enters only when the machine is free and up)
C_SERVERS, C_ROOM, C_ROWP, C_ROWS, C_M0, C_TIME = range(6)
N_SPEC = 6
ROOM_UP = -2
# station float state: state totals (seconds, columns = machine states) then ...;
# F_PS, F_PE: the event kernel's last closed active period, pending (it may continue), or
# the line kernel's open one (it grows while visits touch; -1, -1: none);
# F_PDROP: 1.0 if that period is covered by another station's older one (the event kernel)
F_QAREA, F_WAIT, F_PROC, F_FREE, F_BTF, F_QLAST, F_OPENED, F_PS, F_PE, F_PDROP = range(6, 16)
# time-dependent failures in the line kernel: the first down interval not yet passed
# (F_TF, F_TR: failure and repair times), the down time counted at the end of the run (of
# the last starved spell); a visit's working copies (F_X...: interval, open active period,
# start, completion, down time while waiting and while busy), committed when it is done
F_TF, F_TR, F_DPEND, F_XF, F_XR, F_XPS, F_XPE, F_XS, F_XC, F_XSD, F_XBD = range(16, 27)
N_SF = 27
# station int state
I_WAITS, I_PROD, I_SCRAP, I_QEND, I_NPER, I_ARR, I_QHEAD, I_BHEAD, I_BN, I_IHEAD, I_IN, \
    I_ACTIVE, I_XPF, I_XPR, I_XNP = range(15)
N_SI = 15  # (I_X...: a visit's working copies of failure and repair stream positions and
# of the number of stored active periods)
# parameters: int and float
P_KIND, P_CONWIP, P_ROWA, P_RECORD, P_STATS = range(5)
P_WARMUP, P_END = range(2)
# global float state
G_A, G_WIPAREA, G_LEAD, G_CURE, G_CURREL, G_NOW, G_WIPLAST, G_SCRSUM = range(8)
N_GF = 8
# global int state
(G_N, G_REL, G_FIN, G_SCR, G_PREREL, G_PREEXIT, G_ENDEXIT, G_CUR, G_ARG, G_NEXIT, G_EID,
 G_HN, G_FHEAD, G_FN, G_BACKLOG, G_RWAIT, G_WIP, G_WIPSTART, G_DONE, G_CHEAD) = range(20)
N_GI = 20  # (G_CHEAD: the event kernel's first CONWIP card not yet turned into a unit)

# --- the event kernel ---------------------------------------------------------------------
# process resume points (the yields of run_machine, Replication._release and _arrivals)
M_INIT, M_START, M_DONE, M_FAILED, M_REPAIRED, M_LOOP = range(6)
R_LOOP, R_UNBLOCKED, A_INIT, A_ARRIVE, W_INIT, W_FIRE = range(6, 12)
# time-dependent failures: a machine's resume points after a repair (processing starts with
# the unit it was woken with; processing resumes with the work left), and its failure
# process's (run_failures: first time to failure, failure, repair)
M_GO, M_RESUME, T_INIT, T_FAIL, T_REPAIR = range(12, 17)
# process int columns: resume point, station, clock state; with time-dependent failures the
# state the machine would be in if up (Machine.base), down (1/0), waiting for its repair,
# processing (interruptible), taken out of the idle line by a failure
Q_RES, Q_ST, Q_STATE, Q_BASE, Q_DOWN, Q_WREP, Q_PROC, Q_OUT = range(8)
N_QI = 8
# process float columns (Q_RESUMED: when processing last resumed)
Q_SINCE, Q_BTF, Q_LEFT, Q_T, Q_REL, Q_ENT, Q_RESUMED = range(7)
N_QF = 7
G_GROW = G_CUR  # the event kernel's "a station needs a wider array" flag
