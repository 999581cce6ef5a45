"""What people and monitoring do during a drill: acknowledge it, resolve it, and the
Alertmanager alerts that fire while it runs.

Rules:
- only a running drill (its start recorded a `drill`) can be acknowledged or resolved;
  anything else is refused with the reason and nothing is written;
- from Slack, a drill that names responders may be acknowledged and resolved by them
  (users, or members of their user groups), by the run's approvers and by the operators;
  a drill without responders by anyone; the command line is trusted like `gameday note`;
- each act is one event (who, when; a resolve's note stored as typed) written in one
  transaction with its line in the run's thread; the first ack and the first resolve
  count, later ones are kept (their authors are participants);
- the first resolve ends the drill's method: the run flow watching the run tells its
  worker (`Workers.resolve`), the steady state after the method is judged and the
  rollbacks play;
- a firing alert is recorded on each running drill whose matchers its labels satisfy and
  that was already running when it started, once per drill and fingerprint.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from gameday.domain import execution as ex
from gameday.domain.alert_webhook import IncomingAlert
from gameday.domain.drills import (
    ALERT_FIRED,
    DRILL_ACKED,
    DRILL_RESOLVED,
    FAULT_STARTED,
    DrillSpec,
    recorded_drill,
)
from gameday.domain.errors import GamedayError, InvalidInput
from gameday.domain.mrkdwn import Mrkdwn, md
from gameday.domain.ports import RunRepository, UserGroups
from gameday.domain.runs import OutgoingMessage, Run, RunEvent, RunKind, RunState

ALERT_ACTOR = "alertmanager"
MAX_NOTE = 2000

Act = Literal["ack", "resolve"]
_VERBS = {"ack": "acknowledge", "resolve": "resolve"}
# A thread line for a run: (run, our line, actor, inert detail) -> messages.
ThreadLine = Callable[[Run, Mrkdwn, str | None, str | None], list[OutgoingMessage]]


class NotAResponder(GamedayError):
    """Someone who may not act on a drill tried to acknowledge or resolve it."""

    exit_code = 1


@dataclass(frozen=True)
class ActResult:
    """What an ack or a resolve did: `first` when it counts (the first of its kind), else
    `by` names who did it first; `after_s` is the time since the fault started."""

    run: Run
    act: Act
    first: bool
    by: str
    after_s: float | None


class DrillActs:
    """Ack, resolve and alerts on drills (see the module docstring)."""

    def __init__(
        self,
        runs: RunRepository,
        *,
        thread_line: ThreadLine | None = None,
        groups: UserGroups | None = None,
        is_operator: Callable[[str], bool] | None = None,
    ) -> None:
        self._runs = runs
        self._thread_line = thread_line
        self._groups = groups
        self._is_operator = is_operator
        self._alerts_lock = threading.Lock()

    # -- people --------------------------------------------------------------------------
    def ack(self, run_id: int, *, actor: str, authorise: bool = True) -> ActResult:
        """Acknowledge a running drill: "we noticed"."""
        return self._act("ack", run_id, actor=actor, note=None, authorise=authorise)

    def resolve(
        self, run_id: int, *, actor: str, note: str | None = None, authorise: bool = True
    ) -> ActResult:
        """Resolve a running drill: "we consider it fixed"; the first one ends its method."""
        if note is not None and len(note) > MAX_NOTE:
            raise InvalidInput(f"the note is too long ({len(note)} characters; at most {MAX_NOTE})")
        return self._act("resolve", run_id, actor=actor, note=note or None, authorise=authorise)

    def _act(
        self, act: Act, run_id: int, *, actor: str, note: str | None, authorise: bool
    ) -> ActResult:
        run, events, drill = self._running_drill(run_id, act)
        if authorise:
            self._authorise(actor, run, events, drill, act)
        kind = DRILL_ACKED if act == "ack" else DRILL_RESOLVED
        earlier = [e for e in events if e.type == kind]
        fault = next((e for e in events if e.type == FAULT_STARTED), None)
        payload: dict[str, object] = {"by": actor}
        if act == "resolve":
            payload["note"] = note
        event = self._runs.append_event(
            run_id,
            kind,
            actor=actor,
            payload=payload,
            messages=self._line(run, act, actor, note, first=not earlier, fault=fault),
        )
        after = (event.at - fault.at).total_seconds() if fault is not None else None
        first_by = str(earlier[0].payload.get("by") or earlier[0].actor) if earlier else actor
        return ActResult(run, act, not earlier, first_by, after)

    def _running_drill(self, run_id: int, act: Act) -> tuple[Run, list[RunEvent], DrillSpec]:
        run = self._runs.get(run_id)
        events = self._runs.events(run_id)
        record = ex.start_record(events)
        drill = recorded_drill(record) if run.kind is RunKind.GAMEDAY else None
        verb = _VERBS[act]
        if drill is None and (record is not None or run.kind is not RunKind.GAMEDAY):
            raise InvalidInput(f"run #{run_id} is not a drill: there is nothing to {verb}")
        if run.state is not RunState.RUNNING:
            raise InvalidInput(
                f"run #{run_id} is {run.state.value.replace('_', ' ')}, not running: "
                f"only a running drill can be {'acknowledged' if act == 'ack' else 'resolved'}"
            )
        if drill is None:
            raise InvalidInput(f"run #{run_id} is not a drill: there is nothing to {verb}")
        return run, events, drill

    def _authorise(
        self, actor: str, run: Run, events: Sequence[RunEvent], drill: DrillSpec, act: Act
    ) -> None:
        if not drill.responders:
            return
        allowed = set(drill.responders) | _approvers(events)
        if actor in allowed:
            return
        if self._groups is not None:
            groups = sorted(g for g in allowed if g.startswith("S"))
            if any(actor in self._groups.members(g) for g in groups):
                return
        if self._is_operator is not None and self._is_operator(actor):
            return
        raise NotAResponder(
            f"only the responders of run #{run.id} ({', '.join(drill.responders)}), its "
            f"approvers and the operators may {_VERBS[act]} it"
        )

    def _line(
        self,
        run: Run,
        act: Act,
        actor: str,
        note: str | None,
        *,
        first: bool,
        fault: RunEvent | None,
    ) -> list[OutgoingMessage]:
        if self._thread_line is None:
            return []
        if act == "ack":
            text = md(":eyes: acknowledged the drill") if first else md(":eyes: joined the drill")
        elif first:
            text = md(":white_check_mark: resolved the drill: its method ends, the rollbacks play")
        else:
            text = md(":white_check_mark: also resolved the drill")
        if fault is None and first:
            text = md("{} (before its fault started)", text)
        return self._thread_line(run, text, actor, note)

    # -- monitoring ----------------------------------------------------------------------
    def record_alerts(self, alerts: Sequence[IncomingAlert]) -> int:
        """Record each firing alert on the running drills it counts for; how many records.

        Two webhook calls carrying the same alert (Alertmanager repeats a group) record it
        once: in this process under one lock, across replicas by the repository's
        append_event_once.
        """
        firing = [a for a in alerts if a.firing]
        if not firing:
            return 0
        recorded = 0
        with self._alerts_lock:
            for run in self._runs.in_state(RunState.RUNNING):
                if run.kind is RunKind.GAMEDAY:
                    recorded += self._record_on(run, firing)
        return recorded

    def _record_on(self, run: Run, alerts: Sequence[IncomingAlert]) -> int:
        events = self._runs.events(run.id)
        drill = recorded_drill(ex.start_record(events))
        since = _running_since(events)
        if drill is None or since is None:
            return 0
        seen = {str(e.payload.get("fingerprint")) for e in events if e.type == ALERT_FIRED}
        count = 0
        for alert in alerts:
            if alert.fingerprint in seen or alert.starts_at < since:
                continue
            if not drill.matches(alert.labels):
                continue
            seen.add(alert.fingerprint)
            line = md(":rotating_light: alert fired: the monitoring saw the drill")
            # Alertmanager may repeat a group to another replica at the same moment.
            recorded = self._runs.append_event_once(
                run.id,
                ALERT_FIRED,
                key="fingerprint",
                actor=ALERT_ACTOR,
                payload={
                    "alertname": alert.name,
                    "labels": dict(alert.labels),
                    "starts_at": alert.starts_at.isoformat(),
                    "fingerprint": alert.fingerprint,
                },
                messages=self._thread_line(run, line, None, _alert_text(alert))
                if self._thread_line is not None
                else [],
            )
            count += recorded is not None
        return count


def _approvers(events: Sequence[RunEvent]) -> set[str]:
    record = ex.start_record(events)
    thread = record.get("thread") if record is not None else None
    policy = thread.get("policy") if isinstance(thread, Mapping) else None
    if not isinstance(policy, Mapping):
        return set()
    return {str(x) for x in [*(policy.get("users") or ()), *(policy.get("usergroups") or ())]}


def _running_since(events: Sequence[RunEvent]) -> datetime | None:
    for event in reversed(events):
        if event.type == "state_changed" and event.payload.get("to") == "running":
            return event.at
    return None


def _alert_text(alert: IncomingAlert) -> str:
    labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
    return f"{alert.name} since {alert.starts_at.isoformat()} ({labels})"
