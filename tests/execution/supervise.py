"""A supervisor of one run in a process of its own, for tests that kill it:
`python -m tests.execution.supervise DATABASE_URL HOME LOG_DIR RUN_ID [--standby]`.

It starts the run's worker (on standby first with `--standby`, as `gameday run` does) and
watches it to the end, as serve and `gameday run` do.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from gameday.adapters.chaostoolkit.supervisor import ProcessWorkers
from gameday.adapters.db import Database
from gameday.domain.clock import SystemClock
from gameday.services import execution


def main(argv: list[str]) -> int:
    url, home, log_dir, run_id = argv[0], Path(argv[1]), Path(argv[2]), int(argv[3])
    database = Database.open(url, upgrade=False)
    workers = ProcessWorkers(home=home, database_url=url, log_dir=log_dir)
    if "--standby" in argv:
        workers.prepare()
    execution.start_run(database.runs, workers, run_id, actor="test:supervisor")
    ended = execution.watch_run(
        database.runs,
        workers,
        SystemClock(),
        run_id,
        timeout=timedelta(minutes=5),
        actor="test:supervisor",
    )
    print(ended.state.value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
