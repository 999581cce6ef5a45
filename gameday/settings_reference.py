"""The configuration reference (docs/configuration.md), generated from gameday/settings.py.

    python -m gameday.settings_reference > docs/configuration.md

Rules:
- one row per Settings field, in declaration order: every variable that sets it (the
  GAMEDAY_ name, or its aliases such as KUBECONFIG), its type, default and description;
- secrets (SecretStr) are shown as `secret`, never with a value;
- a field without a description in settings.py takes one from `FALLBACK_DESCRIPTIONS`;
  tests/deploy/test_settings_reference.py fails when the file is stale or a fallback is no
  longer needed (move descriptions into settings.py rather than here).
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from gameday.settings import Settings

COMMAND = "python -m gameday.settings_reference > docs/configuration.md"

# Used only while settings.py gives these fields no description of their own.
FALLBACK_DESCRIPTIONS: dict[str, str] = {
    "slack_bot_token": "Slack bot token (xoxb-…): posts announcements, threads and buttons",
    "slack_signing_secret": "Slack signing secret: verifies requests to /slack/events",
    "slack_app_token": "Slack app-level token (xapp-…): Socket Mode instead of /slack/events",
    "slack_api_url": "base URL of the Slack Web API (tests point it at a fake)",
    "default_channel": "channel of schedules and runbooks that name none",
    "host": "address the HTTP server listens on (the image and the chart use 0.0.0.0)",
    "port": "port of the HTTP server",
    "plan_horizon_hours": "hours ahead the service plans occurrences as run rows",
}

_INTRO = f"""\
<!-- Generated from gameday/settings.py by `{COMMAND}`.
     Do not edit by hand: tests/deploy/test_settings_reference.py fails when it is stale. -->
# Configuration

Every setting of gameday is an environment variable, read by `gameday serve` and every
other command (pydantic-settings, `gameday/settings.py`). Names are case-insensitive;
booleans take `true`/`false` (also `1`/`0`, `yes`/`no`); lists are comma-separated
(`GAMEDAY_TARGET_NAMESPACES=bookinfo,shop`). A value that does not parse stops the command
with an error naming the setting. Secrets (`secret` below) are never printed or logged.

In the Helm chart (`deploy/helm/gameday`), secrets come only from existing Secrets
(`slack.existingSecret`, `web.existingSecret`, `database.existingSecret`); the chart sets
`GAMEDAY_HOME`, `GAMEDAY_NAMESPACE`, `GAMEDAY_POD_NAME`, `GAMEDAY_TARGET_NAMESPACES`,
`GAMEDAY_LIVE`, `GAMEDAY_SHUTDOWN_GRACE`, `GAMEDAY_HOST`, `GAMEDAY_PORT`,
`GAMEDAY_DATABASE_URL` and `GAMEDAY_LEADER_ELECTION` from its values; any other setting
goes under `config:` (see `docs/install.md`).

| variable | type | default | description |
|---|---|---|---|
"""


def variables(name: str, field: FieldInfo) -> list[str]:
    """The environment variables that set a field, the preferred one first."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return [f"{prefix}{name}".upper()]


def _members(annotation: Any) -> tuple[list[Any], bool]:
    """The types of a union without None, and whether None was one of them."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = list(typing.get_args(annotation))
        return [a for a in args if a is not type(None)], type(None) in args
    return [annotation], False


def type_text(annotation: Any) -> str:
    """How a field's type reads to a person."""
    members, optional = _members(annotation)
    names: list[str] = []
    for member in members:
        origin = typing.get_origin(member)
        if member is SecretStr:
            names.append("secret")
        elif origin is Literal:
            names.append("one of " + ", ".join(f"`{v}`" for v in typing.get_args(member)))
        elif origin is list:
            names.append("comma-separated list")
        elif member is Path:
            names.append("path")
        elif member in (str, int, float, bool):
            names.append({str: "text", int: "integer", float: "number", bool: "boolean"}[member])
        else:
            names.append(getattr(member, "__name__", str(member)))
    text = " or ".join(names)
    return f"{text} (optional)" if optional and text != "secret" else text


def _bounds(field: FieldInfo) -> str:
    marks = {
        annotated_types.Ge: ("ge", "≥"),
        annotated_types.Gt: ("gt", ">"),
        annotated_types.Le: ("le", "≤"),
        annotated_types.Lt: ("lt", "<"),
    }
    found = []
    for item in field.metadata:
        for kind, (attribute, sign) in marks.items():
            if isinstance(item, kind):
                found.append(f"{sign} {getattr(item, attribute)}")
    return ", ".join(found)


def default_text(field: FieldInfo) -> str:
    """A field's default as a person reads it; a secret's is never shown."""
    factory: Callable[[], Any] | None = field.default_factory  # type: ignore[assignment]
    if factory is not None:
        # Path.cwd would print this machine's directory: say what it means instead.
        if factory == Path.cwd:
            return "the current directory"
        value = factory()
    else:
        value = field.default
    if value is PydanticUndefined or value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "secret"
    if isinstance(value, list):
        return ", ".join(f"`{v}`" for v in value) if value else "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


def description(name: str, field: FieldInfo) -> str:
    """The field's description (settings.py first, then the fallback), with its bounds."""
    text = field.description or FALLBACK_DESCRIPTIONS.get(name, "")
    bounds = _bounds(field)
    if bounds:
        text = f"{text} ({bounds})" if text else bounds
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The whole of docs/configuration.md."""
    rows = []
    for name, field in Settings.model_fields.items():
        names = variables(name, field)
        shown = f"`{names[0]}`" + "".join(f"<br>also `{n}`" for n in names[1:])
        rows.append(
            f"| {shown} | {type_text(field.annotation)} | {default_text(field)} "
            f"| {description(name, field)} |"
        )
    return _INTRO + "\n".join(rows) + "\n"


def main() -> None:
    """Print the reference on stdout."""
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
