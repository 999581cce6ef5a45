"""One run's experiment in the worker process, with chaoslib's Runner: loaded as `chaos run`
loads it, made dry when the run is dry (no activity, no control), run under the request
guard, its events streamed, its journal stored redacted, its end recorded.

A refused Kubernetes request stops the run as a halt does (SIGUSR1: chaoslib interrupts the
activity and plays the rollbacks), whatever the extension that made it does with the error.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gameday.adapters.chaostoolkit import loading
from gameday.adapters.chaostoolkit import protocol as wp
from gameday.adapters.chaostoolkit.events import EventWriter, StreamingHandler
from gameday.adapters.chaostoolkit.redaction import Redactor, configure_logging, secret_values
from gameday.adapters.chaostoolkit.resolving import MethodResolver
from gameday.domain import execution as ex
from gameday.domain.drills import METHOD_RESOLVED, recorded_drill
from gameday.domain.errors import GamedayError
from gameday.domain.outcome import chaos_status, exit_code_for, state_for
from gameday.domain.runs import Run, RunState

if TYPE_CHECKING:
    from gameday.adapters.chaostoolkit.worker import OnRefused, Worker

ACTOR = ex.WORKER_ACTOR


def execute(worker: Worker, run: Run) -> int:
    """Run the experiment of a `running` run to its end; return the exit code."""
    from chaoslib.control import load_global_controls
    from chaoslib.run import Runner
    from chaoslib.types import Schedule

    redactor = Redactor()
    configure_logging(redactor)
    events = worker.runs.events(run.id)
    dry = worker.dry(run)
    try:
        settings = loading.chaostoolkit_settings(worker.deps.chaostoolkit_settings)
        # Var files first, as `chaos run` reads them: a `.env` one sets variables the
        # validation of `env` configuration already needs.
        config_vars, secret_vars = loading.experiment_vars(ex.last_payload(events, ex.RUN_OPTIONS))
        experiment, stripped = loading.load_runbook(
            worker.deps.home, run, settings, without_controls=dry
        )
        strategy = ex.rollback_strategy_for(experiment)
        ssh_strategy = loading.hypothesis_strategy(experiment)
    except (GamedayError, OSError, ValueError) as exc:
        return worker.not_runnable(run, str(exc))
    redactor.add(secret_values(experiment.get("secrets")))
    redactor.add(secret_values(secret_vars))
    worker.runs.append_event(
        run.id, ex.WORKER_STARTED, actor=ACTOR, payload=_worker_info(run, strategy, dry)
    )
    skipped_controls = _controls(worker, run, stripped, settings, dry)
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

    writer = EventWriter(worker.appender(run))
    refused: list[str] = []
    uninstall = worker.deps.install_guard(dry, _on_refused(writer, refused))
    drill = recorded_drill(ex.start_record(events)) is not None
    resolver = MethodResolver(lambda when: writer.put(METHOD_RESOLVED, {"when": when}))

    class _Runner(Runner):  # type: ignore[misc]
        # chaoslib logs the experiment's title, with secrets substituted, right after
        # it resolves them; learn the values first so that log line is redacted too.
        def configure(self, *args: Any, **kwargs: Any) -> None:
            super().configure(*args, **kwargs)
            redactor.add(secret_values(self.secrets))

    try:
        with resolver.installed(), _Runner(ssh_strategy, Schedule()) as runner:
            handler = StreamingHandler(
                writer, redactor, runner, before_start=worker.stop_if_halted, drill=drill
            )
            runner.register_event_handler(handler)
            try:
                worker.stop_if_halted()
                with loading.activity_cache(experiment):
                    journal = runner.run(
                        experiment, settings, experiment_vars=(config_vars, secret_vars)
                    )
            except SystemExit:
                writer.close()
                return _stopped_before_start(worker, run)
            except Exception as exc:  # chaoslib raises before the run starts (a secret)
                writer.close()
                return worker.not_runnable(run, redactor.text(f"{type(exc).__name__}: {exc}"))
    finally:
        uninstall()
    writer.close()

    if dry:
        journal.setdefault("experiment", {})["dry"] = "activities"
        journal["gameday"] = {"dry_run": True, "controls_skipped": skipped_controls}
    stored = redactor.data(journal)
    worker.runs.store_journal(run.id, stored)
    return exit_code_for(_end(worker, run, stored, refused, resolved=resolver.requested))


def _controls(
    worker: Worker, run: Run, stripped: list[str], settings: dict[str, Any], dry: bool
) -> list[str]:
    """In a dry run, no control executes: those of the runbook were stripped when it
    was loaded, those of Chaos Toolkit's settings are dropped here; both recorded."""
    if not dry:
        return []
    names = sorted(set(loading.global_control_names(settings)) | set(stripped))
    settings.pop("controls", None)
    if names:
        worker.runs.append_event(
            run.id,
            ex.CONTROLS_SKIPPED,
            actor=ACTOR,
            payload={"controls": names, "why": "a dry run executes no controls"},
        )
    return names


def _on_refused(writer: EventWriter, refused: list[str]) -> OnRefused:
    def refuse(method: str, path: str, reason: str) -> None:
        first = not refused
        refused.append(reason)
        writer.put(ex.REQUEST_REFUSED, {"method": method, "path": path, "reason": reason})
        if first:
            # The run stops as a halt stops it, whatever the extension does with the
            # error: chaoslib interrupts the activity and plays the rollbacks.
            os.kill(os.getpid(), wp.HALT_SIGNAL)

    return refuse


def _end(
    worker: Worker, run: Run, stored: Mapping[str, Any], refused: list[str], *, resolved: bool
) -> RunState:
    lost = worker.orphaned()
    events = worker.runs.events(run.id)
    halted = lost and any(e.type in ex.STOP_REQUESTS for e in events)
    state = state_for(stored, supervisor_lost=lost, halted=halted)
    payload: dict[str, Any] = {
        "chaos_status": chaos_status(stored),
        "deviated": bool(stored.get("deviated")),
        "dry_run": worker.dry(run),
    }
    reason = f"Chaos Toolkit ended with {chaos_status(stored)}"
    stop = ex.last_stop_request(events)
    if state is RunState.ABORTED and stop is not None:
        reason = f"{ex.describe_stop(stop)}; {_rollbacks_summary(stored)}"
    elif resolved and state in (RunState.COMPLETED, RunState.DEVIATED):
        reason = f"{reason}; the drill was resolved: the method ended, {_rollbacks_summary(stored)}"
        payload["drill_resolved"] = True
    if refused:
        state = RunState.ABORTED if state is not RunState.INTERRUPTED else state
        reason = f"stopped: gameday refused a Kubernetes request ({refused[0]})"
        payload["request_refused"] = refused[0]
    if state is RunState.INTERRUPTED and worker.lifeline is not None:
        played = _rollbacks_summary(stored)
        reason = f"{worker.lifeline.cause()}; the worker interrupted the run and {played}"
        payload["supervisor_lost"] = True
    return worker.finish(run, state, reason, payload)


def _stopped_before_start(worker: Worker, run: Run) -> int:
    events = worker.runs.events(run.id)
    if worker.orphaned() and not any(e.type in ex.STOP_REQUESTS for e in events):
        assert worker.lifeline is not None
        reason = f"{worker.lifeline.cause()} before the experiment began; nothing ran"
        state = worker.finish(run, RunState.INTERRUPTED, reason, {"supervisor_lost": True})
        return exit_code_for(state)
    state = worker.finish(run, RunState.ABORTED, "halted before the experiment began", {})
    return exit_code_for(state)


def _worker_info(run: Run, strategy: str, dry: bool) -> dict[str, Any]:
    from chaoslib import __version__ as chaoslib_version

    return {
        "pid": os.getpid(),
        "started": wp.process_started(os.getpid()),
        "host": socket.gethostname(),
        "dry_run": dry,
        "runbook": run.runbook,
        "rollback_strategy": strategy,
        "chaoslib_version": chaoslib_version,
    }


def _rollbacks_summary(journal: Mapping[str, Any]) -> str:
    statuses = [r.get("status", "interrupted") for r in journal.get("rollbacks") or []]
    return f"its rollbacks played ({', '.join(statuses)})" if statuses else "it has no rollbacks"
