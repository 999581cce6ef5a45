"""The worker process: one GameDay run, executed with chaoslib's Runner.

One process per run, because chaoslib's Runner installs signal handlers and so must own
the main thread (see `protocol` for the flags, signals and exit codes). Its dependencies
come from its own composition root, `gameday.wiring.worker`.

The worker loads the run, checks its runbook against the recorded digest, loads the
experiment, configuration and secrets the way `chaos run` does, and runs it while
streaming events, with two safety layers of its own:
- dry or live: the run's recorded mode and the supervising service's mode, the safer
  wins; a dry run makes every activity dry and executes no controls (recorded as
  `controls_skipped`);
- every Kubernetes request of the process passes the request guard: a refused request
  fails its activity, is recorded as `request_refused`, and stops the run as a halt does
  (rollbacks play), whatever extension made it.
It stores the whole journal with secrets redacted and moves the run to the state the
journal stands for, telling the channel the run's start recorded.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gameday.adapters.chaostoolkit import protocol as wp
from gameday.adapters.chaostoolkit.experiment import execute
from gameday.adapters.chaostoolkit.lifeline import Lifeline, interrupt_when_lost
from gameday.adapters.chaostoolkit.rollbacks import rollbacks_only
from gameday.domain import execution as ex
from gameday.domain.errors import GamedayError
from gameday.domain.ports import RunRepository
from gameday.domain.runs import OutgoingMessage, Run, RunEvent, RunState
from gameday.services.run_end import end_run
from gameday.services.run_updates import RecordedChannel

ACTOR = ex.WORKER_ACTOR
log = logging.getLogger("gameday.worker")

# Called by the request guard with (method, path, reason) of a refused request.
OnRefused = Callable[[str, str, str], None]
# Installs the request guard for a run (dry_run, on_refused); returns its uninstall.
GuardInstaller = Callable[[bool, OnRefused], Callable[[], None]]


@dataclass(frozen=True)
class WorkerDeps:
    """What a worker needs, built by its composition root."""

    runs: RunRepository
    home: Path
    live: bool  # the supervising service's mode: a run is live only if this is too
    install_guard: GuardInstaller
    channel: RecordedChannel  # how the run's channel is told (as its start recorded)
    chaostoolkit_settings: Path | None = None


class SignalCounter:
    """Counts halts and stops that arrive while chaoslib's own handlers are not installed
    (start-up, the end of the run); chaoslib restores these handlers after a run."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def install(self) -> SignalCounter:
        """Count SIGUSR1 and SIGTERM from now on."""
        for signum in (wp.HALT_SIGNAL, wp.STOP_SIGNAL):
            signal.signal(signum, self._count)
        return self

    def _count(self, signum: int, frame: object) -> None:
        self.seen.append(signum)

    def halted(self) -> bool:
        """True once a halt or a stop arrived."""
        return wp.HALT_SIGNAL in self.seen or wp.STOP_SIGNAL in self.seen


class _Stopped(SystemExit):
    """A halt arrived before the experiment began: nothing ran.

    A SystemExit, like chaoslib's own interrupt, so chaoslib's handler registry (which
    swallows ordinary exceptions of handlers) lets it through."""


class Worker:
    """One worker process's state: its signals, its lifeline and its dependencies."""

    def __init__(self, deps: WorkerDeps, signals: SignalCounter) -> None:
        self.deps = deps
        self.signals = signals
        self.lifeline: Lifeline | None = None

    @property
    def runs(self) -> RunRepository:
        """The run repository of the supervisor's database."""
        return self.deps.runs

    # -- entry ---------------------------------------------------------------------------
    def main(self, argv: list[str]) -> int:
        """`RUN_ID [--lifeline|--rollbacks-only]` or `--standby`; the exit code."""
        if argv[:1] == [wp.STANDBY]:
            return self.standby()
        if not argv or not argv[0].isdigit():
            print(wp.USAGE, file=sys.stderr)
            return 2
        return self.serve(int(argv[0]), argv[1:])

    def standby(self) -> int:
        """Get ready (imports, database) before the run exists, then run the RUN_ID read
        from stdin; nothing to do on end of input. Start-up then overlaps the caller's."""
        import chaoslib.experiment
        import chaoslib.loader
        import chaoslib.run  # noqa: F401

        line = sys.stdin.readline().strip()
        if not line.isdigit():
            return 0
        return self.serve(int(line), [wp.LIFELINE])

    def serve(self, run_id: int, options: list[str]) -> int:
        """Run (or recover) one run; the exit code."""
        try:
            run = self.runs.get(run_id)
            if run.state is not RunState.RUNNING:
                print(
                    f"gameday worker: run {run_id} is {run.state.value}, not running",
                    file=sys.stderr,
                )
                return 2
            if wp.ROLLBACKS_ONLY in options:
                # Recovery is stopped by its supervisor's SIGTERM like any process.
                signal.signal(wp.STOP_SIGNAL, signal.SIG_DFL)
                return rollbacks_only(self, run)
            if wp.LIFELINE in options:
                self.lifeline = interrupt_when_lost(
                    self.runs, run_id, ACTOR, messages=self._told_of(run)
                )
            return execute(self, run)
        except GamedayError as exc:
            print(f"gameday worker: error: {exc}", file=sys.stderr)
            return wp.NOT_RUNNABLE
        except Exception:
            # The traceback goes to the worker's log; the supervisor records the run's end.
            log.exception("gameday worker: run %d stopped on an unexpected error", run_id)
            return wp.CRASHED

    # -- the run -------------------------------------------------------------------------
    def dry(self, run: Run) -> bool:
        # The safer of the run's recorded mode and the supervising service's wins.
        return run.dry_run or not self.deps.live

    # -- internals -----------------------------------------------------------------------
    def orphaned(self) -> bool:
        return self.lifeline is not None and self.lifeline.lost.is_set()

    def stop_if_halted(self) -> None:
        if self.signals.halted():
            raise _Stopped

    def not_runnable(self, run: Run, reason: str) -> int:
        self.runs.append_event(run.id, ex.WORKER_FAILED, actor=ACTOR, payload={"reason": reason})
        reason = f"the runbook could not be run: {reason}"
        self.finish(run, RunState.FAILED, reason, {"invalid": True})
        return wp.NOT_RUNNABLE

    def finish(
        self, run: Run, state: RunState, reason: str, payload: Mapping[str, Any]
    ) -> RunState:
        # Someone else (a hard stop, recovery) may have ended the run already: theirs stands.
        ended = end_run(
            self.runs,
            run.id,
            state,
            actor=ACTOR,
            reason=reason,
            payload=payload,
            end_messages=self._end_messages,
        )
        if self.lifeline is not None:
            self.lifeline.done.set()
        return ended.state

    def _end_messages(self, run: Run, outcome: str, reason: str) -> list[OutgoingMessage]:
        try:
            return self.deps.channel.end_messages(run, outcome, reason)
        except Exception:
            # The run's end matters more than its message: record it regardless.
            log.exception("gameday worker: could not build the end messages of run %d", run.id)
            return []

    def _told_of(self, run: Run) -> Callable[[str, Mapping[str, Any]], list[OutgoingMessage]]:
        """The thread line of one of this worker's events (none when it cannot be built:
        the event matters more than its message)."""

        def messages(type_: str, payload: Mapping[str, Any]) -> list[OutgoingMessage]:
            event = RunEvent(run.id, 0, datetime.now(UTC), type_, ACTOR, payload)
            try:
                return self.deps.channel.event_messages(run, event)
            except Exception:
                log.exception("gameday worker: no thread line for %s of run %d", type_, run.id)
                return []

        return messages

    def appender(self, run: Run) -> Callable[[str, Mapping[str, Any]], object]:
        """Appends one of the run's events with its thread line, in one transaction."""
        told = self._told_of(run)

        def append(type_: str, payload: Mapping[str, Any]) -> object:
            return self.runs.append_event(
                run.id, type_, actor=ACTOR, payload=payload, messages=told(type_, payload)
            )

        return append
