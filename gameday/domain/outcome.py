"""How a Chaos Toolkit journal maps onto a run's final state.

Rules (the state and the journal always agree):

- `deviated: true` -> deviated (whatever the status; `chaos run` reports it as deviated too)
- status `completed` -> completed
- status `failed` or `aborted` (chaoslib's word for an unexpected error) -> failed
- status `interrupted` (a halt, a hard stop or a control that interrupted the run) -> aborted,
  except when nobody halted it: its supervisor died, so the worker interrupted it on its own
  and played the rollbacks -> interrupted (as recovery of a dead worker would end it)
- anything else (no status: the run never got going) -> failed
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gameday.domain.runs import RunState

_BY_STATUS: Mapping[str, RunState] = {
    "completed": RunState.COMPLETED,
    "deviated": RunState.DEVIATED,
    "failed": RunState.FAILED,
    "aborted": RunState.FAILED,
    "interrupted": RunState.ABORTED,
}


def chaos_status(journal: Mapping[str, Any]) -> str:
    """The status `chaos run` reports for a journal: `deviated` when it deviated, else its
    status (`completed`, `failed`, `aborted`, `interrupted`), `unknown` when it has none."""
    if journal.get("deviated"):
        return "deviated"
    status = journal.get("status")
    return status if isinstance(status, str) and status else "unknown"


def state_for(
    journal: Mapping[str, Any], *, supervisor_lost: bool = False, halted: bool = False
) -> RunState:
    """The final run state a finished journal stands for (see the module rules):
    `supervisor_lost` the worker's supervisor died during the run, `halted` someone asked
    for a halt (or the time limit did) before that."""
    state = _BY_STATUS.get(chaos_status(journal), RunState.FAILED)
    if state is RunState.ABORTED and supervisor_lost and not halted:
        return RunState.INTERRUPTED
    return state


EXIT_CODES: Mapping[RunState, int] = {
    RunState.COMPLETED: 0,
    RunState.DEVIATED: 1,
    RunState.FAILED: 1,
    RunState.ABORTED: 2,
    RunState.INTERRUPTED: 2,
    RunState.SKIPPED: 3,
}


def exit_code_for(state: RunState) -> int:
    """Exit code of `gameday run`: 0 completed, 1 deviated/failed, 2 aborted/interrupted,
    3 not started (skipped: refused by a gate or the kill switch at the last moment)."""
    return EXIT_CODES.get(state, 2)
