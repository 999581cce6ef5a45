"""Slack's retries (`X-Slack-Retry-Num`): logged and processed like the first attempt.

Every listener is idempotent (one decision per person per run, kill switch and pauses are
states, not toggles), so a retry of a request that did land changes nothing, and a retry
of one that did not land is not lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse

log = logging.getLogger(__name__)


def retry_number(req: BoltRequest) -> int:
    """The retry count Slack sent (0 for a first attempt)."""
    values = req.headers.get("x-slack-retry-num") or ["0"]
    try:
        return int(values[0])
    except ValueError:
        return 0


def register(app: App) -> None:
    """Attach the retry-logging middleware."""

    @app.middleware
    def note_retries(
        req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        number = retry_number(req)
        if number:
            reason = (req.headers.get("x-slack-retry-reason") or ["?"])[0]
            log.info("Slack retry %s (%s)", number, reason)
        return next()
