"""Factories for runs in any state, walking the real lifecycle to get there."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from gameday.domain.lifecycle import TRANSITIONS
from gameday.domain.ports import RunRepository
from gameday.domain.runs import NewRun, Run, RunKind, RunState

_counter = itertools.count(1)
BASE_TIME = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def new_run(**overrides: Any) -> NewRun:
    """A NewRun of a scheduled GameDay at a distinct hour unless told otherwise."""
    n = next(_counter)
    fields: dict[str, Any] = {
        "kind": RunKind.GAMEDAY,
        "schedule": "reviews-latency",
        "runbook": "bookinfo-reviews-latency",
        "planned_at": BASE_TIME + timedelta(hours=n),
        "dry_run": True,
        "seed": 1000 + n,
        "requester": None,
        "runbook_digest": "sha256:" + "ab" * 32,
    }
    fields.update(overrides)
    return NewRun(**fields)


def path_to(state: RunState) -> list[RunState]:
    """The shortest walk through the lifecycle from planned to `state` (excluding planned)."""
    previous: dict[RunState, RunState] = {}
    queue = deque([RunState.PLANNED])
    while queue:
        here = queue.popleft()
        if here is state:
            break
        for nxt in sorted(TRANSITIONS[here]):
            if nxt not in previous and nxt is not RunState.PLANNED:
                previous[nxt] = here
                queue.append(nxt)
    steps: list[RunState] = []
    while state is not RunState.PLANNED:
        steps.append(state)
        state = previous[state]
    return steps[::-1]


def make_run(runs: RunRepository, state: RunState = RunState.PLANNED, **overrides: Any) -> Run:
    """A stored run brought to `state` through legal transitions (each with its event)."""
    run = runs.create(new_run(**overrides), actor="test:factory", reason="made by a test")
    for step in path_to(state):
        run = runs.transition(run.id, step, actor="test:factory", reason=f"to {step.value}")
    return run


def ad_hoc(**overrides: Any) -> NewRun:
    """An ad-hoc run (no schedule) requested by someone."""
    return replace(new_run(schedule=None, requester="U0REQUEST"), **overrides)
