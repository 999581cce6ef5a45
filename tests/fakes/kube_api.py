"""A fake Kubernetes API server over real HTTP on 127.0.0.1, for the real `kubernetes` client.

It serves namespaces, pods (list with label/field selectors and `limit`/`continue`, get,
delete, eviction honouring policy/v1 PodDisruptionBudgets), apps/v1 workloads, PDBs,
coordination.k8s.io/v1 Leases (optimistic concurrency: 409 on a stale resourceVersion) and
Istio VirtualServices (networking.istio.io v1alpha3 and v1beta1). Every request is recorded
so a test can assert what was (not) sent; it can be told to fail with 5xx or to refuse
connections.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.kube_selectors import SelectorError
from tests.fakes.kube_store import (
    RESOURCES,
    ApiError,
    Failure,
    KubeState,
    Request,
    ResourceView,
    compact,
    status_body,
)

__all__ = ["MUTATING", "ApiError", "FakeKubeApi", "KubeState", "Request", "status_body"]

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ISTIO_VERSIONS = ("v1alpha3", "v1beta1")

_ROUTE = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?$"
)


class FakeKubeApi:
    """The server: start it, point a client at `url`, inspect `state` afterwards."""

    def __init__(self) -> None:
        self.state = KubeState()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL for `Configuration(host=...)` or a kubeconfig's cluster server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeKubeApi:
        """Listen on 127.0.0.1 (a free port, or the previous one after refuse_connections)."""
        handler = type("Handler", (_Handler,), {"api": self})
        server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; clients now get connection refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        # Kept-alive connections would otherwise go on being served by their threads.
        with self.state.lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    refuse_connections = stop

    # -- failure injection and request log -------------------------------------------------
    def fail(self, status: int = 503, *, times: int | None = None) -> None:
        """Answer every request (or the next `times`) with `status` and a Status body."""
        self.state.failure = Failure(status, times)

    def recover(self) -> None:
        """Stop failing."""
        self.state.failure = None

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, in order."""
        with self.state.lock:
            return list(self.state.requests)

    def mutating_requests(self) -> list[Request]:
        """The POST/PUT/PATCH/DELETE requests received so far."""
        return [r for r in self.requests if r.method in MUTATING]

    def clear_requests(self) -> None:
        """Forget the request log (after test setup, for instance)."""
        with self.state.lock:
            self.state.requests.clear()

    # -- convenience accessors --------------------------------------------------------------
    def put(self, *objects: dict[str, Any]) -> None:
        """Store objects directly (no request is recorded)."""
        with self.state.lock:
            for obj in objects:
                self.state.put(obj)

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object or None."""
        with self.state.lock:
            return self.state.bucket(plural, namespace).get(name)

    def names(self, plural: str, namespace: str | None = None) -> list[str]:
        """Names of stored objects (all namespaces unless given)."""
        with self.state.lock:
            return [o["metadata"]["name"] for o in self.state.items(plural, namespace)]


class _Handler(BaseHTTPRequestHandler):
    api: FakeKubeApi
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: tests read the request log instead

    def setup(self) -> None:
        super().setup()
        with self.api.state.lock:
            self.api._connections.add(self.connection)

    def finish(self) -> None:
        with self.api.state.lock:
            self.api._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        state = self.api.state
        with state.lock:
            state.requests.append(Request(method, parts.path, query, body))
            failure = state.failure
            if failure is not None and failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    state.failure = None
        try:
            if failure is not None:
                raise ApiError(failure.status, "ServiceUnavailable", "injected failure")
            code, payload = _route(state, method, parts.path, query, body)
        except ApiError as exc:
            code, payload = exc.code, status_body(exc.code, exc.reason, exc.message, exc.details)
        except SelectorError as exc:
            code, payload = 400, status_body(400, "BadRequest", str(exc))
        except Exception as exc:  # a bug in the fake: answer like a broken server would
            code, payload = 500, status_body(500, "InternalError", f"fake server: {exc!r}")
        data = payload if isinstance(payload, bytes) else compact(payload)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _route(
    state: KubeState, method: str, path: str, query: dict[str, list[str]], body: Any
) -> tuple[int, Any]:
    match = _ROUTE.match(path)
    if not match or match["plural"] not in RESOURCES:
        raise ApiError(404, "NotFound", f"the server could not find the requested resource {path}")
    plural, ns, name, sub = match["plural"], match["ns"], match["name"], match["sub"]
    kind, api_version, namespaced = RESOURCES[plural]
    group_version = "v1" if match["core"] else f"{match['group']}/{match['version']}"
    if plural == "virtualservices":
        if match["group"] != api_version or match["version"] not in ISTIO_VERSIONS:
            raise ApiError(
                404, "NotFound", f"the server could not find the requested resource {path}"
            )
        api_version = group_version
    elif group_version != api_version:
        raise ApiError(404, "NotFound", f"the server could not find the requested resource {path}")
    with state.lock:
        with_state = ResourceView(state, plural, kind, api_version, "" if not namespaced else ns)
        if sub == "eviction" and plural == "pods" and method == "POST" and name and ns:
            return with_state.evict(name, body)
        if sub is not None:
            raise ApiError(
                404, "NotFound", f"the server could not find the requested resource {path}"
            )
        if name is None:
            if method == "GET":
                return 200, with_state.list_objects(query)
            if method == "POST" and (ns or not namespaced):
                return 201, with_state.create(body)
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on {path}")
        if namespaced and ns is None:
            raise ApiError(
                404, "NotFound", f"the server could not find the requested resource {path}"
            )
        if method == "GET":
            return 200, with_state.read(name)
        if method == "PUT":
            return 200, with_state.replace(name, body)
        if method == "PATCH":
            return 200, with_state.patch(name, body)
        if method == "DELETE":
            return 200, with_state.delete(name, query, body)
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on {path}")
