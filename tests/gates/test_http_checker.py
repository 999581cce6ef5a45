"""The HTTP gate checker against real HTTP servers answering like Prometheus, Alertmanager
and health endpoints: every answer is judged, every failure fails closed with its own
reason, and a hostile endpoint cannot hold a check past its deadline or fill memory."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from gameday.adapters.gates.http_checker import HttpGateChecker
from tests.fakes.monitoring import Canned, FakeMonitoring, query_error, scalar, vector
from tests.gates.conftest import gate
from tests.service.serving import free_port

ERRORS = 'sum(rate(http_requests_total{code=~"5.."}[1m]))'


def prometheus(m: FakeMonitoring, **bounds: Any) -> dict[str, Any]:
    return {"prometheus": {"url": m.url, "query": ERRORS, **bounds}}


Setup = Callable[[FakeMonitoring], None]


def answers(canned: Canned) -> Setup:
    return lambda m: m.answer_with(ERRORS, canned)


PROMETHEUS_CASES: list[tuple[str, dict[str, Any], Setup, bool, str, str]] = [
    ("vector-within-max", {"max": 5}, answers(vector(2)), True, "2", ""),
    ("vector-above-max", {"max": 5}, answers(vector(7.5)), False, "7.5", "above max 5"),
    ("worst-series-counts", {"max": 5}, answers(vector(1, 9, 3)), False, "9", "above max 5"),
    ("below-min", {"min": 1}, answers(vector(0.5)), False, "0.5", "below min 1"),
    ("within-min-and-max", {"min": 1, "max": 3}, answers(vector(2)), True, "2", ""),
    ("scalar", {"max": 5}, answers(scalar(4)), True, "4", ""),
    ("scalar-above", {"max": 5}, answers(scalar(6)), False, "6", "above max 5"),
    (
        "empty-fails",
        {"max": 5},
        answers(vector()),
        False,
        "no series",
        "the query returned nothing (empty: fail)",
    ),
    ("empty-passes-when-told", {"max": 5, "empty": "pass"}, answers(vector()), True, "", ""),
    ("nan", {"max": 5}, answers(vector("NaN")), False, "NaN", "the query returned NaN"),
    (
        "query-error",
        {"max": 5},
        answers(query_error("parse error at char 4")),
        False,
        "a query error",
        "Prometheus answered: parse error at char 4",
    ),
    (
        "server-error-page",
        {"max": 5},
        answers(Canned(500, b"<html>oops</html>", "text/html")),
        False,
        "no usable answer",
        "Prometheus answered HTTP 500",
    ),
    (
        "not-json",
        {"max": 5},
        answers(Canned(200, b"{not json", "application/json")),
        False,
        "no usable answer",
        "the answer is not JSON",
    ),
    (
        "matrix",
        {"max": 5},
        answers(Canned(200, {"status": "success", "data": {"resultType": "matrix", "result": []}})),
        False,
        "a matrix result",
        "expected a vector or scalar",
    ),
    (
        "series-without-value",
        {"max": 5},
        answers(
            Canned(
                200,
                {"status": "success", "data": {"resultType": "vector", "result": [{"x": 1}]}},
            )
        ),
        False,
        "an unreadable value",
        "a series has no numeric value",
    ),
]


@pytest.mark.parametrize(
    ("bounds", "setup", "passed", "observed", "reason"),
    [case[1:] for case in PROMETHEUS_CASES],
    ids=[case[0] for case in PROMETHEUS_CASES],
)
def test_prometheus_answers_are_judged(
    monitoring: FakeMonitoring,
    bounds: dict[str, Any],
    setup: Setup,
    passed: bool,
    observed: str,
    reason: str,
) -> None:
    setup(monitoring)
    result = HttpGateChecker({}).check(gate(**prometheus(monitoring, **bounds)))
    assert result.passed is passed
    assert observed in result.observed
    assert result.reason == reason
    ((args, _headers),) = monitoring.queried("/api/v1/query")
    assert args == [("query", ERRORS)]


def test_alertmanager_fails_on_a_matching_active_alert_and_asks_for_it_precisely(
    monitoring: FakeMonitoring,
) -> None:
    checker = HttpGateChecker({})
    spec = gate(
        alertmanager={
            "url": monitoring.url,
            "matchers": ['severity="critical"', 'namespace=~"book.*"'],
        }
    )
    monitoring.fire("Other", severity="warning", namespace="bookinfo")
    monitoring.fire("Gone", state="suppressed", severity="critical", namespace="bookinfo")
    assert checker.check(spec).passed

    monitoring.fire("CheckoutDown", severity="critical", namespace="bookinfo")
    result = checker.check(spec)
    assert not result.passed
    assert result.observed == "1 alert(s) firing: CheckoutDown"
    assert result.reason == "an alert matches"
    args, _ = monitoring.queried("/api/v2/alerts")[-1]
    assert args == [
        ("active", "true"),
        ("silenced", "false"),
        ("inhibited", "false"),
        ("filter", 'severity="critical"'),
        ("filter", 'namespace=~"book.*"'),
    ]


HTTP_CASES: list[tuple[str, dict[str, Any], tuple[int, str], bool, str, str]] = [
    ("any-2xx", {}, (204, ""), True, "HTTP 204", ""),
    ("5xx", {}, (503, "down"), False, "HTTP 503", "expected 2xx"),
    ("exact-status", {"status": 200}, (201, ""), False, "HTTP 201", "expected 200"),
    ("regex", {"body_regex": "U+P"}, (200, '{"status": "UP"}'), True, "HTTP 200, body matches", ""),
    (
        "regex-miss",
        {"body_regex": "^ok$"},
        (200, "degraded"),
        False,
        "HTTP 200",
        "body does not match '^ok$'",
    ),
    (
        "json-equals",
        {"json": {"path": "$.status", "equals": "UP"}},
        (200, '{"status": "UP"}'),
        True,
        "$.status = 'UP'",
        "",
    ),
    (
        "json-differs",
        {"json": {"path": "$.checks[0].ok", "equals": True}},
        (200, '{"checks": [{"ok": false}]}'),
        False,
        "$.checks[0].ok = False",
        "expected True",
    ),
    (
        "json-absent",
        {"json": {"path": "$.status", "equals": "UP"}},
        (200, '{"state": "UP"}'),
        False,
        "HTTP 200",
        "$.status: no value at 'status'",
    ),
    (
        "json-not-json",
        {"json": {"path": "$.status", "equals": "UP"}},
        (200, "UP"),
        False,
        "no usable answer",
        "the answer is not JSON",
    ),
]


@pytest.mark.parametrize(
    ("check", "health", "passed", "observed", "reason"),
    [case[1:] for case in HTTP_CASES],
    ids=[case[0] for case in HTTP_CASES],
)
def test_http_answers_are_judged(
    monitoring: FakeMonitoring,
    check: dict[str, Any],
    health: tuple[int, str],
    passed: bool,
    observed: str,
    reason: str,
) -> None:
    monitoring.health = health
    result = HttpGateChecker({}).check(gate(http={"url": monitoring.url + "/health", **check}))
    assert (result.passed, result.observed, result.reason) == (passed, observed, reason)


def test_the_token_comes_from_the_named_variable_and_never_shows(
    monitoring: FakeMonitoring,
) -> None:
    token = "s3cret-bearer-value"
    spec = gate(http={"url": monitoring.url + "/health"}, auth={"bearer_env": "PROM_TOKEN"})
    result = HttpGateChecker({"PROM_TOKEN": token}).check(spec)
    assert result.passed
    ((_, headers),) = monitoring.queried("/health")
    assert headers["Authorization"] == f"Bearer {token}"
    assert token not in repr(result.as_dict())

    missing = HttpGateChecker({}).check(spec)
    assert not missing.passed
    assert missing.reason == "environment variable PROM_TOKEN is not set"
    assert len(monitoring.queried("/health")) == 1  # nothing sent without the token


HOSTILE = [
    ("/drip", "the answer took longer than 1s to arrive (timeout)"),
    ("/silent", "no answer within 1s (timeout)"),
    ("/loop", "more than 3 redirects"),
    ("/huge", "the answer is larger than 1 MiB"),
    ("/bomb", "the answer is larger than 1 MiB"),
]


@pytest.mark.parametrize(("path", "reason"), HOSTILE, ids=[p for p, _ in HOSTILE])
def test_a_hostile_endpoint_fails_the_gate_within_its_deadline(
    monitoring: FakeMonitoring, path: str, reason: str
) -> None:
    spec = gate(http={"url": monitoring.url + path, "timeout": timedelta(seconds=1)})
    result = HttpGateChecker({}).check(spec)
    assert not result.passed
    assert result.reason == reason
    # The deadline holds for the whole exchange (with room for a loaded machine).
    assert result.latency_ms < 1000 + 2000
    if path == "/loop":
        assert len(monitoring.queried("/loop")) == 4  # the first request and 3 redirects


# A client process of its own, so that its memory is not mixed with the fake server's.
_MEASURE = """
import sys, tracemalloc
from gameday.adapters.gates.http_checker import HttpGateChecker
from gameday.domain.gate_specs import GateSpec
checker = HttpGateChecker({})
warm = GateSpec.model_validate({"name": "w", "http": {"url": sys.argv[1] + "/health"}})
assert checker.check(warm).passed
spec = GateSpec.model_validate({"name": "g", "http": {"url": sys.argv[1] + sys.argv[2]}})
tracemalloc.start()
result = checker.check(spec)
print(tracemalloc.get_traced_memory()[1], result.reason)
"""


@pytest.mark.parametrize("path", ["/huge", "/bomb"])
def test_a_large_or_compressed_answer_is_never_held_beyond_the_limit(
    monitoring: FakeMonitoring, path: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, monitoring.url, path],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    peak, reason = done.stdout.strip().split(" ", 1)
    assert reason == "the answer is larger than 1 MiB"
    # 64 MiB of zeros behind /bomb: inflated in bounded steps, at most the 1 MiB kept.
    assert int(peak) < 4 * 1024 * 1024


def test_an_unreachable_endpoint_is_tried_once_more_only_when_asked() -> None:
    port = free_port()  # nothing listens there
    pauses: list[float] = []
    checker = HttpGateChecker({}, pause=pauses.append, jitter=lambda: 0.3)
    spec = gate(http={"url": f"http://127.0.0.1:{port}/health"})

    result = checker.check(spec, retry=False)
    assert not result.passed
    assert result.observed == "no answer"
    assert result.reason == f"unreachable: 127.0.0.1:{port}: connection refused"
    assert pauses == []

    assert not checker.check(spec, retry=True).passed
    assert pauses == [0.3]  # one retry, after the jittered pause
