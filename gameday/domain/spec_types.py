"""The value types spec models share: names, durations, Slack IDs, namespaces, weekdays.

Each validates the written form and says what was expected; `SpecModel` is the base of
every spec model (unknown keys are refused).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from gameday.domain.durations import format_duration, parse_duration
from gameday.domain.kill_mode import KillMode, parse_kill_mode
from gameday.domain.spec_values import parse_blackout

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_SLACK_USER = re.compile(r"[UW][A-Z0-9]+")
_SLACK_GROUP = re.compile(r"S[A-Z0-9]+")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError(f"invalid duration {value}: must be greater than zero")
        return value
    return parse_duration(value)


def _kill_mode(value: Any) -> KillMode:
    return value if isinstance(value, KillMode) else parse_kill_mode(value)


def _name(value: Any) -> Any:
    if isinstance(value, str) and not _NAME.fullmatch(value):
        raise ValueError(
            f"invalid name {value!r}: use lowercase letters, digits and '-' "
            "(at most 63, starting and ending with a letter or digit)"
        )
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
"""A positive duration written `90s`, `10m`, `4h`, `2d` or `1h30m`."""

KillModeField = Annotated[
    KillMode,
    BeforeValidator(_kill_mode),
    PlainSerializer(str, return_type=str, when_used="json"),
]
Name = Annotated[str, BeforeValidator(_name)]
"""A schedule or window name: a DNS-label-like slug, used in Slack commands."""


def _weekday(value: str) -> str:
    if value not in WEEKDAYS:
        raise ValueError(f"unknown weekday {value!r}: expected one of {', '.join(WEEKDAYS)}")
    return value


def _blackout(value: str) -> str:
    parse_blackout(value)
    return value


def _pattern(regex: re.Pattern[str], what: str, expected: str) -> AfterValidator:
    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(f"invalid {what} {value!r}: expected {expected}")
        return value

    return AfterValidator(check)


Namespace = Annotated[str, _pattern(_NAMESPACE, "namespace", "a DNS label")]
SlackUser = Annotated[str, _pattern(_SLACK_USER, "Slack user ID", "U… or W…")]
"""A Slack user ID (`U…`, or `W…` on Enterprise Grid): approvals compare IDs, not names."""
SlackGroup = Annotated[str, _pattern(_SLACK_GROUP, "Slack user group ID", "S…")]
Weekday = Annotated[str, AfterValidator(_weekday)]
Blackout = Annotated[str, AfterValidator(_blackout)]
"""A blackout: `YYYY-MM-DD..YYYY-MM-DD` (both days included) or one `YYYY-MM-DD`."""


class SpecModel(BaseModel):
    """The base of every spec model: unknown keys refused, values frozen, text stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
