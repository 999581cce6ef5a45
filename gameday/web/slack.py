"""`POST /slack/events` on Flask, through Bolt's Flask adapter, with the intake rules of
`gameday.adapters.slack.server`:

- a body over `MAX_BODY` (1 MiB) is refused with 413 before Bolt parses or verifies
  anything, and at most `MAX_BODY + 1` bytes of it are read;
- a request Bolt refuses as forged (401) is logged as one WARNING line with the client's
  address and never its body (Bolt's own line, which holds the body, is dropped).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

from flask import Response, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler

from gameday.adapters.slack.server import (
    MAX_BODY,
    client_address,
    quiet_bolt_body_log,
    read_bounded,
)

log = logging.getLogger(__name__)


def _plain(status: int, text: str) -> Response:
    return Response(text, status=status, mimetype="text/plain")


def events_view(app: App) -> Callable[[], Response]:
    """The Flask view answering Slack's commands, interactivity and events for `app`."""
    handler = SlackRequestHandler(app)
    quiet_bolt_body_log()

    def events() -> Response:
        environ: dict[str, Any] = request.environ
        try:
            body = read_bounded(environ, MAX_BODY)
        except ValueError:
            return _plain(400, "bad Content-Length\n")
        if body is None:
            return _plain(413, "request body too large\n")
        # The adapter reads the body through Flask, which reads CONTENT_LENGTH bytes of
        # wsgi.input: hand it exactly what was read (nothing has touched the stream yet).
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        response = handler.handle(request)
        if response.status_code == 401:
            log.warning(
                "refused a Slack request: bad, missing or stale signature (client %s)",
                client_address(environ),
            )
        return response

    return events
