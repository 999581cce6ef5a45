"""The approval policy: who may approve a run, how many must, and until when.

Rules (safety rule 6 in the design):
- approvers are Slack user ids and members of Slack user groups named by the policy;
- a run is approved by a quorum of *distinct* authorised approvers;
- the requester of a run never counts as an approver of it (no self-approval);
- a reject by any authorised approver rejects the run at once;
- each person decides at most once per run (a repeat is a no-op, not a second vote);
- after the deadline nobody can decide any more: the run expires.

Everything here is pure: group membership is passed in, already resolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from gameday.domain.errors import GamedayError
from gameday.domain.runs import Approval, Decision


class ApprovalRefused(GamedayError):
    """A person tried to decide on a run and the policy does not let them; says why."""

    exit_code = 4


@dataclass(frozen=True)
class ApprovalPolicy:
    """Who may approve (users and user groups), the quorum and the time allowed."""

    users: frozenset[str] = frozenset()
    usergroups: frozenset[str] = frozenset()
    quorum: int = 1
    deadline: timedelta | None = None

    def __post_init__(self) -> None:
        if self.quorum < 1:
            raise ValueError("quorum must be at least 1")

    def describe(self) -> str:
        """One line for people: `2 of <@U1>, <!subteam^S1>` style, without markup."""
        who = sorted(self.users) + sorted(self.usergroups)
        return f"{self.quorum} of {', '.join(who)}" if who else "nobody"


class Outcome(StrEnum):
    """Where a run stands after a decision was considered."""

    PENDING = "pending"  # recorded, quorum not yet reached
    APPROVED = "approved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # the person had already decided: nothing changes


@dataclass(frozen=True)
class Verdict:
    """What a decision does; `approvers` are the distinct approvers counted so far."""

    outcome: Outcome
    approvers: tuple[str, ...]
    needed: int
    explanation: str


def deadline_for(policy: ApprovalPolicy, requested_at: datetime) -> datetime | None:
    """When approval of a run requested at `requested_at` expires (None: never)."""
    return None if policy.deadline is None else requested_at + policy.deadline


def is_expired(policy: ApprovalPolicy, requested_at: datetime, now: datetime) -> bool:
    """True once the approval deadline has passed."""
    deadline = deadline_for(policy, requested_at)
    return deadline is not None and now >= deadline


def is_authorised(policy: ApprovalPolicy, user: str, members: Mapping[str, frozenset[str]]) -> bool:
    """True if `user` is named by the policy or belongs to one of its user groups."""
    if user in policy.users:
        return True
    return any(user in members.get(group, frozenset()) for group in policy.usergroups)


def distinct_approvers(approvals: Iterable[Approval], requester: str | None) -> tuple[str, ...]:
    """Approvers counted towards the quorum: distinct, in order, never the requester."""
    seen: dict[str, None] = {}
    for approval in approvals:
        if approval.decision is Decision.APPROVE and approval.user != requester:
            seen.setdefault(approval.user, None)
    return tuple(seen)


def judge(
    policy: ApprovalPolicy,
    *,
    actor: str,
    decision: Decision,
    requester: str | None,
    prior: Sequence[Approval],
    members: Mapping[str, frozenset[str]],
    requested_at: datetime,
    now: datetime,
) -> Verdict:
    """Decide what `actor`'s `decision` does to a run; ApprovalRefused if it is not allowed.

    Order of checks: deadline, authorisation, self-approval, repeat, then the count.
    """
    if is_expired(policy, requested_at, now):
        deadline = deadline_for(policy, requested_at)
        raise ApprovalRefused(
            f"approval closed at {deadline.isoformat() if deadline else '?'}: the run expired"
        )
    if not is_authorised(policy, actor, members):
        raise ApprovalRefused(
            f"you are not an approver of this run (approvers: {policy.describe()})"
        )
    if decision is Decision.APPROVE and actor == requester:
        raise ApprovalRefused("you requested this run, so you cannot approve it yourself")
    counted = distinct_approvers(prior, requester)
    if any(a.user == actor for a in prior):
        first = next(a for a in prior if a.user == actor)
        return Verdict(
            Outcome.DUPLICATE,
            counted,
            policy.quorum,
            f"you already decided on this run ({first.decision.value})",
        )
    if decision is Decision.REJECT:
        return Verdict(Outcome.REJECTED, counted, policy.quorum, f"rejected by {actor}")
    counted = (*counted, actor)
    if len(counted) >= policy.quorum:
        return Verdict(Outcome.APPROVED, counted, policy.quorum, "quorum reached")
    return Verdict(
        Outcome.PENDING,
        counted,
        policy.quorum,
        f"{len(counted)} of {policy.quorum} approvals",
    )
