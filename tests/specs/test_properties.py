"""Properties: durations round-trip, and `validate` never crashes whatever the files hold."""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameday.domain.durations import format_duration, parse_duration
from gameday.domain.specs import GamedaySpec, MonkeySpec, WindowSpec
from tests.specs.conftest import Validated, validate_home, write_files

LINE = re.compile(r"^.+:\d+:\d+: (warning: )?\S")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@given(st.integers(min_value=1, max_value=10**9))
def test_format_then_parse_gives_the_same_duration(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(sorted(UNITS))), min_size=1))
def test_parse_adds_up_the_parts(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{n}{u}" for n, u in parts)
    total = sum(n * UNITS[u] for n, u in parts)
    if total == 0:
        with pytest.raises(ValueError, match="greater than zero"):
            parse_duration(text)
    else:
        assert parse_duration(text) == timedelta(seconds=total)


def _validate(files: dict[str, bytes]) -> Validated:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        write_files(home, files)
        return validate_home(home)


def _assert_clean(result: Validated) -> None:
    assert result.exception is None, repr(result.exception)
    assert result.exit_code in (0, 1)
    assert all(LINE.match(line) for line in result.lines), result.stdout
    if result.exit_code == 1:
        assert result.stdout


SLOW = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_N", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SLOW
@given(st.binary(max_size=400), st.binary(max_size=400))
def test_validate_never_crashes_on_random_bytes(schedule: bytes, runbook: bytes) -> None:
    _assert_clean(_validate({"schedules/x.yaml": schedule, "runbooks/x.yaml": runbook}))


KEYS = sorted(
    {*WindowSpec.model_fields, *MonkeySpec.model_fields, *GamedaySpec.model_fields}
    | {"namespaces", "selector", "approvers", "users", "quorum", "deadline", "kind"}
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "window",
            "monkey",
            "gameday",
            "UTC",
            "Asia/Tokyo",
            "10:00-16:00",
            "2d",
            "0 9 * * mon",
            "runbooks/x.yaml",
            "2026-12-02T14:00",
            "x",
            "",
        ]
    ),
    st.text(max_size=12),
)
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=12,
)


@SLOW
@given(st.lists(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8), max_size=3))
def test_validate_never_crashes_on_spec_shaped_documents(docs: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump_all(docs, allow_unicode=True).encode()
    _assert_clean(_validate({"schedules/x.yaml": text, "runbooks/x.yaml": text}))


SNIPPETS = [
    "kind: window",
    "kind: monkey",
    "kind: gameday",
    "name: x",
    "name: x",
    "timezone: Asia/Tokyo",
    "timezone: ../../etc/passwd",
    "window: x",
    "runbook: runbooks/x.yaml",
    "runbook: ../x.yaml",
    "cron: '0 25 * * *'",
    "at: 2026-03-29T02:30",
    "at: 2026-13-45",
    "hours: 22:00-02:00",
    "blackouts: [2026-12-24..2026-12-01, 2026-02-30]",
    "targets: {namespaces: [kube-system], selector: 'app in (a'}",
    "approval: {approvers: {users: [U1]}, quorum: 9}",
    "extensions: [{name: gameday, timeout: 0s}, {name: ''}]",
    "title: t",
    "description: d",
    "method: [{type: action, name: a, provider: {type: python, module: os, func: getcwd}}]",
    "method: [{ref: nope}]",
    "rollbacks: {}",
    "steady-state-hypothesis: {title: t, probes: [{type: probe}]}",
    "a: &a [1, 2]",
    "b: *a",
    "c: *missing",
    "<<: {x: 1}",
    "n: " + "9" * 5000,
    "- item",
    "  nested: value",
    "---",
    "? [complex, key]",
    ": orphan",
    "{json: true, 'x': [1, 2]}",
    "\t\ttabbed: yes",
    "x: !!binary aGVsbG8=",
    "x: !!set {a, b}",
    "x: !custom thing",
]


@SLOW
@given(st.lists(st.sampled_from(SNIPPETS), max_size=14), st.sampled_from(["yaml", "json"]))
def test_validate_never_crashes_on_hostile_yaml(lines: list[str], suffix: str) -> None:
    text = "\n".join(lines).encode()
    files = {"schedules/x.yaml": text, f"runbooks/x.{suffix}": text}
    _assert_clean(_validate(files))
