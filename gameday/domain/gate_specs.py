"""Health gates in specs: checks of the monitoring a team already runs (Prometheus,
Alertmanager, any HTTP health endpoint) that must pass before chaos starts, and, as stop
conditions, while it runs.

Gates are declared under `gates:` in a runbook's `gameday` extension, on a `kind: gameday`
or `kind: monkey` schedule (added to the runbook's), and in a `kind: gates` spec named
`default` that applies to everything. Each gate has a `name`, exactly one check, and
optionally `stop_condition: true` and `interval` (default 10s, at least 1s). Credentials
are named by environment variable only (`auth: {bearer_env: NAME}`), never written inline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from gameday.domain.spec_types import Duration, Name, SpecModel

DEFAULT_INTERVAL = timedelta(seconds=10)
MIN_INTERVAL = timedelta(seconds=1)
DEFAULT_TIMEOUT = timedelta(seconds=5)
MAX_TIMEOUT = timedelta(seconds=60)
CHECKS = ("prometheus", "alertmanager", "http")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MATCHER = re.compile(
    r"""\s*(?P<label>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|[^\s"]*)\s*"""
)
# Keys people write when they put a secret inline instead of naming its variable.
_INLINE_SECRETS = ("bearer", "token", "password", "secret", "api_key", "username")


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"invalid URL {value!r}: expected http://HOST[:PORT][/PATH] or https://")
    if parts.username or parts.password:
        raise ValueError(
            f"URL {parts.hostname}: credentials in a URL are refused; name an environment "
            "variable in auth.bearer_env instead"
        )
    return value


def parse_matcher(text: str) -> tuple[str, str, str]:
    """(label, operator, value) of an Alertmanager matcher like `severity="critical"`;
    ValueError naming what was expected."""
    found = _MATCHER.fullmatch(text)
    if found is None:
        raise ValueError(f'invalid matcher {text!r}: expected LABEL="VALUE" (or !=, =~, !~)')
    value = found["value"]
    if value.startswith('"'):
        value = value[1:-1].replace('\\"', '"')
    if found["op"] in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid matcher {text!r}: bad regular expression ({exc})") from None
    return found["label"], found["op"], value


class _Check(SpecModel):
    url: str
    timeout: Duration = DEFAULT_TIMEOUT

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _url(value)

    @field_validator("timeout")
    @classmethod
    def _check_timeout(cls, value: timedelta) -> timedelta:
        if value > MAX_TIMEOUT:
            raise ValueError(f"timeout is at most {int(MAX_TIMEOUT.total_seconds())}s")
        return value


class PrometheusCheck(_Check):
    """An instant query (`/api/v1/query`) whose value must stay within `min`/`max`; an
    empty result fails unless `empty: pass`."""

    query: str = Field(min_length=1)
    max: float | None = None
    min: float | None = None
    empty: Literal["pass", "fail"] = "fail"

    @model_validator(mode="after")
    def _bounds(self) -> PrometheusCheck:
        if self.max is None and self.min is None:
            raise ValueError("a prometheus check needs max or min (or both)")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class AlertmanagerCheck(_Check):
    """No active, unsilenced, uninhibited alert matching every matcher (`/api/v2/alerts`)."""

    matchers: list[str] = Field(default_factory=list)

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, value: list[str]) -> list[str]:
        for matcher in value:
            parse_matcher(matcher)
        return value


class JsonCheck(SpecModel):
    """A value in a JSON body: `path` in the `$.a.b[0]` form, which must equal `equals`."""

    path: str
    equals: Any

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        from gameday.domain.gates import json_path_steps

        json_path_steps(value)
        return value


class HttpCheck(_Check):
    """A GET answered with `status` (default: any 2xx) and, optionally, a body matching
    `body_regex` or holding a JSON value (`json`)."""

    status: int | None = Field(default=None, ge=100, le=599)
    body_regex: str | None = None
    json_check: JsonCheck | None = Field(default=None, alias="json")

    @field_validator("body_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid body_regex {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_body_check(self) -> HttpCheck:
        if self.body_regex is not None and self.json_check is not None:
            raise ValueError("give body_regex or json, not both")
        return self


class GateAuth(SpecModel):
    """Credentials by environment variable name only (never the secret itself)."""

    bearer_env: str

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secret(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in _INLINE_SECRETS:
                if key in data:
                    raise ValueError(
                        f"auth.{key}: credentials are never written in a spec; name the "
                        "environment variable that holds the token: bearer_env: NAME"
                    )
        return data

    @field_validator("bearer_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not _ENV_NAME.fullmatch(value):
            raise ValueError(f"invalid environment variable name {value!r}")
        return value


class GateSpec(SpecModel):
    """One gate: exactly one check, optionally a stop condition polled every `interval`."""

    name: Name
    prometheus: PrometheusCheck | None = None
    alertmanager: AlertmanagerCheck | None = None
    http: HttpCheck | None = None
    stop_condition: bool = False
    interval: Duration = DEFAULT_INTERVAL
    auth: GateAuth | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_check(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = [k for k in data if k in CHECKS]
            unknown = [
                k
                for k in data
                if k not in CHECKS and k not in ("name", "stop_condition", "interval", "auth")
            ]
            if not given and unknown:
                raise ValueError(
                    f"unknown check {unknown[0]!r}: expected one of {', '.join(CHECKS)}"
                )
        return data

    @model_validator(mode="after")
    def _one_check(self) -> GateSpec:
        given = [c for c in CHECKS if getattr(self, c) is not None]
        if len(given) != 1:
            which = " and ".join(given) if given else "none"
            raise ValueError(
                f"a gate needs exactly one check ({', '.join(CHECKS)}); it has {which}"
            )
        if self.interval < MIN_INTERVAL:
            raise ValueError("interval is at least 1s")
        return self

    @property
    def check(self) -> PrometheusCheck | AlertmanagerCheck | HttpCheck:
        """The gate's one check."""
        found = self.prometheus or self.alertmanager or self.http
        assert found is not None
        return found

    @property
    def kind(self) -> str:
        """`prometheus`, `alertmanager` or `http`."""
        return next(c for c in CHECKS if getattr(self, c) is not None)


def unique_gates(value: list[GateSpec]) -> list[GateSpec]:
    """A `gates:` list whose names are unique (ValueError naming the repeated one)."""
    seen: set[str] = set()
    for gate in value:
        if gate.name in seen:
            raise ValueError(f"gate name {gate.name!r} is used twice")
        seen.add(gate.name)
    return value


class GatesSpec(SpecModel):
    """`kind: gates`: gates every run must pass; only the one named `default` exists."""

    kind: Literal["gates"] = "gates"
    name: str
    gates: list[GateSpec] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _default(cls, value: str) -> str:
        if value != "default":
            raise ValueError(
                f"a gates spec is named default (it applies to every run), not {value!r}"
            )
        return value

    @field_validator("gates")
    @classmethod
    def _unique(cls, value: list[GateSpec]) -> list[GateSpec]:
        return unique_gates(value)


def merge_gates(*levels: Sequence[GateSpec]) -> list[GateSpec]:
    """The gates of a run, from the widest level to the narrowest (default, runbook,
    schedule): all of them, a narrower gate replacing a wider one of the same name."""
    merged: dict[str, GateSpec] = {}
    for level in levels:
        for gate in level:
            merged[gate.name] = gate
    return list(merged.values())
