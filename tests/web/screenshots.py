"""Screenshots of the overview and of a postmortem for the docs: `python -m tests.web.screenshots`.

Serves the real app over a throwaway SQLite database seeded through the real repositories
(tests/web/seed.py), opens `/` and a postmortem in headless Chromium and writes
`docs/img/web-overview.png` and `docs/img/web-postmortem.png`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from tests.web.browser import VIEWPORT, chromium, missing
from tests.web.seed import seed
from tests.web.support import NOW, load, served, write_home

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "docs" / "img"


def main() -> int:
    """Write the screenshots; 2 when no browser is available here."""
    why = missing()
    if why is not None:
        print(f"screenshots: {why}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gameday-shots-") as tmp:
        folder = Path(tmp)
        clock = FixedClock(NOW)
        database = Database.open(f"sqlite:///{folder / 'gameday.db'}", clock=clock)
        try:
            catalog = load(write_home(folder / "home"))
            ids = seed(
                database, clock, note="Latency held at 2 s; the product page degraded gracefully."
            )
            database.control.pause("tokyo-weekly", actor="UBOB", reason="quarter-end freeze")
            with (
                served(database, catalog, clock, timezone="Europe/Berlin") as web,
                chromium() as browser,
            ):
                page = browser.new_page(viewport=VIEWPORT)
                for path, name in (
                    ("/", "web-overview.png"),
                    (f"/runs/{ids.completed}", "web-postmortem.png"),
                ):
                    page.goto(web.url + path, wait_until="load")
                    page.screenshot(path=str(OUT / name), full_page=True)
                    print(f"wrote {OUT / name}")
        finally:
            database.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
