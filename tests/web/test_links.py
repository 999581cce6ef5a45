"""With a public URL, announcements and a run's thread link the run's page; the link is
our own markup around an address we built, and nothing else can become one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gameday.domain.messages import (
    RunBrief,
    brief_from_snapshot,
    brief_snapshot,
    gameday_announcement,
    monkey_heads_up,
)
from gameday.domain.mrkdwn import link, run_page
from gameday.domain.runs import Run, RunKind, RunState
from gameday.services.briefs import CatalogBriefs
from gameday.services.catalog import Catalog
from gameday.services.run_updates import RunUpdates

AT = datetime(2027, 1, 25, 9, 0, tzinfo=UTC)


def _run(kind: RunKind = RunKind.GAMEDAY) -> Run:
    return Run(
        id=42, kind=kind, schedule="berlin-daily", runbook="runbooks/reviews-latency.yaml",
        planned_at=AT, state=RunState.ANNOUNCED, dry_run=True, seed=1, requester=None,
        runbook_digest=None, created_at=AT, updated_at=AT,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        ("https://gameday.example.com", "https://gameday.example.com/runs/42"),
        ("https://gameday.example.com/", "https://gameday.example.com/runs/42"),
        ("http://10.0.0.5:8080/chaos/", "http://10.0.0.5:8080/chaos/runs/42"),
        (None, None),
        ("", None),
        ("javascript:alert(1)", None),
        ("https://evil.example|click me", None),
        ("https://a.example/<!channel>", None),
        ("https://a.example/x y", None),
    ],
)
def test_the_run_page_address(public_url: str | None, expected: str | None) -> None:
    assert run_page(public_url, 42) == expected


def test_a_link_escapes_its_label_and_refuses_an_address_that_breaks_out() -> None:
    assert link("https://g.example/runs/1?a=1&b=2", "run <1>") == (
        "<https://g.example/runs/1?a=1&amp;b=2|run &lt;1&gt;>"
    )
    assert link("https://g.example/x|<!channel>", "label") == "label"


def test_announcements_link_the_run_page_only_with_a_public_url(catalog: Catalog) -> None:
    plain = CatalogBriefs(lambda: catalog, default_channel="#gameday")(_run()).brief
    assert plain.page is None
    assert "/runs/42" not in json.dumps(gameday_announcement(plain).blocks)
    briefs = CatalogBriefs(
        lambda: catalog, default_channel="#gameday", public_url="https://gd.example.com"
    )
    brief = briefs(_run()).brief
    assert brief.page == "https://gd.example.com/runs/42"
    blocks = json.dumps(gameday_announcement(brief).blocks)
    assert "<https://gd.example.com/runs/42|Run #42: journal and postmortem>" in blocks
    heads_up = briefs(replace(_run(RunKind.MONKEY), schedule="bookinfo-monkey")).brief
    assert "<https://gd.example.com/runs/42|" in json.dumps(monkey_heads_up(heads_up).blocks)


def test_the_page_survives_the_start_record_and_ends_in_the_thread(catalog: Catalog) -> None:
    briefs = CatalogBriefs(
        lambda: catalog, default_channel="#gameday", public_url="https://gd.example.com"
    )
    info = briefs(_run())
    snapshot = brief_snapshot(info.brief, info.channel)
    restored, channel = brief_from_snapshot(_run(), snapshot)
    assert (restored.page, channel) == ("https://gd.example.com/runs/42", "#gameday")
    updates = RunUpdates(lambda run: replace(info, brief=replace(info.brief, run=run)))
    update, thread = updates.messages_for_end(_run(), "completed", reason="steady state held")
    assert "<https://gd.example.com/runs/42|postmortem>" in thread.text
    assert "<https://gd.example.com/runs/42|" in json.dumps(update.blocks)


def test_a_start_record_without_a_page_reads_as_before() -> None:
    brief = RunBrief(_run(), "berlin-daily")
    snapshot = brief_snapshot(brief, "#gameday")
    assert "page" not in snapshot
    assert brief_from_snapshot(_run(), snapshot)[0].page is None
    hostile = {**snapshot, "page": "https://x.example|<!channel>"}
    restored, _ = brief_from_snapshot(_run(), hostile)
    blocks = json.dumps(gameday_announcement(restored).blocks)
    assert "<!channel>" not in blocks
