"""Spec models: windows, monkeys and GameDays from `schedules/*.yaml`, and runbooks.

The models validate values only; where a value came from in a file (line and column) is the
parser's business (`gameday.domain.spec_parse`). Keys are the snake_case names written in
the files; unknown keys are refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from gameday.domain.drill_specs import DrillField
from gameday.domain.gate_specs import GateSpec, GatesSpec, unique_gates
from gameday.domain.kill_mode import KillMode
from gameday.domain.protection import PROTECTED_NAMESPACES as PROTECTED_NAMESPACES
from gameday.domain.spec_types import (
    WEEKDAYS,
    Blackout,
    Duration,
    KillModeField,
    Name,
    Namespace,
    SlackGroup,
    SlackUser,
    SpecModel,
    Weekday,
)
from gameday.domain.spec_values import (
    check_channel,
    check_cron,
    check_holiday_country,
    check_label_selector,
    check_timezone,
    localize,
    parse_blackout,
    parse_hours,
)
from gameday.domain.windows import Window


class WindowSpec(SpecModel):
    """`kind: window`: when chaos is allowed.

    Defaults are the cautious ones: weekdays mon..fri, the whole day when no hours are given,
    no holidays, no blackouts.
    """

    kind: Literal["window"] = "window"
    name: Name
    timezone: str
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    hours: str | None = None
    holidays: str | None = None
    subdivision: str | None = None
    blackouts: list[Blackout] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("weekdays is empty: name at least one of mon..sun")
        if len(set(value)) != len(value):
            raise ValueError("weekdays lists a day twice")
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str | None) -> str | None:
        return None if value is None else check_holiday_country(value)

    @field_validator("blackouts", mode="before")
    @classmethod
    def _blackouts_text(cls, value: Any) -> Any:
        # YAML reads an unquoted 2026-12-25 as a date; keep the written form.
        if isinstance(value, list):
            return [v.isoformat() if isinstance(v, date) else v for v in value]
        return value

    @model_validator(mode="after")
    def _subdivision(self) -> WindowSpec:
        if self.subdivision is not None:
            if self.holidays is None:
                raise ValueError("subdivision needs holidays (a country code) as well")
            check_holiday_country(self.holidays, self.subdivision)
        return self

    def to_window(self) -> Window:
        """Build the domain Window these settings describe (weekdays as 0=Monday..6=Sunday)."""
        hours: tuple[time, time] | None = None if self.hours is None else parse_hours(self.hours)
        return Window(
            name=self.name,
            timezone=self.timezone,
            weekdays=frozenset(WEEKDAYS.index(d) for d in self.weekdays),
            hours=hours,
            holidays=self.holidays,
            subdivision=self.subdivision,
            blackouts=tuple(parse_blackout(b) for b in self.blackouts),
        )


class Targets(SpecModel):
    """Where a monkey looks for pods: namespaces plus an optional label selector."""

    namespaces: list[Namespace] = Field(min_length=1)
    selector: str | None = None

    @field_validator("selector")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        return None if value is None else check_label_selector(value)


class MonkeySpec(SpecModel):
    """`kind: monkey`: random pod terminations inside a window, Chaos Monkey style."""

    kind: Literal["monkey"] = "monkey"
    name: Name
    window: str
    targets: Targets
    mtbf: Duration = timedelta(days=2)
    min_time_between_kills: Duration = timedelta(hours=4)
    kill_mode: KillModeField = KillMode("one")
    max_kills: int = Field(default=1, ge=1)
    heads_up: Duration = timedelta(minutes=10)
    channel: str | None = None
    method: Literal["evict", "delete"] = "evict"
    grace_period: int | None = Field(default=None, ge=0)
    min_pod_age: Duration = timedelta(minutes=5)
    gates: list[GateSpec] = Field(default_factory=list)

    @field_validator("gates")
    @classmethod
    def _unique_gates(cls, value: list[GateSpec]) -> list[GateSpec]:
        return unique_gates(value)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return None if value is None else check_channel(value)

    def protected_namespaces(self) -> list[str]:
        """The target namespaces that are protected and will never be touched."""
        return [ns for ns in self.targets.namespaces if ns in PROTECTED_NAMESPACES]


class Approvers(SpecModel):
    """Who may approve: Slack user IDs (`U…`/`W…`) and user group IDs (`S…`)."""

    users: list[SlackUser] = Field(default_factory=list)
    usergroups: list[SlackGroup] = Field(default_factory=list)


class ApprovalSpec(SpecModel):
    """An approval policy: a quorum of distinct approvers before the deadline."""

    approvers: Approvers
    quorum: int = Field(default=1, ge=1)
    deadline: Duration = timedelta(minutes=30)

    @model_validator(mode="after")
    def _quorum(self) -> ApprovalSpec:
        users, groups = set(self.approvers.users), self.approvers.usergroups
        if not users and not groups:
            raise ValueError("approval needs at least one approver (users or usergroups)")
        if not groups and self.quorum > len(users):
            raise ValueError(
                f"quorum {self.quorum} is larger than the {len(users)} named approver(s)"
            )
        return self


def _relative_runbook_path(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    path = PurePosixPath(value.replace("\\", "/"))
    if not value.strip():
        raise ValueError("runbook path is empty")
    if path.is_absolute() or re.match(r"[A-Za-z]:", value):
        raise ValueError(f"runbook path {value!r} is absolute: give a path inside the home")
    depth = 0
    for part in path.parts:
        depth += -1 if part == ".." else (0 if part == "." else 1)
        if depth < 0:
            raise ValueError(f"runbook path {value!r} leaves the home folder")
    return value


class GamedaySpec(SpecModel):
    """`kind: gameday`: a planned experiment, by `cron` or once `at` an instant.

    After `load_catalog`, `timezone` is the effective zone (the schedule's, else its window's,
    else UTC) and `at` is aware.
    """

    kind: Literal["gameday"] = "gameday"
    name: Name
    runbook: Annotated[str, BeforeValidator(_relative_runbook_path)]
    cron: str | None = None
    at: datetime | None = None
    timezone: str | None = None
    window: str | None = None
    announce: list[Duration] = Field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=1), timedelta(minutes=10)]
    )
    approval: ApprovalSpec | None = None
    channel: str | None = None
    drill: DrillField = None
    gates: list[GateSpec] = Field(default_factory=list)

    @field_validator("gates")
    @classmethod
    def _unique_gates(cls, value: list[GateSpec]) -> list[GateSpec]:
        return unique_gates(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: Any) -> Any:
        if isinstance(value, str):
            if re.fullmatch(r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*", value):
                raise ValueError(f"{value.strip()} is a date: give a time as well")
            try:
                return datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(
                    f"invalid time {value!r}: expected ISO 8601 such as 2026-12-02T14:00 "
                    "(seconds and an offset optional)"
                ) from None
        if isinstance(value, date) and not isinstance(value, datetime):
            raise ValueError(f"{value.isoformat()} is a date: give a time as well")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return None if value is None else check_channel(value)

    @model_validator(mode="after")
    def _when(self) -> GamedaySpec:
        if (self.cron is None) == (self.at is None):
            which = "both" if self.cron is not None else "neither"
            raise ValueError(f"a gameday needs exactly one of cron or at (it has {which})")
        if self.at is not None and self.at.tzinfo is None and self.window is None:
            # Without a window the zone is known here; with one the catalog resolves it.
            try:
                at = localize(self.at, self.timezone or "UTC")
            except ValueError as exc:
                raise ValueError(f"at: {exc}") from None
            object.__setattr__(self, "at", at)
        return self

    def effective_timezone(self) -> str:
        """The zone cron fields and a naive `at` are read in (UTC when none is known)."""
        return self.timezone or "UTC"

    def cron_trigger(self) -> CronTrigger | None:
        """APScheduler's trigger for `cron` in the effective timezone; None for `at`."""
        if self.cron is None:
            return None
        return CronTrigger.from_crontab(self.cron, timezone=self.effective_timezone())


RollbackStrategy = Literal["default", "always", "never", "deviated"]


class RunbookExtension(SpecModel):
    """The `gameday` entry of a runbook's `extensions`: defaults for runs of this runbook."""

    name: Literal["gameday"] = "gameday"
    owners: list[str] = Field(default_factory=list)
    approval: ApprovalSpec | None = None
    channel: str | None = None
    timeout: Duration = timedelta(minutes=30)
    rollback_strategy: RollbackStrategy = "always"
    description: str | None = None
    drill: DrillField = None
    gates: list[GateSpec] = Field(default_factory=list)

    @field_validator("gates")
    @classmethod
    def _unique_gates(cls, value: list[GateSpec]) -> list[GateSpec]:
        return unique_gates(value)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return None if value is None else check_channel(value)


class Runbook(BaseModel):
    """A Chaos Toolkit experiment file in `runbooks/`, named by its file stem."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: str
    title: str
    experiment: dict[str, Any]
    extension: RunbookExtension | None = None
    digest: str

    def rollback_strategy(self) -> RollbackStrategy:
        """The rollback strategy runs of this runbook use (gameday's default: always)."""
        return self.extension.rollback_strategy if self.extension else "always"


ScheduleSpec = WindowSpec | MonkeySpec | GamedaySpec | GatesSpec
SPEC_MODELS: dict[
    str, type[WindowSpec] | type[MonkeySpec] | type[GamedaySpec] | type[GatesSpec]
] = {
    "window": WindowSpec,
    "monkey": MonkeySpec,
    "gameday": GamedaySpec,
    "gates": GatesSpec,
}
