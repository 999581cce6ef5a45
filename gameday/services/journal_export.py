"""Exporting a run's journal: the Chaos Toolkit journal as stored plus a `gameday` section.

Rules:
- A stored Chaos Toolkit journal is kept exactly as it is (same keys, same values), so
  tools that read `chaos run` journals (e.g. `chaos report`) read the export too; the
  `gameday` section is the only key added.
- A run without a Chaos Toolkit journal (a monkey kill, a skipped or rejected run) gets a
  journal-shaped document: empty `run`, `rollbacks` and `steady_states`, and a `status`
  mapped from the run's state (see `status_for`).
- A drill's figures are the section's `drill` object (time to detect, acknowledge and
  resolve against their targets, responders, alerts, participants); null otherwise.
- The `gameday` section goes through `mask` (the secret values of the run's runbook, as
  far as they can be known), so nothing added here brings a secret back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gameday.domain.drills import figures_of
from gameday.domain.ports import Outbox, RunRepository
from gameday.domain.runs import OutboxItem, Run, RunKind, RunState
from gameday.services.history import RunJournal, journal_dict, journal_of

GAMEDAY_KEY = "gameday"

# The Chaos Toolkit status a run without a Chaos Toolkit journal stands for; the inverse
# of gameday.domain.outcome (deviated is `completed` with `deviated: true`, as chaoslib
# writes it). States not listed keep their own name (e.g. `skipped`, `rejected`).
_STATUS_BY_STATE: Mapping[RunState, str] = {
    RunState.COMPLETED: "completed",
    RunState.DEVIATED: "completed",
    RunState.FAILED: "failed",
    RunState.ABORTED: "interrupted",
    RunState.INTERRUPTED: "interrupted",
}


@dataclass(frozen=True)
class JournalExport:
    """Everything recorded about one run, with the messages announced about it."""

    journal: RunJournal
    announcements: list[OutboxItem]


def export_journal(runs: RunRepository, messages: Outbox, run_id: int) -> JournalExport:
    """The run (NotFound if unknown) with its events, approvals, notes, Chaos Toolkit
    journal and announcements."""
    journal = journal_of(runs, run_id)
    return JournalExport(journal=journal, announcements=messages.of_run(run_id))


def status_for(state: RunState) -> str:
    """The Chaos Toolkit `status` for a run that has no Chaos Toolkit journal."""
    return _STATUS_BY_STATE.get(state, state.value)


def _same(value: Any) -> Any:
    return value


def export_document(export: JournalExport, *, mask: Callable[[Any], Any] = _same) -> dict[str, Any]:
    """The exported journal as JSON-able data: the Chaos Toolkit journal (or a
    journal-shaped stand-in) with the masked `gameday` section added last."""
    journal = export.journal
    stored = journal.chaos_journal
    document = dict(stored) if stored is not None else _stand_in(journal)
    document.pop(GAMEDAY_KEY, None)
    document[GAMEDAY_KEY] = mask(gameday_section(export))
    return document


def gameday_section(export: JournalExport) -> dict[str, Any]:
    """What gameday knows about the run beyond Chaos Toolkit, with stable snake_case keys."""
    data = journal_dict(export.journal)
    return {
        "run": data["run"],
        "has_chaostoolkit_journal": export.journal.chaos_journal is not None,
        "approvals": data["approvals"],
        # No text or blocks: where and when is what a postmortem needs, and message
        # bodies are the chat's business.
        "announcements": [
            {
                "channel": item.message.channel,
                "kind": item.message.kind,
                "created_at": item.created_at.isoformat(),
                "delivered_at": _iso(item.delivered_at),
            }
            for item in export.announcements
        ],
        "events": data["events"],
        "notes": data["notes"],
        # A drill's figures (see gameday.domain.drills); None when the run is not one.
        "drill": _drill(export.journal),
    }


def _drill(journal: RunJournal) -> dict[str, Any] | None:
    figures = figures_of(journal.events)
    return figures.to_json() if figures is not None else None


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def title_of(run: Run) -> str:
    """A short human title for a run without an experiment title of its own."""
    if run.kind is RunKind.MONKEY:
        return f"monkey kill of {run.schedule or 'an ad-hoc target'}"
    return f"GameDay {run.schedule or run.runbook or run.id}"


def _stand_in(journal: RunJournal) -> dict[str, Any]:
    run = journal.run
    start = journal.events[0].at if journal.events else run.planned_at
    end = journal.events[-1].at if journal.events else run.updated_at
    return {
        "experiment": {
            "title": title_of(run),
            "description": f"gameday {run.kind.value} run {run.id} ({run.state.value})",
            "method": [],
        },
        "status": status_for(run.state),
        "deviated": run.state is RunState.DEVIATED,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "duration": max(0.0, (end - start).total_seconds()),
        "steady_states": {"before": None, "after": None, "during": []},
        "run": [],
        "rollbacks": [],
    }
