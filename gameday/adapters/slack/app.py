"""The Bolt app, built by a function (nothing happens at import time).

- Requests are verified by Bolt with the signing secret (forged, tampered or older than
  five minutes: 401, and no listener runs).
- `process_before_response=True`: Bolt runs the ack listener inline and answers with what
  it acked, instead of polling a thread pool for the ack (~11 ms per request); slow work
  goes to lazy listeners.
- Authorisation needs no Web API call per request: this is a single-workspace app whose
  bot token is known, so `authorize` returns it directly.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from gameday.adapters.slack.deps import SlackDeps
from gameday.adapters.slack.listeners import register_all

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://slack.com/api/"


def web_client(token: str, api_url: str | None = None) -> WebClient:
    """A WebClient for the bot token, at `api_url` (tests point it at a fake)."""
    return WebClient(token=token, base_url=_base(api_url))


def _base(api_url: str | None) -> str:
    base = api_url or DEFAULT_API_URL
    return base if base.endswith("/") else base + "/"


def build_app(
    deps: SlackDeps,
    *,
    signing_secret: str,
    bot_token: str,
    api_url: str | None = None,
) -> App:
    """A Bolt app with every gameday listener registered."""

    def authorize(enterprise_id: str | None, team_id: str | None, **_: Any) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token)

    app = App(
        signing_secret=signing_secret,
        authorize=authorize,
        # No token on the client: Bolt takes it from `authorize` for each request.
        client=WebClient(base_url=_base(api_url)),
        process_before_response=True,
        logger=logging.getLogger("gameday.slack.bolt"),
    )
    register_all(app, deps)
    return app
