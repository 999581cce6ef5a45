"""Factories of pod facts and monkey specs for the monkey tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from gameday.domain.pods import PodFacts
from gameday.domain.specs import MonkeySpec

NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
OPT_IN = {"gameday.io/enabled": "true"}
OPT_OUT = {"gameday.io/enabled": "false"}


def facts(
    name: str = "web-1",
    namespace: str = "shop",
    *,
    labels: Mapping[str, str] = OPT_IN,
    owner: tuple[str, str] | None = ("Deployment", "web"),
    owner_labels: Mapping[str, str] | None = None,
    phase: str = "Running",
    ready: bool = True,
    age: timedelta = timedelta(hours=1),
    node: str = "node-1",
) -> PodFacts:
    """A pod as discovery reports it (opted in, running, ready, an hour old by default)."""
    return PodFacts(
        namespace=namespace,
        name=name,
        labels=dict(labels),
        owner_kind=owner[0] if owner else None,
        owner_name=owner[1] if owner else None,
        owner_labels=dict(owner_labels or {}),
        phase=phase,
        ready=ready,
        started_at=NOW - age,
        node=node,
    )


def monkey_spec(**overrides: Any) -> MonkeySpec:
    """A monkey schedule on namespace `shop` in the always-open window `always`."""
    data: dict[str, Any] = {
        "kind": "monkey",
        "name": "shop-monkey",
        "window": "always",
        "targets": {"namespaces": ["shop"]},
        "kill_mode": "one",
        "max_kills": 3,
        "heads_up": "10m",
    }
    data.update(overrides)
    return MonkeySpec.model_validate(data)
