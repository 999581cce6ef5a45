"""The pages in a real headless Chromium (the system's, driven by Playwright): each loads
with no console error and no failed request, the postmortem renders, user text that looks
like script stays text and runs nothing, and the filters work without JavaScript.

Skipped, with the reason, only where no Chromium (or Playwright) exists; under CI
(`CI` set, as `.ci/run` runs) a missing browser fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from tests.web.browser import VIEWPORT, chromium, missing
from tests.web.seed import HOSTILE_NOTE, Seeded, seed
from tests.web.support import Served

WHY = missing()


@pytest.fixture(params=["sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """The browser checks rendering, which no database changes: SQLite only."""
    return str(request.param)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if WHY is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {WHY}", pytrace=False)
        pytest.skip(f"browser tests skipped: {WHY}")
    with chromium() as context:
        yield context


@dataclass
class Watched:
    """A page with everything that went wrong on it recorded."""

    page: Any
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def open(self, url: str) -> Any:
        response = self.page.goto(url, wait_until="load")
        assert response is not None
        assert response.status == 200, f"{url}: {response.status}"
        return response


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    page = browser.new_page(viewport=VIEWPORT)
    seen = Watched(page)

    def on_console(message: Any) -> None:
        if message.type in ("error", "warning"):
            seen.problems.append(f"console {message.type}: {message.text}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            seen.problems.append(f"{response.status} {response.url}")

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda req: seen.problems.append(f"failed {req.url}"))
    page.on("response", on_response)
    page.on("dialog", on_dialog)
    yield seen
    page.close()


@pytest.fixture
def seeded(web: Served, database: Database, clock: FixedClock) -> Seeded:
    found = seed(database, clock)
    database.control.engage_kill_switch(actor="UCAROL", reason=HOSTILE_NOTE)
    database.control.pause("tokyo-weekly", actor="UBOB", reason="<img src=x onerror=alert(2)>")
    return found


def test_every_page_loads_cleanly(web: Served, seeded: Seeded, watched: Watched) -> None:
    paths = [
        "/",
        "/runs",
        "/runs?schedule=berlin-daily&state=completed",
        f"/runs/{seeded.completed}",
        f"/runs/{seeded.monkey}",
        "/schedules",
        "/schedules/berlin-daily",
        "/schedules/bookinfo-monkey",
    ]
    for path in paths:
        watched.open(web.url + path)
        assert watched.page.locator("h1").first.is_visible(), path
    assert watched.problems == []
    assert watched.dialogs == []


def test_the_stylesheet_applies(web: Served, seeded: Seeded, watched: Watched) -> None:
    watched.open(web.url + "/")
    banner = watched.page.locator("section.banner.halted")
    color = banner.evaluate("e => getComputedStyle(e).backgroundColor")
    assert color == "rgb(251, 227, 227)"
    assert watched.problems == []


def test_the_postmortem_renders_with_its_own_styles(
    web: Served, seeded: Seeded, watched: Watched
) -> None:
    watched.open(f"{web.url}/runs/{seeded.completed}")
    page = watched.page
    assert page.locator("h1").inner_text() == "Postmortem: Reviews get slow"
    assert page.locator("text=inject-reviews-latency").count() >= 1
    # The postmortem's inline <style> is allowed by its hash: tables have their borders.
    border = page.locator("th").first.evaluate("e => getComputedStyle(e).borderTopStyle")
    assert border == "solid"
    # The timeline is an inline SVG, drawn and laid out by the browser, not just present.
    timeline = page.locator('svg[aria-label="Timeline of the run"]')
    assert timeline.is_visible()
    box = timeline.bounding_box()
    assert box is not None
    assert box["width"] > 600
    assert box["height"] > 50
    assert timeline.locator("rect").count() >= 1
    assert watched.problems == []


def test_script_in_user_text_is_shown_as_text_and_never_runs(
    web: Served, seeded: Seeded, watched: Watched
) -> None:
    watched.open(f"{web.url}/runs/{seeded.completed}")
    assert HOSTILE_NOTE in watched.page.locator("body").inner_text()
    watched.open(web.url + "/")
    body = watched.page.locator("body").inner_text()
    assert HOSTILE_NOTE in body  # the kill switch's reason
    assert "<img src=x onerror=alert(2)>" in body  # a pause reason
    assert watched.page.locator("main script, main img").count() == 0
    assert watched.dialogs == []
    assert watched.problems == []


def test_the_history_filters_work_without_javascript(
    web: Served, seeded: Seeded, browser: Any
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(web.url + "/runs", wait_until="load")
        page.select_option("select[name=schedule]", "tokyo-weekly")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert "schedule=tokyo-weekly" in page.url
        rows = page.locator("table.runs tbody tr")
        assert rows.count() == 1
        assert f"#{seeded.deviated}" in rows.first.inner_text()
    finally:
        context.close()
