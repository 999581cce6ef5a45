"""`gameday run RUNBOOK`: run one runbook now, showing its activities as they run."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gameday.cli.context import print_json, state_from
from gameday.domain import execution as ex
from gameday.domain.errors import InvalidInput, NotFound
from gameday.domain.runs import Run, RunEvent

if TYPE_CHECKING:
    from rich.console import Console

    from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers
    from gameday.adapters.db import Database
    from gameday.domain.specs import Runbook
    from gameday.services.catalog import Catalog
    from gameday.settings import Settings


def register(app: typer.Typer) -> None:
    """Attach `gameday run` to the root app."""
    app.command("run")(run_command)


def run_command(
    ctx: typer.Context,
    runbook: str = typer.Argument(
        ..., help="Runbook name (file stem under runbooks/) or its path inside the home."
    ),
    live: bool = typer.Option(
        False, "--live", help="Really act on the systems (default: dry run, nothing touched)."
    ),
    var: list[str] = typer.Option(
        [],
        "--var",
        help="Configuration value key[:type]=value, as `chaos run --var` (repeatable).",
    ),
    var_file: list[str] = typer.Option(
        [],
        "--var-file",
        help="Configuration and secrets from a JSON or YAML file, or environment variables "
        "from a .env file, as `chaos run --var-file` (repeatable; --var wins).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the outcome as JSON only."),
) -> None:
    """Run one runbook now, recorded like a scheduled run.

    Exits 0 when it completed, 1 when it deviated or failed, 2 when it was aborted or
    could not run, 3 when it was not started: a health gate failed or the kill switch is
    engaged (the run is recorded as skipped, with the reason). Ctrl-C halts it (its
    rollbacks play); a second Ctrl-C stops it hard.
    """
    from gameday import wiring
    from gameday.wiring.cli import forked_workers_for
    from gameday.wiring.worker import export_cluster

    home = state_from(ctx).home
    settings = wiring.settings_for(home)
    is_live = live or settings.live
    export_cluster(settings)  # before a runbook's provider imports the kubernetes client
    # The worker is forked from this process at once and gets ready (chaoslib, its own
    # database connection) on the other core while this one checks the runbook and
    # records the run (see gameday.adapters.chaostoolkit.forked).
    workers = forked_workers_for(settings, None, live=is_live)
    workers.prepare()
    try:
        wiring.check_run_vars(var)
        options = {"var": var, **_var_file_options(var_file)}
        catalog, chosen = _find_runbook(settings.home, runbook)
        database = wiring.database_for(settings)
        try:
            code = _run(workers, settings, database, catalog, chosen, live=is_live,
                        options=options, quiet=json_output)  # fmt: skip
        finally:
            database.close()
    finally:
        workers.close()
    # sys.exit rather than typer.Exit: the root runs click with standalone_mode=False,
    # which turns typer.Exit into a return value that main() does not pass on.
    sys.exit(code)


def _var_file_options(paths: list[str]) -> dict[str, Any]:
    """The run options recording `--var-file` files (none when there are none); a file
    that cannot be read or parsed is an InvalidInput before anything is recorded."""
    if not paths:
        return {}
    from gameday.adapters.chaostoolkit.runbooks import var_file_options

    return {"var_file": var_file_options(paths)}


def _run(
    workers: ProcessWorkers,
    settings: Settings,
    database: Database,
    catalog: Catalog,
    chosen: Runbook,
    *,
    live: bool,
    options: dict[str, Any],
    quiet: bool,
) -> int:
    from gameday.domain.clock import SystemClock
    from gameday.domain.outcome import chaos_status, exit_code_for
    from gameday.services import execution
    from gameday.wiring.cli import run_flow_for

    requester = f"cli:{getpass.getuser()}"
    runs = database.runs
    flow = run_flow_for(settings, database, catalog, live=live, actor=requester, workers=workers)
    run = execution.request_adhoc_run(
        runs,
        database.control,
        SystemClock(),
        runbook=chosen,
        dry_run=not live,
        requester=requester,
    )
    progress = _Progress(quiet=quiet)
    if flow.start(run, actor=requester, options=options) is None:
        final = runs.get(run.id)  # skipped: a gate failed or the kill switch is engaged
    else:
        while True:
            try:
                final = flow.watch(run.id, actor=requester, on_event=progress.show)
                break
            except KeyboardInterrupt:
                progress.note("halting (Ctrl-C): the rollbacks will play")
                flow.halt(run.id, actor=requester, reason="Ctrl-C")
    events = runs.events(run.id)
    journal = runs.journal(run.id)
    invalid = ex.count_events(events, ex.WORKER_FAILED) > 0
    code = 2 if invalid else exit_code_for(final.state)
    status = chaos_status(journal) if journal is not None else None
    skipped = ex.skip_reason(events)
    if quiet:
        print_json({**_summary(final, status, len(events)), "reason": skipped})
    else:
        progress.done(final, status, skipped)
    return code


def _find_runbook(home: Path, ref: str) -> tuple[Catalog, Runbook]:
    from gameday import wiring

    text = ref
    if Path(ref).is_absolute():
        try:
            text = Path(ref).resolve().relative_to(home).as_posix()
        except ValueError:
            raise InvalidInput(f"runbook {ref} is outside the home folder {home}") from None
    try:
        # Only the runbook asked for is read and checked: checking every runbook would
        # import every provider of the home (the kubernetes client among them).
        load = wiring.load_runbook(home, text)
    except NotFound:
        load = wiring.load_catalog(home)  # for its "did you mean"
    try:
        found: Runbook = load.catalog.runbook(text)
    except NotFound:
        stem = Path(text).stem
        for error in load.errors:
            if Path(error.path).stem == stem:
                raise InvalidInput(str(error)) from None
        raise
    # Only a broken file of default gates is left: a run never starts with its gates unknown.
    if load.errors:
        raise InvalidInput(f"{load.errors[0]} (the default health gates cannot be read)")
    return load.catalog, found


def _summary(run: Run, status: str | None, count: int) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "runbook": run.runbook,
        "state": run.state.value,
        "chaos_status": status,
        "dry_run": run.dry_run,
        "requester": run.requester,
        "events": count,
    }


class _Progress:
    """Prints a line per step of the run as its events arrive (nothing with --json)."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.seen = 0
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        # rich is loaded on the first line printed: never with --json.
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False)
        return self._console

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"[yellow]■ {text}[/]")

    def show(self, event: RunEvent) -> None:
        if self.quiet or event.seq <= self.seen:
            return
        self.seen = event.seq
        line = _line(event)
        if line:
            self.console.print(line)

    def done(self, run: Run, status: str | None, skipped: str | None = None) -> None:
        colour = {"completed": "green", "deviated": "yellow"}.get(run.state.value, "red")
        dry = " (dry run)" if run.dry_run else ""
        detail = f", Chaos Toolkit status {status}" if status else ""
        if skipped:
            detail = f": not started: {_t(skipped)}"
        self.console.print(f"[bold {colour}]run {run.id}: {run.state.value}{dry}{detail}[/]")


def _line(event: RunEvent) -> str | None:
    p = event.payload
    match event.type:
        case ex.WORKER_STARTED:
            dry = " (dry run)" if p.get("dry_run") else ""
            return f"▶ run {event.run_id}{dry}: {_t(p.get('runbook'))}"
        case ex.EXPERIMENT_STARTED:
            return f"  [bold]{_t(p.get('title'))}[/]"
        case ex.STEADY_STATE_FINISHED:
            met = "[green]met[/]" if p.get("met") else "[red]not met[/]"
            return f"  steady state {p.get('phase')}: {met}"
        case ex.ACTIVITY_STARTED:
            return f"  … {_t(p.get('type'))} [bold]{_t(p.get('name'))}[/]"
        case ex.ACTIVITY_FINISHED:
            return _finished_line(p)
        case ex.ROLLBACK_STARTED:
            return "  ↩ rollbacks"
        case ex.HALT_REQUESTED | ex.TIMED_OUT | ex.HARD_STOPPED | ex.INTERRUPTED:
            return f"  [yellow]■ {event.type.replace('_', ' ')}[/]"
        case ex.WORKER_FAILED:
            return f"  [red]cannot run: {_t(p.get('reason'))}[/]"
        case ex.GATE_EVALUATED:
            mark = "[green]✔[/]" if p.get("passed") else "[red]✘[/]"
            return f"  {mark} gate {_t(p.get('name'))}: {_t(p.get('observed'))}"
        case ex.STOP_CONDITION:
            return f"  [red]■ stop condition {_t(p.get('gate'))}: {_t(p.get('observed'))}[/]"
    return None


def _t(value: object) -> str:
    """Text from a runbook or a remote answer, inert in Rich markup."""
    from rich.markup import escape  # only when printing (rich is loaded then anyway)

    return escape(str(value))


def _finished_line(p: Mapping[str, Any]) -> str:
    """What became of one activity: skipped (a dry run calls no provider), outside its
    tolerance (a steady-state probe that ran but missed), or its status."""
    what = f"{_t(p.get('type'))} {_t(p.get('name'))}"
    if p.get("dry"):
        return f"  [dim]○ {what}: skipped (dry run)[/]"
    took = p.get("duration")
    seconds = f" in {took:.2f}s" if isinstance(took, int | float) else ""
    if p.get("status") == "succeeded" and p.get("tolerance_met") is False:
        return f"  [red]✘[/] {what}: outside tolerance{seconds}"
    mark = "[green]✔[/]" if p.get("status") == "succeeded" else "[red]✘[/]"
    return f"  {mark} {what}: {_t(p.get('status'))}{seconds}"
