"""A supervisor of one run in a process of its own, for tests that kill it:
`python -m tests.execution.supervise DATABASE_URL HOME LOG_DIR RUN_ID [--standby]`.

It carries the run out through the run flow, as serve and `gameday run` do: the run's
start records its channel (the default one, `#gameday`), the worker is started (on
standby first with `--standby`, as `gameday run` does) and watched to the end.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers
from gameday.adapters.db import Database
from gameday.domain.clock import SystemClock
from gameday.services.briefs import CatalogBriefs
from gameday.services.catalog import Catalog
from gameday.services.run_flow import FlowOptions, RunFlow
from gameday.services.run_updates import RecordedBriefs, RunUpdates

ACTOR = "test:supervisor"


def main(argv: list[str]) -> int:
    url, home, log_dir, run_id = argv[0], Path(argv[1]), Path(argv[2]), int(argv[3])
    database = Database.open(url, upgrade=False)
    workers = ProcessWorkers(
        home=home, database_url=url, live=True, env=os.environ, log_dir=log_dir
    )
    if "--standby" in argv:
        workers.prepare()
    briefs = CatalogBriefs(Catalog, default_channel="#gameday")
    flow = RunFlow(
        runs=database.runs,
        control=database.control,
        workers=workers,
        clock=SystemClock(),
        options=FlowOptions(live=True, actor=ACTOR),
        timeout_of=lambda _run: timedelta(minutes=5),
        outbox=database.outbox,
        updates=RunUpdates(
            RecordedBriefs(database.runs, fallback=briefs, default_channel="#gameday")
        ),
    )
    ended = flow.carry(database.runs.get(run_id), actor=ACTOR)
    print(ended.state.value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
