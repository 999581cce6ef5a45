"""A fake Slack Web API over real HTTP on 127.0.0.1 for the real `slack_sdk.WebClient`.

Point a client at it with `WebClient(token=..., base_url=fake.base_url)`. It answers
`auth.test`, `chat.postMessage`, `chat.update`, `chat.postEphemeral`, `views.open` and
`usergroups.users.list`, records every call (method, arguments, headers without the
token) and can be told to fail: HTTP 500 for N calls or until healed, 429 with a
Retry-After, or `ok: false` with a Slack error code for a method.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_SECRET_HEADERS = frozenset({"authorization", "cookie"})


@dataclass(frozen=True)
class Call:
    """One request the fake received; `headers` never include the token."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    authorized: bool


@dataclass
class _Failure:
    status: int
    remaining: int | None  # None: until healed
    retry_after: int | None = None
    error: str | None = None
    method: str | None = None  # None: every method


@dataclass
class SlackState:
    """What the fake remembers: messages by (channel, ts) and user groups."""

    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    channel_ids: dict[str, str] = field(default_factory=dict)


class FakeSlackApi:
    """The fake server; use as a context manager or call start()/stop()."""

    def __init__(self, token: str = "xoxb-test-token", team: str = "T0TEST") -> None:  # noqa: S107
        self.token = token
        self.team = team
        self.calls: list[Call] = []
        self.state = SlackState()
        self._failures: list[_Failure] = []
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeSlackApi:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlackApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def _root(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The Web API base URL, with the trailing slash slack_sdk expects."""
        return f"{self._root}/api/"

    # -- behaviour knobs -------------------------------------------------------------------
    def fail(
        self, status: int = 500, *, times: int | None = None, method: str | None = None
    ) -> None:
        """Answer HTTP `status` for the next `times` calls (None: until heal())."""
        with self._lock:
            self._failures.append(_Failure(status=status, remaining=times, method=method))

    def rate_limit(self, retry_after: int, *, times: int = 1, method: str | None = None) -> None:
        """Answer 429 with `Retry-After: retry_after` for the next `times` calls."""
        with self._lock:
            self._failures.append(
                _Failure(status=429, remaining=times, retry_after=retry_after, method=method)
            )

    def error(self, error: str, *, times: int | None = 1, method: str | None = None) -> None:
        """Answer HTTP 200 with `{"ok": false, "error": error}`."""
        with self._lock:
            self._failures.append(_Failure(status=200, remaining=times, error=error, method=method))

    def heal(self) -> None:
        """Forget every failure: answer normally again."""
        with self._lock:
            self._failures.clear()

    def set_usergroup(self, group_id: str, users: list[str]) -> None:
        """Define the members `usergroups.users.list` returns for a group."""
        self.state.usergroups[group_id] = list(users)

    # -- inspection ------------------------------------------------------------------------
    @property
    def response_url(self) -> str:
        """A `response_url` to put in interaction payloads; answers land in calls as
        method "response_url"."""
        return f"{self._root}/response/{next(self._ts)}"

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until `count` calls of `method` arrived (lazy listeners answer later)."""
        with self._lock:
            done = self._lock.wait_for(
                lambda: len([c for c in self.calls if c.method == method]) >= count, timeout
            )
            found = [c for c in self.calls if c.method == method]
        if not done:
            raise AssertionError(f"expected {count} call(s) of {method}, got {len(found)}")
        return found

    def calls_to(self, method: str) -> list[Call]:
        """Calls of one API method, oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posted(self) -> list[dict[str, Any]]:
        """Messages stored by chat.postMessage (and edited by chat.update), in post order."""
        with self._lock:
            return sorted(self.state.messages.values(), key=lambda m: float(m["ts"]))

    # -- request handling ------------------------------------------------------------------
    def _take_failure(self, method: str) -> _Failure | None:
        for failure in self._failures:
            if failure.method not in (None, method):
                continue
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        result: dict[str, Any] = handler(args)
        return result

    def _channel_id(self, channel: str) -> str:
        if channel.startswith(("C", "D", "G")) and not channel.startswith("#"):
            return channel
        return self.state.channel_ids.setdefault(channel, f"C{len(self.state.channel_ids) + 1:08d}")

    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team_id": self.team, "user_id": "UBOT", "bot_id": "BBOT"}

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        cid = self._channel_id(str(channel))
        ts = f"1700000000.{next(self._ts):06d}"
        message = {"channel": cid, "ts": ts, **{k: v for k, v in args.items() if k != "channel"}}
        self.state.messages[(cid, ts)] = message
        return {
            "ok": True,
            "channel": cid,
            "ts": ts,
            "message": {"ts": ts, "text": args.get("text")},
        }

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._channel_id(str(args.get("channel", "")))
        ts = str(args.get("ts", ""))
        if (cid, ts) not in self.state.messages:
            return {"ok": False, "error": "message_not_found"}
        self.state.messages[(cid, ts)].update(
            {k: v for k, v in args.items() if k not in ("channel", "ts")}, edited=True
        )
        return {"ok": True, "channel": cid, "ts": ts}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}

    def _api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V0001"}}

    def _api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = str(args.get("usergroup", ""))
        if group not in self.state.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.state.usergroups[group])}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                self._handle(b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._handle(self.rfile.read(length))

            def _handle(self, body: bytes) -> None:
                url = urlsplit(self.path)
                method = url.path.rsplit("/", 1)[-1]
                if url.path.startswith("/response/"):
                    method = "response_url"
                args: dict[str, Any] = dict(parse_qsl(url.query))
                ctype = self.headers.get("Content-Type", "")
                if body and "json" in ctype:
                    args.update(json.loads(body))
                elif body:
                    args.update(parse_qsl(body.decode("utf-8")))
                    for key in ("blocks", "metadata", "attachments"):
                        if isinstance(args.get(key), str):
                            args[key] = json.loads(args[key])
                auth = self.headers.get("Authorization", "")
                authorized = auth == f"Bearer {fake.token}" or args.pop("token", None) == fake.token
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in _SECRET_HEADERS
                }
                if method == "response_url":
                    authorized = True  # response URLs carry no token
                with fake._lock:
                    fake.calls.append(Call(method, args, headers, authorized))
                    fake._lock.notify_all()
                    failure = fake._take_failure(method)
                    status: int
                    payload: dict[str, Any]
                    extra: dict[str, str]
                    if method == "response_url":
                        status, payload, extra = 200, {"ok": True}, {}
                    elif not authorized:
                        status, payload, extra = 200, {"ok": False, "error": "invalid_auth"}, {}
                    elif failure is not None and failure.status == 429:
                        status, payload = 429, {"ok": False, "error": "ratelimited"}
                        extra = {"Retry-After": str(failure.retry_after or 1)}
                    elif failure is not None and failure.error:
                        status, payload, extra = 200, {"ok": False, "error": failure.error}, {}
                    elif failure is not None:
                        status, payload, extra = (
                            failure.status,
                            {"ok": False, "error": "fatal_error"},
                            {},
                        )
                    else:
                        status, payload, extra = 200, fake._answer(method, args), {}
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
