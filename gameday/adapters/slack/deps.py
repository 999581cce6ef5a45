"""What the Slack listeners need from the rest of gameday."""

from __future__ import annotations

from dataclasses import dataclass

from gameday.services.approvals import ApprovalService
from gameday.services.chatops import ChatOps
from gameday.services.drill_acts import DrillActs
from gameday.services.run_updates import RunUpdates


@dataclass(frozen=True)
class SlackDeps:
    """The use cases the listeners call, and the zone times are shown in."""

    chatops: ChatOps
    approvals: ApprovalService
    updates: RunUpdates
    timezone: str = "UTC"
    drills: DrillActs | None = None  # ack and resolve (None: not offered)
