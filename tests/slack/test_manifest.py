"""The Slack app manifests ask for exactly what gameday uses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gameday.adapters.slack.replies import USAGE
from gameday.adapters.slack.server import EVENTS_PATH

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack" / "manifest.yaml"
DOCS = list(yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")))


@pytest.mark.parametrize("doc", DOCS, ids=["http", "socket-mode"])
def test_manifest_scopes_and_command(doc: dict) -> None:
    assert doc["oauth_config"]["scopes"]["bot"] == [
        "commands",
        "chat:write",
        "chat:write.public",
        "usergroups:read",
    ]
    (command,) = doc["features"]["slash_commands"]
    assert command["command"] == "/gameday"
    for usage, _ in USAGE:
        assert usage.split()[0] in command["usage_hint"]
    assert doc["settings"]["interactivity"]["is_enabled"] is True


def test_http_variant_points_both_urls_at_the_events_path() -> None:
    http, socket = DOCS
    assert http["settings"]["interactivity"]["request_url"].endswith(EVENTS_PATH)
    assert http["features"]["slash_commands"][0]["url"].endswith(EVENTS_PATH)
    assert (http["settings"]["socket_mode_enabled"], socket["settings"]["socket_mode_enabled"]) == (
        False,
        True,
    )
    assert "url" not in socket["features"]["slash_commands"][0]
