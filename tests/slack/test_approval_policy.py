"""The approval policy as a pure function: quorum, self-approval, outsiders, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gameday.domain.approval import ApprovalPolicy, ApprovalRefused, Outcome, judge
from gameday.domain.runs import Approval, Decision

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
POLICY = ApprovalPolicy(
    users=frozenset({"UALICE", "UBOB", "UREQ"}),
    usergroups=frozenset({"SOPS"}),
    quorum=2,
    deadline=timedelta(minutes=30),
)
MEMBERS = {"SOPS": frozenset({"UGROUPIE"})}


def _approve(user: str) -> Approval:
    return Approval(run_id=1, user=user, decision=Decision.APPROVE, at=T0)


def _judge(actor: str, decision: Decision = Decision.APPROVE, prior=(), now=T0, requester="UREQ"):
    return judge(
        POLICY,
        actor=actor,
        decision=decision,
        requester=requester,
        prior=list(prior),
        members=MEMBERS,
        requested_at=T0,
        now=now,
    )


@pytest.mark.parametrize(
    ("prior", "actor", "outcome", "count"),
    [
        ((), "UALICE", Outcome.PENDING, 1),
        (("UALICE",), "UBOB", Outcome.APPROVED, 2),
        (("UALICE",), "UGROUPIE", Outcome.APPROVED, 2),
        (("UALICE",), "UALICE", Outcome.DUPLICATE, 1),
        (("UREQ",), "UALICE", Outcome.PENDING, 1),  # a requester's approval never counts
    ],
)
def test_quorum_counts_distinct_authorised_approvers(prior, actor, outcome, count) -> None:
    verdict = _judge(actor, prior=[_approve(u) for u in prior])
    assert verdict.outcome is outcome
    assert len(verdict.approvers) == count


@pytest.mark.parametrize(
    ("actor", "decision", "now", "why"),
    [
        ("UOUTSIDER", Decision.APPROVE, T0, "not an approver"),
        ("UOUTSIDER", Decision.REJECT, T0, "not an approver"),
        ("UREQ", Decision.APPROVE, T0, "cannot approve it yourself"),
        ("UALICE", Decision.APPROVE, T0 + timedelta(minutes=30), "expired"),
    ],
)
def test_refusals_explain_themselves(actor, decision, now, why) -> None:
    with pytest.raises(ApprovalRefused, match=why):
        _judge(actor, decision, now=now)


def test_any_authorised_reject_rejects_even_after_approvals() -> None:
    verdict = _judge("UGROUPIE", Decision.REJECT, prior=[_approve("UALICE")])
    assert verdict.outcome is Outcome.REJECTED


def test_requester_may_reject_their_own_run_when_an_approver() -> None:
    assert _judge("UREQ", Decision.REJECT).outcome is Outcome.REJECTED


def test_quorum_below_one_is_not_a_policy() -> None:
    with pytest.raises(ValueError, match="quorum"):
        ApprovalPolicy(users=frozenset({"U1"}), quorum=0)
