"""The overview's render is kept a couple of seconds, but the kill switch, the pauses and
a reloaded catalog always show at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from gameday.adapters.db import Database
from gameday.domain.runs import RunState
from gameday.web.freshness import RecentPage
from tests.db.factories import make_run
from tests.web.support import NOW, SCHEDULES, Served, load, write_home


def test_a_new_run_shows_once_the_kept_render_is_older_than_its_ttl(
    web: Served, database: Database
) -> None:
    assert 'href="/runs/1"' not in requests.get(web.url + "/", timeout=10).text
    make_run(database.runs, RunState.COMPLETED, planned_at=NOW - timedelta(hours=1))
    assert 'href="/runs/1"' not in requests.get(web.url + "/", timeout=10).text  # kept
    web.clock.current += timedelta(seconds=2)
    assert 'href="/runs/1"' in requests.get(web.url + "/", timeout=10).text


def test_the_kill_switch_pauses_and_a_reload_show_at_once(
    web: Served, database: Database, tmp_path: Path
) -> None:
    assert "Kill switch released" in requests.get(web.url + "/", timeout=10).text
    database.control.engage_kill_switch(actor="UCAROL", reason="incident 42")
    assert "incident 42" in requests.get(web.url + "/", timeout=10).text
    database.control.pause("berlin-daily", actor="UBOB", reason="freeze")
    assert "Paused schedules" in requests.get(web.url + "/", timeout=10).text
    renamed = SCHEDULES.replace("name: tokyo-weekly", "name: tokyo-renamed")
    home = write_home(tmp_path / "reloaded", renamed)
    web.live.replace(load(home), ())
    assert "tokyo-renamed" in requests.get(web.url + "/", timeout=10).text


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2027, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def test_one_request_renders_while_the_others_get_the_kept_copy() -> None:
    clock = Clock()
    page = RecentPage(clock.now, ttl=timedelta(seconds=2))
    assert page.get("k", lambda: b"first") == b"first"
    clock.at += timedelta(seconds=3)
    rendering, release = threading.Event(), threading.Event()

    def slow() -> bytes:
        rendering.set()
        release.wait(5)
        return b"second"

    results: list[bytes] = []
    worker = threading.Thread(target=lambda: results.append(page.get("k", slow)))
    worker.start()
    assert rendering.wait(5)
    assert page.get("k", lambda: pytest.fail("a second render")) == b"first"
    release.set()
    worker.join(5)
    assert results == [b"second"]
    assert page.get("k", lambda: b"third") == b"second"
    assert page.get("other key", lambda: b"fresh") == b"fresh"
    clock.at += timedelta(seconds=31)
    assert page.get("other key", lambda: b"too old to serve") == b"too old to serve"


def test_a_failed_render_keeps_the_old_copy_and_zero_keeps_nothing() -> None:
    clock = Clock()
    page = RecentPage(clock.now, ttl=timedelta(seconds=2))
    page.get("k", lambda: b"good")
    clock.at += timedelta(seconds=3)

    def broken() -> bytes:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        page.get("k", broken)
    assert page.get("k", lambda: b"again") == b"again"
    never = RecentPage(clock.now, ttl=timedelta(0))
    assert never.get("k", lambda: b"a") == b"a"
    assert never.get("k", lambda: b"b") == b"b"
