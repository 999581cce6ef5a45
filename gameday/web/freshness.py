"""The overview page kept a few seconds, so a busy dashboard costs one render, not one per
viewer (rendering a thousand schedules' week takes tens of milliseconds of CPU).

Rules:
- a copy is served while it is younger than `ttl` and was rendered for the same key (the
  caller puts in the key what must never be stale: the kill switch, the pauses, the
  catalog), by the injected clock;
- once it is older, one request renders a new copy while the others keep getting the old
  one, as long as it is younger than `max_stale`; past that, or for a new key, a request
  waits for (or makes) a fresh render;
- a render that fails leaves the old copy as it was and raises to its caller;
- a `ttl` of zero keeps nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class _Copy:
    key: Hashable
    at: datetime
    body: bytes


class RecentPage:
    """One page's latest render (see the module's rules)."""

    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        ttl: timedelta = timedelta(seconds=2),
        max_stale: timedelta = timedelta(seconds=30),
    ) -> None:
        self._now = now
        self._ttl = ttl
        self._max_stale = max_stale
        self._lock = threading.Lock()
        self._copy: _Copy | None = None
        self._rendering = False

    def get(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """The page for `key`: kept, or rendered now by `render`."""
        if self._ttl <= timedelta(0):  # keeping nothing: every request renders
            return render()
        now = self._now()
        with self._lock:
            copy = self._copy
            if copy is not None and copy.key == key:
                age = now - copy.at
                if age < self._ttl:
                    return copy.body
                if self._rendering and age < self._max_stale:
                    return copy.body  # someone is rendering the next copy already
            self._rendering = True
        try:
            body = render()
        except BaseException:
            with self._lock:
                self._rendering = False
            raise
        with self._lock:
            self._copy = _Copy(key, now, body)
            self._rendering = False
        return body
