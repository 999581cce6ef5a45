"""Slack fixtures: a home with schedules and runbooks, a fake Slack Web API, the real Bolt
app behind waitress on 127.0.0.1, and a client that signs requests like Slack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from gameday import wiring
from gameday.adapters.db import Database
from gameday.adapters.slack.runtime import SlackRuntime
from gameday.domain.clock import FixedClock
from gameday.domain.runs import NewRun, Run, RunKind
from gameday.services.catalog import Catalog
from gameday.settings import Settings
from gameday.web.server import HttpServer
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.support import BOT_TOKEN, SIGNING_SECRET, SlackClient
from tests.support import noop_runbook

ALICE, BOB, CAROL, GROUPIE, OUTSIDER = "UALICE", "UBOB", "UCAROL", "UGROUPIE", "UOUTSIDER"
APPROVERS_GROUP = "SAPPROVERS"

RUNBOOK = noop_runbook(
    title="Reviews get slow",
    description="Adds latency to reviews and checks the product page still answers.",
    extra="""\
extensions:
  - name: gameday
    approval: {approvers: {users: [UALICE]}, quorum: 1, deadline: 30m}
    channel: "#adhoc"
""",
)

SCHEDULES = f"""\
kind: window
name: tokyo
timezone: Asia/Tokyo
hours: "00:00-23:59"
weekdays: [mon, tue, wed, thu, fri, sat, sun]
---
kind: gameday
name: reviews-latency
runbook: runbooks/reviews-latency.yaml
cron: "0 14 * * wed"
window: tokyo
approval:
  approvers: {{users: [{ALICE}, {BOB}, {CAROL}], usergroups: [{APPROVERS_GROUP}]}}
  quorum: 2
  deadline: 30m
channel: "#gameday"
---
kind: monkey
name: bookinfo-monkey
window: tokyo
targets: {{namespaces: [bookinfo], selector: "app in (reviews)"}}
heads_up: 10m
channel: "#chaos"
"""


@pytest.fixture(params=["sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """Slack tests run on SQLite unless a test asks for both backends."""
    return str(request.param)


@pytest.fixture(scope="session")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The catalog of a real home folder, loaded through the real spec loader."""
    home = tmp_path_factory.mktemp("home")
    (home / "runbooks").mkdir()
    (home / "schedules").mkdir()
    (home / "runbooks" / "reviews-latency.yaml").write_text(RUNBOOK)
    (home / "schedules" / "all.yaml").write_text(SCHEDULES)
    return wiring.load_catalog(home).require_valid()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlackApi]:
    """The fake Slack Web API, with the approvers' user group."""
    with FakeSlackApi(token=BOT_TOKEN) as fake:
        fake.set_usergroup(APPROVERS_GROUP, [GROUPIE])
        yield fake


@pytest.fixture
def settings(tmp_path: Path, fake_slack: FakeSlackApi) -> Settings:
    """Settings with Slack pointed at the fake."""
    return Settings(
        home=tmp_path,
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=fake_slack.base_url,
        default_channel="#gameday",
        timezone="Asia/Tokyo",
    )


@pytest.fixture
def runtime(
    settings: Settings, database: Database, catalog: Catalog, db_clock: FixedClock
) -> SlackRuntime:
    """Everything Slack, built by the composition root."""
    return wiring.slack_for(settings, database=database, catalog=lambda: catalog, clock=db_clock)


@pytest.fixture
def server(runtime: SlackRuntime) -> Iterator[HttpServer]:
    """The real WSGI endpoint under waitress on 127.0.0.1."""
    wsgi = runtime.wsgi_app()
    assert wsgi is not None
    srv = HttpServer(wsgi)
    yield srv
    srv.stop()


@pytest.fixture
def slack(server: HttpServer, fake_slack: FakeSlackApi) -> SlackClient:
    """A client that signs its requests like Slack."""
    return SlackClient(server.url, lambda: fake_slack.response_url)


@pytest.fixture
def gameday_run(
    database: Database, runtime: SlackRuntime, db_clock: FixedClock
) -> Callable[..., Run]:
    """Factory: a scheduled GameDay run announced and waiting for approval."""

    def make(requester: str | None = None, hours: int = 4) -> Run:
        from datetime import timedelta

        new = NewRun(
            kind=RunKind.GAMEDAY,
            schedule="reviews-latency",
            runbook="reviews-latency",
            planned_at=db_clock.now() + timedelta(hours=hours),
            requester=requester,
        )
        run = database.runs.create(new, actor="test", reason="test")
        return runtime.deps.approvals.announce(run.id)

    return make


@pytest.fixture
def monkey_run(database: Database, runtime: SlackRuntime, db_clock: FixedClock) -> Run:
    """A monkey kill announced with its heads-up."""
    from datetime import timedelta

    new = NewRun(
        kind=RunKind.MONKEY,
        schedule="bookinfo-monkey",
        runbook=None,
        planned_at=db_clock.now() + timedelta(minutes=10),
    )
    run = database.runs.create(new, actor="test", reason="test")
    return runtime.deps.approvals.announce(run.id)
