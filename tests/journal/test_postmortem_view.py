"""The postmortem's display rules: times with zone and offset, durations, steady states,
Markdown escaping."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gameday.adapters.postmortem.render import markdown_text, render
from gameday.services.postmortem import event_details, postmortem_of, seconds, when

TOKYO = ZoneInfo("Asia/Tokyo")
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("value", "zone", "shown"),
    [
        ("2026-03-02T14:00:01.5", TOKYO, "2026-03-02 23:00:01+09:00 (Asia/Tokyo)"),
        ("2026-03-02T14:00:00+00:00", PARIS, "2026-03-02 15:00:00+01:00 (Europe/Paris)"),
        ("2026-07-02T14:00:00+00:00", UTC, "2026-07-02 14:00:00+00:00 (UTC)"),
        (None, TOKYO, "-"),
    ],
)  # fmt: skip
def test_times_carry_offset_and_zone(value: Any, zone: Any, shown: str) -> None:
    assert when(value, zone) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.25, "0.25 s"), (59.994, "59.99 s"), (184.4, "3 min 4 s"), (None, "-"), (True, "-")],
)
def test_durations_for_people(value: Any, shown: str) -> None:
    assert seconds(value) == shown


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("<!channel> & <b>", "&lt;!channel> &amp; &lt;b>"),
        ("a | b\nnext line", r"a \| b next line"),
        ("*bold* [link](x) `code` ~s~", r"\*bold\* \[link\](x) \`code\` \~s\~"),
        ("state_changed __init__", r"state_changed \_\_init\_\_"),
    ],
)
def test_markdown_text_cannot_inject_markup(text: str, escaped: str) -> None:
    assert markdown_text(text) == escaped


def test_event_details_are_one_short_line() -> None:
    long = event_details("custom", {"blob": "x" * 500, "n": 1})
    assert len(long) <= 200
    assert "\n" not in long
    assert event_details("state_changed", {"from": "running", "to": "aborted"}) == (
        "running -> aborted"
    )


@pytest.mark.parametrize(("met", "shown"), [(False, "no"), (None, "unknown")])
def test_a_steady_state_that_was_not_met_says_so(met: Any, shown: str) -> None:
    document = {
        "experiment": {"title": "t"},
        "status": "completed",
        "deviated": True,
        "steady_states": {"before": {"steady_state_met": True, "probes": []}, "after": {
            "steady_state_met": met,
            "probes": [{"activity": {"name": "p", "type": "probe"}, "status": "succeeded",
                        "duration": 75, "tolerance_met": False}],
        }},
        "gameday": {"run": {"id": 7, "state": "deviated"}, "has_chaostoolkit_journal": True},
    }  # fmt: skip

    view = postmortem_of(document, TOKYO)
    text = render(document, "markdown", TOKYO)

    assert view.chaos_status == "deviated"
    assert view.after is not None
    assert view.after.probes[0].duration == "1 min 15 s"
    assert f"Steady state met: **{shown}**" in text
    assert "tolerance met: False" in text
