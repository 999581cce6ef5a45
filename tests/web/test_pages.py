"""The read-only pages over HTTP: what is planned, what ran, each postmortem; errors never
leak a traceback; every page is well-formed HTML and carries the security headers."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import html5lib
import pytest
import requests

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.runs import RunState
from gameday.services.catalog import Catalog
from tests.db.factories import make_run
from tests.support import run_main
from tests.web.seed import HOSTILE_NOTE, Seeded, seed
from tests.web.support import NOW, Served, served

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def seeded(web: Served, database: Database, clock: FixedClock) -> Seeded:
    return seed(database, clock)


def get(web: Served, path: str, **kw: object) -> requests.Response:
    return requests.get(web.url + path, timeout=10, **kw)  # type: ignore[arg-type]


def well_formed(text: str) -> None:
    """Parse as HTML5 in strict mode: any parse error fails the test."""
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


PAGES = ["/", "/runs", "/schedules", "/schedules/berlin-daily", "/schedules/bookinfo-monkey"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_well_formed_html_with_strict_headers(
    web: Served, seeded: Seeded, path: str
) -> None:
    response = get(web, path, headers=HTML)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    well_formed(response.text)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in response.text.lower()
    assert " style=" not in response.text


def test_the_overview_shows_the_kill_switch_by_whom_why_and_since(
    web: Served, seeded: Seeded, database: Database
) -> None:
    database.control.engage_kill_switch(actor="UCAROL", reason="<b>db</b> on fire & more")
    text = get(web, "/").text
    assert "Kill switch engaged" in text
    assert "UCAROL" in text
    assert "&lt;b&gt;db&lt;/b&gt; on fire &amp; more" in text
    assert "2027-01-25 10:00 CET (+01:00)" in text  # since when, in the display zone


def test_the_overview_says_when_the_kill_switch_is_released(web: Served, seeded: Seeded) -> None:
    assert "Kill switch released" in get(web, "/").text


def test_the_week_ahead_lists_occurrences_in_local_and_utc_with_approval_and_skips(
    web: Served, seeded: Seeded, database: Database
) -> None:
    database.control.pause("tokyo-weekly", actor="UBOB", reason="quarter-end freeze")
    text = get(web, "/").text
    planned = text.split("GameDays and announced kills")[1].split("Monkey windows")[0]
    # berlin-daily at 10:00 Berlin time, each day of the week, with its UTC time.
    for day in range(25, 32):
        assert f"2027-01-{day} 10:00 CET (+01:00)" in planned
        assert f"2027-01-{day} 09:00 UTC" in planned
    assert "will be asked: 2 of SOPS, UALICE, UBOB within 30 min" in planned
    # The announced row is linked and waits for its approvals.
    assert f'href="/runs/{seeded.waiting}">announced</a>' in planned
    assert "waiting: 2 of SOPS, UALICE, UBOB within 30 min" in planned
    # Skips, each with its reason: the row's rejection, the window's blackout.
    assert "rejected by UBOB: release freeze" in planned
    assert "closed: blackout 2027-01-27" in planned
    assert "2027-01-27 14:00 JST (+09:00)" in planned
    # Monkey windows: the periods of the Tokyo window (not on the blackout or the weekend).
    shifts = text.split("Monkey windows")[1].split("Recent runs")[0]
    assert "2027-01-26 10:00 JST (+09:00)" in shifts
    assert "2027-01-27 10:00 JST" not in shifts
    assert "2027-01-30 10:00 JST" not in shifts
    assert "bookinfo-monkey" in shifts


def test_a_paused_schedule_is_listed_and_its_runs_skipped(
    web: Served, database: Database, catalog: Catalog
) -> None:
    database.control.pause("berlin-daily", actor="UBOB", reason="quarter-end freeze")
    text = get(web, "/").text
    assert "Paused schedules" in text
    assert "schedule paused by UBOB since 2027-01-25T09:00+00:00: quarter-end freeze" in text


def test_recent_runs_are_those_that_happened_newest_first(web: Served, seeded: Seeded) -> None:
    recent = get(web, "/").text.split("Recent runs")[1]
    order = [seeded.skipped, seeded.monkey, seeded.completed, seeded.deviated]
    positions = [recent.index(f'href="/runs/{i}"') for i in order]
    assert positions == sorted(positions)
    # Future rows (waiting, rejected ahead) are the plan's business, not recent runs.
    assert f'href="/runs/{seeded.waiting}"' not in recent
    assert f'href="/runs/{seeded.rejected_ahead}"' not in recent
    assert "deviated" in recent
    assert "completed" in recent


def test_the_overview_lists_at_most_20_recent_runs(
    web: Served, database: Database, clock: FixedClock
) -> None:
    for hours in range(1, 26):
        make_run(database.runs, RunState.COMPLETED, planned_at=NOW - timedelta(hours=hours))
    recent = get(web, "/").text.split("Recent runs")[1]
    assert recent.count('href="/runs/') == 20


def test_runs_json_is_what_gameday_history_json_prints(
    web: Served,
    seeded: Seeded,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GAMEDAY_DATABASE_URL", db_url)
    for query, args in (
        ("", []),
        ("&schedule=berlin-daily", ["--schedule", "berlin-daily"]),
        ("&state=completed&limit=1", ["--state", "completed", "--limit", "1"]),
    ):
        cli = run_main(monkeypatch, capsys, "--home", tmp_path, "history", "--json", *args)
        assert cli.code == 0, cli.err
        response = get(web, f"/runs?format=json{query}")
        assert response.headers["Content-Type"] == "application/json"
        assert response.text == cli.out
        by_accept = get(web, f"/runs?{query.lstrip('&')}", headers={"Accept": "application/json"})
        assert by_accept.text == cli.out


def test_runs_filter_by_schedule_state_and_since(web: Served, seeded: Seeded) -> None:
    def ids(query: str) -> list[int]:
        return [r["id"] for r in get(web, f"/runs?format=json&{query}").json()]

    assert set(ids("schedule=tokyo-weekly")) == {seeded.deviated}
    assert set(ids("state=completed")) == {seeded.completed, seeded.monkey}
    assert set(ids("since=2027-01-24")) == {
        seeded.completed,
        seeded.monkey,
        seeded.skipped,
        seeded.waiting,
        seeded.rejected_ahead,
    }
    assert set(ids("since=2027-01-24T08:30:00%2B00:00&state=completed")) == {seeded.monkey}
    html = get(web, "/runs?schedule=tokyo-weekly").text
    assert '<option value="tokyo-weekly" selected>' in html


def test_runs_are_paged(web: Served, database: Database) -> None:
    made = [
        make_run(database.runs, RunState.COMPLETED, planned_at=NOW - timedelta(hours=h)).id
        for h in range(1, 8)
    ]
    first = get(web, "/runs?format=json&limit=3").json()
    second = get(web, "/runs?format=json&limit=3&page=2").json()
    third = get(web, "/runs?format=json&limit=3&page=3").json()
    assert [r["id"] for r in first + second + third] == made
    page2 = get(web, "/runs?limit=3&page=2").text
    assert 'href="/runs?limit=3&amp;page=1"' in page2
    assert 'href="/runs?limit=3&amp;page=3"' in page2
    last = get(web, "/runs?limit=3&page=3").text
    assert 'rel="next"' not in last


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("state=exploded", "unknown run state 'exploded'"),
        ("since=yesterday", "since 'yesterday' is not an ISO date"),
        ("since=2027-02-30", "is not an ISO date"),
        ("page=0", "page must be 1 or more"),
        ("page=-1", "page must be a whole number"),
        ("limit=5000", "limit must be between 1 and 1000"),
        ("limit=x", "limit must be a whole number"),
        ("page=400&limit=1000", "reaches past the newest 10000 runs"),
        ("format=xml", "format must be html or json"),
    ],
)
def test_a_malformed_history_query_is_400_with_the_reason(
    web: Served, query: str, reason: str
) -> None:
    page = get(web, f"/runs?{query}", headers=HTML)
    assert page.status_code == 400
    assert reason.replace("'", "&#39;") in page.text
    data = get(web, f"/runs?format=json&{query}")
    if "format=" not in query:
        assert data.status_code == 400
        assert reason in data.json()["error"]


def test_the_postmortem_page_is_the_html_export(
    web: Served,
    seeded: Seeded,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GAMEDAY_DATABASE_URL", db_url)
    page = get(web, f"/runs/{seeded.completed}", headers=HTML)
    assert page.status_code == 200
    cli = run_main(
        monkeypatch, capsys, "--home", tmp_path, "journal", "export", str(seeded.completed),
        "--format", "html",
    )  # fmt: skip
    assert cli.code == 0, cli.err
    assert page.text == cli.out
    # The note is shown as text, never as markup.
    assert HOSTILE_NOTE not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    # Its own <style> is allowed by hash, nothing else inline.
    csp = page.headers["Content-Security-Policy"]
    assert "style-src 'self' 'sha256-" in csp
    assert "unsafe-inline" not in csp
    journal = get(web, f"/runs/{seeded.completed}/journal.json")
    cli = run_main(
        monkeypatch, capsys, "--home", tmp_path, "journal", "export", str(seeded.completed)
    )
    assert journal.headers["Content-Type"] == "application/json"
    assert journal.text == cli.out


@pytest.mark.parametrize("path", ["/runs/999", "/runs/999/journal.json", f"/runs/{2**70}"])
def test_an_unknown_run_is_404(web: Served, path: str) -> None:
    page = get(web, path, headers=HTML)
    assert page.status_code == 404
    assert "no run" in page.text


def test_unknown_schedules_and_paths_are_404_pages(web: Served) -> None:
    page = get(web, "/schedules/berlin-dialy", headers=HTML)
    assert page.status_code == 404
    assert "no schedule named &#39;berlin-dialy&#39;" in page.text
    assert "berlin-daily" in page.text  # the suggestion
    well_formed(page.text)
    assert get(web, "/nowhere", headers=HTML).status_code == 404
    assert get(web, "/runs/abc", headers=HTML).status_code == 404
    assert get(web, "/nowhere").json() == {"error": "no such path: /nowhere"}


def test_schedules_show_window_periods_approvers_and_last_runs(web: Served, seeded: Seeded) -> None:
    listing = get(web, "/schedules").text
    for name in ("berlin-daily", "tokyo-weekly", "bookinfo-monkey"):
        assert f'href="/schedules/{name}"' in listing
    assert "2 of SOPS, UALICE, UBOB within 30 min" in listing
    detail = get(web, "/schedules/berlin-daily").text
    assert "cron 0 10 * * *" in detail
    assert "SOPS, UALICE, UBOB" in detail
    assert "2027-01-25 08:00 CET (+01:00) \u2013 2027-01-25 18:00 CET (+01:00)" in detail
    assert f'href="/runs/{seeded.completed}"' in detail
    assert 'href="/calendar.ics?schedule=berlin-daily"' in detail
    monkey = get(web, "/schedules/bookinfo-monkey").text
    assert "heads-up 10m" in monkey
    assert "2027-01-26 10:00 JST (+09:00) \u2013 2027-01-26 16:00 JST (+09:00)" in monkey
    assert f'href="/runs/{seeded.monkey}"' in monkey


def test_the_stylesheet_and_icon_are_served(web: Served) -> None:
    css = get(web, "/static/gameday.css")
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert ".banner.halted" in css.text
    assert get(web, "/favicon.ico").headers["Content-Type"].startswith("image/svg+xml")


def test_an_unexpected_error_is_a_bare_500_and_logged(
    web: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("SECRET-DETAIL-4711 in the traceback")

    monkeypatch.setattr(web.site.pages, "overview", broken)
    caplog.set_level(logging.ERROR)
    page = get(web, "/?token=abc", headers=HTML)
    assert page.status_code == 500
    assert "SECRET-DETAIL" not in page.text
    assert "Traceback" not in page.text
    assert "it has been logged" in page.text
    assert "SECRET-DETAIL-4711" in caplog.text  # logged with its traceback
    assert "token=abc" not in caplog.text
    assert get(web, "/").status_code == 500


def test_the_pages_follow_a_reloaded_catalog(
    web: Served, seeded: Seeded, home: Path, catalog: Catalog
) -> None:
    from tests.web.support import SCHEDULES, load, write_home

    assert "tokyo-weekly" in get(web, "/schedules").text
    changed = SCHEDULES.replace("name: tokyo-weekly", "name: tokyo-weekly-renamed")
    web.live.replace(load(write_home(home, changed)), ())
    listing = get(web, "/schedules").text
    assert "tokyo-weekly-renamed" in listing


def test_times_are_shown_in_the_configured_zone(
    database: Database, catalog: Catalog, clock: FixedClock
) -> None:
    make_run(database.runs, RunState.COMPLETED, planned_at=NOW - timedelta(hours=1))
    with served(database, catalog, clock, timezone="America/New_York") as web:
        recent = get(web, "/").text.split("Recent runs")[1]
    assert "2027-01-25 03:00 EST (-05:00)" in recent
    assert "2027-01-25 08:00 UTC" in recent
