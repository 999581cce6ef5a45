"""Reading what happened: run history and a run's journal (events, approvals, notes).

Shared by the CLI and chat so both show the same facts under the same stable keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gameday.domain.drills import DrillFigures, figures_of
from gameday.domain.errors import InvalidInput
from gameday.domain.ports import RunRepository
from gameday.domain.runs import Approval, Note, Run, RunEvent, RunKind, RunState

MAX_HISTORY_LIMIT = 1000


def parse_state(text: str) -> RunState:
    """The RunState named by `text`; InvalidInput listing the valid names otherwise."""
    try:
        return RunState(text.strip().lower())
    except ValueError:
        valid = ", ".join(s.value for s in RunState)
        raise InvalidInput(f"unknown run state {text!r}; valid states: {valid}") from None


def history(
    runs: RunRepository,
    *,
    schedule: str | None = None,
    state: RunState | None = None,
    limit: int = 50,
) -> list[Run]:
    """Runs newest first, optionally of one schedule and/or state; 1 <= limit <= 1000."""
    if not 1 <= limit <= MAX_HISTORY_LIMIT:
        raise InvalidInput(f"--limit must be between 1 and {MAX_HISTORY_LIMIT}, not {limit}")
    return runs.list_runs(schedule=schedule, state=state, limit=limit)


def drills_of(runs: RunRepository, listed: Sequence[Run]) -> dict[int, DrillFigures]:
    """The drill figures of the runs in `listed` that are drills (started GameDays whose
    start recorded a drill), by run id."""
    found: dict[int, DrillFigures] = {}
    for run in listed:
        if run.kind is RunKind.GAMEDAY and run.state in _STARTED:
            figures = figures_of(runs.events(run.id))
            if figures is not None:
                found[run.id] = figures
    return found


def history_json(runs: RunRepository, listed: Sequence[Run]) -> list[dict[str, Any]]:
    """Runs as `gameday history --json` prints them (and the runs page serves them): each
    run's keys plus `drill`, a drill's figures or null."""
    drills = drills_of(runs, listed)
    return [
        {**run_dict(r), "drill": drills[r.id].to_json() if r.id in drills else None} for r in listed
    ]


_STARTED = frozenset(
    {
        RunState.RUNNING,
        RunState.COMPLETED,
        RunState.DEVIATED,
        RunState.FAILED,
        RunState.ABORTED,
        RunState.INTERRUPTED,
    }
)


@dataclass(frozen=True)
class RunJournal:
    """Everything recorded about one run, in order."""

    run: Run
    events: list[RunEvent]
    approvals: list[Approval]
    notes: list[Note]
    chaos_journal: Mapping[str, Any] | None


def journal_of(runs: RunRepository, run_id: int) -> RunJournal:
    """The run (NotFound if unknown) with its events, approvals, notes and Chaos Toolkit
    journal."""
    run = runs.get(run_id)
    return RunJournal(
        run=run,
        events=runs.events(run_id),
        approvals=runs.approvals(run_id),
        notes=runs.notes(run_id),
        chaos_journal=runs.journal(run_id),
    )


def run_dict(run: Run) -> dict[str, Any]:
    """A run as JSON-able data with stable snake_case keys and ISO 8601 UTC times."""
    return {
        "id": run.id,
        "kind": run.kind.value,
        "schedule": run.schedule,
        "runbook": run.runbook,
        "planned_at": run.planned_at.isoformat(),
        "state": run.state.value,
        "dry_run": run.dry_run,
        "seed": run.seed,
        "requester": run.requester,
        "runbook_digest": run.runbook_digest,
        "created_at": run.created_at.isoformat(),
        "updated_at": run.updated_at.isoformat(),
    }


def journal_dict(journal: RunJournal) -> dict[str, Any]:
    """A run's journal as JSON-able data (the Chaos Toolkit journal included whole)."""
    return {
        "run": run_dict(journal.run),
        "events": [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "type": e.type,
                "actor": e.actor,
                "payload": dict(e.payload),
            }
            for e in journal.events
        ],
        "approvals": [
            {"user": a.user, "decision": a.decision.value, "at": a.at.isoformat()}
            for a in journal.approvals
        ],
        "notes": [
            {"author": n.author, "text": n.text, "at": n.at.isoformat()} for n in journal.notes
        ],
        "chaos_journal": dict(journal.chaos_journal) if journal.chaos_journal else None,
    }
