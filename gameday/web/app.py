"""The service's WSGI application (served by waitress): health, readiness, metrics, the
`POST /halt` kill switch for tooling and, when Slack is configured, the Slack events endpoint.

`POST /halt` rules:
- Off (404) unless both a halt callable and a non-empty bearer token are given.
- `Authorization: Bearer <token>`, compared in constant time; anything else is 401 with
  `WWW-Authenticate: Bearer` and nothing said about the token. The token and the header
  are never logged.
- Only auth may stop a halt: no readiness, leadership or database check stands before it.
  The optional body is JSON `{"reason", "actor"}` or a form; at most 16 KiB (413, reading
  at most that many bytes plus one), `reason`/`actor` at most 500 characters each (400).
- The actor is recorded as `http:<actor or "token">`.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Iterable
from typing import IO, Any
from urllib.parse import parse_qs

from gameday.adapters.observability.health import Health

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Exposition = Callable[[], tuple[bytes, str]]
# Engages the kill switch for (actor, reason); returns one line saying what happened.
Halt = Callable[[str, str | None], str]

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
HALT_PATH = "/halt"
MAX_HALT_BODY = 16 * 1024
MAX_HALT_TEXT = 500
HALT_OFF = "POST /halt is off: set GAMEDAY_HALT_TOKEN"


class _BadRequest(Exception):
    """A request refused with the given status and message."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def create_app(
    health: Health,
    metrics: Exposition,
    *,
    slack: WsgiApp | None = None,
    halt: Halt | None = None,
    halt_token: str | None = None,
) -> WsgiApp:
    """Route /healthz, /readyz, /metrics, POST /halt (with `halt` and `halt_token`) and
    (if given) POST /slack/events."""
    halt_route = _halt_route(halt, halt_token)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == SLACK_PATH and slack is not None:
            return slack(environ, start_response)
        if path == HALT_PATH:
            return halt_route(environ, start_response)
        if method not in ("GET", "HEAD"):
            return _json(start_response, "405 Method Not Allowed", {"error": "method not allowed"})
        if path == "/healthz":
            # Alive: the process answers. Liveness must not depend on the database or on
            # leadership, or a database hiccup would get every replica restarted at once.
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/readyz":
            ok, facts = health.ready()
            status = "200 OK" if ok else "503 Service Unavailable"
            return _json(start_response, status, {"ready": ok, **facts})
        if path == "/metrics":
            body, content_type = metrics()
            start_response("200 OK", [("Content-Type", content_type), _length(body)])
            return [body]
        return _json(start_response, "404 Not Found", {"error": f"no such path: {path}"})

    return app


def _halt_route(halt: Halt | None, halt_token: str | None) -> WsgiApp:
    """The handler of /halt: off, or auth → body → halt."""
    # An empty token would let "Bearer " through: treat it as unset.
    if halt is None or not halt_token:

        def off(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            return _json(start_response, "404 Not Found", {"error": HALT_OFF})

        return off

    expected = halt_token.encode()

    def route(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET") != "POST":
            return _json(
                start_response,
                "405 Method Not Allowed",
                {"error": "method not allowed: use POST"},
                [("Allow", "POST")],
            )
        if not _authorized(environ, expected):
            log.warning("refused POST /halt: no valid bearer token (client %s)", _client(environ))
            return _json(
                start_response,
                "401 Unauthorized",
                {"error": "unauthorized"},
                [("WWW-Authenticate", "Bearer")],
            )
        try:
            actor, reason = _halt_fields(environ)
        except _BadRequest as bad:
            return _json(start_response, bad.status, {"error": bad.message})
        log.warning("halt requested over HTTP by %r (reason %r)", actor, reason)
        try:
            detail = halt(actor, reason)
        except Exception as exc:  # the caller must hear that the halt did not happen
            log.exception("POST /halt: the halt failed")
            return _json(
                start_response,
                "500 Internal Server Error",
                {"halted": False, "error": f"halt failed ({type(exc).__name__}); see the log"},
            )
        return _json(start_response, "200 OK", {"halted": True, "detail": detail})

    return route


def _authorized(environ: dict[str, Any], expected: bytes) -> bool:
    header = str(environ.get("HTTP_AUTHORIZATION") or "")
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    # WSGI hands headers over as latin-1 strings: back to the bytes the client sent, so
    # compare_digest gets bytes (it refuses non-ASCII str) and any token works.
    given = credentials.strip().encode("latin-1", errors="replace")
    return hmac.compare_digest(given, expected)


def _halt_fields(environ: dict[str, Any]) -> tuple[str, str | None]:
    """(actor as recorded, reason) from the optional body; raises _BadRequest."""
    body = _read_body(environ, MAX_HALT_BODY)
    fields: dict[str, Any] = {}
    content_type = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    # `curl -d '{"reason": ...}'` sends JSON labelled as a form: a body opening with "{"
    # is JSON whatever its label, so the reason is not silently lost.
    if content_type == "application/json" or body.lstrip().startswith(b"{"):
        fields = _json_fields(body)
    elif body.strip():
        fields = _form_fields(body)
    reason = _text(fields, "reason")
    actor = _text(fields, "actor")
    return f"http:{actor or 'token'}", reason


def _json_fields(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _BadRequest("400 Bad Request", f"malformed JSON body: {exc}") from None
    except RecursionError:  # 16 KiB of '[' nests deeper than the parser recurses
        raise _BadRequest("400 Bad Request", "malformed JSON body: nested too deeply") from None
    if not isinstance(data, dict):
        raise _BadRequest("400 Bad Request", "the JSON body must be an object")
    return data


def _form_fields(body: bytes) -> dict[str, Any]:
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _BadRequest("400 Bad Request", f"malformed form body: {exc}") from None
    return {name: values[0] for name, values in form.items()}


def _text(fields: dict[str, Any], name: str) -> str | None:
    # User text is stored as given: checked for type and length only.
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _BadRequest("400 Bad Request", f"{name} must be a string")
    if len(value) > MAX_HALT_TEXT:
        raise _BadRequest(
            "400 Bad Request", f"{name} is longer than {MAX_HALT_TEXT} characters ({len(value)})"
        )
    return value


def _read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The body, reading at most `limit + 1` bytes; raises _BadRequest beyond `limit`."""
    too_large = _BadRequest("413 Content Too Large", f"request body over {limit} bytes")
    stream: IO[bytes] | None = environ.get("wsgi.input")
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        try:
            length = int(declared)
        except ValueError:
            raise _BadRequest("400 Bad Request", "bad Content-Length") from None
        if length < 0:
            raise _BadRequest("400 Bad Request", "bad Content-Length")
        if length > limit:
            raise too_large  # refused on the header alone: nothing is read
        return _read_at_most(stream, length)
    # Chunked or no length: one byte past the limit tells "the limit" from "more".
    body = _read_at_most(stream, limit + 1)
    if len(body) > limit:
        raise too_large
    return body


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


def _client(environ: dict[str, Any]) -> str:
    # X-Forwarded-For is written by the client: quoted and cut short.
    remote = str(environ.get("REMOTE_ADDR") or "unknown")
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    return f"{remote}, X-Forwarded-For {str(forwarded)[:200]!r}" if forwarded else remote


def _length(body: bytes) -> tuple[str, str]:
    return ("Content-Length", str(len(body)))


def _json(
    start_response: StartResponse,
    status: str,
    data: dict[str, Any],
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = json.dumps(data, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), _length(body), *(headers or [])])
    return [body]
