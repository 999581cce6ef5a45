"""What is planned, read for people: GameDay occurrences and monkey window shifts of the live
catalog over a span, merged with the run rows that have not started yet.

Shared by the overview page and the calendar feed, so both say the same thing.

Rules:
- GameDays come from `services.planning` (the schedule's cron or `at`, its window, DST as
  planning handles it); a run row for the same (schedule, instant) gives the occurrence its
  run id and state; a waiting row the plan does not have (postponed, ad hoc) is listed too;
- an occurrence is *skipped* with a reason when the plan skips it (window closed, a repeated
  wall time), when its schedule is paused, or when its row already ended (rejected, expired,
  skipped: the reason its state change recorded);
- monkeys are shown by their window's *shifts* (one open period per local start date, as the
  window defines them), never by kill times: a kill's time is only shown once its heads-up
  is out (its row announced or later), as Slack shows it;
- expanding a thousand schedules takes about half a second, so the expansion of one catalog
  over one day-aligned span is kept until the catalog is replaced or the span moves on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from gameday.domain.ports import ControlState, RunRepository
from gameday.domain.runs import Pause, Run, RunKind, RunState
from gameday.domain.specs import ApprovalSpec, GamedaySpec, MonkeySpec
from gameday.services.catalog import Catalog
from gameday.services.outlook_items import (
    Planned,
    Shift,
    approval_state,
    end_reason,
    gameday_duration,
    gameday_policy,
    pause_reason,
    schedule_zone,
    window_shifts,
)
from gameday.services.planning import MAX_DAYS, Occurrence, expand

WAITING = (RunState.PLANNED, RunState.ANNOUNCED, RunState.AWAITING_APPROVAL, RunState.APPROVED)
ENDED_BEFORE_START = (RunState.REJECTED, RunState.EXPIRED, RunState.SKIPPED)
# A monkey kill's time is shown once its heads-up went out.
KILL_SHOWN = (RunState.ANNOUNCED, RunState.AWAITING_APPROVAL, RunState.APPROVED)
# How many ended-before-start rows per state are looked at, and how many of their reasons
# are read (one query each): enough for any real week, bounded for a pathological one.
ENDED_ROWS = 500
REASONS_READ = 200
_DAY = timedelta(days=1)
# A key of the merged rows: (schedule, or "#id" for an ad-hoc run; planned instant).
_RowKey = tuple[str, datetime]
# A GameDay's approval policy and time limit.
_Facts = tuple[ApprovalSpec | None, timedelta]
_KEPT_SPANS = 4


def _floor_day(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


class Outlook:
    """The plan of the live catalog over a span, merged with the waiting run rows."""

    def __init__(
        self, catalog: Callable[[], Catalog], runs: RunRepository, control: ControlState
    ) -> None:
        self._catalog = catalog
        self._runs = runs
        self._control = control
        self._lock = threading.Lock()
        self._spans: dict[tuple[int, datetime, int], tuple[Catalog, tuple[Occurrence, ...]]] = {}
        self._facts: tuple[Catalog, dict[str, _Facts]] = (Catalog(), {})

    def catalog(self) -> Catalog:
        """The current catalog."""
        return self._catalog()

    def pauses(self) -> list[Pause]:
        """The paused schedules."""
        return self._control.pauses()

    def occurrences(self, catalog: Catalog, start: datetime, end: datetime) -> list[Occurrence]:
        """The GameDay occurrences of `catalog` in [start, end), from the kept expansion of
        the day-aligned span around them."""
        first = _floor_day(start)
        days = max(1, (_floor_day(end) + _DAY - first).days)
        key = (id(catalog), first, days)
        with self._lock:
            kept = self._spans.get(key)
            # The catalog is held with its expansion, so its id cannot be reused meanwhile.
            if kept is None or kept[0] is not catalog:
                kept = (catalog, tuple(self._expand(catalog, first, days)))
                if len(self._spans) >= _KEPT_SPANS:
                    self._spans.pop(next(iter(self._spans)))
                self._spans[key] = kept
        return [o for o in kept[1] if start <= o.at < end]

    def _facts_of(self, catalog: Catalog) -> dict[str, _Facts]:
        """Each GameDay's approval policy and time limit, kept while `catalog` is current."""
        with self._lock:
            if self._facts[0] is not catalog:
                self._facts = (catalog, {})
            return self._facts[1]

    @staticmethod
    def _expand(catalog: Catalog, first: datetime, days: int) -> list[Occurrence]:
        # planning refuses horizons over a year; a longer span is expanded in pieces.
        found: list[Occurrence] = []
        offset = 0
        while offset < days:
            piece = min(MAX_DAYS, days - offset)
            plan = expand(
                catalog.windows,
                catalog.gamedays.values(),
                (),
                start=first + timedelta(days=offset),
                days=piece,
                seed=0,  # monkeys are not expanded: the seed draws nothing here
            )
            found.extend(plan.occurrences)
            offset += piece
        return found

    def planned(
        self,
        start: datetime,
        end: datetime,
        *,
        schedule: str | None = None,
        pauses: Sequence[Pause] | None = None,
    ) -> list[Planned]:
        """GameDay occurrences and waiting runs in [start, end), soonest first (see the
        module's rules); only `schedule`'s when given."""
        catalog = self._catalog()
        paused = {p.schedule: p for p in (self._control.pauses() if pauses is None else pauses)}
        rows = self._rows(start, end, schedule)
        ended = self._ended(start, end, schedule)
        reasons = self._reasons(ended.values())
        found: list[Planned] = []
        facts = self._facts_of(catalog)
        for occurrence in self.occurrences(catalog, start, end):
            if schedule is not None and occurrence.schedule != schedule:
                continue
            key = (occurrence.schedule, occurrence.at)
            row = rows.pop(key, None) or ended.get(key)
            known = facts.get(occurrence.schedule)
            if known is None:  # looked up once per schedule and catalog
                spec = catalog.gamedays[occurrence.schedule]
                known = facts[spec.name] = (
                    gameday_policy(catalog, spec),
                    gameday_duration(catalog, spec),
                )
            found.append(self._item(occurrence, row, paused, reasons, *known))
        for row in rows.values():  # waiting rows the plan does not have
            if row.kind is RunKind.MONKEY and row.state not in KILL_SHOWN:
                continue
            found.append(self._row_item(catalog, row, paused))
        found.sort(key=lambda p: (p.at, p.schedule))
        return found

    def _rows(self, start: datetime, end: datetime, schedule: str | None) -> dict[_RowKey, Run]:
        return {
            (r.schedule or f"#{r.id}", r.planned_at): r
            for r in self._runs.in_state(*WAITING)
            if start <= r.planned_at < end and (schedule is None or r.schedule == schedule)
        }

    def _ended(self, start: datetime, end: datetime, schedule: str | None) -> dict[_RowKey, Run]:
        found: dict[_RowKey, Run] = {}
        for state in ENDED_BEFORE_START:
            for r in self.newest_from(state, start, schedule=schedule, most=ENDED_ROWS):
                if r.planned_at < end and r.schedule is not None:
                    found[(r.schedule, r.planned_at)] = r
        return found

    def newest_from(
        self, state: RunState, start: datetime, *, schedule: str | None = None, most: int
    ) -> list[Run]:
        """The runs in `state` planned at or after `start` (at most `most`), newest first.

        Read newest planned first in growing batches: usually one small query, however
        many older runs the state holds."""
        limit = 32
        while True:
            batch = self._runs.list_runs(schedule=schedule, state=state, limit=limit)
            if len(batch) < limit or batch[-1].planned_at < start or limit >= most:
                return [r for r in batch if r.planned_at >= start][:most]
            limit = min(most, limit * 4)

    def _reasons(self, rows: Iterable[Run]) -> dict[int, str]:
        found: dict[int, str] = {}
        for row in sorted(rows, key=lambda r: r.planned_at)[:REASONS_READ]:
            found[row.id] = end_reason(self._runs, row)
        return found

    @staticmethod
    def _item(
        occurrence: Occurrence,
        row: Run | None,
        paused: dict[str, Pause],
        reasons: dict[int, str],
        policy: ApprovalSpec | None,
        duration: timedelta,
    ) -> Planned:
        state: str = occurrence.status
        skipped, reason = occurrence.status == "skipped", occurrence.reason
        if row is not None:
            state = row.state.value
            if row.state in ENDED_BEFORE_START:
                skipped, reason = True, reasons.get(row.id) or f"run {row.state.value}"
        pause = paused.get(occurrence.schedule)
        if pause is not None and not skipped:
            skipped, reason = True, pause_reason(pause)
        return Planned(
            schedule=occurrence.schedule,
            kind="gameday",
            at=occurrence.at,
            local=occurrence.local,
            timezone=occurrence.timezone,
            runbook=occurrence.runbook,
            state="skipped" if skipped and row is None else state,
            skipped=skipped,
            reason=reason,
            approval=approval_state(policy, row),
            run_id=row.id if row is not None else None,
            duration=duration,
        )

    def _row_item(self, catalog: Catalog, row: Run, paused: dict[str, Pause]) -> Planned:
        spec: GamedaySpec | MonkeySpec | None = None
        if row.schedule:
            spec = catalog.gamedays.get(row.schedule) or catalog.monkeys.get(row.schedule)
        zone = schedule_zone(catalog, spec) if spec is not None else "UTC"
        policy = gameday_policy(catalog, spec) if isinstance(spec, GamedaySpec) else None
        pause = paused.get(row.schedule or "")
        if row.kind is RunKind.MONKEY:
            reason = "random kill; anyone in the channel may veto during the heads-up"
        else:
            reason = "postponed or requested run" if row.schedule else "ad-hoc run"
        return Planned(
            schedule=row.schedule or "(ad hoc)",
            kind=row.kind.value,
            at=row.planned_at,
            local=row.planned_at.astimezone(ZoneInfo(zone)),
            timezone=zone,
            runbook=row.runbook,
            state=row.state.value,
            skipped=pause is not None,
            reason=pause_reason(pause) if pause is not None else reason,
            approval="not needed" if row.kind is RunKind.MONKEY else approval_state(policy, row),
            run_id=row.id,
        )

    def shifts(self, start: datetime, end: datetime, *, schedule: str | None = None) -> list[Shift]:
        """The open periods in [start, end) of the windows monkeys use (a period already
        open at `start` whole), one per window and local start date, soonest first."""
        catalog = self._catalog()
        paused = {p.schedule for p in self._control.pauses()}
        by_window: dict[str, list[str]] = {}
        for monkey in catalog.monkeys.values():
            if schedule is None or monkey.name == schedule:
                by_window.setdefault(monkey.window, []).append(monkey.name)
        found: list[Shift] = []
        for name, monkeys in by_window.items():
            window = catalog.windows.get(name)
            if window is None:
                continue
            for a, b in window_shifts(window, start, end):
                found.append(
                    Shift(
                        window=name,
                        timezone=window.timezone,
                        start=a,
                        end=b,
                        monkeys=tuple(sorted(monkeys)),
                        paused=tuple(sorted(m for m in monkeys if m in paused)),
                    )
                )
        found.sort(key=lambda s: (s.start, s.window))
        return found
