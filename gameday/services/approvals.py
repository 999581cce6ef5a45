"""Asking for and deciding approvals: announce, approve, reject, postpone, veto, expire.

Rules:
- decisions go through the pure policy (`gameday.domain.approval.judge`);
- a refused attempt (outsider, self-approval, too late, wrong state) raises ApprovalRefused
  with the reason and changes nothing but one "approval_refused" event on the run;
- a repeat (double click, Slack retry) is answered like the first time and changes nothing;
- every state change carries its Slack messages into the outbox in the same transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from gameday.domain.approval import (
    ApprovalPolicy,
    ApprovalRefused,
    Outcome,
    Verdict,
    deadline_for,
    distinct_approvers,
    is_authorised,
    is_expired,
    judge,
)
from gameday.domain.errors import IllegalTransition
from gameday.domain.heads_up import VETO_EVENT, vetoer_of
from gameday.domain.lifecycle import is_final
from gameday.domain.messages import (
    decided_message,
    gameday_announcement,
    monkey_heads_up,
    thread_note,
)
from gameday.domain.mrkdwn import date_token, md
from gameday.domain.ports import Clock, Outbox, RunRepository, UserGroups
from gameday.domain.run_policy import Briefing, BriefSource
from gameday.domain.runs import Decision, MessageKind, NewRun, Run, RunKind, RunState

SYSTEM_ACTOR = "gameday"


@dataclass(frozen=True)
class DecisionResult:
    """What a decision did, and a sentence for the person who made it."""

    run: Run
    outcome: Outcome | str
    reply: str


class ApprovalService:
    """Use cases around approving runs, over the run repository and the outbox."""

    def __init__(
        self,
        runs: RunRepository,
        outbox: Outbox,
        groups: UserGroups,
        clock: Clock,
        briefing: BriefSource,
        *,
        postpone_by: timedelta = timedelta(days=1),
    ) -> None:
        self._runs = runs
        self._outbox = outbox
        self._groups = groups
        self._clock = clock
        self._briefing = briefing
        self._postpone_by = postpone_by
        # Double clicks and retries arrive on parallel threads; deciding one at a time
        # lets the second see the first and answer "already decided". The database keeps
        # one decision per person per run whatever happens across replicas.
        self._deciding = threading.Lock()

    # -- asking ----------------------------------------------------------------------------
    def announce(self, run_id: int, *, actor: str = SYSTEM_ACTOR) -> Run:
        """Announce a run: a GameDay with a policy waits for approval, one without is
        announced; a monkey kill gets its heads-up with a Veto button."""
        run = self._runs.get(run_id)
        info = self._briefing(run)
        if run.kind is RunKind.MONKEY:
            message, target = monkey_heads_up(info.brief), RunState.ANNOUNCED
        else:
            message = gameday_announcement(info.brief)
            needs_approval = info.brief.policy is not None
            target = RunState.AWAITING_APPROVAL if needs_approval else RunState.ANNOUNCED
        outgoing = message.outgoing(info.channel, run_id=run.id, kind=MessageKind.ANNOUNCEMENT)
        if is_final(run.state):
            return run
        if run.state is RunState.PLANNED or (
            run.state is RunState.ANNOUNCED and target is RunState.AWAITING_APPROVAL
        ):
            return self._runs.transition(
                run.id, target, actor=actor, reason="announced", messages=[outgoing]
            )
        # A later lead (1h, 10m) of a run already announced: remind in its thread.
        self._outbox.enqueue([outgoing])
        return run

    def request_run(self, new: NewRun, *, actor: str) -> Run:
        """Create an ad-hoc run and announce it: it goes through approval like any other,
        and a run whose policy asks for none is approved at once (the service starts
        approved ad-hoc runs straight away)."""
        run = self._runs.create(new, actor=actor, reason="requested")
        announced = self.announce(run.id, actor=actor)
        if announced.state is RunState.ANNOUNCED:
            return self._runs.transition(
                run.id, RunState.APPROVED, actor=actor, reason="no approval needed"
            )
        return announced

    # -- deciding --------------------------------------------------------------------------
    def decide(
        self, run_id: int, *, actor: str, decision: Decision, reason: str | None = None
    ) -> DecisionResult:
        """Approve or reject a run on behalf of `actor`; ApprovalRefused when not allowed."""
        with self._deciding:
            return self._decide(run_id, actor, decision, reason)

    def _decide(
        self, run_id: int, actor: str, decision: Decision, reason: str | None
    ) -> DecisionResult:
        run = self._runs.get(run_id)
        prior = self._runs.approvals(run_id)
        earlier = next((a for a in prior if a.user == actor), None)
        if earlier is not None:
            return DecisionResult(
                run, Outcome.DUPLICATE, f"You already decided on run #{run.id}: {earlier.decision}."
            )
        if run.state is not RunState.AWAITING_APPROVAL:
            self._refuse(
                run,
                actor,
                decision,
                f"run #{run.id} is {run.state.value}, not waiting for approval",
            )
        info = self._briefing(run)
        policy = info.brief.policy
        if policy is None:
            self._refuse(run, actor, decision, f"run #{run.id} does not need approval")
        requested_at = self._requested_at(run)
        try:
            verdict = judge(
                policy,
                actor=actor,
                decision=decision,
                requester=run.requester,
                prior=prior,
                members=self._members(policy, actor),
                requested_at=requested_at,
                now=self._clock.now(),
            )
        except ApprovalRefused as refused:
            if is_expired(policy, requested_at, self._clock.now()):
                self._expire(run, info)
            self._refuse(run, actor, decision, str(refused))
        return self._apply(run, info, policy, actor, decision, verdict, reason)

    def postpone(self, run_id: int, *, actor: str, reason: str | None = None) -> DecisionResult:
        """Skip this occurrence and plan the same run `postpone_by` later (approvers and
        the requester may postpone)."""
        run = self._runs.get(run_id)
        info = self._briefing(run)
        policy = info.brief.policy
        if run.state not in (RunState.PLANNED, RunState.ANNOUNCED, RunState.AWAITING_APPROVAL):
            if run.state is RunState.SKIPPED:
                return DecisionResult(run, "postponed", f"Run #{run.id} was already postponed.")
            self._refuse(
                run, actor, None, f"run #{run.id} is {run.state.value}: too late to postpone"
            )
        allowed = actor == run.requester or (
            policy is not None and is_authorised(policy, actor, self._members(policy, actor))
        )
        if not allowed:
            who = policy.describe() if policy else "the requester"
            self._refuse(run, actor, None, f"only approvers may postpone this run ({who})")
        later = run.planned_at + self._postpone_by
        note = thread_note(
            md("postponed this run to {}", date_token(later, info.brief.timezone)),
            actor=actor,
            user_text=reason,
        )
        done = self._runs.transition(
            run.id,
            RunState.SKIPPED,
            actor=actor,
            reason=f"postponed to {later.isoformat()}" + (f": {reason}" if reason else ""),
            payload={"postponed_to": later.isoformat()},
            messages=[
                decided_message(info.brief, "postponed", by=[actor], reason=reason).outgoing(
                    info.channel, run_id=run.id, kind=MessageKind.UPDATE
                ),
                note.outgoing(info.channel, run_id=run.id, kind=MessageKind.THREAD),
            ],
        )
        self._runs.create(
            NewRun(
                kind=run.kind,
                schedule=run.schedule,
                runbook=run.runbook,
                planned_at=later,
                dry_run=run.dry_run,
                seed=run.seed,
                requester=run.requester,
                runbook_digest=run.runbook_digest,
                postponed_from=run.id,
            ),
            actor=actor,
            reason=f"postponed from run #{run.id}",
        )
        return DecisionResult(done, "postponed", f"Run #{run.id} postponed to {later.isoformat()}.")

    def veto(self, run_id: int, *, actor: str, reason: str | None = None) -> DecisionResult:
        """Stop a monkey kill during its heads-up; anyone in the channel may veto.

        During the heads-up the monkey service is waiting on the run: the veto is recorded
        as a "veto_requested" event, which its veto gate picks up (the service then moves
        the run to rejected itself). A run not yet announced is skipped here; once the
        heads-up is over it is too late.
        """
        run = self._runs.get(run_id)
        if run.kind is not RunKind.MONKEY:
            self._refuse(run, actor, None, "only a monkey kill can be vetoed; reject a GameDay")
        earlier = vetoer_of(self._runs.events(run.id))
        if earlier is not None or run.state in (RunState.REJECTED, RunState.SKIPPED):
            by = f" by {earlier}" if earlier else ""
            return DecisionResult(run, "vetoed", f"Run #{run.id} was already vetoed{by}.")
        if run.state not in (RunState.PLANNED, RunState.ANNOUNCED):
            self._refuse(
                run, actor, None, f"run #{run.id} is {run.state.value}: the heads-up is over"
            )
        info = self._briefing(run)
        update = decided_message(info.brief, "vetoed", by=[actor], reason=reason).outgoing(
            info.channel, run_id=run.id, kind=MessageKind.UPDATE
        )
        if run.state is RunState.PLANNED:
            done = self._runs.transition(
                run.id,
                RunState.SKIPPED,
                actor=actor,
                reason="vetoed" + (f": {reason}" if reason else ""),
                messages=[update],
            )
            return DecisionResult(done, "vetoed", f"You vetoed run #{run.id}.")
        self._runs.append_event(run.id, VETO_EVENT, actor=actor, payload={"reason": reason})
        self._outbox.enqueue([update])
        return DecisionResult(run, "vetoed", f"You vetoed run #{run.id}: no pod will be killed.")

    def expire_due(self) -> list[Run]:
        """Expire every run whose approval deadline has passed; returns them."""
        expired: list[Run] = []
        now = self._clock.now()
        for run in self._runs.in_state(RunState.AWAITING_APPROVAL):
            info = self._briefing(run)
            policy = info.brief.policy
            if policy is not None and is_expired(policy, self._requested_at(run), now):
                done = self._expire(run, info)
                if done is not None:
                    expired.append(done)
        return expired

    def deadline(self, run: Run) -> datetime | None:
        """When approval of `run` closes (None: no policy or no deadline)."""
        policy = self._briefing(run).brief.policy
        return None if policy is None else deadline_for(policy, self._requested_at(run))

    # -- internals -------------------------------------------------------------------------
    def _apply(
        self,
        run: Run,
        info: Briefing,
        policy: ApprovalPolicy,
        actor: str,
        decision: Decision,
        verdict: Verdict,
        reason: str | None,
    ) -> DecisionResult:
        self._runs.record_approval(run.id, actor, decision)
        # Count again after recording: another approver may have decided concurrently.
        approvers = distinct_approvers(self._runs.approvals(run.id), run.requester)
        if verdict.outcome is Outcome.REJECTED:
            done = self._move(
                run, info, RunState.REJECTED, actor, "rejected", [actor], reason, approvers
            )
            return DecisionResult(done, Outcome.REJECTED, f"You rejected run #{run.id}.")
        if len(approvers) >= policy.quorum:
            done = self._move(
                run, info, RunState.APPROVED, actor, "approved", approvers, None, approvers
            )
            return DecisionResult(
                done,
                Outcome.APPROVED,
                f"Run #{run.id} is approved (quorum {policy.quorum} reached).",
            )
        self._outbox.enqueue(
            [
                gameday_announcement(info.brief, approvers).outgoing(
                    info.channel, run_id=run.id, kind=MessageKind.UPDATE
                ),
                thread_note(
                    md("approved ({} of {})", len(approvers), policy.quorum), actor=actor
                ).outgoing(info.channel, run_id=run.id, kind=MessageKind.THREAD),
            ]
        )
        return DecisionResult(
            run,
            Outcome.PENDING,
            f"Approval recorded: {len(approvers)} of {policy.quorum} for run #{run.id}.",
        )

    def _move(
        self,
        run: Run,
        info: Briefing,
        target: RunState,
        actor: str,
        outcome: str,
        by: Sequence[str],
        reason: str | None,
        approvers: Sequence[str],
    ) -> Run:
        messages = [
            decided_message(
                info.brief, outcome, by=by, reason=reason, approvers=approvers
            ).outgoing(info.channel, run_id=run.id, kind=MessageKind.UPDATE),
            thread_note(md("{}", outcome), actor=actor, user_text=reason).outgoing(
                info.channel, run_id=run.id, kind=MessageKind.THREAD
            ),
        ]
        try:
            return self._runs.transition(
                run.id,
                target,
                actor=actor,
                reason=outcome + (f": {reason}" if reason else ""),
                payload={"approvers": list(approvers)},
                messages=messages,
            )
        except IllegalTransition:
            # Someone else's decision landed first; theirs stands, ours is recorded.
            return self._runs.get(run.id)

    def _expire(self, run: Run, info: Briefing) -> Run | None:
        try:
            return self._runs.transition(
                run.id,
                RunState.EXPIRED,
                actor=SYSTEM_ACTOR,
                reason="approval deadline passed",
                messages=[
                    decided_message(info.brief, "expired").outgoing(
                        info.channel, run_id=run.id, kind=MessageKind.UPDATE
                    )
                ],
            )
        except IllegalTransition:
            return None

    def _refuse(self, run: Run, actor: str, decision: Decision | None, why: str) -> NoReturn:
        self._runs.append_event(
            run.id,
            "approval_refused",
            actor=actor,
            payload={"decision": decision.value if decision else None, "why": why},
        )
        raise ApprovalRefused(why)

    def _members(self, policy: ApprovalPolicy, actor: str) -> dict[str, frozenset[str]]:
        if actor in policy.users:  # no need to ask Slack
            return {}
        return {group: self._groups.members(group) for group in sorted(policy.usergroups)}

    def _requested_at(self, run: Run) -> datetime:
        for event in reversed(self._runs.events(run.id)):
            if event.type == "state_changed" and _to_state(event.payload) == "awaiting_approval":
                return event.at
        return run.updated_at


def _to_state(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("to")
    return None if value is None else str(value)
