"""The web app served for real: a home of schedules loaded by the real spec loader, the
real repositories on SQLite or PostgreSQL, and waitress on 127.0.0.1 (a free port)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gameday import wiring
from gameday.adapters.db import Database
from gameday.adapters.observability.health import Health
from gameday.adapters.observability.metrics import Metrics
from gameday.domain.clock import FixedClock
from gameday.services.catalog import Catalog
from gameday.services.live_catalog import LiveCatalog
from gameday.services.overview import Sources
from gameday.web.app import Site, create_app
from gameday.web.server import HttpServer
from tests.support import noop_runbook

# "Now" for the pages: two months before Berlin's clocks spring forward (2027-03-28).
NOW = datetime(2027, 1, 25, 9, 0, tzinfo=UTC)

RUNBOOK = noop_runbook(
    title="Reviews get slow",
    description="Adds latency to reviews and checks the product page still answers.",
    extra="""\
extensions:
  - name: gameday
    timeout: 45m
""",
)

SCHEDULES = """\
kind: window
name: berlin-days
timezone: Europe/Berlin
weekdays: [mon, tue, wed, thu, fri, sat, sun]
hours: "08:00-18:00"
---
kind: window
name: tokyo-business-hours
timezone: Asia/Tokyo
weekdays: [mon, tue, wed, thu, fri]
hours: "10:00-16:00"
blackouts: ["2027-01-27"]
---
kind: gameday
name: berlin-daily
runbook: runbooks/reviews-latency.yaml
cron: "0 10 * * *"
window: berlin-days
approval:
  approvers: {users: [UALICE, UBOB], usergroups: [SOPS]}
  quorum: 2
  deadline: 30m
channel: "#gameday"
---
kind: gameday
name: tokyo-weekly
runbook: runbooks/reviews-latency.yaml
cron: "0 14 * * wed"
timezone: Asia/Tokyo
window: tokyo-business-hours
---
kind: monkey
name: bookinfo-monkey
window: tokyo-business-hours
targets: {namespaces: [bookinfo], selector: "app in (reviews)"}
heads_up: 10m
channel: "#chaos"
"""


def write_home(home: Path, schedules: str = SCHEDULES) -> Path:
    """A home folder with the test runbook and `schedules`."""
    (home / "runbooks").mkdir(parents=True, exist_ok=True)
    (home / "schedules").mkdir(parents=True, exist_ok=True)
    (home / "runbooks" / "reviews-latency.yaml").write_text(RUNBOOK)
    (home / "schedules" / "all.yaml").write_text(schedules)
    return home


def load(home: Path) -> Catalog:
    """The home's catalog through the real loader (fails on any spec error)."""
    return wiring.load_catalog(home).require_valid()


@dataclass
class Served:
    """The web app on a free port, with what it reads."""

    server: HttpServer
    database: Database
    clock: FixedClock
    live: LiveCatalog
    site: Site

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def served(
    database: Database,
    catalog: Catalog,
    clock: FixedClock,
    **options: Any,
) -> Iterator[Served]:
    """The app (pages and feed included) over `database` and `catalog`, served by waitress;
    `options` go to Site (web_token, public_url, timezone) or create_app (metrics_token)."""
    live = LiveCatalog()
    live.replace(catalog, ())
    metrics_token = options.pop("metrics_token", None)
    site = Site.of(
        Sources(
            runs=database.runs,
            control=database.control,
            outbox=database.outbox,
            catalog=live,
            clock=clock,
        ),
        **options,
    )
    app = create_app(
        Health(mode="sqlite-file-lock"),
        Metrics().exposition,
        site=site,
        metrics_token=metrics_token,
    )
    server = HttpServer(app, host="127.0.0.1", port=0, threads=4)
    try:
        yield Served(server, database, clock, live, site)
    finally:
        server.stop()
