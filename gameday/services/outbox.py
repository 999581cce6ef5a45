"""Delivering the outbox: in order per channel, with backoff, honouring rate limits.

Rules:
- messages of one channel go out in the order they were queued; a channel whose oldest
  message fails waits (with exponential backoff) and its later messages wait behind it;
- a rate limit (429 with Retry-After) pauses every channel until the time given;
- a message is marked delivered, with the remote id Slack returned, right after Slack
  accepted it; the outbox id travels with the message as its deduplication key;
- a permanent failure (unknown channel, bad blocks) is recorded on the row (its error,
  closed without a remote id) and the channel moves on, so one bad message cannot block
  a channel forever;
- message kinds (`MessageKind`): an announcement starts a run's thread (a later one is a
  broadcast reply in it), an update edits the run's first message (chat.update), anything
  else with a run is a reply in the run's thread.

Delivery is at-least-once: if the process dies between Slack's answer and the database
commit, the message is sent again on restart (Slack has no idempotency key for
chat.postMessage); everything else is exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from gameday.domain.ports import Clock, DeliveryFailed, MessageSender, Outbox
from gameday.domain.runs import MessageKind, OutboxItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: base, base*factor, … up to cap."""

    base: timedelta = timedelta(seconds=2)
    factor: float = 2.0
    cap: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failure (1 = first failure)."""
        seconds = self.base.total_seconds() * self.factor ** max(attempts - 1, 0)
        return min(timedelta(seconds=seconds), self.cap)


@dataclass(frozen=True)
class DispatchReport:
    """What one pass did, and when the next pass is worth making (None: nothing waits)."""

    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    paused_until: datetime | None = None


class OutboxDispatcher:
    """Sends due outbox messages through a MessageSender; call `dispatch_once` in a loop."""

    def __init__(
        self,
        outbox: Outbox,
        sender: MessageSender,
        clock: Clock,
        *,
        backoff: Backoff | None = None,
        batch: int = 100,
    ) -> None:
        self._outbox = outbox
        self._sender = sender
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._batch = batch
        self._paused_until: datetime | None = None

    def dispatch_once(self) -> DispatchReport:
        """Deliver what is due now; stops a channel at its first failure."""
        now = self._clock.now()
        if self._paused_until is not None and now < self._paused_until:
            return DispatchReport(paused_until=self._paused_until)
        self._paused_until = None
        delivered = failed = dropped = 0
        blocked: set[str] = set()
        for item in self._outbox.due(now=now, limit=self._batch):
            channel = item.message.channel
            if channel in blocked:
                continue
            try:
                remote_id = self._deliver(item)
            except DeliveryFailed as exc:
                now = self._clock.now()
                if exc.permanent:
                    log.error("outbox %s to %s dropped: %s", item.id, channel, exc)
                    # Recorded as given up: the error stays on the row, no remote id.
                    self._outbox.mark_failed(item.id, error=str(exc), retry_at=now)
                    self._outbox.mark_delivered(item.id, at=now, remote_id=None)
                    dropped += 1
                    continue
                failed += 1
                blocked.add(channel)
                wait = self._backoff.delay(item.attempts + 1)
                if exc.retry_after is not None:
                    wait = max(wait, timedelta(seconds=exc.retry_after))
                    self._paused_until = now + timedelta(seconds=exc.retry_after)
                log.warning("outbox %s to %s failed (%s); retry in %s", item.id, channel, exc, wait)
                self._outbox.mark_failed(item.id, error=str(exc), retry_at=now + wait)
                if self._paused_until is not None:
                    break
                continue
            self._outbox.mark_delivered(item.id, at=self._clock.now(), remote_id=remote_id)
            delivered += 1
        return DispatchReport(delivered, failed, dropped, self._paused_until)

    def _deliver(self, item: OutboxItem) -> str:
        message = item.message
        key = f"gameday-outbox-{item.id}"
        anchor = None
        if message.thread_of_run is not None:
            anchor = self._outbox.thread_of(message.thread_of_run, message.channel)
        if message.kind is MessageKind.UPDATE and anchor is not None:
            return self._sender.update(anchor, message)
        if message.kind in (MessageKind.ANNOUNCEMENT, MessageKind.UPDATE):
            return self._sender.post(message, thread=anchor, broadcast=anchor is not None, key=key)
        return self._sender.post(message, thread=anchor, broadcast=False, key=key)
