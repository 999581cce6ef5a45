"""The GateChecker port over HTTP with `requests`: one Session per endpoint.

Rules (a gate fails closed):
- every check has a deadline (its `timeout`) for the whole exchange, connection to last
  byte: the body is read in pieces as they arrive, so a slowly dripping answer cannot hold
  a scheduler or a run past it;
- at most MAX_BODY bytes are kept, counted after decompression, which urllib3 (2.6 and
  later) does in bounded steps, so a gzip bomb stops at the limit without ever being
  inflated in memory; at most MAX_REDIRECTS redirects are followed;
- an unreachable endpoint is tried once more after a short random pause when the caller
  asks (`retry`, for the decision to start), never for a stop condition;
- credentials come from the environment variable a gate names and never appear in a
  result, an event or a log line.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from gameday.domain.gate_specs import AlertmanagerCheck, GateSpec, HttpCheck, PrometheusCheck
from gameday.domain.gates import (
    GateResult,
    Judgement,
    alertmanager_filters,
    bound_of,
    judge_alertmanager,
    judge_http,
    judge_prometheus,
)

MAX_BODY = 1024 * 1024
MAX_REDIRECTS = 3
_PIECE = 64 * 1024


class _Unreadable(Exception):
    """The answer could not be read within the rules; the message says why."""


class HttpGateChecker:
    """Evaluates gates over HTTP (see the module rules)."""

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        pause: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = lambda: random.uniform(0.2, 0.6),
    ) -> None:
        self._environ = environ
        self._pause = pause
        self._jitter = jitter
        self._sessions: dict[str, requests.Session] = {}
        self._lock = threading.Lock()

    def check(self, gate: GateSpec, *, retry: bool = False) -> GateResult:
        """Evaluate one gate now; never raises."""
        began = time.perf_counter()
        try:
            judgement = self._judge(gate)
        except requests.ConnectionError as exc:
            if retry:
                self._pause(self._jitter())
                return self.check(gate, retry=False)
            where = urlsplit(gate.check.url).netloc
            judgement = Judgement(False, "no answer", f"unreachable: {where}: {_cause(exc)}")
        except _Unreadable as exc:
            judgement = Judgement(False, "no usable answer", str(exc))
        except requests.Timeout:
            seconds = gate.check.timeout.total_seconds()
            judgement = Judgement(False, "no answer", f"no answer within {seconds:g}s (timeout)")
        except requests.TooManyRedirects:
            judgement = Judgement(False, "no answer", f"more than {MAX_REDIRECTS} redirects")
        except requests.RequestException as exc:
            judgement = Judgement(False, "no answer", f"request failed: {_short(exc)}")
        latency = (time.perf_counter() - began) * 1000
        return GateResult(
            gate=gate.name,
            kind=gate.kind,
            passed=judgement.passed,
            observed=judgement.observed,
            reason=judgement.reason,
            latency_ms=latency,
            stop_condition=gate.stop_condition,
            bound=bound_of(gate),
        )

    def _judge(self, gate: GateSpec) -> Judgement:
        check = gate.check
        headers = self._headers(gate)
        if isinstance(check, PrometheusCheck):
            url = check.url.rstrip("/") + "/api/v1/query"
            status, body = self._get(url, {"query": check.query}, headers, check.timeout)
            return judge_prometheus(check, _json(body, status, "Prometheus"))
        if isinstance(check, AlertmanagerCheck):
            url = check.url.rstrip("/") + "/api/v2/alerts"
            params: list[tuple[str, str]] = [
                ("active", "true"),
                ("silenced", "false"),
                ("inhibited", "false"),
            ]
            params += [("filter", f) for f in alertmanager_filters(check)]
            status, body = self._get(url, params, headers, check.timeout)
            if status >= 400:
                raise _Unreadable(f"Alertmanager answered HTTP {status}")
            return judge_alertmanager(check, _json(body, status, "Alertmanager"))
        assert isinstance(check, HttpCheck)
        status, body = self._get(check.url, None, headers, check.timeout)
        text = body.decode("utf-8", "replace")
        wants_json = check.json_check is not None and 200 <= status < 300
        parsed = _json(body, status, "the endpoint") if wants_json else None
        return judge_http(check, status, text, parsed)

    def _headers(self, gate: GateSpec) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if gate.auth is not None:
            token = self._environ.get(gate.auth.bearer_env)
            if not token:
                raise _Unreadable(f"environment variable {gate.auth.bearer_env} is not set")
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _get(
        self, url: str, params: Any, headers: Mapping[str, str], timeout: Any
    ) -> tuple[int, bytes]:
        seconds = timeout.total_seconds()
        deadline = time.monotonic() + seconds
        session = self._session(url)
        response = session.get(
            url, params=params, headers=dict(headers), timeout=(seconds, seconds), stream=True
        )
        try:
            return response.status_code, _read(response, deadline, seconds)
        finally:
            response.close()

    def _session(self, url: str) -> requests.Session:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = requests.Session()
                session.max_redirects = MAX_REDIRECTS
                session.trust_env = False  # no proxies or .netrc credentials by surprise
                self._sessions[key] = session
            return session

    def close(self) -> None:
        """Close every endpoint's connections."""
        with self._lock:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()


def _read(response: requests.Response, deadline: float, seconds: float) -> bytes:
    """The decoded body, read piece by piece against the deadline and the size limit."""
    raw = response.raw
    pieces: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise _Unreadable(f"the answer took longer than {seconds:g}s to arrive (timeout)")
        piece = raw.read1(_PIECE, decode_content=True)
        if not piece:
            return b"".join(pieces)
        size += len(piece)
        if size > MAX_BODY:
            raise _Unreadable(f"the answer is larger than {MAX_BODY // (1024 * 1024)} MiB")
        pieces.append(piece)


def _json(body: bytes, status: int, who: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        if status >= 400:
            raise _Unreadable(f"{who} answered HTTP {status}") from None
        raise _Unreadable("the answer is not JSON") from None


_CAUSES = (
    ("Connection refused", "connection refused"),
    ("Name or service not known", "unknown host"),
    ("nodename nor servname", "unknown host"),
    ("Temporary failure in name resolution", "unknown host"),
    ("Network is unreachable", "network unreachable"),
    ("No route to host", "no route to host"),
    ("Connection reset", "connection reset"),
    ("RemoteDisconnected", "closed the connection without answering"),
)


def _cause(exc: Exception) -> str:
    """What went wrong with a connection, in a few words (the library's text is long)."""
    text = str(exc)
    return next((short for needle, short in _CAUSES if needle in text), _short(exc))


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
