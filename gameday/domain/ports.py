"""Small Protocols the services need from the outside world; adapters implement them.

Each area adds its own ports here; keep each Protocol narrow (only what a service calls).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Where time comes from; tests inject a fake so nothing waits for the wall clock."""

    def now(self) -> datetime:
        """Return the current instant as an aware datetime in UTC."""
        ...
