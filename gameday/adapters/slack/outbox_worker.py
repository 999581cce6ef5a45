"""Runs the outbox dispatcher in a background thread until stopped."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from gameday.domain.ports import Clock
from gameday.services.outbox import OutboxDispatcher

log = logging.getLogger(__name__)


class OutboxWorker:
    """Calls `dispatch_once` every `interval` seconds (sooner when work is left)."""

    def __init__(self, dispatcher: OutboxDispatcher, clock: Clock, interval: float = 1.0):
        self._dispatcher = dispatcher
        self._clock = clock
        self._interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)

    def start(self) -> OutboxWorker:
        """Start delivering."""
        self._thread.start()
        return self

    def poke(self) -> None:
        """Deliver now (e.g. right after queueing a message)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the current pass and stop."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            wait = self._interval
            try:
                report = self._dispatcher.dispatch_once()
                if report.paused_until is not None:
                    wait = max(_seconds_until(report.paused_until, self._clock.now()), 0.05)
            except Exception:  # keep delivering after a database hiccup
                log.exception("outbox pass failed")
            self._wake.wait(wait)
            self._wake.clear()


def _seconds_until(when: datetime, now: datetime) -> float:
    return (when - now).total_seconds()
