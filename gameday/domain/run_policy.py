"""Who must approve a GameDay and where it is announced: the one place these precedence
rules live (the scheduler's rules, the announcements and `/gameday list` all ask here).

Rules: a schedule's own `approval`, `channel` and `drill` win over its runbook's `gameday`
extension; an ad-hoc run (no schedule) takes them from its runbook's extension; with
neither, no approval is needed and the service's default channel is used. A monkey never
asks for approval (its heads-up offers a Veto) and is announced in its own channel, else
the default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gameday.domain.drills import DrillSpec
from gameday.domain.messages import RunBrief
from gameday.domain.runs import Run
from gameday.domain.specs import ApprovalSpec, GamedaySpec, MonkeySpec, Runbook


@dataclass(frozen=True)
class Briefing:
    """A run's brief plus the channel it is announced in."""

    brief: RunBrief
    channel: str


# Looks up the brief and channel of a run (from the catalog, or from its start record).
BriefSource = Callable[[Run], Briefing]


def approval_for(
    schedule: GamedaySpec | MonkeySpec | None, runbook: Runbook | None
) -> ApprovalSpec | None:
    """The approval policy of a run of `schedule` (None: ad hoc) running `runbook`."""
    if isinstance(schedule, MonkeySpec):
        return None
    if schedule is not None and schedule.approval is not None:
        return schedule.approval
    extension = runbook.extension if runbook is not None else None
    return extension.approval if extension is not None else None


def channel_for(
    schedule: GamedaySpec | MonkeySpec | None, runbook: Runbook | None, *, default: str
) -> str:
    """The channel a run of `schedule` (None: ad hoc) running `runbook` is announced in.

    An unannounced drill is announced (and approved, and followed) only in its own
    private `drill.channel`, never in the schedule's or runbook's channel.
    """
    drill = drill_for(schedule, runbook)
    if drill is not None and not drill.announced and drill.channel:
        return drill.channel
    if schedule is not None and schedule.channel:
        return schedule.channel
    if isinstance(schedule, MonkeySpec):
        return default
    extension = runbook.extension if runbook is not None else None
    return (extension.channel if extension is not None else None) or default


def drill_for(
    schedule: GamedaySpec | MonkeySpec | None, runbook: Runbook | None
) -> DrillSpec | None:
    """The drill of a run of `schedule` (None: ad hoc) running `runbook`; None: not a drill.

    Rules: a schedule that writes `drill:` decides, `false` included; otherwise the
    runbook's extension decides; a monkey kill is never a drill.
    """
    if isinstance(schedule, MonkeySpec):
        return None
    if schedule is not None and "drill" in schedule.model_fields_set:
        return schedule.drill.to_drill() if schedule.drill is not None else None
    extension = runbook.extension if runbook is not None else None
    if extension is None or extension.drill is None:
        return None
    return extension.drill.to_drill()
