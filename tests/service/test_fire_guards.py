"""The pure decisions of the scheduler: jobs per run, differences, and fire-time guards."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gameday.domain.fire_guards import (
    FireContext,
    Job,
    JobAction,
    ScheduleRules,
    SkipCode,
    desired_jobs,
    diff_jobs,
    jobs_for_run,
    parse_job_id,
    start_verdict,
)
from gameday.domain.runs import Run, RunKind, RunState

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def make_run(state: RunState = RunState.PLANNED, at: datetime = T0, run_id: int = 7) -> Run:
    return Run(
        id=run_id,
        kind=RunKind.GAMEDAY,
        schedule="weekly",
        runbook="noop",
        planned_at=at,
        state=state,
        dry_run=True,
        seed=None,
        requester=None,
        runbook_digest=None,
        created_at=T0 - timedelta(days=1),
        updated_at=T0 - timedelta(days=1),
    )


RULES = ScheduleRules(name="weekly", kind=RunKind.GAMEDAY, runbook="noop")
APPROVAL = replace(RULES, approval_deadline=timedelta(minutes=30), announce=(timedelta(hours=1),))


def test_job_ids_round_trip() -> None:
    job = Job(12, JobAction.ANNOUNCE, T0, timedelta(hours=24))
    assert job.id == "run-12-announce-86400"
    assert parse_job_id(job.id) == (12, JobAction.ANNOUNCE, timedelta(hours=24))
    assert parse_job_id("run-3-start") == (3, JobAction.START, None)
    with pytest.raises(ValueError, match="not a scheduler job id"):
        parse_job_id("every-refresh")


def test_a_waiting_run_gets_its_future_announcements_and_start() -> None:
    rules = replace(RULES, announce=(timedelta(hours=24), timedelta(hours=1)))
    jobs = jobs_for_run(make_run(), rules, T0 - timedelta(hours=30))
    assert {j.id: j.at for j in jobs} == {
        "run-7-start": T0,
        "run-7-announce-86400": T0 - timedelta(hours=24),
        "run-7-announce-3600": T0 - timedelta(hours=1),
    }


def test_missed_announcements_collapse_into_one_now() -> None:
    rules = replace(
        RULES, announce=(timedelta(hours=24), timedelta(hours=1), timedelta(minutes=10))
    )
    now = T0 - timedelta(minutes=30)
    ids = {j.id: j.at for j in jobs_for_run(make_run(), rules, now)}
    assert ids == {
        "run-7-start": T0,
        "run-7-announce-600": T0 - timedelta(minutes=10),
        "run-7-announce-0": now,
    }


def test_an_announced_run_is_not_announced_again_for_a_missed_lead() -> None:
    rules = replace(RULES, announce=(timedelta(hours=1),))
    jobs = jobs_for_run(make_run(RunState.ANNOUNCED), rules, T0 - timedelta(minutes=30))
    assert [j.id for j in jobs] == ["run-7-start"]


def test_a_run_past_its_moment_keeps_a_start_job_so_its_skip_is_recorded() -> None:
    jobs = jobs_for_run(make_run(), RULES, T0 + timedelta(hours=3))
    assert [(j.id, j.at) for j in jobs] == [("run-7-start", T0)]


@pytest.mark.parametrize("state", [RunState.RUNNING, RunState.COMPLETED, RunState.SKIPPED])
def test_runs_that_started_or_ended_get_no_jobs(state: RunState) -> None:
    assert jobs_for_run(make_run(state), RULES, T0 - timedelta(hours=1)) == []


def test_an_approval_request_expires_its_deadline_after_the_first_announcement() -> None:
    jobs = {j.action: j.at for j in jobs_for_run(make_run(), APPROVAL, T0 - timedelta(hours=2))}
    assert jobs[JobAction.EXPIRE] == T0 - timedelta(minutes=30)


def test_runs_of_unknown_schedules_get_no_jobs() -> None:
    orphan = replace(make_run(run_id=8), schedule="gone")
    assert set(desired_jobs([make_run(), orphan], {"weekly": RULES}, T0 - timedelta(hours=1))) == {
        "run-7-start"
    }


def test_diff_applies_only_the_differences() -> None:
    desired = {
        "run-1-start": Job(1, JobAction.START, T0),
        "run-2-start": Job(2, JobAction.START, T0 + timedelta(hours=1)),
    }
    current = {
        "run-1-start": T0,
        "run-2-start": T0,
        "run-3-start": T0,
    }
    diff = diff_jobs(current, desired)
    assert [j.id for j in diff.add] == ["run-2-start"]
    assert diff.remove == ("run-3-start",)
    assert diff_jobs({k: j.at for k, j in desired.items()}, desired).add == ()


@pytest.mark.parametrize(
    ("ctx", "rules", "state", "code", "final"),
    [
        (
            FireContext(now=T0, kill_switch=(True, "incident 42")),
            RULES,
            RunState.PLANNED,
            SkipCode.KILL_SWITCH,
            RunState.SKIPPED,
        ),
        (
            FireContext(now=T0, paused=True),
            RULES,
            RunState.PLANNED,
            SkipCode.PAUSED,
            RunState.SKIPPED,
        ),
        (
            FireContext(now=T0 + timedelta(seconds=31)),
            RULES,
            RunState.PLANNED,
            SkipCode.LATE,
            RunState.SKIPPED,
        ),
        (
            FireContext(now=T0, window_closed="holiday in JP"),
            RULES,
            RunState.PLANNED,
            SkipCode.WINDOW_CLOSED,
            RunState.SKIPPED,
        ),
        (
            FireContext(now=T0, planning_skip="no targets"),
            RULES,
            RunState.PLANNED,
            SkipCode.PLANNING,
            RunState.SKIPPED,
        ),
        (
            FireContext(now=T0),
            APPROVAL,
            RunState.AWAITING_APPROVAL,
            SkipCode.NOT_APPROVED,
            RunState.EXPIRED,
        ),
        (FireContext(now=T0), APPROVAL, RunState.PLANNED, SkipCode.NOT_APPROVED, RunState.SKIPPED),
    ],
    ids=["kill-switch", "paused", "late", "window", "planning", "unanswered", "never-asked"],
)
def test_start_verdict_refuses_with_the_reason(
    ctx: FireContext, rules: ScheduleRules, state: RunState, code: SkipCode, final: RunState
) -> None:
    verdict = start_verdict(make_run(state), rules, ctx)
    assert (verdict.go, verdict.code, verdict.final_state) == (False, code, final)
    assert verdict.reason


def test_kill_switch_reason_and_lateness_are_in_words() -> None:
    assert "incident 42" in (
        start_verdict(
            make_run(), RULES, FireContext(now=T0, kill_switch=(True, "incident 42"))
        ).reason
        or ""
    )
    late = start_verdict(make_run(), RULES, FireContext(now=T0 + timedelta(minutes=5)))
    assert late.reason == "missed its moment by 5m (tolerance 30s); never run late"


@pytest.mark.parametrize(
    ("rules", "state", "now"),
    [
        (RULES, RunState.PLANNED, T0),
        (RULES, RunState.ANNOUNCED, T0 + timedelta(seconds=29)),
        (APPROVAL, RunState.APPROVED, T0 + timedelta(seconds=5)),
    ],
)
def test_start_verdict_lets_a_run_go_when_every_rule_holds(
    rules: ScheduleRules, state: RunState, now: datetime
) -> None:
    assert start_verdict(make_run(state), rules, FireContext(now=now)).go
