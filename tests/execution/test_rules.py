"""The pure rules of execution: outcome mapping, rollback strategy, digests, recovery
decisions and redaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gameday.adapters.chaostoolkit.redaction import MASK, Redactor, secret_values
from gameday.domain.errors import InvalidInput
from gameday.domain.execution import (
    WorkerRef,
    digest_matches,
    recovery_action,
    rollback_strategy_for,
    runbook_digest,
    worker_of,
)
from gameday.domain.outcome import chaos_status, exit_code_for, state_for
from gameday.domain.runs import RunEvent, RunState


def event(seq: int, type_: str, **payload: Any) -> RunEvent:
    return RunEvent(
        run_id=1,
        seq=seq,
        at=datetime(2026, 1, 1, tzinfo=UTC),
        type=type_,
        actor="t",
        payload=payload,
    )


@pytest.mark.parametrize(
    ("journal", "status", "state", "code"),
    [
        ({"status": "completed", "deviated": False}, "completed", RunState.COMPLETED, 0),
        ({"status": "completed", "deviated": True}, "deviated", RunState.DEVIATED, 1),
        ({"status": "failed", "deviated": True}, "deviated", RunState.DEVIATED, 1),
        ({"status": "failed", "deviated": False}, "failed", RunState.FAILED, 1),
        ({"status": "aborted", "deviated": False}, "aborted", RunState.FAILED, 1),
        ({"status": "interrupted", "deviated": False}, "interrupted", RunState.ABORTED, 2),
        ({"status": None}, "unknown", RunState.FAILED, 1),
    ],
)
def test_journal_status_maps_to_one_state(
    journal: dict[str, Any], status: str, state: RunState, code: int
) -> None:
    assert chaos_status(journal) == status
    assert state_for(journal) is state
    assert exit_code_for(state) == code


@pytest.mark.parametrize(
    ("status", "halted", "state"),
    [
        ("interrupted", False, RunState.INTERRUPTED),  # nobody halted it: its supervisor died
        ("interrupted", True, RunState.ABORTED),  # a halt came first: the halt's outcome
        ("completed", False, RunState.COMPLETED),  # nothing was left to interrupt
        ("failed", False, RunState.FAILED),
    ],
)
def test_a_run_whose_supervisor_died_ends_interrupted_unless_halted(
    status: str, halted: bool, state: RunState
) -> None:
    journal = {"status": status, "deviated": False}
    assert state_for(journal, supervisor_lost=True, halted=halted) is state


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({}, "always"),
        ({"runtime": {"rollbacks": {"strategy": "deviated"}}}, "deviated"),
        ({"extensions": [{"name": "gameday", "rollback_strategy": "never"}]}, "never"),
        (
            {
                "runtime": {"rollbacks": {"strategy": "default"}},
                "extensions": [
                    {"name": "other"},
                    {"name": "gameday", "rollback_strategy": "always"},
                ],
            },
            "always",
        ),
    ],
)
def test_rollback_strategy_defaults_to_always(doc: dict[str, Any], expected: str) -> None:
    assert rollback_strategy_for(doc) == expected


def test_an_unknown_rollback_strategy_is_refused() -> None:
    with pytest.raises(InvalidInput, match="invalid rollback strategy 'sometimes'"):
        rollback_strategy_for({"runtime": {"rollbacks": {"strategy": "sometimes"}}})


def test_digest_is_the_catalogs_sha256() -> None:
    digest = runbook_digest(b"title: x\n")
    assert len(digest) == 64
    assert digest_matches(digest, b"title: x\n")
    assert digest_matches("sha256:" + digest, b"title: x\n")
    assert digest_matches(None, b"anything")
    assert not digest_matches(digest, b"title: y\n")


def test_the_latest_worker_is_the_one_recorded_last() -> None:
    events = [
        event(1, "worker_launched", host="a", pid=10),
        event(2, "worker_started", host="a", pid=10),
        event(3, "worker_launched", host="b", pid=20),
    ]
    assert worker_of(events) == WorkerRef(host="b", pid=20)
    assert worker_of([event(1, "created")]) is None


@pytest.mark.parametrize(
    ("types", "action"),
    [
        ([], "rollback"),
        (["recovery_started"], "rollback"),
        (["recovery_started", "recovery_finished"], "mark_only"),
        (["rollback_finished", "finished"], "mark_only"),
    ],
)
def test_rollbacks_are_played_at_most_once(types: list[str], action: str) -> None:
    assert recovery_action([event(i + 1, t) for i, t in enumerate(types)]) == action


def test_secret_values_are_leaves_not_references() -> None:
    declared = {
        "k8s": {"token": {"type": "env", "key": "TOKEN"}, "password": "p4ssw0rd", "port": 5432},
        "vault": {"all": {"type": "vault", "path": "a/b"}},
    }
    assert secret_values(declared) == {"p4ssw0rd", "5432"}


def test_redaction_masks_values_inside_text_keys_and_numbers() -> None:
    redactor = Redactor(["p4ssw0rd", "ab", "31337"])
    data = {"out": "login with p4ssw0rd!", "p4ssw0rd": ["ab", "abc", 31337], "n": 7}
    assert redactor.data(data) == {"out": f"login with {MASK}!", MASK: [MASK, "abc", MASK], "n": 7}
