"""`drill:` in a schedule and in a runbook's `gameday` extension: good and broken forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gameday.domain.drills import DrillSpec, parse_matcher
from gameday.domain.run_policy import channel_for, drill_for
from gameday.services.catalog import Catalog
from gameday.wiring import load_catalog
from tests.specs.conftest import RUNBOOK, Validated

GAMEDAY = "kind: gameday\nname: g\nrunbook: runbooks/noop.yaml\nat: 2026-12-02T14:00\n"
EXTENSION = "extensions:\n  - name: gameday\n    drill:\n"


def _catalog(home: Path) -> Catalog:
    return load_catalog(home).require_valid()


def test_true_means_the_defaults(make_home: Callable[..., Path]) -> None:
    home = make_home({"schedules/g.yaml": GAMEDAY + "drill: true\n"})
    catalog = _catalog(home)
    spec = catalog.schedule("g")
    assert drill_for(spec, catalog.runbook("noop")) == DrillSpec()
    assert DrillSpec().detect_within == timedelta(minutes=10)
    assert DrillSpec().resolve_within == timedelta(minutes=30)
    assert DrillSpec().announced is True


def test_mapping_sets_every_field(make_home: Callable[..., Path]) -> None:
    drill = (
        "drill:\n  announced: false\n  responders: [S0ONCALL, U0ALICE]\n"
        "  detect_within: 5m\n  resolve_within: 1h\n  channel: C0PRIVATE\n"
        "  alert_matchers: ['severity=\"critical\"', 'service=~\"shop-.*\"']\n"
    )
    home = make_home({"schedules/g.yaml": GAMEDAY + drill})
    catalog = _catalog(home)
    found = drill_for(catalog.schedule("g"), None)
    assert found == DrillSpec(
        announced=False,
        responders=("S0ONCALL", "U0ALICE"),
        detect_within=timedelta(minutes=5),
        resolve_within=timedelta(hours=1),
        channel="C0PRIVATE",
        alert_matchers=(
            parse_matcher('severity="critical"'),
            parse_matcher('service=~"shop-.*"'),
        ),
    )


def test_schedule_wins_over_runbook(make_home: Callable[..., Path]) -> None:
    runbook = RUNBOOK + EXTENSION + "      detect_within: 2m\n"
    home = make_home(
        {
            "runbooks/noop.yaml": runbook,
            "schedules/g.yaml": GAMEDAY + "drill: {resolve_within: 3m}\n",
            "schedules/h.yaml": GAMEDAY.replace("name: g", "name: h") + "drill: false\n",
            "schedules/i.yaml": GAMEDAY.replace("name: g", "name: i"),
        }
    )
    catalog = _catalog(home)
    rb = catalog.runbook("noop")
    assert drill_for(None, rb) == DrillSpec(detect_within=timedelta(minutes=2))
    assert drill_for(catalog.schedule("g"), rb) == DrillSpec(resolve_within=timedelta(minutes=3))
    assert drill_for(catalog.schedule("h"), rb) is None  # the schedule's false wins
    assert drill_for(catalog.schedule("i"), rb) == DrillSpec(detect_within=timedelta(minutes=2))


BROKEN: list[tuple[str, dict[str, str], str]] = [
    (
        "not-a-mapping",
        {"schedules/g.yaml": GAMEDAY + "drill: yes please\n"},
        "schedules/g.yaml:5:8: drill: drill must be true, false or a mapping (announced, "
        "responders, detect_within, resolve_within, channel, alert_matchers), not 'yes please'",
    ),
    (
        "unknown-key",
        {"schedules/g.yaml": GAMEDAY + "drill: {anounced: false}\n"},
        "schedules/g.yaml:5:9: drill: unknown key 'anounced' (did you mean 'announced'?)",
    ),
    (
        "bad-responder",
        {"schedules/g.yaml": GAMEDAY + "drill: {responders: [oncall]}\n"},
        "schedules/g.yaml:5:22: drill.responders[0]: invalid responder 'oncall': expected a "
        "Slack user ID (U… or W…) or a user group ID (S…)",
    ),
    (
        "responder-twice",
        {"schedules/g.yaml": GAMEDAY + "drill: {responders: [U1, U1]}\n"},
        "schedules/g.yaml:5:21: drill.responders: responders lists someone twice",
    ),
    (
        "bad-duration",
        {"schedules/g.yaml": GAMEDAY + "drill: {detect_within: soon}\n"},
        "schedules/g.yaml:5:24: drill.detect_within: invalid duration 'soon': expected "
        "NUMBER+UNIT such as 90s, 10m, 4h, 2d or 1h30m",
    ),
    (
        "bad-channel",
        {"schedules/g.yaml": GAMEDAY + "drill: {channel: private}\n"},
        "schedules/g.yaml:5:18: drill.channel: invalid channel 'private': expected #name or a "
        "channel ID such as C0123",
    ),
    (
        "bad-matcher",
        {"schedules/g.yaml": GAMEDAY + "drill: {alert_matchers: ['severity']}\n"},
        "schedules/g.yaml:5:26: drill.alert_matchers[0]: invalid matcher 'severity': "
        'expected LABEL="VALUE" (or !=, =~, !~)',
    ),
    (
        "bad-regex",
        {"schedules/g.yaml": GAMEDAY + "drill: {alert_matchers: ['a=~\"(\"']}\n"},
        "schedules/g.yaml:5:26: drill.alert_matchers[0]: invalid matcher 'a=~\"(\"': bad "
        "regular expression (missing ), unterminated subpattern at position 0)",
    ),
    (
        "unannounced-without-channel",
        {"schedules/g.yaml": GAMEDAY + "drill: {announced: false}\n"},
        "schedules/g.yaml:5:8: drill: an unannounced drill needs a channel: the private channel "
        "its approvers are told in (never the schedule's public one)",
    ),
    (
        "runbook-extension",
        {"runbooks/noop.yaml": RUNBOOK + EXTENSION + "      announced: maybe\n"},
        "runbooks/noop.yaml:16:18: extensions[0].drill.announced: input should be a valid "
        "boolean, unable to interpret input",
    ),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_broken_drill(
    make_home: Callable[..., Path],
    validate: Callable[..., Validated],
    files: dict[str, str],
    expected: str,
) -> None:
    result = validate(make_home(files))
    assert result.exit_code == 1
    assert result.lines == [expected]


def test_an_unannounced_drill_is_announced_only_in_its_private_channel(
    make_home: Callable[..., Path],
) -> None:
    drill = "drill: {announced: false, channel: C0PRIVATE, responders: [S0ONCALL]}\n"
    home = make_home(
        {
            "schedules/g.yaml": GAMEDAY + "channel: '#gameday'\n" + drill,
            "schedules/h.yaml": GAMEDAY.replace("name: g", "name: h") + "channel: '#gameday'\n",
        }
    )
    catalog = _catalog(home)
    assert channel_for(catalog.schedule("g"), None, default="#default") == "C0PRIVATE"
    assert channel_for(catalog.schedule("h"), None, default="#default") == "#gameday"


DRILL_SCHEDULE = GAMEDAY + "drill: true\n"
BACKGROUND_RUNBOOK = """\
title: Hold a fault in the background
description: A drill whose fault runs on chaoslib's thread pool.
method:
  - type: action
    name: hold
    background: true
    provider: {type: process, path: "true"}
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"runbooks/noop.yaml": BACKGROUND_RUNBOOK + EXTENSION + "      detect_within: 2m\n"},
            ["runbooks/noop.yaml:6:17: warning: method[0].background: a resolve does not end"],
        ),
        (
            {"runbooks/noop.yaml": BACKGROUND_RUNBOOK, "schedules/g.yaml": DRILL_SCHEDULE},
            ["schedules/g.yaml:5:8: warning: drill: runbooks/noop.yaml method[0]: a resolve"],
        ),
        ({"runbooks/noop.yaml": BACKGROUND_RUNBOOK, "schedules/g.yaml": GAMEDAY}, []),
        # Run ad hoc the runbook is a drill; through this schedule it is not.
        ({"runbooks/noop.yaml": BACKGROUND_RUNBOOK + EXTENSION + "      detect_within: 2m\n",
          "schedules/g.yaml": GAMEDAY + "drill: false\n"},
         ["runbooks/noop.yaml:6:17: warning: method[0].background:"]),
    ],
    ids=["runbook drill", "schedule drill", "not a drill", "schedule says not a drill"],
)  # fmt: skip
def test_a_drill_with_a_background_fault_is_warned_of(
    make_home: Callable[..., Path],
    validate: Callable[..., Validated],
    files: dict[str, str],
    expected: list[str],
) -> None:
    result = validate(make_home(files))

    assert result.exit_code == 0  # a warning: the drill runs, its resolve waits for the fault
    warnings = [line for line in result.lines if ": warning: " in line]
    assert [w[: len(e)] for w, e in zip(warnings, expected, strict=False)] == expected
    assert len(warnings) == len(expected)
