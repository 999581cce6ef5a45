"""What /healthz and /readyz report, set by the service as it starts and runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Health:
    """Readiness facts; thread-safe because the leader loop and the HTTP threads share it.

    Ready means: migrations applied, specs loaded, and (for the leader) the scheduler
    running. A follower is ready once the first two hold: it serves Slack and health.
    """

    migrated: bool = False
    specs_loaded: bool = False
    leader: bool = False
    scheduler_running: bool = False
    stopping: bool = False
    mode: str = "unknown"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, **facts: bool | str) -> None:
        """Set some facts at once."""
        with self._lock:
            for key, value in facts.items():
                if key.startswith("_") or not hasattr(self, key):
                    raise AttributeError(key)
                setattr(self, key, value)

    def ready(self) -> tuple[bool, dict[str, bool | str]]:
        """(ready, the facts behind it) for /readyz."""
        with self._lock:
            facts: dict[str, bool | str] = {
                "migrated": self.migrated,
                "specs_loaded": self.specs_loaded,
                "leader": self.leader,
                "scheduler_running": self.scheduler_running,
                "stopping": self.stopping,
                "leader_mode": self.mode,
            }
            ok = (
                self.migrated
                and self.specs_loaded
                and not self.stopping
                and (self.scheduler_running or not self.leader)
            )
        return ok, facts
