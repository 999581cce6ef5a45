"""How the scheduler announces runs and expires their approvals: the approval use cases
it calls (gameday.services.approvals)."""

from __future__ import annotations

from typing import Protocol

from gameday.domain.runs import Run


class Approvals(Protocol):
    """The approval use cases the scheduler calls (gameday.services.approvals)."""

    def announce(self, run_id: int, *, actor: str = ...) -> Run:
        """Announce a run (or remind), asking for approval when its policy says so."""
        ...

    def expire_due(self) -> list[Run]:
        """Expire every run whose approval deadline has passed."""
        ...
