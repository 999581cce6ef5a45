"""The composition root: the one place that builds the object graph from Settings.

Entry points (CLI, web) ask this module for ready-made services; nothing else constructs
adapters.
"""

from __future__ import annotations

from pathlib import Path

from gameday.settings import Settings


def settings_for(home: Path) -> Settings:
    """Settings from GAMEDAY_* variables, with the home folder the CLI resolved."""
    return Settings(home=home)
