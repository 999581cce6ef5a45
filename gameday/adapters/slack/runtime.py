"""Everything the service needs to talk to Slack, built once from settings by wiring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from gameday.adapters.slack.deps import SlackDeps
from gameday.adapters.slack.outbox_worker import OutboxWorker
from gameday.adapters.slack.server import WsgiApp, socket_mode_handler, wsgi_app
from gameday.domain.ports import Clock, MessageSender
from gameday.services.outbox import OutboxDispatcher


class NoUserGroups:
    """Without Slack there are no user groups: only approvers named by user id count."""

    def members(self, group: str) -> frozenset[str]:
        """Always empty."""
        return frozenset()


@dataclass
class SlackRuntime:
    """The Bolt app (None without Slack credentials), the sender and the dispatcher."""

    deps: SlackDeps
    sender: MessageSender
    dispatcher: OutboxDispatcher
    clock: Clock
    app: App | None = None
    app_token: str | None = None
    http_enabled: bool = False

    def wsgi_app(self) -> WsgiApp | None:
        """The WSGI app for `POST /slack/events`; None without a signing secret (requests
        could not be verified) or without Slack."""
        return None if self.app is None or not self.http_enabled else wsgi_app(self.app)

    def outbox_worker(self, interval: float = 1.0) -> OutboxWorker:
        """A background deliverer of the outbox (call `.start()`, later `.stop()`)."""
        return OutboxWorker(self.dispatcher, self.clock, interval)

    def socket_mode(self) -> Any | None:
        """A Socket Mode handler when GAMEDAY_SLACK_APP_TOKEN is set (call `.connect()`)."""
        if self.app is None or not self.app_token:
            return None
        return socket_mode_handler(self.app, self.app_token)
