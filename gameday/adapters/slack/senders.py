"""Sending messages: to Slack's Web API (`SlackSender`), to the console (`ConsoleSender`),
and at once for a command that cannot wait for the outbox worker (`DeliverNow`).

The first two implement the MessageSender port. A Slack message's remote id is `CHANNEL_ID:TS`
(chat.update needs the channel id, threads need the ts); the console's is `console:N`.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
from typing import Any, TextIO

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from gameday.domain.errors import Unavailable
from gameday.domain.ports import DeliveryFailed, MessageSender, Outbox
from gameday.domain.runs import OutgoingMessage

# Retrying cannot fix these: the message itself or its destination is wrong.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "invalid_metadata_format",
        "invalid_metadata_schema",
    }
)


def split_remote_id(remote_id: str) -> tuple[str, str]:
    """(channel id, ts) of a Slack remote id."""
    channel, _, ts = remote_id.rpartition(":")
    if not channel or not ts:
        raise ValueError(f"not a Slack message id: {remote_id!r}")
    return channel, ts


def _failure(exc: Exception) -> DeliveryFailed:
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = response.status_code
        error = response.get("error") if isinstance(response.data, dict) else None
        if status == 429:
            raw = response.headers.get("Retry-After") or response.headers.get("retry-after")
            retry_after = float(raw[0] if isinstance(raw, list) else raw or 1)
            return DeliveryFailed("rate limited by Slack", retry_after=retry_after)
        if status >= 500:
            return DeliveryFailed(f"Slack answered HTTP {status}")
        return DeliveryFailed(f"Slack error: {error}", permanent=error in PERMANENT_ERRORS)
    return DeliveryFailed(f"Slack unreachable: {type(exc).__name__}: {exc}")


class SlackSender:
    """Posts and updates messages with the real slack_sdk WebClient."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def post(
        self, message: OutgoingMessage, *, thread: str | None, broadcast: bool, key: str
    ) -> str:
        """chat.postMessage; the outbox key travels in the message metadata."""
        args: dict[str, Any] = {
            "channel": message.channel,
            "text": message.text,
            "unfurl_links": False,
            "unfurl_media": False,
            "metadata": {"event_type": "gameday_outbox", "event_payload": {"key": key}},
        }
        if message.blocks:
            args["blocks"] = message.blocks
        if thread is not None:
            args["thread_ts"] = split_remote_id(thread)[1]
            if broadcast:
                args["reply_broadcast"] = True
        try:
            response = self._client.chat_postMessage(**args)
        except (SlackClientError, OSError) as exc:
            raise _failure(exc) from None
        return f"{response['channel']}:{response['ts']}"

    def update(self, remote_id: str, message: OutgoingMessage) -> str:
        """chat.update of a message posted earlier (buttons go when blocks lack them)."""
        channel, ts = split_remote_id(remote_id)
        try:
            self._client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=message.blocks or []
            )
        except (SlackClientError, OSError) as exc:
            raise _failure(exc) from None
        return remote_id


class ConsoleSender:
    """Prints the messages Slack would get (when no bot token is configured)."""

    def __init__(self, stream: TextIO | None = None, *, with_blocks: bool = False) -> None:
        self._stream = stream
        self._with_blocks = with_blocks
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def post(
        self, message: OutgoingMessage, *, thread: str | None, broadcast: bool, key: str
    ) -> str:
        """Print one message; thread replies are indented under their thread."""
        with self._lock:
            remote_id = f"console:{next(self._ids)}"
            where = f"{message.channel} thread {thread}" if thread else message.channel
            self._print(f"[{where}] {message.text}", message)
            return remote_id

    def update(self, remote_id: str, message: OutgoingMessage) -> str:
        """Print the new version of a message."""
        with self._lock:
            self._print(f"[{message.channel} update {remote_id}] {message.text}", message)
            return remote_id

    def _print(self, line: str, message: OutgoingMessage) -> None:
        stream = self._stream or sys.stdout
        stream.write(line + "\n")
        if self._with_blocks and message.blocks:
            stream.write(json.dumps(message.blocks, indent=2) + "\n")
        stream.flush()


class DeliverNow:
    """The Notifier port for a command that cannot wait for the service's outbox worker
    (`gameday monkey --once` with Slack configured): it posts at once, in the run's thread
    when there is one, and records the message as delivered in the outbox.

    Rules: a message Slack did not take raises Unavailable with Slack's reason (a kill's
    heads-up that nobody saw must stop the kill); nothing is recorded then.
    """

    def __init__(self, sender: MessageSender, outbox: Outbox) -> None:
        self._sender = sender
        self._outbox = outbox

    def notify(self, message: OutgoingMessage) -> None:
        """Post `message` now and record it."""
        anchor = None
        if message.thread_of_run is not None:
            anchor = self._outbox.thread_of(message.thread_of_run, message.channel)
        try:
            remote_id = self._sender.post(
                message, thread=anchor, broadcast=False, key=f"gameday-now-{message.kind}"
            )
        except DeliveryFailed as exc:
            raise Unavailable(
                f"Slack did not take the message to {message.channel}: {exc}"
            ) from None
        self._outbox.record_sent(message, remote_id=remote_id)
