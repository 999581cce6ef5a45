"""Serving a WSGI app with waitress on a thread, and stopping it cleanly.

The one HTTP server of the project: `gameday serve` uses it for every endpoint, the tests
and `bench/` for theirs.

Rules:
- The loop is ours, not `waitress.server.run()`: it runs waitress's asyncore loop one poll
  at a time and checks a stop flag between polls, so a stop never depends on waitress's
  wake-up pipe (a pipe some other code in the process may have closed by number).
- A stop closes the listening socket first (new connections are refused), keeps the loop
  turning until the requests in flight are answered and flushed (up to `timeout`), then
  closes every socket from inside the loop's own thread: closing them from another thread
  while the loop sits in select() fails with EBADF. The wake-up pipe stays open while a
  handler thread still runs past `timeout` (it pulls the pipe when its answer is ready).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from gameday.adapters.slack.server import MAX_BODY
from gameday.web.app import WsgiApp


class HttpServer:
    """A started waitress server: its `url`, and `stop()`."""

    def __init__(
        self,
        app: WsgiApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 8,
        poll: float = 0.2,
    ) -> None:
        # Nothing it serves takes more than Slack's 1 MiB: waitress refuses larger bodies
        # itself instead of buffering them to disk first.
        self._server: Any = create_server(
            app, host=host, port=port, threads=threads, max_request_body_size=MAX_BODY + 4096
        )
        self.host = host
        self.port = int(self._server.effective_port)
        self._poll = poll  # bounds how long a stop waits for the loop to notice
        self._stopping = threading.Event()
        self._timeout = 5.0
        self._thread = threading.Thread(target=self._serve, name="gameday-http", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8080."""
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, finish the requests in flight (up to `timeout`), end the loop.

        Rules: idempotent; returns once the loop's thread has ended (or `timeout` + 1 s)."""
        self._timeout = timeout
        self._stopping.set()
        with contextlib.suppress(OSError, ValueError):
            self._server.trigger.pull_trigger()  # only to wake the loop early
        self._thread.join(timeout=timeout + 1)

    def _serve(self) -> None:
        server = self._server
        sockets: dict[int, Any] = server._map
        while not self._stopping.is_set() and sockets:
            wasyncore.loop(timeout=self._poll, map=sockets, count=1)
        server.accepting = False
        with contextlib.suppress(OSError):
            server.close()  # the listening socket: refuse what comes next
        deadline = time.monotonic() + self._timeout
        while sockets and self._busy(sockets) and time.monotonic() < deadline:
            wasyncore.loop(timeout=min(self._poll, 0.05), map=sockets, count=1)
        dispatcher = server.task_dispatcher
        dispatcher.shutdown(timeout=max(0.0, deadline - time.monotonic()))
        if dispatcher.threads:
            # A handler still serving will pull the trigger when its answer is ready: a
            # closed trigger fails it with EBADF, or writes into whatever file has reused
            # the descriptor's number. Leave the trigger to them (two descriptors).
            for fd in [fd for fd, channel in sockets.items() if channel is server.trigger]:
                del sockets[fd]
        wasyncore.close_all(sockets)

    def _busy(self, sockets: dict[int, Any]) -> bool:
        """Whether a request is queued, being served, or has output still to flush."""
        dispatcher = self._server.task_dispatcher
        with dispatcher.lock:
            # Idle handler threads are not counted in active_count.
            if dispatcher.queue or dispatcher.active_count:
                return True
        return any(
            channel is not self._server.trigger and channel.writable()
            for channel in list(sockets.values())
        )
