"""Serving the Bolt app: `POST /slack/events` as a WSGI app under waitress, or Socket Mode.

- A body over `MAX_BODY` is refused with 413 before Bolt parses or verifies anything, and
  at most `MAX_BODY + 1` bytes of it are read.
- A request Bolt refuses as forged (401) is logged as one WARNING line with the client's
  address and never its body; Bolt's own INFO line, which carries the whole body, is dropped.
- A retry from Slack (`X-Slack-Retry-Num`) is logged as one INFO line and processed like the
  first attempt: every listener is idempotent (one decision per person per run; the kill
  switch and pauses are states, not toggles), so a retry of a request that did land
  changes nothing, and a retry of one that did not land is not lost. Logged here, not in a
  Bolt middleware, which every request would pay for.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import IO, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
# Slack's payloads are a few KiB (a modal's view state at most tens of KiB); anything near
# this is not from Slack, and reading it would cost memory before the signature is checked.
MAX_BODY = 1024 * 1024
# The Bolt logger whose "Invalid request signature detected" INFO line holds the whole body.
BOLT_VERIFICATION_LOGGER = "slack_bolt.RequestVerification"
_FORGED_BODY_MESSAGE = "Invalid request signature detected"
_MAX_LOGGED_HEADER = 200

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App, path: str = EVENTS_PATH) -> WsgiApp:
    """The WSGI app answering `POST {path}` (commands, interactivity and events), refusing
    bodies over `MAX_BODY` with 413 and logging forged requests without their body."""
    handler: WsgiApp = SlackRequestHandler(app, path=path)
    quiet_bolt_body_log()

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            body = read_bounded(environ, MAX_BODY)
        except ValueError:
            return _plain(start_response, "400 Bad Request", b"bad Content-Length\n")
        if body is None:
            return _plain(start_response, "413 Content Too Large", b"request body too large\n")
        retry = environ.get("HTTP_X_SLACK_RETRY_NUM")
        if retry and retry != "0":
            log.info(
                "Slack retry %.8r (%.40r)", retry, environ.get("HTTP_X_SLACK_RETRY_REASON", "?")
            )
        # Bolt reads CONTENT_LENGTH bytes from wsgi.input: give it exactly what was read.
        inner = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}

        def watching(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith("401"):
                log.warning(
                    "refused a Slack request: bad, missing or stale signature (client %s)",
                    client_address(environ),
                )
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return handler(inner, watching)

    return guarded


def read_bounded(environ: dict[str, Any], limit: int) -> bytes | None:
    """The request body, or None when it is longer than `limit`; reads at most `limit + 1`
    bytes. Raises ValueError for a Content-Length that is not a non-negative integer."""
    stream: IO[bytes] | None = environ.get("wsgi.input")
    declared = (environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        length = int(declared)  # ValueError for garbage, by contract
        if length < 0:
            raise ValueError(f"negative Content-Length: {length}")
        if length > limit:
            return None  # refused on the header alone: nothing is read
        return _read_at_most(stream, length)
    # Chunked or no length: read one byte past the limit to tell "exactly the limit" from
    # "more", and never more than that.
    body = _read_at_most(stream, limit + 1)
    return None if len(body) > limit else body


def _read_at_most(stream: IO[bytes] | None, size: int) -> bytes:
    # A server's input may return short reads before its end: loop until `size` or EOF.
    if stream is None:
        return b""
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def client_address(environ: dict[str, Any]) -> str:
    """REMOTE_ADDR, plus X-Forwarded-For (quoted and cut short: the client writes it)."""
    remote = str(environ.get("REMOTE_ADDR") or "unknown")
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    if not forwarded:
        return remote
    return f"{remote}, X-Forwarded-For {str(forwarded)[:_MAX_LOGGED_HEADER]!r}"


class _DropForgedBody(logging.Filter):
    """Drops Bolt's record of a forged request, which holds the request body verbatim."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(_FORGED_BODY_MESSAGE))


def quiet_bolt_body_log() -> None:
    """Install (once) the filter that drops Bolt's body-carrying forged-request record;
    `wsgi_app` logs its own line without the body instead."""
    # Bolt logs it through `slack_bolt.RequestVerification` (named after the middleware
    # class, whatever base logger the app was given), so a filter on that logger sees it
    # before any handler, ours or the root's.
    bolt = logging.getLogger(BOLT_VERIFICATION_LOGGER)
    if not any(isinstance(f, _DropForgedBody) for f in bolt.filters):
        bolt.addFilter(_DropForgedBody())


def _plain(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def socket_mode_handler(app: App, app_token: str) -> Any:
    """A Socket Mode handler (connect with `.connect()`, stop with `.close()`)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(app, app_token)
