"""Web fixtures: a home, its catalog, and the app served over the test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.services.catalog import Catalog
from tests.web.support import NOW, Served, load, served, write_home


@pytest.fixture(scope="session")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The test home's catalog (loaded once: the loader validates runbooks with chaoslib)."""
    return load(write_home(tmp_path_factory.mktemp("home")))


@pytest.fixture
def clock(db_clock: FixedClock) -> FixedClock:
    """The clock of the pages and the repositories, at NOW."""
    db_clock.current = NOW
    return db_clock


@pytest.fixture
def web(database: Database, catalog: Catalog, clock: FixedClock) -> Iterator[Served]:
    """The app without a web token."""
    with served(database, catalog, clock) as s:
        yield s


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh home folder (for tests that change the schedules)."""
    return write_home(tmp_path / "home")
