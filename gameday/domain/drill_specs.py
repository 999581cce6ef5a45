"""`drill:` in specs: on a runbook's `gameday` extension and on a `kind: gameday` schedule.

`drill: true` means every default; `drill: false` (or no key) means not a drill; a mapping
sets `announced` (default true), `responders` (Slack user or user group IDs),
`detect_within` (default 10m), `resolve_within` (default 30m), `channel` (the private
channel an unannounced drill is announced and approved in; required when `announced:
false`) and `alert_matchers` (Alertmanager-style, default: any alert). The schedule's
`drill` wins over its runbook's as a whole (the two are not merged).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from gameday.domain.drills import (
    DEFAULT_DETECT_WITHIN,
    DEFAULT_RESOLVE_WITHIN,
    DrillSpec,
    parse_matcher,
)
from gameday.domain.spec_types import Duration, SpecModel
from gameday.domain.spec_values import check_channel

_RESPONDER = re.compile(r"[UWS][A-Z0-9]+")


def _responder(value: str) -> str:
    if not _RESPONDER.fullmatch(value):
        raise ValueError(
            f"invalid responder {value!r}: expected a Slack user ID (U… or W…) "
            "or a user group ID (S…)"
        )
    return value


def _matcher(value: str) -> str:
    parse_matcher(value)
    return value


Responder = Annotated[str, AfterValidator(_responder)]
AlertMatcherText = Annotated[str, AfterValidator(_matcher)]


class DrillSettings(SpecModel):
    """The mapping form of `drill:` (see the module docstring)."""

    announced: bool = True
    responders: list[Responder] = Field(default_factory=list)
    detect_within: Duration = DEFAULT_DETECT_WITHIN
    resolve_within: Duration = DEFAULT_RESOLVE_WITHIN
    channel: str | None = None
    alert_matchers: list[AlertMatcherText] = Field(default_factory=list)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return None if value is None else check_channel(value)

    @model_validator(mode="after")
    def _unannounced(self) -> DrillSettings:
        # Responders must learn of it as of an incident: never from the public channel.
        if not self.announced and self.channel is None:
            raise ValueError(
                "an unannounced drill needs a channel: the private channel its approvers "
                "are told in (never the schedule's public one)"
            )
        return self

    @field_validator("responders")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("responders lists someone twice")
        return value

    def to_drill(self) -> DrillSpec:
        """The domain DrillSpec these settings describe."""
        return DrillSpec(
            announced=self.announced,
            responders=tuple(self.responders),
            detect_within=self.detect_within,
            resolve_within=self.resolve_within,
            channel=self.channel,
            alert_matchers=tuple(parse_matcher(m) for m in self.alert_matchers),
        )


def _drill_value(value: Any) -> Any:
    # `true` is every default, `false` not a drill; anything else must be a mapping.
    if value is True:
        return {}
    if value is False or value is None:
        return None
    if not isinstance(value, dict | DrillSettings):
        raise ValueError(
            f"drill must be true, false or a mapping (announced, responders, detect_within, "
            f"resolve_within, channel, alert_matchers), not {value!r}"
        )
    return value


DrillField = Annotated[DrillSettings | None, BeforeValidator(_drill_value)]
"""`drill:` as written: true, false or a mapping; None when the run is not a drill."""


def background_in_method(experiment: dict[str, Any]) -> list[int]:
    """Indices of the method's `background: true` activities."""
    method = experiment.get("method")
    steps = method if isinstance(method, list) else []
    return [i for i, step in enumerate(steps) if isinstance(step, dict) and step.get("background")]
