"""From a catalog and its plan to what the scheduler needs: the rules of each schedule and
the occurrences to keep as runs; plus the upcoming plan as lines for the start-up log."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from gameday.domain.fire_guards import PlannedOccurrence, ScheduleRules, WindowCheck
from gameday.domain.run_policy import approval_for, channel_for
from gameday.domain.runs import RunKind
from gameday.domain.specs import GamedaySpec, MonkeySpec
from gameday.domain.windows import Window, is_open
from gameday.services.catalog import Catalog
from gameday.services.planning import Occurrence, Plan


def window_check(window: Window) -> WindowCheck:
    """A WindowCheck over a window: None while open, else the window's reason."""

    def closed(at: datetime) -> str | None:
        status = is_open(window, at)
        return None if status.open else f"{window.name}: {status.reason}"

    return closed


def _digest(spec: GamedaySpec | MonkeySpec, window: Window | None) -> str:
    text = spec.model_dump_json() + "\0" + (repr(window) if window else "")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def rules_for(catalog: Catalog, *, default_channel: str) -> dict[str, ScheduleRules]:
    """The scheduler's rules of every schedule in the catalog.

    Rules: approval and channel as `gameday.domain.run_policy` decides them; a monkey is
    announced `heads_up` before each kill and never asks for approval (anyone may veto
    during the heads-up).
    """
    rules: dict[str, ScheduleRules] = {}
    for gd in catalog.gamedays.values():
        window = catalog.window_of(gd)
        runbook = catalog.runbook_of(gd)
        approval = approval_for(gd, runbook)
        rules[gd.name] = ScheduleRules(
            name=gd.name,
            kind=RunKind.GAMEDAY,
            runbook=runbook.name,
            window=window_check(window) if window else None,
            window_name=window.name if window else None,
            announce=tuple(d for d in gd.announce if d > timedelta(0)),
            approval_deadline=approval.deadline if approval else None,
            channel=channel_for(gd, runbook, default=default_channel),
            digest=_digest(gd, window),
        )
    for monkey in catalog.monkeys.values():
        window = catalog.window(monkey.window)
        rules[monkey.name] = ScheduleRules(
            name=monkey.name,
            kind=RunKind.MONKEY,
            window=window_check(window),
            window_name=window.name,
            announce=(monkey.heads_up,) if monkey.heads_up > timedelta(0) else (),
            channel=channel_for(monkey, None, default=default_channel),
            digest=_digest(monkey, window),
            min_gap=monkey.min_time_between_kills,
        )
    return rules


def occurrences_of(plan: Plan) -> list[PlannedOccurrence]:
    """The plan's occurrences as the scheduler takes them (a planned skip keeps its reason,
    so the run is recorded skipped with it when its moment comes)."""
    return [
        PlannedOccurrence(
            schedule=o.schedule,
            kind=RunKind(o.kind),
            at=o.at,
            runbook=o.runbook,
            seed=plan.seed if o.kind == "monkey" else None,
            skip_reason=o.reason if o.status == "skipped" else None,
        )
        for o in plan.occurrences
    ]


def upcoming_lines(occurrences: Sequence[Occurrence], *, limit: int = 10) -> list[str]:
    """The next occurrences as short lines, each time with its zone."""
    lines = []
    for o in occurrences[:limit]:
        when = o.local.isoformat(sep=" ", timespec="minutes")
        what = f"{o.kind} {o.schedule}" + (f" ({o.runbook})" if o.runbook else "")
        status = "" if o.status == "planned" else f" — skipped: {o.reason}"
        lines.append(f"{when} {o.timezone}  {what}{status}")
    if len(occurrences) > limit:
        lines.append(f"... and {len(occurrences) - limit} more")
    return lines
