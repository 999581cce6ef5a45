"""Requests signed exactly as Slack signs them, and payloads shaped like Slack's docs."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
TEAM = "T0001"


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    """`v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def command_body(text: str, user: str, response_url: str, channel: str = "C0GAMEDAY") -> bytes:
    """A `/gameday` slash command form body, fields as Slack documents them."""
    return urlencode(
        {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": TEAM,
            "team_domain": "example",
            "enterprise_id": "",
            "channel_id": channel,
            "channel_name": "gameday",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/gameday",
            "text": text,
            "api_app_id": "A123456",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    ).encode()


def action_body(action_id: str, value: str, user: str, response_url: str) -> bytes:
    """A `block_actions` interaction (`payload=` JSON) for one button click."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A123456",
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000001",
            "channel_id": "C0GAMEDAY",
            "is_ephemeral": False,
        },
        "trigger_id": "12466734323.1395872398.8ad13f1c0a5c1fcd4b54b1b1b6c0d1d6",
        "channel": {"id": "C0GAMEDAY", "name": "gameday"},
        "message": {"type": "message", "ts": "1700000000.000001", "text": "GameDay"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"run:{value}",
                "text": {"type": "plain_text", "text": "Approve", "emoji": False},
                "value": value,
                "type": "button",
                "action_ts": "1700000001.000002",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


@dataclass
class SlackClient:
    """Sends signed requests to the real endpoint over HTTP."""

    url: str
    response_url: Any  # callable returning a fresh response URL of the fake
    secret: str = SIGNING_SECRET

    def send(
        self,
        body: bytes,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """POST `body` to /slack/events signed with `secret` (or the given signature)."""
        ts = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature or sign(body, ts, self.secret),
            **(headers or {}),
        }
        return requests.post(self.url + "/slack/events", data=body, headers=sent, timeout=10)

    def command(self, text: str, user: str = "UCAROL", **kw: Any) -> requests.Response:
        """`/gameday {text}` typed by `user`."""
        return self.send(command_body(text, user, self.response_url()), **kw)

    def click(self, verb: str, run_id: int, user: str, **kw: Any) -> requests.Response:
        """`user` clicks the `verb` button of run `run_id`."""
        body = action_body(f"gameday:{verb}:{run_id}", str(run_id), user, self.response_url())
        return self.send(body, **kw)
