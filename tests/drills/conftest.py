"""Fixtures for drill tests: the spec fixtures (a home factory, `gameday validate`)."""

from __future__ import annotations

from tests.specs.conftest import make_home, validate  # noqa: F401
