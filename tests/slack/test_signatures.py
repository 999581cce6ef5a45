"""Only requests signed by Slack with our secret, and recent, reach a listener."""

from __future__ import annotations

import time

import pytest

from gameday.adapters.db import Database
from tests.slack.support import SlackClient, command_body, sign


def _halt_body(slack: SlackClient) -> bytes:
    return command_body("halt forged", "UMALLORY", slack.response_url())


def test_a_signed_request_is_answered(slack: SlackClient, database: Database) -> None:
    response = slack.send(_halt_body(slack))
    assert response.status_code == 200
    assert database.control.kill_switch() == (True, "forged")


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "one_byte_changed", "stale", "future", "no_signature", "garbage"],
)
def test_forged_tampered_or_stale_requests_get_401_and_change_nothing(
    slack: SlackClient, database: Database, tamper: str
) -> None:
    body = _halt_body(slack)
    now = int(time.time())
    kwargs: dict[str, object] = {}
    if tamper == "wrong_secret":
        kwargs["signature"] = sign(body, now, "not-the-secret")
    elif tamper == "one_byte_changed":
        signature = sign(body, now)
        body = body.replace(b"UMALLORY", b"UMALLORZ")  # one byte
        kwargs.update(signature=signature, timestamp=now)
    elif tamper == "stale":
        kwargs["timestamp"] = now - 5 * 60 - 30
    elif tamper == "future":
        kwargs["timestamp"] = now + 5 * 60 + 30
    elif tamper == "no_signature":
        kwargs["signature"] = "v0="
    else:
        kwargs["signature"] = "v0=" + "0" * 64
    response = slack.send(body, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 401
    assert database.control.kill_switch() == (False, None)
    assert database.outbox.depth() == 0
