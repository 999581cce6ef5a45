"""Fixtures for postmortems and reports: the journal tests' home and in-process CLI."""

from __future__ import annotations

from tests.journal.conftest import cli, gameday, home  # noqa: F401
