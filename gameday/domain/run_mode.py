"""Dry or live: the mode a run really runs in, decided when it starts.

Rule (docs/safety.md, "Dry or live"): a run is live only when it was planned live *and* the
service carrying it out is live now; otherwise it runs dry. The safer of the two always
wins, so restarting a service without `--live` makes every run it fires dry, and a run
planned dry never turns live because the service was restarted with `--live`. The reason
is recorded with the run's start, so its journal says why it ran as it did.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunMode:
    """The mode a run starts in and the sentence that explains it."""

    dry_run: bool
    reason: str

    @property
    def label(self) -> str:
        """`dry run` or `live`."""
        return "dry run" if self.dry_run else "live"


def decide_mode(*, planned_dry_run: bool, service_live: bool) -> RunMode:
    """The mode of a run planned with `planned_dry_run`, fired by a service that is
    `service_live`: live only when both say live (see the module rule)."""
    if planned_dry_run:
        return RunMode(True, "dry run: the run was planned as a dry run")
    if not service_live:
        return RunMode(
            True,
            "dry run: the run was planned live, but the service carrying it out is not live "
            "(started without --live); the safer mode wins",
        )
    return RunMode(False, "live: planned live and carried out by a live service")
