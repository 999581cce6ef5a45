"""Serving the Bolt app: `POST /slack/events` as a WSGI app under waitress, or Socket Mode."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import create_server

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(app: App, path: str = EVENTS_PATH) -> WsgiApp:
    """The WSGI app answering `POST {path}` (commands, interactivity and events)."""
    handler: WsgiApp = SlackRequestHandler(app, path=path)
    return handler


class HttpServer:
    """waitress serving a WSGI app in a background thread (for the service and tests)."""

    def __init__(
        self,
        app: WsgiApp,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 8,
        poll: float = 0.2,
    ):
        # `poll` bounds how long stop() waits for waitress's loop to notice.
        self._server = create_server(
            app, host=host, port=port, threads=threads, asyncore_loop_timeout=poll
        )
        self._thread = threading.Thread(target=self._server.run, name="slack-http", daemon=True)

    @property
    def url(self) -> str:
        """Base URL the server listens on."""
        return f"http://{self._server.effective_host}:{self._server.effective_port}"

    def start(self) -> HttpServer:
        """Start serving."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        server: Any = self._server
        # Let requests in flight finish first (they wake the loop when done), then close
        # every socket from inside waitress's loop: closing them from here races with its
        # select(). The loop ends once nothing is left to watch.
        server.task_dispatcher.shutdown()
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        self._thread.join(timeout=5)


def socket_mode_handler(app: App, app_token: str) -> Any:
    """A Socket Mode handler (connect with `.connect()`, stop with `.close()`)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(app, app_token)
