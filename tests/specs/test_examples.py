"""The example runbooks and schedules shipped in the repository validate and load."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

from gameday.domain.kill_mode import KillMode
from gameday.wiring import load_catalog
from tests.specs.conftest import REPO, Validated
from tests.support import run_gameday


def test_examples_validate_through_the_installed_command() -> None:
    done = run_gameday("--home", str(REPO), "validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    assert "0 error(s), 0 warning(s)" in done.stderr


def test_examples_validate_in_process(validate: Callable[..., Validated]) -> None:
    result = validate(REPO)
    assert (result.exit_code, result.lines, result.exception) == (0, [], None)


def test_examples_load_into_the_catalog() -> None:
    loaded = load_catalog(REPO)
    catalog = loaded.require_valid()
    assert loaded.warnings == []
    window = catalog.window("tokyo-business-hours")
    assert (window.timezone, window.holidays, window.hours) == (
        "Asia/Tokyo",
        "JP",
        (time(10), time(16)),
    )
    assert window.weekdays == frozenset(range(5))
    monkey = catalog.schedule("bookinfo-monkey")
    assert monkey.kind == "monkey"
    assert monkey.targets.selector == "app in (reviews, ratings)"
    assert monkey.kill_mode == KillMode("one")
    latency = catalog.gamedays["reviews-latency"]
    assert catalog.runbook_of(latency).name == "bookinfo-reviews-latency"
    kill = catalog.gamedays["ratings-pod-termination"]
    # No timezone of its own: the window's zone is the effective one.
    assert kill.effective_timezone() == "Asia/Tokyo"
    runbook = catalog.runbook("bookinfo-reviews-latency")
    assert runbook.extension is not None
    assert runbook.extension.approval is not None
    assert runbook.rollback_strategy() == "always"
    assert {a["provider"].get("func") for a in runbook.experiment["rollbacks"]} == {
        "remove_delay_fault"
    }
