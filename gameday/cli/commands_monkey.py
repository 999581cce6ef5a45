"""CLI commands of the Chaos Monkey: `targets` (who could be killed) and `monkey --once`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gameday.cli.context import print_json, state_from
from gameday.domain.durations import format_duration, parse_duration
from gameday.domain.errors import InvalidInput

if TYPE_CHECKING:
    # Loaded inside the commands: specs, settings and rich cost start-up every command pays.
    from rich.table import Table

    from gameday.domain.specs import MonkeySpec
    from gameday.services.catalog import Catalog
    from gameday.settings import Settings

_CONTEXT = typer.Option(
    None,
    "--context",
    help="kubeconfig context to use (default: GAMEDAY_KUBE_CONTEXT, else current).",
)
_KUBECONFIG = typer.Option(
    None,
    "--kubeconfig",
    help="kubeconfig file (default: GAMEDAY_KUBECONFIG, else KUBECONFIG, else ~/.kube/config).",
    dir_okay=False,
)


def _settings(ctx: typer.Context, context: str | None, kubeconfig: Path | None) -> Settings:
    from gameday.wiring import settings_for

    settings = settings_for(state_from(ctx).home)
    update: dict[str, Any] = {}
    if context is not None:
        update["kube_context"] = context
    if kubeconfig is not None:
        update["kubeconfig"] = kubeconfig
    return settings.model_copy(update=update) if update else settings


def _monkey(settings: Settings, name: str) -> tuple[MonkeySpec, Any, Catalog]:
    from gameday.domain.specs import MonkeySpec
    from gameday.wiring import load_catalog

    catalog = load_catalog(settings.home).require_valid()
    spec = catalog.schedule(name)
    if not isinstance(spec, MonkeySpec):
        raise InvalidInput(f"schedule {name!r} is a {spec.kind}, not a monkey")
    return spec, catalog.window(spec.window), catalog


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    # Two largest units are enough to judge a pod's age at a glance.
    text = format_duration(timedelta(seconds=seconds))
    units = [u for u in re.findall(r"\d+[smhdw]", text)]
    return "".join(units[:2])


def _pods_table(title: str, rows: list[dict[str, Any]], extra: tuple[str, ...] = ()) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for column in ("namespace", "pod", "owner", "node", "age", *extra):
        # Reasons and methods are stable keys a reader greps for: never cut them.
        table.add_column(column, no_wrap=column in ("reason", "method", "age"))
    for row in rows:
        cells = [row["namespace"], row["pod"], row["owner"], row["node"] or "-"]
        cells.append(_age(row["age_seconds"]))
        table.add_row(*cells, *(str(row.get(k, "")) for k in extra))
    return table


def _exclusions_table(rows: list[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(title=f"{len(rows)} excluded")
    for column in ("namespace", "pod", "reason", "detail"):
        table.add_column(column, no_wrap=column == "reason")
    for row in rows:
        table.add_row(row["namespace"], row["pod"], row["reason"], row["detail"])
    return table


def targets(
    ctx: typer.Context,
    schedule: str = typer.Argument(..., help="Name of a monkey schedule."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
    context: str | None = _CONTEXT,
    kubeconfig: Path | None = _KUBECONFIG,
) -> None:
    """List the pods a monkey schedule could kill now, and why every other pod is excluded."""
    from gameday.domain.clock import SystemClock
    from gameday.services.targets import (
        discover_targets,
        refuse_outside_targets,
        target_policy,
    )
    from gameday.wiring import kube_cluster_for

    settings = _settings(ctx, context, kubeconfig)
    spec, _window, _catalog = _monkey(settings, schedule)
    now = SystemClock().now()
    policy = target_policy(spec, settings.protected_namespaces(), settings.pod_name)
    # Before the kubeconfig is even read: the refusal is about the schedule, not the cluster.
    refuse_outside_targets(spec, settings.target_namespace_set(), policy.protected)
    report = discover_targets(
        kube_cluster_for(settings, live=False),
        spec,
        policy,
        now,
        targets=settings.target_namespace_set(),
    )
    candidates = [p.describe(now) for p in report.candidates.candidates]
    exclusions = [
        {**e.pod.describe(now), "reason": e.reason.value, "detail": e.detail}
        for e in report.candidates.exclusions
    ]
    if as_json:
        print_json(
            {
                "schedule": spec.name,
                "namespaces": list(report.namespaces),
                "protected_namespaces_skipped": list(report.protected_skipped),
                "selector": spec.targets.selector,
                "candidates": candidates,
                "exclusions": exclusions,
            }
        )
        return
    from rich.console import Console

    console = Console()
    for namespace in report.protected_skipped:
        console.print(f"namespace {namespace} is protected: never listed, never touched")
    console.print(_pods_table(f"{len(candidates)} candidate(s) of {spec.name}", candidates))
    if exclusions:
        console.print(_exclusions_table(exclusions))


def monkey(
    ctx: typer.Context,
    schedule: str = typer.Argument(..., help="Name of a monkey schedule."),
    once: bool = typer.Option(False, "--once", help="Run one kill cycle now (required)."),
    live: bool = typer.Option(
        False, "--live", help="Really terminate pods (default: dry run; GAMEDAY_LIVE=true too)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the random choice (replay)."),
    heads_up: str | None = typer.Option(
        None, "--heads-up", help="Heads-up wait before the kill, e.g. 30s (default: the spec's)."
    ),
    no_wait: bool = typer.Option(False, "--no-wait", help="Announce and kill without waiting."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON only."),
    context: str | None = _CONTEXT,
    kubeconfig: Path | None = _KUBECONFIG,
) -> None:
    """Run one kill cycle of a monkey schedule now, inside its window only (dry run by default).

    During the heads-up, Ctrl-C vetoes the kill.
    """
    from gameday.wiring import monkey_service_for

    if not once:
        raise InvalidInput("gameday monkey needs --once: continuous monkeys run in the service")
    wait: timedelta | None = None
    if no_wait:
        wait = timedelta(0)
    elif heads_up is not None:
        try:
            wait = parse_duration(heads_up)
        except ValueError as exc:
            raise InvalidInput(f"--heads-up: {exc}") from None
    settings = _settings(ctx, context, kubeconfig)
    spec, window, catalog = _monkey(settings, schedule)
    # With the catalog, the schedule's health gates (and the default ones) are checked.
    service = monkey_service_for(settings, live=live or settings.live, catalog=catalog)
    report = service.kill_once(spec, window, seed=seed, heads_up=wait)
    data = _report_json(report)
    if as_json:
        print_json(data)
        return
    from rich.console import Console

    console = Console()
    mode = "dry run" if report.run.dry_run else "live"
    console.print(
        f"run #{report.run.id} ({mode}, seed {report.run.seed}): {report.outcome}: {report.reason}"
    )
    if report.selection is not None:
        console.print(report.selection.explanation)
    if data["killed"]:
        title = "killed" if not report.run.dry_run else "would be killed (dry run)"
        console.print(_pods_table(title, data["killed"], ("method",)))
    if data["skipped"]:
        console.print(_pods_table("skipped", data["skipped"], ("reason",)))


def _report_json(report: Any) -> dict[str, Any]:
    run = report.run
    planned: datetime = run.planned_at
    return {
        "run_id": run.id,
        "schedule": run.schedule,
        "state": run.state.value,
        "outcome": report.outcome,
        "reason": report.reason,
        "dry_run": run.dry_run,
        "seed": run.seed,
        "planned_at": planned.isoformat(),
        "heads_up_seconds": int(report.heads_up.total_seconds()),
        "vetoed_by": report.vetoed_by,
        "selection": None if report.selection is None else report.selection.describe(planned),
        "killed": list(report.killed),
        "skipped": list(report.skipped),
    }


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.command("targets")(targets)
    app.command("monkey")(monkey)
