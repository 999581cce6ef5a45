"""Benchmark `plan`: expand 1,000 schedules over 365 days with holiday-aware windows.

`python -m bench plan [--schedules N] [--days D] [--repeats R] [--seed S]` prints one JSON
object: the cold time (first run, holiday tables and zones not yet cached), the min and
median wall time of the warm repeats, their median CPU time, and how many occurrences the
plan holds. Target: under 2 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from gameday.domain.specs import GamedaySpec, MonkeySpec, WindowSpec
from gameday.services.catalog import Catalog
from gameday.services.planning import plan

# (timezone, holidays country, subdivision) - several countries, some with subdivisions.
REGIONS = [
    ("Asia/Tokyo", "JP", None),
    ("Europe/Berlin", "DE", "BY"),
    ("Europe/Berlin", "DE", None),
    ("America/New_York", "US", "NY"),
    ("America/Los_Angeles", "US", "CA"),
    ("Europe/London", "GB", None),
    ("Europe/Paris", "FR", None),
    ("Australia/Sydney", "AU", "NSW"),
    ("America/Sao_Paulo", "BR", None),
    ("Asia/Kolkata", "IN", None),
    ("America/Toronto", "CA", "ON"),
    ("Europe/Amsterdam", "NL", None),
]
HOURS = ["09:00-17:00", "10:00-16:00", "08:00-12:00", "13:00-18:00", "22:00-02:00", None]
WEEKDAYS = [["mon", "tue", "wed", "thu", "fri"], ["tue", "wed", "thu"], ["mon", "wed", "fri"]]
DOW = ["mon-fri", "tue,thu", "wed", "mon", "fri", "*"]


def build_catalog(schedules: int, rng: random.Random) -> Catalog:
    """Windows (one per 25 schedules, at least 12) plus a 60/40 mix of GameDays and monkeys."""
    windows: dict[str, WindowSpec] = {}
    for i in range(max(len(REGIONS), schedules // 25)):
        zone, country, subdivision = REGIONS[i % len(REGIONS)]
        windows[f"window-{i}"] = WindowSpec(
            name=f"window-{i}",
            timezone=zone,
            weekdays=rng.choice(WEEKDAYS),
            hours=rng.choice(HOURS),
            holidays=country,
            subdivision=subdivision,
            blackouts=["2026-12-24..2027-01-04"] if i % 3 == 0 else [],
        )
    names = list(windows)
    gamedays: dict[str, GamedaySpec] = {}
    monkeys: dict[str, MonkeySpec] = {}
    for i in range(schedules):
        window = windows[rng.choice(names)]
        if i % 5 < 3:
            minute, hour = rng.choice([0, 15, 30, 45]), rng.randint(8, 17)
            cron = (
                f"{minute} {hour} 1 * *"
                if i % 10 == 0
                else f"{minute} {hour} * * {rng.choice(DOW)}"
            )
            gamedays[f"gameday-{i}"] = GamedaySpec(
                name=f"gameday-{i}",
                runbook="runbooks/bench.yaml",
                cron=cron,
                timezone=window.timezone,
                window=window.name,
            )
        else:
            monkeys[f"monkey-{i}"] = MonkeySpec.model_validate(
                {
                    "name": f"monkey-{i}",
                    "window": window.name,
                    "targets": {"namespaces": ["shop"]},
                    "mtbf": rng.choice(["4h", "1d", "2d", "1w"]),
                    "min_time_between_kills": rng.choice(["1h", "4h"]),
                }
            )
    return Catalog(
        windows={name: spec.to_window() for name, spec in windows.items()},
        window_specs=windows,
        monkeys=monkeys,
        gamedays=gamedays,
    )


def run(args: list[str]) -> Iterable[dict[str, Any]]:
    """Expand the generated catalog `repeats` times and report the timings."""
    parser = argparse.ArgumentParser(prog="python -m bench plan")
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args(args)
    catalog = build_catalog(options.schedules, random.Random(options.seed))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    timings: list[float] = []
    cpu: list[float] = []
    count = planned = 0
    for _ in range(options.repeats + 1):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = plan(catalog, start=start, days=options.days, seed=options.seed)
        timings.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        count, planned = len(result.occurrences), result.count("planned")
    warm = timings[1:] or timings
    yield {
        "schedules": options.schedules,
        "windows": len(catalog.windows),
        "gamedays": len(catalog.gamedays),
        "monkeys": len(catalog.monkeys),
        "days": options.days,
        "occurrences": count,
        "planned": planned,
        "cold_seconds": round(timings[0], 4),
        "min_seconds": round(min(warm), 4),
        "median_seconds": round(statistics.median(warm), 4),
        # CPU time of this process: what the wall time would be on an otherwise idle machine.
        "median_cpu_seconds": round(statistics.median(cpu[1:] or cpu), 4),
        "repeats": len(warm),
        "target_seconds": 2.0,
    }
