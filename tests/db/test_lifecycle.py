"""The lifecycle table (pure): every drawn move is allowed, everything else is refused."""

from __future__ import annotations

import itertools

import pytest

from gameday.domain.errors import IllegalTransition
from gameday.domain.lifecycle import FINAL_STATES, TRANSITIONS, check_transition, is_final
from gameday.domain.runs import RunState as S

DRAWN = {
    (S.PLANNED, S.ANNOUNCED), (S.ANNOUNCED, S.AWAITING_APPROVAL),
    (S.AWAITING_APPROVAL, S.APPROVED), (S.APPROVED, S.RUNNING),
    (S.RUNNING, S.COMPLETED), (S.RUNNING, S.DEVIATED), (S.RUNNING, S.FAILED),
    (S.RUNNING, S.ABORTED), (S.AWAITING_APPROVAL, S.REJECTED),
    (S.AWAITING_APPROVAL, S.EXPIRED), (S.PLANNED, S.SKIPPED), (S.ANNOUNCED, S.SKIPPED),
    (S.APPROVED, S.SKIPPED), (S.RUNNING, S.INTERRUPTED),
}  # fmt: skip


def test_the_table_covers_every_state() -> None:
    assert set(TRANSITIONS) == set(S)


@pytest.mark.parametrize(("src", "dst"), sorted(DRAWN))
def test_every_drawn_move_is_allowed(src: S, dst: S) -> None:
    check_transition(src, dst)


@pytest.mark.parametrize("final", sorted(FINAL_STATES))
def test_final_states_go_nowhere(final: S) -> None:
    assert is_final(final)
    for dst in S:
        with pytest.raises(IllegalTransition, match=f"{final.value} is final"):
            check_transition(final, dst)


def test_illegal_moves_name_both_states_and_the_options() -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(S.PLANNED, S.RUNNING)
    assert str(caught.value) == (
        "a run that is planned cannot become running "
        "(allowed: announced, approved, awaiting_approval, skipped)"
    )


def test_nothing_runs_without_approval_and_nothing_returns_to_planned() -> None:
    for src, dst in itertools.product(S, S):
        if dst is S.RUNNING and src is not S.APPROVED:
            assert dst not in TRANSITIONS[src]
        assert S.PLANNED not in TRANSITIONS[src]
        assert src not in TRANSITIONS[src]


def test_the_final_states_are_the_outcomes() -> None:
    assert {
        S.COMPLETED, S.DEVIATED, S.FAILED, S.ABORTED, S.REJECTED, S.EXPIRED, S.SKIPPED,
        S.INTERRUPTED,
    } == FINAL_STATES  # fmt: skip
