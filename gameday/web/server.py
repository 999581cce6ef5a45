"""Serving the WSGI app with waitress on a thread, and stopping it cleanly.

waitress runs an asyncore loop; closing its sockets from another thread while that loop
sits in select() fails with EBADF, so the stop is handed to the loop itself through
waitress's trigger (a wake-up channel) and the loop ends once its map is empty.
"""

from __future__ import annotations

import threading
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from gameday.web.app import WsgiApp

MAX_BODY = 1024 * 1024  # the largest request body served (Slack's own limit)


class HttpServer:
    """A started waitress server: its port, and `stop()`."""

    def __init__(self, app: WsgiApp, *, host: str, port: int, threads: int = 8) -> None:
        # Nothing it serves takes more than Slack's 1 MiB: waitress refuses larger bodies
        # itself instead of buffering them to disk first.
        self._server: Any = create_server(
            app, host=host, port=port, threads=threads, max_request_body_size=MAX_BODY + 4096
        )
        self.host = host
        self.port = int(self._server.effective_port)
        self._thread = threading.Thread(target=self._server.run, name="gameday-http", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8080."""
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, finish the requests in flight (up to `timeout`), end the loop."""
        server = self._server

        def shut() -> None:
            server.task_dispatcher.shutdown(timeout=timeout)
            wasyncore.close_all(server._map)

        server.trigger.pull_trigger(shut)
        self._thread.join(timeout=timeout + 1)
