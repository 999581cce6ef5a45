"""Slack user group members (`usergroups.users.list`), cached for a while."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from gameday.domain.ports import Clock

log = logging.getLogger(__name__)


class CachedUserGroups:
    """The UserGroups port over the Web API; members are cached for `ttl`.

    When Slack cannot answer, the last known members are used (even if stale); with
    nothing known the group counts as empty, so nobody is authorised by it.
    """

    def __init__(self, client: WebClient, clock: Clock, ttl: timedelta = timedelta(minutes=5)):
        self._client = client
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[str, tuple[datetime, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def members(self, group: str) -> frozenset[str]:
        """User ids in `group`, from the cache while fresh."""
        now = self._clock.now()
        with self._lock:
            cached = self._cache.get(group)
        if cached is not None and now < cached[0]:
            return cached[1]
        try:
            response = self._client.usergroups_users_list(usergroup=group)
        except (SlackClientError, OSError) as exc:
            log.warning("cannot read members of user group %s: %s", group, type(exc).__name__)
            return cached[1] if cached is not None else frozenset()
        users = frozenset(str(u) for u in response.get("users") or [])
        with self._lock:
            self._cache[group] = (now + self._ttl, users)
        return users
