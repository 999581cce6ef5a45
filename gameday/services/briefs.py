"""What an announcement needs to know about a run, looked up in the catalog.

Rules (docs/specs.md):
- approval policy and channel as `gameday.domain.run_policy` decides them;
- times are shown in the schedule's timezone, else its window's, else the service's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from gameday.domain.approval import ApprovalPolicy
from gameday.domain.errors import NotFound
from gameday.domain.messages import RunBrief
from gameday.domain.mrkdwn import run_page
from gameday.domain.run_policy import Briefing, approval_for, channel_for, drill_for
from gameday.domain.runs import Run
from gameday.domain.specs import ApprovalSpec, GamedaySpec, MonkeySpec, Runbook
from gameday.services.catalog import Catalog


def policy_of(spec: ApprovalSpec | None) -> ApprovalPolicy | None:
    """The domain policy of an `approval:` block (None: no approval needed)."""
    if spec is None:
        return None
    return ApprovalPolicy(
        users=frozenset(spec.approvers.users),
        usergroups=frozenset(spec.approvers.usergroups),
        quorum=spec.quorum,
        deadline=spec.deadline,
    )


class CatalogBriefs:
    """A BriefSource over the current catalog (asked each time, so reloads are seen)."""

    def __init__(
        self,
        catalog: Callable[[], Catalog],
        *,
        default_channel: str,
        timezone: str = "UTC",
        live: bool = True,
        public_url: str | None = None,
    ) -> None:
        self._catalog = catalog
        self._channel = default_channel
        self._timezone = timezone
        self._live = live
        self._public_url = public_url

    def __call__(self, run: Run) -> Briefing:
        """The brief and channel of a run; unknown schedules fall back to the defaults.

        Rules: the run is shown in the mode it would run in if it started now (dry when
        this service is not live, whatever was planned: the safer mode wins); with a public
        URL the brief links the run's page."""
        found = self._briefing(run)
        page = run_page(self._public_url, run.id)
        if page is None:
            return found
        return Briefing(replace(found.brief, page=page), found.channel)

    def _briefing(self, run: Run) -> Briefing:
        if not self._live and not run.dry_run:
            run = replace(run, dry_run=True)
        catalog = self._catalog()
        spec: MonkeySpec | GamedaySpec | None = None
        if run.schedule:
            try:
                spec = catalog.schedule(run.schedule)
            except NotFound:
                spec = None
        runbook = self._runbook(catalog, run, spec)
        extension = runbook.extension if runbook else None
        if isinstance(spec, MonkeySpec):
            zone = catalog.window(spec.window).timezone if spec.window in catalog.windows else None
            targets = spec.targets
            radius = (
                f"namespaces {', '.join(targets.namespaces)}"
                + (f"; selector {targets.selector}" if targets.selector else "")
                + f"; kill mode {spec.kill_mode}; at most {spec.max_kills} pod(s)"
            )
            brief = RunBrief(run, spec.name, zone or self._timezone, None, radius, None)
            return Briefing(brief, channel_for(spec, None, default=self._channel))
        policy_spec = approval_for(spec, runbook)
        channel = channel_for(spec, runbook, default=self._channel)
        zone = self._zone(catalog, spec)
        summary = None
        if runbook is not None:
            summary = runbook.title
            if extension and extension.description:
                summary += f"\n{extension.description}"
        title = spec.name if spec else (runbook.name if runbook else (run.runbook or "ad-hoc run"))
        brief = RunBrief(
            run,
            title,
            zone,
            summary,
            None,
            policy_of(policy_spec),
            drill=drill_for(spec, runbook) is not None,
        )
        return Briefing(brief, channel)

    def _zone(self, catalog: Catalog, spec: GamedaySpec | None) -> str:
        if spec is None:
            return self._timezone
        if spec.timezone:
            return spec.timezone
        if spec.window and spec.window in catalog.windows:
            return catalog.windows[spec.window].timezone
        return self._timezone

    @staticmethod
    def _runbook(
        catalog: Catalog, run: Run, spec: MonkeySpec | GamedaySpec | None
    ) -> Runbook | None:
        name = run.runbook or (spec.runbook if isinstance(spec, GamedaySpec) else None)
        if not name:
            return None
        try:
            return catalog.runbook(name)
        except NotFound:
            return None
