"""Fixtures shared by every test area."""

from __future__ import annotations

import os

# `gameday` commands started by tests run cold, and leave no launcher behind; the tests of
# the launcher (tests/execution) start their own, in folders of their own.
os.environ["GAMEDAY_WARM_RUNS"] = "false"

# Real databases (SQLite and PostgreSQL) for any area: db_url, database, db_clock, ...
from tests.db.support import (  # noqa: F401
    _postgres_migrated,
    _sqlite_template,
    database,
    db_backend,
    db_clock,
    db_url,
    empty_db_url,
    postgres_schemas,
)

# The monitoring a team runs (Prometheus, Alertmanager, health endpoints) over HTTP.
from tests.fakes.monitoring import _monitoring_server, monitoring  # noqa: F401
