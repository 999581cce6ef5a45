"""The planning service without the CLI: expansion rules, seeds and limits."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from gameday.domain.errors import InvalidInput
from gameday.domain.specs import GamedaySpec, MonkeySpec, WindowSpec
from gameday.services.catalog import Catalog
from gameday.services.planning import check_horizon, draw_seed, expand, plan

START = datetime(2026, 11, 2, tzinfo=UTC)
WINDOW = WindowSpec(name="w", timezone="Europe/Berlin", hours="09:00-17:00", holidays="DE")
WINDOWS = {"w": WINDOW.to_window()}


def monkey(name: str, mtbf: str = "8h") -> MonkeySpec:
    return MonkeySpec.model_validate(
        {"name": name, "window": "w", "targets": {"namespaces": ["shop"]}, "mtbf": mtbf}
    )


def gameday(name: str, **fields: object) -> GamedaySpec:
    return GamedaySpec.model_validate({"name": name, "runbook": "runbooks/x.yaml", **fields})


def kills_of(name: str, schedules: list[MonkeySpec], seed: int = 5) -> list[datetime]:
    result = expand(WINDOWS, [], schedules, start=START, days=60, seed=seed)
    return [o.at for o in result.occurrences if o.schedule == name]


def test_adding_a_schedule_leaves_other_kills_alone() -> None:
    alone = kills_of("a", [monkey("a")])
    assert alone
    assert kills_of("a", [monkey("a"), monkey("b"), monkey("c", "1h")]) == alone
    assert kills_of("a", [monkey("a")], seed=6) != alone


def test_replanning_from_a_later_start_keeps_planned_kills() -> None:
    schedules = [monkey("a", "3h"), monkey("b", "1d")]
    first = expand(WINDOWS, [], schedules, start=START, days=30, seed=8)
    later = START + timedelta(days=10, hours=5)
    second = expand(WINDOWS, [], schedules, start=later, days=20, seed=8)
    overlap = [(o.schedule, o.at) for o in first.occurrences if o.at >= later]
    assert overlap
    assert [(o.schedule, o.at) for o in second.occurrences if o.at < first.end] == overlap


def test_occurrences_are_sorted_by_time_then_schedule() -> None:
    specs = [
        gameday(n, cron="0 10 * * mon-fri", timezone="Europe/Berlin", window="w") for n in "zyx"
    ]
    result = expand(WINDOWS, specs, [monkey("m", "2h")], start=START, days=14, seed=1)
    keys = [(o.at, o.schedule) for o in result.occurrences]
    assert keys == sorted(keys)
    assert [o.schedule for o in result.occurrences[:3]] == ["x", "y", "z"]
    assert result.count("planned") + result.count("skipped") == len(result.occurrences)


def test_at_gamedays_outside_the_horizon_are_not_listed() -> None:
    inside = gameday("in", at="2026-11-03T10:00:00+01:00", window="w")
    outside = gameday("out", at="2026-12-03T10:00:00+01:00", window="w")
    result = expand(WINDOWS, [inside, outside], [], start=START, days=7, seed=1)
    assert [(o.schedule, o.at, o.status) for o in result.occurrences] == [
        ("in", datetime(2026, 11, 3, 9, tzinfo=UTC), "planned")
    ]


def test_plan_reads_a_catalog_and_keeps_the_seed() -> None:
    catalog = Catalog(windows=WINDOWS, monkeys={"m": monkey("m")})
    result = plan(catalog, start=START, days=7, seed=1234)
    assert result.seed == 1234
    assert (result.start, result.end) == (START, datetime(2026, 11, 9, tzinfo=UTC))
    assert {o.as_dict()["timezone"] for o in result.occurrences} == {"Europe/Berlin"}


def test_a_gameday_every_minute_is_refused() -> None:
    every_minute = gameday("busy", cron="* * * * *", timezone="UTC")
    with pytest.raises(InvalidInput, match="fires more than 20000 times"):
        expand(WINDOWS, [every_minute], [], start=START, days=30, seed=1)


def test_a_monkey_killing_every_minute_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"monkey 'm': mtbf 1m over .* means about \d+ kills"):
        expand(WINDOWS, [], [monkey("m", "1m")], start=START, days=366, seed=1)


def test_a_missing_window_is_refused() -> None:
    with pytest.raises(InvalidInput, match="names window 'w'"):
        expand({}, [], [monkey("m")], start=START, days=1, seed=1)


@pytest.mark.parametrize(
    ("start", "days", "message"),
    [
        (datetime(2026, 11, 2), 7, "has no UTC offset"),
        (START, 0, "between 1 and 366"),
        (START, 367, "between 1 and 366"),
    ],
)
def test_horizon_is_checked(start: datetime, days: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_horizon(start, days)


def test_seeds_are_drawn_from_the_given_generator() -> None:
    assert draw_seed(random.Random(1)) == draw_seed(random.Random(1))
    assert 0 <= draw_seed(random.Random(2)) < 2**31
