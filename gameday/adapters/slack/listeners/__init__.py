"""Bolt listeners, one small module each; `register_all` attaches them explicitly."""

from __future__ import annotations

from slack_bolt import App

from gameday.adapters.slack.deps import SlackDeps
from gameday.adapters.slack.listeners import actions, command, retries


def register_all(app: App, deps: SlackDeps) -> None:
    """Attach every middleware and listener to `app`."""
    retries.register(app)
    command.register(app, deps)
    actions.register(app, deps)
