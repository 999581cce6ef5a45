"""Crash recovery in a worker process: play the rollbacks of a run whose worker died, once,
with the run's recorded options and mode, and keep the journal if the run had none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gameday.adapters.chaostoolkit import loading
from gameday.adapters.chaostoolkit.events import EventWriter, StreamingHandler
from gameday.adapters.chaostoolkit.redaction import Redactor, configure_logging, secret_values
from gameday.domain import execution as ex
from gameday.domain.errors import GamedayError
from gameday.domain.runs import Run

if TYPE_CHECKING:
    from gameday.adapters.chaostoolkit.worker import Worker

ACTOR = ex.WORKER_ACTOR


def rollbacks_only(worker: Worker, run: Run) -> int:
    """Play the rollbacks of a run whose worker died (recovery); 0 when all succeeded."""
    from concurrent.futures import ThreadPoolExecutor

    from chaoslib.rollback import run_rollbacks
    from chaoslib.run import EventHandlerRegistry, Runner, initialize_run_journal
    from chaoslib.types import Dry

    redactor = Redactor()
    configure_logging(redactor)
    settings = loading.chaostoolkit_settings(worker.deps.chaostoolkit_settings)
    events = worker.runs.events(run.id)
    dry_run = worker.dry(run)
    try:
        config_vars, secret_vars = loading.experiment_vars(ex.last_payload(events, ex.RUN_OPTIONS))
    except GamedayError as exc:
        # Recovery records why it could not play the rollbacks (a var file changed).
        reason = f"recovery could not play the rollbacks: {exc}"
        worker.runs.append_event(run.id, ex.WORKER_FAILED, actor=ACTOR, payload={"reason": reason})
        raise
    experiment, _ = loading.load_runbook(worker.deps.home, run, settings, without_controls=True)
    redactor.add(secret_values(experiment.get("secrets")))
    redactor.add(secret_values(secret_vars))
    if ex.rollback_strategy_for(experiment) == "never":
        worker.runs.append_event(
            run.id, ex.ROLLBACK_SKIPPED, actor=ACTOR, payload={"strategy": "never"}
        )
        return 0
    runner = Runner(None)
    runner.configure(experiment, settings, (config_vars, secret_vars))
    redactor.add(secret_values(runner.secrets))
    dry = Dry.ACTIVITIES if dry_run else None
    if dry_run:
        loading.force_dry(experiment)
    writer = EventWriter(worker.appender(run))
    uninstall = worker.deps.install_guard(dry_run, lambda *_: None)
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
    if worker.runs.journal(run.id) is None:
        if dry_run:
            journal["experiment"]["dry"] = "activities"
        worker.runs.store_journal(run.id, redactor.data(journal))
    return 0 if all(r.get("status") == "succeeded" for r in rollback_runs) else 1
