"""docs/configuration.md is the reference generated from gameday/settings.py, and current."""

from __future__ import annotations

import subprocess
import sys

from pydantic import SecretStr

from gameday import settings_reference
from gameday.settings import Settings
from tests.deploy.chart import REPO

PAGE = REPO / "docs" / "configuration.md"


def test_the_page_is_current() -> None:
    # When this fails, regenerate it: python -m gameday.settings_reference > docs/configuration.md
    assert PAGE.read_text(encoding="utf-8") == settings_reference.render(), (
        f"docs/configuration.md is stale: run `{settings_reference.COMMAND}`"
    )


def test_the_documented_command_prints_the_page() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "gameday.settings_reference"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout

    assert printed == settings_reference.render()
    assert settings_reference.COMMAND in PAGE.read_text(encoding="utf-8")


def rows() -> dict[str, list[str]]:
    """The table's rows by their first variable: [variable cell, type, default, description]."""
    found = {}
    for line in settings_reference.render().splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            found[cells[0].split("`")[1]] = cells
    return found


def test_every_setting_has_a_row_with_a_description() -> None:
    table = rows()

    assert len(table) == len(Settings.model_fields)
    for name, field in Settings.model_fields.items():
        (variable, *_) = settings_reference.variables(name, field)
        assert variable in table, name
        assert table[variable][3], f"{name} has no description"


def test_types_defaults_and_aliases() -> None:
    table = rows()

    assert table["GAMEDAY_LIVE"][1:3] == ["boolean", "`false`"]
    assert table["GAMEDAY_PORT"][1:3] == ["integer", "`8080`"]
    assert table["GAMEDAY_HOME"][2] == "the current directory"
    assert table["GAMEDAY_TARGET_NAMESPACES"][1:3] == ["comma-separated list", "empty"]
    assert table["GAMEDAY_LEADER_ELECTION"][1].startswith("one of `auto`, `kubernetes`")
    assert "(≥ 2)" in table["GAMEDAY_LEASE_DURATION"][3]
    assert "also `KUBECONFIG`" in table["GAMEDAY_KUBECONFIG"][0]
    assert "also `KUBERNETES_CONTEXT`" in table["GAMEDAY_KUBE_CONTEXT"][0]


def test_secrets_are_shown_as_secrets() -> None:
    table = rows()
    secrets = [
        name
        for name, field in Settings.model_fields.items()
        if SecretStr in getattr(field.annotation, "__args__", (field.annotation,))
    ]

    assert "slack_bot_token" in secrets
    for name in secrets:
        variable = settings_reference.variables(name, Settings.model_fields[name])[0]
        assert table[variable][1] == "secret", name
        assert table[variable][2] in ("unset", "secret"), name


def test_fallback_descriptions_are_only_for_fields_without_one() -> None:
    # Once settings.py describes a field, its fallback here must go (one source of truth).
    fields = Settings.model_fields
    for name in settings_reference.FALLBACK_DESCRIPTIONS:
        assert name in fields, f"fallback for unknown setting {name}"
        assert not fields[name].description, f"settings.py describes {name}: drop its fallback"
