"""chaoslib's own messages name no line: each points at the activity, tolerance or control
at fault, with its path in front, as gameday's own errors do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.specs.conftest import RUNBOOK, Validated

TRUE = '    provider: {type: process, path: "true"}\n'


def with_method(*activities: str) -> str:
    """The no-op runbook (its steady state ends on line 11) with this method from line 13."""
    return RUNBOOK.replace("method: []\n", "method:\n" + "".join(activities))


def action(name: str, *lines: str) -> str:
    """An action that does nothing, with more lines (indented 4) after its name."""
    return f"  - type: action\n    name: {name}\n" + "".join(f"    {line}\n" for line in lines)


FIRST = action("first", 'provider: {type: process, path: "true"}')

CASES: list[tuple[str, dict[str, str | bytes], str]] = [
    (
        "activity-without-name",
        {"runbooks/r.yaml": with_method(FIRST, "  - type: action\n" + TRUE)},
        "runbooks/r.yaml:16:5: method[1]: an activity must have a name",
    ),
    (
        "activity-without-provider",
        {"runbooks/r.yaml": with_method(FIRST, action("second"))},
        "runbooks/r.yaml:16:5: method[1]: an activity requires a provider",
    ),
    (
        "provider-without-type",
        {"runbooks/r.yaml": with_method(action("first", 'provider: {path: "true"}'))},
        "runbooks/r.yaml:13:5: method[0]: a provider must have a type",
    ),
    (
        "timeout-not-a-number",
        {
            "runbooks/r.yaml": with_method(
                FIRST, action("second", "timeout: soon", 'provider: {type: process, path: "true"}')
            )
        },
        "runbooks/r.yaml:16:5: method[1]: activity timeout must be a number",
    ),
    (
        "background-not-a-boolean",
        {
            "runbooks/r.yaml": with_method(
                action("first", 'background: "yes"', 'provider: {type: process, path: "true"}')
            )
        },
        "runbooks/r.yaml:13:5: method[0]: activity background must be a boolean",
    ),
    (
        "http-without-url",
        {"runbooks/r.yaml": with_method(FIRST, action("call", "provider: {type: http}"))},
        "runbooks/r.yaml:16:5: method[1]: a HTTP activity must have a URL",
    ),
    (
        "module-named-elsewhere-too",
        # The module's name is also an argument of the first activity: the position is
        # the activity at fault, not the first place that text appears.
        {
            "runbooks/r.yaml": with_method(
                action(
                    "first",
                    "provider: {type: python, module: os.path, func: exists,",
                    "           arguments: {path: nosuch.module}}",
                ),
                action("second", "provider: {type: python, module: nosuch.module, func: f}"),
            )
        },
        "runbooks/r.yaml:19:38: method[1]: could not find Python module 'nosuch.module' in "
        "activity 'second'",
    ),
    (
        "rollback-without-provider",
        {"runbooks/r.yaml": RUNBOOK + "rollbacks:\n" + FIRST + action("undo")},
        "runbooks/r.yaml:17:5: rollbacks[1]: an activity requires a provider",
    ),
    (
        "hypothesis-probe-without-tolerance",
        {
            "runbooks/r.yaml": RUNBOOK.replace(
                "method: []\n",
                "    - type: probe\n      name: second\n"
                '      provider: {type: process, path: "true"}\nmethod: []\n',
            )
        },
        "runbooks/r.yaml:12:7: steady-state-hypothesis.probes[1]: hypothesis probe must have a "
        "tolerance entry",
    ),
    (
        "tolerance-without-pattern",
        {"runbooks/r.yaml": RUNBOOK.replace("tolerance: 0", "tolerance: {type: regex}")},
        "runbooks/r.yaml:8:18: steady-state-hypothesis.probes[0].tolerance: hypothesis regex "
        "probe tolerance must have a `pattern` key",
    ),
    (
        "control-without-name",
        {
            "runbooks/r.yaml": with_method(
                action(
                    "first",
                    'provider: {type: process, path: "true"}',
                    "controls:",
                    "  - provider: {type: python, module: os}",
                )
            )
        },
        "runbooks/r.yaml:17:9: method[0].controls[0]: A control must have a `name` property",
    ),
    (
        "json-activity-without-name",
        {
            "runbooks/j.json": '{"title": "T", "description": "D",\n "method": [\n'
            '  {"type": "action", "name": "a", "provider": {"type": "process", "path": "true"}},\n'
            '  {"type": "action", "provider": {"type": "process", "path": "true"}}]}\n'
        },
        "runbooks/j.json:4:3: method[1]: an activity must have a name",
    ),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_chaoslib_problem_points_at_its_activity(
    make_home: Callable[[dict[str, str | bytes]], Path],
    validate: Callable[..., Validated],
    files: dict[str, str | bytes],
    expected: str,
) -> None:
    result = validate(make_home(files))

    assert result.exception is None
    assert (result.exit_code, result.lines[:1]) == (1, [expected])


def test_a_problem_before_the_activities_names_no_activity(
    make_home: Callable[[dict[str, str | bytes]], Path], validate: Callable[..., Validated]
) -> None:
    # chaoslib stops at the missing description, before it looks at the nameless action.
    runbook = with_method("  - type: action\n" + TRUE)
    home = make_home({"runbooks/r.yaml": runbook.replace("description:", "summary:")})

    result = validate(home)

    assert result.lines[:1] == ["runbooks/r.yaml:1:1: experiment requires a description"]
