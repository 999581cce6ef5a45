"""The APScheduler job queue: jobs fire once, late ones still fire (so their skip is
recorded), removed ones never fire."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gameday.adapters.scheduling.queue import ApschedulerQueue


class Fired:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.event = threading.Event()

    def __call__(self, job_id: str) -> None:
        self.ids.append(job_id)
        self.event.set()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.ids) < count and time.monotonic() < deadline:
            self.event.wait(0.05)
            self.event.clear()
        return list(self.ids)


@pytest.fixture
def fired() -> Fired:
    return Fired()


@pytest.fixture
def queue(fired: Fired) -> Iterator[ApschedulerQueue]:
    q = ApschedulerQueue(fired)
    yield q
    q.shutdown(wait=False)


def test_a_job_whose_time_passed_long_ago_still_fires_once(
    queue: ApschedulerQueue, fired: Fired
) -> None:
    queue.add("run-1-start", datetime.now(UTC) - timedelta(hours=3))
    queue.start()
    assert fired.wait_for(1) == ["run-1-start"]
    assert queue.jobs() == {}


def test_removed_and_replaced_jobs(queue: ApschedulerQueue, fired: Fired) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    later = datetime.now(UTC) + timedelta(hours=1)
    queue.add("run-1-start", later)
    queue.add("run-2-start", later)
    queue.remove("run-2-start")
    queue.remove("run-9-start")  # unknown: no error
    queue.add("run-1-start", past)  # moved earlier: replaces the job
    queue.start()
    assert fired.wait_for(1) == ["run-1-start"]
    assert queue.jobs() == {}
    queue.add("run-3-start", later)
    queue.every("refresh", 3600, lambda: None)
    queue.clear()
    assert queue.jobs() == {}
    assert queue._scheduler.get_jobs() == []
