"""The web token: pages and the feed need it when set (bearer, `?token=`, or the session
cookie a `?token=` page visit sets); health stays open; /metrics needs its own token when
set; no token ever shows in a page or a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.services.catalog import Catalog
from gameday.web.access import COOKIE
from tests.web.seed import Seeded, seed
from tests.web.support import Served, served

TOKEN = "web-t0ken-Zq81-secret"
METRICS = "metrics-t0ken-77"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
HTML = {"Accept": "text/html"}


@pytest.fixture
def guarded(database: Database, catalog: Catalog, clock: FixedClock) -> Iterator[Served]:
    with served(database, catalog, clock, web_token=TOKEN, metrics_token=METRICS) as web:
        yield web


@pytest.fixture
def seeded(guarded: Served, database: Database, clock: FixedClock) -> Seeded:
    return seed(database, clock)


def get(web: Served, path: str, **kw: object) -> requests.Response:
    kw.setdefault("allow_redirects", False)
    return requests.get(web.url + path, timeout=10, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["/", "/runs/1", "/calendar.ics"])
def test_the_acceptance_paths_are_401_without_the_token_and_200_with_it(
    guarded: Served, seeded: Seeded, path: str
) -> None:
    refused = get(guarded, path)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert get(guarded, path, headers=BEARER).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/runs",
        "/runs?format=json",
        "/runs/1",
        "/runs/1/journal.json",
        "/schedules",
        "/schedules/berlin-daily",
        "/calendar.ics",
        "/runs/999",  # no hint whether a run exists
    ],
)
@pytest.mark.parametrize(
    "authorization", [None, f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN]
)
def test_every_page_refuses_a_missing_or_wrong_token(
    guarded: Served, seeded: Seeded, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = get(guarded, path, headers={**headers, **HTML})
    assert response.status_code == 401
    assert TOKEN not in response.text
    assert response.headers["Cache-Control"] == "no-store"


def test_health_stays_open_and_metrics_need_their_own_token(guarded: Served) -> None:
    assert get(guarded, "/healthz").status_code == 200
    assert get(guarded, "/readyz").status_code == 503  # open, and honest: not ready
    assert get(guarded, "/metrics").status_code == 401
    assert get(guarded, "/metrics", headers=BEARER).status_code == 401
    metrics = get(guarded, "/metrics", headers={"Authorization": f"Bearer {METRICS}"})
    assert metrics.status_code == 200
    assert "process_resident_memory_bytes" in metrics.text
    assert get(guarded, "/static/gameday.css").status_code == 200  # no secret in a stylesheet


def test_metrics_are_open_without_a_metrics_token(
    database: Database, catalog: Catalog, clock: FixedClock
) -> None:
    with served(database, catalog, clock, web_token=TOKEN) as web:
        assert get(web, "/metrics").status_code == 200


def test_the_calendar_takes_the_token_in_its_address(guarded: Served) -> None:
    response = get(guarded, f"/calendar.ics?token={TOKEN}&days=3")
    assert response.status_code == 200
    assert response.content.startswith(b"BEGIN:VCALENDAR")
    assert TOKEN not in response.text
    assert get(guarded, "/calendar.ics?token=wrong").status_code == 401


def test_a_page_opened_with_the_token_moves_it_into_a_cookie(
    guarded: Served, seeded: Seeded
) -> None:
    response = get(guarded, f"/runs?schedule=berlin-daily&token={TOKEN}", headers=HTML)
    assert response.status_code == 303
    assert response.headers["Location"] == "/runs?schedule=berlin-daily"
    cookie = response.cookies[COOKIE]
    assert TOKEN not in cookie
    set_cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie
    with requests.Session() as browser:
        browser.cookies.set(COOKIE, cookie)
        page = browser.get(guarded.url + "/runs?schedule=berlin-daily", timeout=10)
        assert page.status_code == 200
        assert TOKEN not in page.text
        assert browser.get(guarded.url + "/", timeout=10).status_code == 200
        browser.cookies.set(COOKIE, cookie[:-1] + ("0" if cookie[-1] != "0" else "1"))
        assert browser.get(guarded.url + "/", timeout=10).status_code == 401


def test_a_secure_public_url_makes_the_cookie_secure(
    database: Database, catalog: Catalog, clock: FixedClock
) -> None:
    with served(
        database, catalog, clock, web_token=TOKEN, public_url="https://gameday.example.com"
    ) as web:
        response = get(web, f"/?token={TOKEN}")
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_the_token_is_never_logged(
    guarded: Served, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    get(guarded, "/")
    get(guarded, "/", headers={"Authorization": f"Bearer {TOKEN}-wrong"})
    get(guarded, f"/?token={TOKEN}-wrong")
    get(guarded, f"/?token={TOKEN}")
    get(guarded, f"/calendar.ics?token={TOKEN}")
    get(guarded, "/runs/999", headers=BEARER)
    # The server's records (the client's own urllib3 lines name the URLs it asked for).
    records = [r for r in caplog.records if not r.name.startswith("urllib3")]
    assert any("refused /" in r.getMessage() for r in records)
    logged = "".join(f"{r.getMessage()} {r.exc_text or ''}" for r in records)
    assert TOKEN not in logged
    assert "Authorization" not in logged
