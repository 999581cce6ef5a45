"""The supervisor <-> worker protocol in one place: how a worker is started, what its
flags mean, what its exit codes say and which signals it understands.

- `python -m gameday.wiring.worker RUN_ID [--lifeline]` runs one run that is already
  `running`; `--standby` starts a worker before its run exists (imports done, database
  open) and reads RUN_ID from stdin; `RUN_ID --rollbacks-only` plays only the rollbacks
  (crash recovery of a dead worker).
- Lifeline: stdin is a pipe only the supervisor writes to and keeps open; end of input
  means the supervisor is gone (or let the worker go): the worker interrupts its run with
  rollbacks and ends it `interrupted`.
- Signals: SIGUSR1 halts (chaoslib interrupts the activity, the rollbacks play); SIGTERM
  is the first step of a hard stop; SIGWINCH resolves a drill (its method ends, the
  steady state after it is judged and the rollbacks play; see `resolving`). SIGWINCH
  because chaoslib claims SIGUSR1, SIGUSR2 and SIGTERM, and its default action is to do
  nothing: one that reaches a worker not listening for it (yet) is harmless.
"""

from __future__ import annotations

import signal
from pathlib import Path

WORKER_MODULE = "gameday.wiring.worker"
STANDBY = "--standby"
LIFELINE = "--lifeline"
ROLLBACKS_ONLY = "--rollbacks-only"

HALT_SIGNAL = signal.SIGUSR1
STOP_SIGNAL = signal.SIGTERM
RESOLVE_SIGNAL = signal.SIGWINCH

# Exit codes: 0 completed, 1 deviated or failed, 2 aborted, interrupted or not runnable,
# 3 an unexpected error (the supervisor records the run's end).
NOT_RUNNABLE = 2
CRASHED = 3

USAGE = f"usage: python -m {WORKER_MODULE} RUN_ID [{LIFELINE}|{ROLLBACKS_ONLY}] | {STANDBY}"


def process_started(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot (/proc/PID/stat, field 22);
    None without procfs or once it is gone. With the pid it names one process for good:
    a pid reused by another process has another start time."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None


def is_zombie(pid: int) -> bool:
    """True when `pid` has exited but is not reaped yet (or is gone)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")
