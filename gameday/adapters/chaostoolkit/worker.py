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
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gameday.adapters.chaostoolkit import loading
from gameday.adapters.chaostoolkit import protocol as wp
from gameday.adapters.chaostoolkit.events import EventWriter, StreamingHandler
from gameday.adapters.chaostoolkit.lifeline import Lifeline, interrupt_when_lost
from gameday.adapters.chaostoolkit.redaction import Redactor, secret_values
from gameday.domain import execution as ex
from gameday.domain.errors import GamedayError
from gameday.domain.outcome import chaos_status, exit_code_for, state_for
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


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redactor.text(record.getMessage())
        record.args = None
        return True


def _configure_logging(redactor: Redactor) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(_RedactingFilter(redactor))
    for name in ("chaostoolkit", "chaostoolkit-lib", "gameday"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False


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
                return self.rollbacks_only(run)
            if wp.LIFELINE in options:
                self.lifeline = interrupt_when_lost(
                    self.runs, run_id, ACTOR, messages=self._told_of(run)
                )
            return self.execute(run)
        except GamedayError as exc:
            print(f"gameday worker: error: {exc}", file=sys.stderr)
            return wp.NOT_RUNNABLE
        except Exception:
            # The traceback goes to the worker's log; the supervisor records the run's end.
            log.exception("gameday worker: run %d stopped on an unexpected error", run_id)
            return wp.CRASHED

    # -- the run -------------------------------------------------------------------------
    def _dry(self, run: Run) -> bool:
        # The safer of the run's recorded mode and the supervising service's wins.
        return run.dry_run or not self.deps.live

    def execute(self, run: Run) -> int:
        """Run the experiment of a `running` run to its end; return the exit code."""
        from chaoslib.control import load_global_controls
        from chaoslib.run import Runner
        from chaoslib.types import Schedule

        redactor = Redactor()
        _configure_logging(redactor)
        events = self.runs.events(run.id)
        dry = self._dry(run)
        try:
            settings = loading.chaostoolkit_settings(self.deps.chaostoolkit_settings)
            # Var files first, as `chaos run` reads them: a `.env` one sets variables the
            # validation of `env` configuration already needs.
            config_vars, secret_vars = loading.experiment_vars(
                ex.last_payload(events, ex.RUN_OPTIONS)
            )
            experiment, stripped = loading.load_runbook(
                self.deps.home, run, settings, without_controls=dry
            )
            strategy = ex.rollback_strategy_for(experiment)
            ssh_strategy = loading.hypothesis_strategy(experiment)
        except (GamedayError, OSError, ValueError) as exc:
            return self._not_runnable(run, str(exc))
        redactor.add(secret_values(experiment.get("secrets")))
        redactor.add(secret_values(secret_vars))
        self.runs.append_event(
            run.id, ex.WORKER_STARTED, actor=ACTOR, payload=_worker_info(run, strategy, dry)
        )
        skipped_controls = self._controls(run, stripped, settings, dry)
        if not dry:
            load_global_controls(settings)  # controls declared in Chaos Toolkit's settings

        # chaoslib reads the rollback strategy from the runtime settings (as `chaos run`
        # sets them); gameday's default is `always`, see gameday.domain.execution.
        runtime = settings.setdefault("runtime", {})
        runtime.setdefault("rollbacks", {})["strategy"] = strategy
        if dry:
            loading.force_dry(experiment)
        else:
            experiment["dry"] = None

        writer = EventWriter(self._appender(run))
        refused: list[str] = []
        uninstall = self.deps.install_guard(dry, self._on_refused(writer, refused))

        class _Runner(Runner):  # type: ignore[misc]
            # chaoslib logs the experiment's title, with secrets substituted, right after
            # it resolves them; learn the values first so that log line is redacted too.
            def configure(self, *args: Any, **kwargs: Any) -> None:
                super().configure(*args, **kwargs)
                redactor.add(secret_values(self.secrets))

        try:
            with _Runner(ssh_strategy, Schedule()) as runner:
                handler = StreamingHandler(
                    writer, redactor, runner, before_start=self._stop_if_halted
                )
                runner.register_event_handler(handler)
                try:
                    self._stop_if_halted()
                    with loading.activity_cache(experiment):
                        journal = runner.run(
                            experiment, settings, experiment_vars=(config_vars, secret_vars)
                        )
                except SystemExit:
                    writer.close()
                    return self._stopped_before_start(run)
                except Exception as exc:  # chaoslib raises before the run starts (a secret)
                    writer.close()
                    return self._not_runnable(run, redactor.text(f"{type(exc).__name__}: {exc}"))
        finally:
            uninstall()
        writer.close()

        if dry:
            journal.setdefault("experiment", {})["dry"] = "activities"
            journal["gameday"] = {"dry_run": True, "controls_skipped": skipped_controls}
        stored = redactor.data(journal)
        self.runs.store_journal(run.id, stored)
        return exit_code_for(self._end(run, stored, refused))

    def _controls(
        self, run: Run, stripped: list[str], settings: dict[str, Any], dry: bool
    ) -> list[str]:
        """In a dry run, no control executes: those of the runbook were stripped when it
        was loaded, those of Chaos Toolkit's settings are dropped here; both recorded."""
        if not dry:
            return []
        names = sorted(set(loading.global_control_names(settings)) | set(stripped))
        settings.pop("controls", None)
        if names:
            self.runs.append_event(
                run.id,
                ex.CONTROLS_SKIPPED,
                actor=ACTOR,
                payload={"controls": names, "why": "a dry run executes no controls"},
            )
        return names

    def _on_refused(self, writer: EventWriter, refused: list[str]) -> OnRefused:
        def refuse(method: str, path: str, reason: str) -> None:
            first = not refused
            refused.append(reason)
            writer.put(ex.REQUEST_REFUSED, {"method": method, "path": path, "reason": reason})
            if first:
                # The run stops as a halt stops it, whatever the extension does with the
                # error: chaoslib interrupts the activity and plays the rollbacks.
                os.kill(os.getpid(), wp.HALT_SIGNAL)

        return refuse

    def _end(self, run: Run, stored: Mapping[str, Any], refused: list[str]) -> RunState:
        lost = self._orphaned()
        events = self.runs.events(run.id)
        halted = lost and any(e.type in ex.STOP_REQUESTS for e in events)
        state = state_for(stored, supervisor_lost=lost, halted=halted)
        payload: dict[str, Any] = {
            "chaos_status": chaos_status(stored),
            "deviated": bool(stored.get("deviated")),
            "dry_run": self._dry(run),
        }
        reason = f"Chaos Toolkit ended with {chaos_status(stored)}"
        stop = ex.last_stop_request(events)
        if state is RunState.ABORTED and stop is not None:
            reason = f"{ex.describe_stop(stop)}; {_rollbacks_summary(stored)}"
        if refused:
            state = RunState.ABORTED if state is not RunState.INTERRUPTED else state
            reason = f"stopped: gameday refused a Kubernetes request ({refused[0]})"
            payload["request_refused"] = refused[0]
        if state is RunState.INTERRUPTED and self.lifeline is not None:
            played = _rollbacks_summary(stored)
            reason = f"{self.lifeline.cause()}; the worker interrupted the run and {played}"
            payload["supervisor_lost"] = True
        return self._finish(run, state, reason, payload)

    def _stopped_before_start(self, run: Run) -> int:
        events = self.runs.events(run.id)
        if self._orphaned() and not any(e.type in ex.STOP_REQUESTS for e in events):
            assert self.lifeline is not None
            reason = f"{self.lifeline.cause()} before the experiment began; nothing ran"
            state = self._finish(run, RunState.INTERRUPTED, reason, {"supervisor_lost": True})
            return exit_code_for(state)
        state = self._finish(run, RunState.ABORTED, "halted before the experiment began", {})
        return exit_code_for(state)

    # -- recovery ------------------------------------------------------------------------
    def rollbacks_only(self, run: Run) -> int:
        """Play the rollbacks of a run whose worker died (recovery); 0 when all succeeded."""
        from concurrent.futures import ThreadPoolExecutor

        from chaoslib.rollback import run_rollbacks
        from chaoslib.run import EventHandlerRegistry, Runner, initialize_run_journal
        from chaoslib.types import Dry

        redactor = Redactor()
        _configure_logging(redactor)
        settings = loading.chaostoolkit_settings(self.deps.chaostoolkit_settings)
        events = self.runs.events(run.id)
        dry_run = self._dry(run)
        try:
            config_vars, secret_vars = loading.experiment_vars(
                ex.last_payload(events, ex.RUN_OPTIONS)
            )
        except GamedayError as exc:
            # Recovery records why it could not play the rollbacks (a var file changed).
            reason = f"recovery could not play the rollbacks: {exc}"
            self.runs.append_event(
                run.id, ex.WORKER_FAILED, actor=ACTOR, payload={"reason": reason}
            )
            raise
        experiment, _ = loading.load_runbook(self.deps.home, run, settings, without_controls=True)
        redactor.add(secret_values(experiment.get("secrets")))
        redactor.add(secret_values(secret_vars))
        if ex.rollback_strategy_for(experiment) == "never":
            self.runs.append_event(
                run.id, ex.ROLLBACK_SKIPPED, actor=ACTOR, payload={"strategy": "never"}
            )
            return 0
        runner = Runner(None)
        runner.configure(experiment, settings, (config_vars, secret_vars))
        redactor.add(secret_values(runner.secrets))
        dry = Dry.ACTIVITIES if dry_run else None
        if dry_run:
            loading.force_dry(experiment)
        writer = EventWriter(self._appender(run))
        uninstall = self.deps.install_guard(dry_run, lambda *_: None)
        handler = StreamingHandler(writer, redactor, runner, dry=dry)
        registry = EventHandlerRegistry()
        registry.register(handler)
        background = sum(1 for a in experiment.get("rollbacks") or [] if a.get("background"))
        pool = ThreadPoolExecutor(background) if background else None
        journal = initialize_run_journal(experiment)
        journal["status"] = "interrupted"
        rollback_runs: list[dict[str, Any]] = []
        handler.start_rollbacks(experiment)
        try:
            with loading.activity_cache(experiment):
                for item in run_rollbacks(
                    experiment, runner.config, runner.secrets, pool, dry, registry, rollback_runs
                ):
                    if hasattr(item, "result"):
                        item.result()
        finally:
            if pool:
                pool.shutdown(wait=True)
            uninstall()
            journal["rollbacks"] = rollback_runs
            handler.rollbacks_completed(experiment, journal)
            writer.close()
        if self.runs.journal(run.id) is None:
            if dry_run:
                journal["experiment"]["dry"] = "activities"
            self.runs.store_journal(run.id, redactor.data(journal))
        return 0 if all(r.get("status") == "succeeded" for r in rollback_runs) else 1

    # -- internals -----------------------------------------------------------------------
    def _orphaned(self) -> bool:
        return self.lifeline is not None and self.lifeline.lost.is_set()

    def _stop_if_halted(self) -> None:
        if self.signals.halted():
            raise _Stopped

    def _not_runnable(self, run: Run, reason: str) -> int:
        self.runs.append_event(run.id, ex.WORKER_FAILED, actor=ACTOR, payload={"reason": reason})
        reason = f"the runbook could not be run: {reason}"
        self._finish(run, RunState.FAILED, reason, {"invalid": True})
        return wp.NOT_RUNNABLE

    def _finish(
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

    def _appender(self, run: Run) -> Callable[[str, Mapping[str, Any]], object]:
        """Appends one of the run's events with its thread line, in one transaction."""
        told = self._told_of(run)

        def append(type_: str, payload: Mapping[str, Any]) -> object:
            return self.runs.append_event(
                run.id, type_, actor=ACTOR, payload=payload, messages=told(type_, payload)
            )

        return append


def _worker_info(run: Run, strategy: str, dry: bool) -> dict[str, Any]:
    from chaoslib import __version__ as chaoslib_version

    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "dry_run": dry,
        "runbook": run.runbook,
        "rollback_strategy": strategy,
        "chaoslib_version": chaoslib_version,
    }


def _rollbacks_summary(journal: Mapping[str, Any]) -> str:
    statuses = [r.get("status", "interrupted") for r in journal.get("rollbacks") or []]
    return f"its rollbacks played ({', '.join(statuses)})" if statuses else "it has no rollbacks"
