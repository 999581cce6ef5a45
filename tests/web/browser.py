"""Headless Chromium (the system's, e.g. Debian's `chromium`) driven by Playwright.

Playwright's own browser download is never used: `executable_path` points at the system
browser, launched headless with a fresh profile and nothing that reaches the network on
its own (no background networking, component updates or sync).

VIEWPORT is the page size tests and screenshots use.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
VIEWPORT = {"width": 1280, "height": 900}


def chromium_path() -> str | None:
    """The system Chromium: GAMEDAY_CHROMIUM, else Debian's path, else `chromium` on PATH."""
    chosen = os.environ.get("GAMEDAY_CHROMIUM")
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (python -m pip install -e '.[dev]')"
    if chromium_path() is None:
        return "no Chromium here (apt-get install -y chromium, or set GAMEDAY_CHROMIUM)"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright Browser of the system's headless Chromium (closed after). Playwright
    launches it with a fresh temporary profile (user-data-dir) of its own each time."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    assert path is not None, missing()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
