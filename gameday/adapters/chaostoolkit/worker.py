"""The worker process: `python -m gameday.adapters.chaostoolkit.worker RUN_ID`.

One process per run, because chaoslib's Runner installs signal handlers and so must own
the main thread: SIGUSR1 interrupts the current activity and plays the rollbacks (a halt),
SIGTERM interrupts too and is what a hard stop sends first. The worker loads the run,
checks its runbook against the recorded digest, loads the experiment, configuration and
secrets the way `chaos run` does, runs it with chaoslib's Runner while streaming events,
stores the whole journal with secrets redacted, and moves the run to the state the journal
stands for.

`--rollbacks-only` plays only the runbook's rollbacks (crash recovery of a dead worker).

`--lifeline` (and every worker started on standby): stdin is the supervisor's pipe; when
the supervisor dies the run is interrupted with its rollbacks and ends `interrupted`, its
channel told (see gameday.adapters.chaostoolkit.lifeline): a GameDay never carries on
without anyone to time it out or halt it.

Exit codes: 0 completed, 1 deviated or failed, 2 aborted, interrupted or not runnable.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gameday.adapters.chaostoolkit.events import EventWriter, StreamingHandler
from gameday.adapters.chaostoolkit.lifeline import Lifeline, end_messages, interrupt_when_lost
from gameday.adapters.chaostoolkit.redaction import Redactor, secret_values
from gameday.adapters.chaostoolkit.runbooks import resolve_runbook
from gameday.domain import execution as ex
from gameday.domain.errors import GamedayError, InvalidInput
from gameday.domain.outcome import chaos_status, exit_code_for, state_for
from gameday.domain.ports import RunRepository
from gameday.domain.runs import OutgoingMessage, Run, RunState

ACTOR = "worker"
NOT_RUNNABLE = 2
CRASHED = 3
STANDBY = "--standby"
LIFELINE = "--lifeline"
log = logging.getLogger("gameday.worker")

# Signals that arrive while chaoslib's own handlers are not installed (start-up, the
# end of the run) are only counted here; chaoslib restores these handlers after a run.
_signals: list[int] = []


def _count_signal(signum: int, frame: object) -> None:
    _signals.append(signum)


_lifeline: Lifeline | None = None


def _orphaned() -> bool:
    return _lifeline is not None and _lifeline.lost.is_set()


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


def _database_url() -> str:
    # The supervisor always passes the resolved URL; reading it directly keeps the
    # settings machinery out of the worker's start-up.
    url = os.environ.get("GAMEDAY_DATABASE_URL")
    if not url:
        from gameday.settings import Settings

        url = Settings().resolved_database_url()
    return url


def open_runs() -> RunRepository:
    """The run repository of the database the supervisor passed in GAMEDAY_* variables."""
    from gameday.adapters.db.engine import make_engine
    from gameday.adapters.db.runs import SqlRunRepository

    return SqlRunRepository(make_engine(_database_url()))


def _end_messages_or_none(run: Run, outcome: str) -> list[OutgoingMessage]:
    try:
        return end_messages(run, outcome, home=home_folder(), database_url=_database_url())
    except Exception:
        # The run's end matters more than its announcement: record it regardless.
        log.exception("gameday worker: could not build the end messages of run %d", run.id)
        return []


def home_folder() -> Path:
    """The home folder runbooks are resolved in (GAMEDAY_HOME, else the working folder)."""
    return Path(os.environ.get("GAMEDAY_HOME") or Path.cwd())


def chaostoolkit_settings() -> dict[str, Any]:
    """Chaos Toolkit's own settings file, as `chaos run` reads it (controls, auths);
    GAMEDAY_CHAOSTOOLKIT_SETTINGS names another file."""
    from chaoslib.settings import CHAOSTOOLKIT_CONFIG_PATH, load_settings

    path = os.environ.get("GAMEDAY_CHAOSTOOLKIT_SETTINGS") or CHAOSTOOLKIT_CONFIG_PATH
    return dict(load_settings(path) or {})


def experiment_vars(run_options: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(configuration, secrets) overrides as `chaos run --var k[:type]=v` gives them."""
    from chaoslib import convert_vars, merge_vars

    raw = list((run_options or {}).get("var") or [])
    config_vars, secret_vars = merge_vars(convert_vars(raw), None)
    return dict(config_vars), dict(secret_vars)


def load_runbook(runs: RunRepository, run: Run, settings: dict[str, Any]) -> dict[str, Any]:
    """The run's experiment, loaded and validated as `chaos run` does; the file must still
    have the digest the run recorded."""
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid
    from chaoslib.loader import load_experiment

    if not run.runbook:
        raise InvalidInput(f"run {run.id} names no runbook")
    path = resolve_runbook(home_folder(), run.runbook)
    if not ex.digest_matches(run.runbook_digest, path.read_bytes()):
        raise InvalidInput(
            f"runbook {run.runbook} changed since run {run.id} was planned (digest differs)"
        )
    try:
        experiment = dict(load_experiment(str(path), settings))
        ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise InvalidInput(f"runbook {run.runbook} is not valid: {exc}") from None
    return experiment


def force_dry(experiment: dict[str, Any]) -> None:
    """Dry run for every activity: chaoslib lets an activity carry its own `dry` value,
    which would otherwise override the experiment's, so each is set to `activities`."""
    from chaoslib.types import Dry

    experiment["dry"] = Dry.ACTIVITIES
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    for block in (hypothesis.get("probes"), experiment.get("method"), experiment.get("rollbacks")):
        for activity in block or []:
            if isinstance(activity, dict) and "dry" in activity:
                activity["dry"] = Dry.ACTIVITIES


def hypothesis_strategy(experiment: Mapping[str, Any]) -> Any:
    """chaoslib's steady-state strategy from the runbook's `runtime.hypothesis.strategy`."""
    from chaoslib.types import Strategy

    runtime = experiment.get("runtime") or {}
    name = ((runtime.get("hypothesis") or {}) if isinstance(runtime, Mapping) else {}).get(
        "strategy", "default"
    )
    if name == "continously":  # `chaos run` accepts this old spelling too
        name = "continuously"
    try:
        return Strategy.from_string(name)
    except ValueError:
        raise InvalidInput(f"invalid hypothesis strategy {name!r}") from None


def _worker_info(run: Run, strategy: str) -> dict[str, Any]:
    from chaoslib import __version__ as chaoslib_version

    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "dry_run": run.dry_run,
        "runbook": run.runbook,
        "rollback_strategy": strategy,
        "chaoslib_version": chaoslib_version,
    }


def execute(runs: RunRepository, run: Run) -> int:
    """Run the experiment of a `running` run to its end; return the worker's exit code."""
    from chaoslib.control import load_global_controls
    from chaoslib.run import Runner
    from chaoslib.types import Schedule

    redactor = Redactor()
    _configure_logging(redactor)
    events = runs.events(run.id)
    settings = chaostoolkit_settings()
    try:
        experiment = load_runbook(runs, run, settings)
        config_vars, secret_vars = experiment_vars(ex.last_payload(events, ex.RUN_OPTIONS))
        strategy = ex.rollback_strategy_for(experiment)
        ssh_strategy = hypothesis_strategy(experiment)
    except (GamedayError, OSError, ValueError) as exc:
        return _not_runnable(runs, run, str(exc))
    redactor.add(secret_values(experiment.get("secrets")))
    redactor.add(secret_values(secret_vars))
    runs.append_event(run.id, ex.WORKER_STARTED, actor=ACTOR, payload=_worker_info(run, strategy))
    load_global_controls(settings)  # controls declared in Chaos Toolkit's settings

    # chaoslib reads the rollback strategy from the runtime settings (as `chaos run` sets
    # them); gameday's default is `always`, see gameday.domain.execution.
    runtime = settings.setdefault("runtime", {})
    runtime.setdefault("rollbacks", {})["strategy"] = strategy
    if run.dry_run:
        force_dry(experiment)
    else:
        experiment["dry"] = None

    writer = EventWriter(
        lambda type_, payload: runs.append_event(run.id, type_, actor=ACTOR, payload=payload)
    )

    class _Runner(Runner):  # type: ignore[misc]
        # chaoslib logs the experiment's title, with secrets substituted, right after it
        # resolves them; learn the values first so that log line is redacted too.
        def configure(self, *args: Any, **kwargs: Any) -> None:
            super().configure(*args, **kwargs)
            redactor.add(secret_values(self.secrets))

    with _Runner(ssh_strategy, Schedule()) as runner:
        handler = StreamingHandler(writer, redactor, runner, before_start=_stop_if_halted)
        runner.register_event_handler(handler)
        try:
            _stop_if_halted()
            journal = runner.run(experiment, settings, experiment_vars=(config_vars, secret_vars))
        except SystemExit:
            writer.close()
            if _orphaned() and not any(e.type in ex.STOP_REQUESTS for e in runs.events(run.id)):
                assert _lifeline is not None
                reason = f"{_lifeline.cause()} before the experiment began; nothing ran"
                state = _finish(runs, run, RunState.INTERRUPTED, reason, {"supervisor_lost": True})
                return exit_code_for(state)
            state = _finish(runs, run, RunState.ABORTED, "halted before the experiment began", {})
            return exit_code_for(state)
        except Exception as exc:  # chaoslib raises before the run starts (e.g. a secret)
            writer.close()
            return _not_runnable(runs, run, redactor.text(f"{type(exc).__name__}: {exc}"))
    writer.close()

    if run.dry_run:
        journal.setdefault("experiment", {})["dry"] = "activities"
    stored = redactor.data(journal)
    runs.store_journal(run.id, stored)
    lost = _orphaned()
    halted = lost and any(e.type in ex.STOP_REQUESTS for e in runs.events(run.id))
    state = state_for(stored, supervisor_lost=lost, halted=halted)
    payload: dict[str, Any] = {
        "chaos_status": chaos_status(stored),
        "deviated": bool(stored.get("deviated")),
        "dry_run": run.dry_run,
    }
    reason = f"Chaos Toolkit ended with {chaos_status(stored)}"
    if state is RunState.INTERRUPTED and _lifeline is not None:
        statuses = [r.get("status", "interrupted") for r in stored.get("rollbacks") or []]
        played = (
            f"its rollbacks played ({', '.join(statuses)})" if statuses else "it has no rollbacks"
        )
        reason = f"{_lifeline.cause()}; the worker interrupted the run and {played}"
        payload["supervisor_lost"] = True
    return exit_code_for(_finish(runs, run, state, reason, payload))


def rollbacks_only(runs: RunRepository, run: Run) -> int:
    """Play the rollbacks of a run whose worker died (recovery); 0 when all succeeded."""
    from concurrent.futures import ThreadPoolExecutor

    from chaoslib.rollback import run_rollbacks
    from chaoslib.run import EventHandlerRegistry, Runner, initialize_run_journal
    from chaoslib.types import Dry

    redactor = Redactor()
    _configure_logging(redactor)
    settings = chaostoolkit_settings()
    events = runs.events(run.id)
    experiment = load_runbook(runs, run, settings)
    config_vars, secret_vars = experiment_vars(ex.last_payload(events, ex.RUN_OPTIONS))
    redactor.add(secret_values(experiment.get("secrets")))
    if ex.rollback_strategy_for(experiment) == "never":
        runs.append_event(run.id, ex.ROLLBACK_SKIPPED, actor=ACTOR, payload={"strategy": "never"})
        return 0
    runner = Runner(None)
    runner.configure(experiment, settings, (config_vars, secret_vars))
    redactor.add(secret_values(runner.secrets))
    dry = Dry.ACTIVITIES if run.dry_run else None
    if run.dry_run:
        force_dry(experiment)
    writer = EventWriter(
        lambda type_, payload: runs.append_event(run.id, type_, actor=ACTOR, payload=payload)
    )
    handler = StreamingHandler(writer, redactor, runner)
    registry = EventHandlerRegistry()
    registry.register(handler)
    background = sum(1 for a in experiment.get("rollbacks") or [] if a.get("background"))
    pool = ThreadPoolExecutor(background) if background else None
    journal = initialize_run_journal(experiment)
    journal["status"] = "interrupted"
    rollback_runs: list[dict[str, Any]] = []
    handler.start_rollbacks(experiment)
    try:
        for item in run_rollbacks(
            experiment, runner.config, runner.secrets, pool, dry, registry, rollback_runs
        ):
            if hasattr(item, "result"):
                item.result()
    finally:
        if pool:
            pool.shutdown(wait=True)
        journal["rollbacks"] = rollback_runs
        handler.rollbacks_completed(experiment, journal)
        writer.close()
    if runs.journal(run.id) is None:
        if run.dry_run:
            journal["experiment"]["dry"] = "activities"
        runs.store_journal(run.id, redactor.data(journal))
    return 0 if all(r.get("status") == "succeeded" for r in rollback_runs) else 1


def _stop_if_halted() -> None:
    if signal.SIGUSR1 in _signals or signal.SIGTERM in _signals:
        raise _Stopped


def _not_runnable(runs: RunRepository, run: Run, reason: str) -> int:
    runs.append_event(run.id, ex.WORKER_FAILED, actor=ACTOR, payload={"reason": reason})
    reason = f"the runbook could not be run: {reason}"
    _finish(runs, run, RunState.FAILED, reason, {"invalid": True})
    return NOT_RUNNABLE


def _finish(
    runs: RunRepository, run: Run, state: RunState, reason: str, payload: Mapping[str, Any]
) -> RunState:
    from gameday.services.execution import end_run

    # Someone else (a hard stop, recovery) may have ended the run already: theirs stands.
    ended = end_run(
        runs,
        run.id,
        state,
        actor=ACTOR,
        reason=reason,
        payload=payload,
        end_messages=_end_messages_or_none,
    )
    if _lifeline is not None:
        _lifeline.done.set()
    return ended.state


def main(argv: list[str]) -> int:
    """Entry point: `worker RUN_ID [--rollbacks-only]`."""
    for signum in (signal.SIGUSR1, signal.SIGTERM):
        signal.signal(signum, _count_signal)
    if argv[:1] == [STANDBY]:
        return _standby()
    if not argv or not argv[0].isdigit():
        print(
            "usage: python -m gameday.adapters.chaostoolkit.worker RUN_ID [--rollbacks-only]",
            file=sys.stderr,
        )
        return 2
    return _serve(int(argv[0]), argv[1:])


def _standby() -> int:
    """Get ready (imports, database) before the run exists, then run the RUN_ID read from
    stdin; nothing to do on end of input. Start-up then overlaps the caller's own work."""
    import chaoslib.experiment
    import chaoslib.loader
    import chaoslib.run  # noqa: F401

    runs = open_runs()
    line = sys.stdin.readline().strip()
    if not line.isdigit():
        return 0
    return _serve(int(line), [LIFELINE], runs)


def _serve(run_id: int, options: list[str], runs: RunRepository | None = None) -> int:
    global _lifeline
    try:
        runs = runs or open_runs()
        run = runs.get(run_id)
        if run.state is not RunState.RUNNING:
            print(
                f"gameday worker: run {run_id} is {run.state.value}, not running", file=sys.stderr
            )
            return 2
        if "--rollbacks-only" in options:
            # Recovery is stopped by its supervisor's SIGTERM like any process.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            return rollbacks_only(runs, run)
        if LIFELINE in options:
            _lifeline = interrupt_when_lost(runs, run_id, ACTOR)
        return execute(runs, run)
    except GamedayError as exc:
        print(f"gameday worker: error: {exc}", file=sys.stderr)
        return NOT_RUNNABLE
    except Exception:
        # The traceback goes to the worker's log; the supervisor records the run's end.
        log.exception("gameday worker: run %d stopped on an unexpected error", run_id)
        return CRASHED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
