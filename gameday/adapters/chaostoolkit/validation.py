"""Chaos Toolkit's own experiment rules, checked with chaoslib (the RunbookChecker port).

Validation must not depend on where it runs: configuration and secrets read from the
environment or from Vault are replaced by placeholders first, so `gameday validate` gives
the same answer on a laptop, in CI and in the cluster, and never contacts Vault. chaoslib
imports the Python modules an activity names (to check the function and its arguments);
importing a provider contacts nothing.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Mapping
from typing import Any

from chaoslib.caching import cache_activities, clear_cache
from chaoslib.exceptions import ChaosException
from chaoslib.experiment import ensure_experiment_is_valid

# chaoslib keeps referenced activities in a module-global cache; one validation at a time.
_LOCK = threading.Lock()
_EXTERNAL = ("env", "vault")


def _placeholder(entry: Mapping[str, Any], where: str) -> tuple[str | None, str | None]:
    """(placeholder, problem) for an env/vault entry; (None, None) for anything else."""
    kind = entry.get("type")
    if kind not in _EXTERNAL:
        return None, None
    key = entry.get("key") if kind == "env" else entry.get("path", entry.get("key"))
    if not isinstance(key, str) or not key:
        field = "key" if kind == "env" else "path"
        return None, f"{where}: a {kind} entry needs a non-empty {field!r}"
    return f"<{kind}:{key}>", None


def _replace_entries(
    values: dict[str, Any], kind: str, problems: list[str], prefix: str = ""
) -> None:
    """Replace each env/vault entry of `values` by its placeholder; a problem with one is
    reported for `KIND 'PREFIXNAME'`."""
    for name, value in list(values.items()):
        if isinstance(value, Mapping):
            text, problem = _placeholder(value, f"{kind} '{prefix}{name}'")
            if problem:
                problems.append(problem)
            elif text is not None:
                values[name] = text


def _without_environment(experiment: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    config = experiment.get("configuration")
    if isinstance(config, dict):
        _replace_entries(config, "configuration", problems)
    secrets = experiment.get("secrets")
    if isinstance(secrets, dict):
        for target, keys in secrets.items():
            if not isinstance(keys, dict):
                continue
            text, problem = _placeholder(keys, f"secrets '{target}'")
            if problem:
                problems.append(problem)
            elif text is not None:
                secrets[target] = {}
                continue
            _replace_entries(keys, "secret", problems, prefix=f"{target}.")
    return experiment, problems


class ChaoslibRunbookChecker:
    """RunbookChecker backed by `chaoslib.experiment.ensure_experiment_is_valid`."""

    def __init__(self) -> None:
        # chaoslib logs progress and deprecations; keep them off the user's terminal.
        logging.getLogger("chaostoolkit").addHandler(logging.NullHandler())
        logging.getLogger("chaostoolkit").propagate = False

    def problems(self, experiment: Mapping[str, Any]) -> list[str]:
        """What chaoslib finds wrong (it stops at the first problem); empty when valid."""
        candidate, problems = _without_environment(copy.deepcopy(dict(experiment)))
        if problems:
            return problems
        with _LOCK:
            try:
                cache_activities(candidate)
                ensure_experiment_is_valid(candidate)
            except ChaosException as exc:
                return [str(exc) or type(exc).__name__]
            except (AttributeError, TypeError, KeyError, ValueError) as exc:
                # chaoslib assumes the documented shapes; anything else is a shape error.
                return [f"not a valid Chaos Toolkit experiment ({type(exc).__name__}: {exc})"]
            finally:
                clear_cache()
        return []
