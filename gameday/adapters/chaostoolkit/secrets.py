"""The secret values a run's runbook declares, as far as they can be known at export time.

The stored journal and the events were already redacted by the worker; this masks what an
export adds (notes, run options, announcements) with the same values: the inline leaves of
the runbook's `secrets` block and the environment variables it names, read now. Vault
references are not resolved (an export must not reach out to a secret store).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from gameday.adapters.chaostoolkit.redaction import Redactor, secret_values
from gameday.adapters.chaostoolkit.runbooks import resolve_runbook
from gameday.domain.errors import GamedayError


def declared_secrets(home: Path, runbook: str | None, environ: Mapping[str, str]) -> set[str]:
    """Secret values of the runbook a run names (its `env` ones read from `environ`);
    empty when it cannot be read any more."""
    if not runbook:
        return set()
    try:
        path = resolve_runbook(home, runbook)
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (GamedayError, OSError, UnicodeDecodeError, yaml.YAMLError):
        return set()
    if not isinstance(document, Mapping):
        return set()
    secrets = document.get("secrets")
    return secret_values(secrets) | _from_environment(secrets, environ)


def _from_environment(node: Any, environ: Mapping[str, str]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, Mapping):
        if node.get("type") == "env" and isinstance(node.get("key"), str):
            value = environ.get(node["key"])
            if value:
                found.add(value)
            return found
        for value in node.values():
            found |= _from_environment(value, environ)
    return found


def secret_mask(
    home: Path, runbook: str | None, environ: Mapping[str, str]
) -> Callable[[Any], Any]:
    """A function that masks the runbook's secret values in JSON-like data."""
    return Redactor(declared_secrets(home, runbook, environ)).data
