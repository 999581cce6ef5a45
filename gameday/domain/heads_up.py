"""Whether people had the whole heads-up of a planned kill to veto it: when it was
announced and when its message left the outbox.

Rules:
- the heads-up is the run's outbox message of kind `announcement` (the scheduler's) or
  `heads_up` (`gameday monkey --once`); the first delivery in any channel counts;
- an undelivered heads-up (still queued, e.g. during a Slack outage) means nobody could
  veto; so does one delivered less than `heads_up` less HEADS_UP_SLACK before the kill.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from gameday.domain.runs import MessageKind, OutboxItem, RunEvent, RunState

# How long a planned kill may still wait for the rest of its heads-up (the announcement job
# fired a little late), and how much of it a late delivery may eat. Longer would mean
# waiting while a veto is no longer accepted, or killing with too little time to veto.
HEADS_UP_SLACK = timedelta(seconds=5)
HEADS_UP_KINDS = frozenset({MessageKind.ANNOUNCEMENT, MessageKind.HEADS_UP})


def announced_at(events: Sequence[RunEvent]) -> datetime | None:
    """When the run was first announced (its move to `announced`), or None."""
    return next(
        (
            e.at
            for e in events
            if e.type == "state_changed" and e.payload.get("to") == RunState.ANNOUNCED.value
        ),
        None,
    )


def delivered_at(items: Sequence[OutboxItem]) -> datetime | None:
    """When the run's heads-up first left the outbox (any channel), or None."""
    return min(
        (
            i.delivered_at
            for i in items
            if i.message.kind in HEADS_UP_KINDS and i.delivered_at is not None
        ),
        default=None,
    )


def undelivered_reason(items: Sequence[OutboxItem], wait: timedelta, now: datetime) -> str | None:
    """Why a kill at `now` must not happen because of its heads-up's delivery (never
    delivered, or delivered too late to leave `wait` for a veto), or None."""
    delivered = delivered_at(items)
    if delivered is None:
        return "heads-up not delivered (Slack unavailable?): nobody could veto"
    ahead = now - delivered
    if ahead < wait - HEADS_UP_SLACK:
        return (
            f"heads-up delivered late: {max(int(ahead.total_seconds()), 0)}s before the "
            f"kill, heads_up is {int(wait.total_seconds())}s: too little time to veto"
        )
    return None


# A Veto click during a heads-up (recorded by the approval service, read by the veto gate).
VETO_EVENT = "veto_requested"


def vetoer_of(events: Sequence[RunEvent]) -> str | None:
    """Who vetoed a monkey kill first (from its "veto_requested" events), or None."""
    return next((e.actor for e in events if e.type == VETO_EVENT), None)
