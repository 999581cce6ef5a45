"""Bolt listeners, one small module each; `register_all` attaches them explicitly."""

from __future__ import annotations

from slack_bolt import App

from gameday.adapters.slack.deps import SlackDeps
from gameday.adapters.slack.listeners import actions, command


def register_all(app: App, deps: SlackDeps) -> None:
    """Attach every listener to `app`."""
    command.register(app, deps)
    actions.register(app, deps)
