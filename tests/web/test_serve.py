"""The pages in the real `gameday serve`: one port for health, Slack, halt and the pages,
the web token and the public URL taken from GAMEDAY_* settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from icalendar import Calendar

from tests.service.serving import Home, Serve
from tests.web.support import write_home

TOKEN = "serve-web-t0ken-4f2"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    home = Home(write_home(tmp_path / "home"))
    process = Serve(
        home,
        f"sqlite:///{tmp_path / 'gameday.db'}",
        env={
            "GAMEDAY_WEB_TOKEN": TOKEN,
            "GAMEDAY_PUBLIC_URL": "https://gameday.example.com",
            "GAMEDAY_TIMEZONE": "Europe/Berlin",
        },
    ).start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def test_serve_hosts_the_pages_behind_the_web_token(serve: Serve) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert requests.get(serve.url + "/healthz", timeout=5).status_code == 200
    for path in ("/", "/runs", "/schedules", "/calendar.ics"):
        assert requests.get(serve.url + path, timeout=5).status_code == 401, path
        assert requests.get(serve.url + path, headers=bearer, timeout=10).status_code == 200
    overview = requests.get(serve.url + "/", headers=bearer, timeout=10).text
    assert "Kill switch released" in overview
    assert "berlin-daily" in overview
    # serve planned its horizon: run 1 is a planned row, with a postmortem page already.
    assert requests.get(serve.url + "/runs/1", headers=bearer, timeout=5).status_code == 200
    assert requests.get(serve.url + "/runs/99999", headers=bearer, timeout=5).status_code == 404
    feed = requests.get(f"{serve.url}/calendar.ics?token={TOKEN}&days=3", timeout=10)
    uids = [str(e["UID"]) for e in Calendar.from_ical(feed.content).walk("VEVENT")]
    assert uids
    assert all(uid.endswith("@gameday.example.com") for uid in uids)
    assert not any(TOKEN in line for line in serve.raw)
    assert any("pages and /calendar.ics (token required)" in line for line in serve.raw)
