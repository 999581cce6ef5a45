"""Ports for reaching people: who belongs to a user group, sending messages (and how a
send fails), notifying a channel now, and waiting out a veto."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from gameday.domain.runs import (
    OutgoingMessage,
)


class UserGroups(Protocol):
    """Members of chat user groups (Slack `S…` ids), for approval policies."""

    def members(self, group: str) -> frozenset[str]:
        """User ids in the group; empty when the group is unknown or cannot be read."""
        ...


class DeliveryFailed(Exception):
    """A message was not delivered; `retry_after` (seconds) when the far side said so,
    `permanent` when retrying cannot help (e.g. the channel does not exist)."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class MessageSender(Protocol):
    """Posts and edits chat messages (Slack Web API, or the console)."""

    def post(
        self, message: OutgoingMessage, *, thread: str | None, broadcast: bool, key: str
    ) -> str:
        """Post `message` (in `thread` if given); `key` identifies it for deduplication.
        Returns the remote id of the posted message; DeliveryFailed on failure."""
        ...

    def update(self, remote_id: str, message: OutgoingMessage) -> str:
        """Replace the text and blocks of a posted message; DeliveryFailed on failure."""
        ...


class Notifier(Protocol):
    """Delivers a message to people now (Slack, or the console when Slack is not set up)."""

    def notify(self, message: OutgoingMessage) -> None:
        """Send one message; Unavailable if it cannot be delivered."""
        ...


class VetoGate(Protocol):
    """Waits out a heads-up and reports whether someone vetoed the announced run."""

    def wait_for_veto(self, run_id: int, heads_up: timedelta) -> str | None:
        """Wait up to `heads_up`; the vetoer's name, or None if nobody vetoed."""
        ...
