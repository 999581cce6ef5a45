"""The Chaos Monkey's two ways to kill: now, interactively (`kill_once`, `gameday monkey
--once`: refused outside the window, its own heads-up and veto), and as planned by the
service (`kill_run`: the scheduler announced it and approved it).

Rules:
- outside the schedule's window an interactive kill is refused (WindowClosed names the
  next open time) and nothing is recorded;
- a planned kill goes through the same cycle without a second heads-up: it is skipped when
  no heads-up was announced or the announcement came too late to wait out, and a veto
  recorded during the heads-up skips it with the vetoer named (the run is already
  approved, so it cannot become rejected);
- a planned kill also needs its heads-up message to have left the outbox (delivered to
  Slack or printed) at least `heads_up` less HEADS_UP_SLACK before the kill: undelivered
  (a Slack outage) or delivered late, it is skipped, since nobody could have vetoed it.
The cycle itself (guards, selection, termination) is `gameday.services.kill_cycle`.
"""

from __future__ import annotations

from datetime import timedelta

from gameday.domain.errors import GamedayError, IllegalTransition, InvalidInput
from gameday.domain.heads_up import HEADS_UP_SLACK, announced_at, undelivered_reason
from gameday.domain.messages import RunBrief, monkey_heads_up
from gameday.domain.run_mode import RunMode, decide_mode
from gameday.domain.runs import MessageKind, NewRun, Run, RunKind, RunState
from gameday.domain.selection import Selection
from gameday.domain.specs import MonkeySpec
from gameday.domain.windows import Window, is_open
from gameday.services.kill_cycle import ACTOR, KillCycle, KillReport, kill_seed


class MonkeyService(KillCycle):
    """Kill cycles for monkey schedules: interactive and planned."""

    def kill_once(
        self,
        spec: MonkeySpec,
        window: Window,
        *,
        seed: int | None = None,
        heads_up: timedelta | None = None,
        requester: str | None = None,
    ) -> KillReport:
        """Run one kill cycle now; see the module docstring for the rules."""
        now = self._clock.now()
        self._refuse_outside(spec, window, now)
        seed = self._seeds.randrange(2**32) if seed is None else seed
        new = NewRun(
            kind=RunKind.MONKEY,
            schedule=spec.name,
            runbook=None,
            planned_at=now,
            dry_run=not self.live,
            seed=seed,
            requester=requester,
        )
        run = self._runs.create(new, actor=requester or ACTOR, reason="monkey kill cycle")
        if run.state is not RunState.PLANNED:
            raise GamedayError(
                f"schedule {spec.name} already has run #{run.id} at {now.isoformat()} "
                f"({run.state.value})"
            )
        wait = spec.heads_up if heads_up is None else heads_up
        mode = decide_mode(planned_dry_run=not self.live, service_live=self.live)
        return self._cycle(
            spec,
            window,
            run,
            seed,
            wait,
            lambda selection: self._announce(spec, window, run, selection, wait, mode),
            mode,
        )

    def _announce(
        self,
        spec: MonkeySpec,
        window: Window,
        run: Run,
        selection: Selection,
        wait: timedelta,
        run_mode: RunMode,
    ) -> KillReport | None:
        picks = ", ".join(f"{p.ref} ({p.workload})" for p in selection.picks)
        verb = "evict" if spec.method == "evict" else "delete"
        mode = "live" if not run_mode.dry_run else "dry run: nothing will be terminated"
        summary = f"Will {verb} {len(selection.picks)} pod(s): {picks} ({mode})."
        brief = RunBrief(
            run=run,
            title=spec.name,
            timezone=window.timezone,
            summary=summary,
            blast_radius=f"{len(selection.picks)} pod(s), max_kills {spec.max_kills}",
        )
        channel = spec.channel or self._default_channel
        message = monkey_heads_up(brief).outgoing(channel, run_id=run.id, kind=MessageKind.HEADS_UP)
        self._runs.transition(
            run.id,
            RunState.ANNOUNCED,
            actor=ACTOR,
            reason=f"heads-up of {int(wait.total_seconds())}s",
            payload={"channel": channel, "heads_up_seconds": int(wait.total_seconds())},
        )
        try:
            self._notifier.notify(message)
        except GamedayError as exc:
            # No kill without its heads-up: nobody could have vetoed it.
            return self._skip(run, f"heads-up could not be delivered: {exc}")
        if wait <= timedelta(0):
            return None
        vetoer = self._veto.wait_for_veto(run.id, wait)
        if vetoer is None:
            return None
        return self._vetoed(run, selection, wait, vetoer, RunState.REJECTED)

    def kill_run(
        self, run: Run, spec: MonkeySpec, window: Window, mode: RunMode | None = None
    ) -> KillReport:
        """Carry out a kill the scheduler planned, announced and approved; see the module
        docstring for the rules. IllegalTransition when the run is no longer approved.

        Rules: live only when the run was planned live and this service is live (`mode`,
        decided by the run flow; by default the same rule here)."""
        if run.kind is not RunKind.MONKEY or run.schedule != spec.name:
            raise InvalidInput(f"run #{run.id} is not a kill of monkey schedule {spec.name}")
        run = self._runs.get(run.id)
        if run.state is not RunState.APPROVED:
            raise IllegalTransition(
                f"run #{run.id} cannot be carried out: it is {run.state.value}, not approved"
            )
        status = is_open(window, self._clock.now())
        if not status.open:
            return self._skip(run, f"window {window.name} closed at kill time ({status.reason})")
        chosen = mode or decide_mode(planned_dry_run=run.dry_run, service_live=self.live)
        return self._cycle(
            spec,
            window,
            run,
            self._seed_of(run),
            spec.heads_up,
            lambda selection: self._planned_veto(spec, run, selection),
            chosen,
        )

    def _seed_of(self, run: Run) -> int:
        if run.seed is None:
            return self._seeds.randrange(2**32)
        return kill_seed(run.seed, run.schedule or "", run.planned_at)

    def _planned_veto(self, spec: MonkeySpec, run: Run, selection: Selection) -> KillReport | None:
        """The heads-up of a planned kill was the scheduler's announcement: check it was
        given, wait out what is left of it, and honour a veto recorded meanwhile."""
        wait = spec.heads_up
        left = timedelta(0)
        if wait > timedelta(0):
            announced = announced_at(self._runs.events(run.id))
            seconds = int(wait.total_seconds())
            if announced is None:
                return self._skip(
                    run,
                    f"no heads-up was announced before the kill (heads_up {seconds}s): "
                    "nobody could have vetoed it",
                )
            left = announced + wait - self._clock.now()
            if left > HEADS_UP_SLACK:
                given = int((wait - left).total_seconds())
                return self._skip(
                    run,
                    f"heads-up too short: announced {given}s before the kill, "
                    f"heads_up is {seconds}s",
                )
        vetoer = self._veto.wait_for_veto(run.id, max(left, timedelta(0)))
        if vetoer is not None:
            return self._vetoed(run, selection, wait, vetoer, RunState.SKIPPED)
        if wait > timedelta(0) and (why := self._undelivered(wait, run)) is not None:
            return self._skip(run, why)
        return None

    def _undelivered(self, wait: timedelta, run: Run) -> str | None:
        """Why the heads-up could not have been seen in time (not delivered, or delivered
        less than `wait` less HEADS_UP_SLACK before now), or None when it could."""
        if self._outbox is None:
            return "heads-up delivery unknown (no outbox to read): nobody could veto"
        return undelivered_reason(self._outbox.of_run(run.id), wait, self._clock.now())
