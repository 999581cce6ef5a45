"""`POST /halt`: the kill switch for tooling, behind its own bearer token.

Rules:
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

import json
import logging
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import parse_qs

from gameday.web.access import bearer_matches, client

# Engages the kill switch for (actor, reason); returns one line saying what happened.
Halt = Callable[[str, str | None], str]
# (status code, JSON body, extra headers)
Answer = tuple[int, dict[str, Any], dict[str, str]]

log = logging.getLogger("gameday.web.app")

MAX_HALT_BODY = 16 * 1024
MAX_HALT_TEXT = 500
HALT_OFF = "POST /halt is off: set GAMEDAY_HALT_TOKEN"


class BadRequest(Exception):
    """A request refused with the given status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def halt_handler(halt: Halt | None, halt_token: str | None) -> Callable[[dict[str, Any]], Answer]:
    """The handler of /halt for a request's WSGI environ: off, or auth -> body -> halt."""
    # An empty token would let "Bearer " through: treat it as unset.
    if halt is None or not halt_token:
        return lambda environ: (404, {"error": HALT_OFF}, {})
    expected = halt_token.encode()

    def handle(environ: dict[str, Any]) -> Answer:
        if environ.get("REQUEST_METHOD", "GET") != "POST":
            return 405, {"error": "method not allowed: use POST"}, {"Allow": "POST"}
        if not bearer_matches(environ, expected):
            log.warning("refused POST /halt: no valid bearer token (client %s)", client(environ))
            return 401, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"}
        try:
            actor, reason = _halt_fields(environ)
        except BadRequest as bad:
            return bad.status, {"error": bad.message}, {}
        log.warning("halt requested over HTTP by %r (reason %r)", actor, reason)
        try:
            detail = halt(actor, reason)
        except Exception as exc:  # the caller must hear that the halt did not happen
            log.exception("POST /halt: the halt failed")
            error = f"halt failed ({type(exc).__name__}); see the log"
            return 500, {"halted": False, "error": error}, {}
        return 200, {"halted": True, "detail": detail}, {}

    return handle


def _halt_fields(environ: dict[str, Any]) -> tuple[str, str | None]:
    """(actor as recorded, reason) from the optional body; raises BadRequest."""
    body = read_body(environ, MAX_HALT_BODY)
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
        raise BadRequest(400, f"malformed JSON body: {exc}") from None
    except RecursionError:  # 16 KiB of '[' nests deeper than the parser recurses
        raise BadRequest(400, "malformed JSON body: nested too deeply") from None
    if not isinstance(data, dict):
        raise BadRequest(400, "the JSON body must be an object")
    return data


def _form_fields(body: bytes) -> dict[str, Any]:
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(400, f"malformed form body: {exc}") from None
    return {name: values[0] for name, values in form.items()}


def _text(fields: dict[str, Any], name: str) -> str | None:
    # User text is stored as given: checked for type and length only.
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(400, f"{name} must be a string")
    if len(value) > MAX_HALT_TEXT:
        raise BadRequest(400, f"{name} is longer than {MAX_HALT_TEXT} characters ({len(value)})")
    return value


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The body, reading at most `limit + 1` bytes; raises BadRequest beyond `limit`."""
    too_large = BadRequest(413, f"request body over {limit} bytes")
    stream: IO[bytes] | None = environ.get("wsgi.input")
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        try:
            length = int(declared)
        except ValueError:
            raise BadRequest(400, "bad Content-Length") from None
        if length < 0:
            raise BadRequest(400, "bad Content-Length")
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
