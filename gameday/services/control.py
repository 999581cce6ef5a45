"""Operator controls: the kill switch, schedule pauses and notes on runs.

Halting only records the kill switch here; stopping runs that are already running is the
execution supervisor's job, which watches the switch.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from gameday.domain.errors import InvalidInput, NotFound
from gameday.domain.ports import ControlState, RunRepository
from gameday.domain.runs import KillSwitch, Note

MAX_NOTE_CHARS = 4000
DEFAULT_HALT_REASON = "no reason given"


@dataclass(frozen=True)
class Change:
    """What a control command did: whether anything changed, and the state now."""

    changed: bool
    kill_switch: KillSwitch


def halt(control: ControlState, *, actor: str, reason: str | None) -> Change:
    """Engage the kill switch; halting again keeps it engaged and replaces the reason only
    when a new one is given."""
    was_engaged, previous = control.kill_switch()
    given = (reason or "").strip()
    if not was_engaged or given:
        control.engage_kill_switch(actor=actor, reason=given or previous or DEFAULT_HALT_REASON)
    return Change(changed=not was_engaged, kill_switch=control.kill_switch_detail())


def resume(control: ControlState, *, actor: str) -> Change:
    """Release the kill switch; a no-op (changed=False) when it was not engaged."""
    was_engaged, _ = control.kill_switch()
    if was_engaged:
        control.release_kill_switch(actor=actor)
    return Change(changed=was_engaged, kill_switch=control.kill_switch_detail())


def _check_schedule(schedule: str, known: Collection[str] | None) -> None:
    if not schedule.strip():
        raise InvalidInput("a schedule name is required")
    if known is not None and schedule not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise NotFound(f"no schedule named {schedule!r} (known: {listed})")


def pause(
    control: ControlState, schedule: str, *, actor: str, known: Collection[str] | None
) -> bool:
    """Pause a schedule; `known` (the catalog's schedule names, when loadable) refuses
    unknown names. True if it was not paused before."""
    _check_schedule(schedule, known)
    was = control.is_paused(schedule)
    control.pause(schedule, actor=actor)
    return not was


def unpause(
    control: ControlState, schedule: str, *, actor: str, known: Collection[str] | None
) -> bool:
    """Let a paused schedule run again. True if it was paused.

    A paused schedule whose spec was since removed can still be unpaused.
    """
    was = control.is_paused(schedule)
    if not was:
        _check_schedule(schedule, known)
        return False
    control.unpause(schedule, actor=actor)
    return True


def add_note(runs: RunRepository, run_id: int, *, author: str, text: str) -> Note:
    """Attach a note to a run; the text must be non-empty and at most 4000 characters."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("a note needs some text")
    if len(cleaned) > MAX_NOTE_CHARS:
        raise InvalidInput(f"a note is at most {MAX_NOTE_CHARS} characters, not {len(cleaned)}")
    return runs.add_note(run_id, author=author, text=cleaned)
