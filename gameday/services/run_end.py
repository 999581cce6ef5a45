"""How a run ends when its worker could not end it: the move to its final state, with the
messages telling its channel, and the end of a run whose worker exited without one."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gameday.domain import execution as ex
from gameday.domain.errors import GamedayError, IllegalTransition, NotFound
from gameday.domain.ports import RunRepository
from gameday.domain.runs import OutgoingMessage, Run, RunState

# The messages telling a run's channel how it ended: (run, outcome, reason) -> messages.
EndMessages = Callable[[Run, str, str], Sequence[OutgoingMessage]]


def end_run(
    runs: RunRepository,
    run_id: int,
    to: RunState,
    *,
    actor: str,
    reason: str,
    payload: Mapping[str, Any] | None = None,
    end_messages: EndMessages | None = None,
) -> Run:
    """Move a running run to its final state `to`; return the run as it then stands.

    Rules: the run's channel is told how it ended, with `end_messages` queued in the same
    transaction as the move. Another process (the worker finishing late, a second
    supervisor, recovery) may have ended the run first: then its state stands and this one
    is dropped, messages included.
    """
    messages: Sequence[OutgoingMessage] = ()
    if end_messages is not None:
        try:
            messages = end_messages(runs.get(run_id), to.value, reason)
        except GamedayError:
            messages = ()  # the run's end is recorded even when its channel is unknown
    try:
        return runs.transition(
            run_id, to, actor=actor, reason=reason, payload=payload, messages=messages
        )
    except (IllegalTransition, NotFound):
        return runs.get(run_id)


def settle_dead_worker(
    runs: RunRepository, run_id: int, *, actor: str, end_messages: EndMessages | None = None
) -> Run:
    """Record the end of a run whose worker exited without moving it to a final state."""
    run = runs.get(run_id)
    if run.state is not RunState.RUNNING:
        return run
    events = runs.events(run_id)
    stopped = any(e.type in (ex.HALT_REQUESTED, ex.TIMED_OUT) for e in events)
    to = RunState.ABORTED if stopped else RunState.FAILED
    reason = (
        "halted; the worker stopped before it could record the end of the run"
        if stopped
        else "the worker exited without recording the end of the run"
    )
    return end_run(runs, run_id, to, actor=actor, reason=reason, end_messages=end_messages)
