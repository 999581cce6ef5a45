"""Chaos Toolkit's own experiment rules, checked with chaoslib (the RunbookChecker port).

Validation must not depend on where it runs: configuration and secrets read from the
environment or from Vault are replaced by placeholders first, so `gameday validate` gives
the same answer on a laptop, in CI and in the cluster, and never contacts Vault. chaoslib
imports the Python modules an activity names (to check the function and its arguments);
importing a provider contacts nothing.

chaoslib's messages rarely say where the problem is; when an activity, its tolerance or
a control is at fault, the message is prefixed with its path in the document
(`method[1]: an activity must have a name`), which `gameday validate` turns into the
line of that activity.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from chaoslib.activity import ensure_activity_is_valid
from chaoslib.caching import cache_activities, clear_cache, lookup_activity
from chaoslib.control import validate_controls
from chaoslib.exceptions import ChaosException, InvalidActivity, InvalidControl
from chaoslib.experiment import ensure_experiment_is_valid
from chaoslib.hypothesis import ensure_hypothesis_tolerance_is_valid

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


Check = Callable[[], None]


def _activity_checks(experiment: Mapping[str, Any]) -> Iterator[tuple[str, Check]]:
    """(path, check) for each activity, tolerance and control, in the order
    `ensure_experiment_is_valid` checks them; each check raises what chaoslib would."""
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    for i, probe in enumerate(hypothesis.get("probes") or []):
        where = f"steady-state-hypothesis.probes[{i}]"
        yield where, partial(ensure_activity_is_valid, probe)
        yield where, partial(_has_tolerance, probe)
        yield f"{where}.tolerance", partial(_tolerance_valid, probe)
    for i, activity in enumerate(experiment.get("method") or []):
        yield f"method[{i}]", partial(ensure_activity_is_valid, activity)
        yield f"method[{i}]", partial(_ref_found, activity)
    for i, activity in enumerate(experiment.get("rollbacks") or []):
        yield f"rollbacks[{i}]", partial(ensure_activity_is_valid, activity)
    for where, control in _controls(experiment):
        yield where, partial(_control_valid, control, experiment)


def _has_tolerance(probe: Mapping[str, Any]) -> None:
    if "tolerance" not in probe:
        raise InvalidActivity("hypothesis probe must have a tolerance entry")


def _tolerance_valid(probe: Mapping[str, Any]) -> None:
    ensure_hypothesis_tolerance_is_valid(probe["tolerance"])


def _ref_found(activity: Mapping[str, Any]) -> None:
    ref = activity.get("ref")
    if ref and not lookup_activity(ref):
        raise InvalidActivity(f"referenced activity '{ref}' could not be found in the experiment")


def _controls(experiment: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(path, control) in the order chaoslib's `get_controls` lists them."""
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    holders: list[tuple[str, Any]] = [("", experiment), ("steady-state-hypothesis.", hypothesis)]
    for block, items in (
        ("steady-state-hypothesis.probes", hypothesis.get("probes")),
        ("method", experiment.get("method")),
        ("rollbacks", experiment.get("rollbacks")),
    ):
        holders.extend((f"{block}[{i}].", item) for i, item in enumerate(items or []))
    for prefix, holder in holders:
        for i, control in enumerate(holder.get("controls") or []):
            yield f"{prefix}controls[{i}]", control


def _control_valid(control: Mapping[str, Any], experiment: Mapping[str, Any]) -> None:
    """chaoslib's rules for one control; a `ref` must name a control declared anywhere."""
    if "ref" in control:
        named = [c["name"] for _, c in _controls(experiment) if "ref" not in c and "name" in c]
        if control["ref"] not in named:
            raise InvalidControl("Control reference '{}' declaration cannot be found")
        control = {k: v for k, v in control.items() if k != "ref"}
    validate_controls({"controls": [control]})


def _culprit(experiment: Mapping[str, Any], message: str) -> str | None:
    """The path of the first activity, tolerance or control whose own check fails with
    `message` (chaoslib stops at the first problem); None when the problem is elsewhere
    or cannot be pinned down."""
    cache_activities(experiment)
    try:
        for where, check in _activity_checks(experiment):
            try:
                check()
            except Exception as exc:
                # chaoslib stopped at the first failing check: this one, if it says the same.
                return where if (str(exc) or type(exc).__name__) == message else None
    except Exception:  # shapes chaoslib never got to: no position rather than no message
        return None
    finally:
        clear_cache()
    return None


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
                message = str(exc) or type(exc).__name__
                where = _culprit(candidate, message)
                return [f"{where}: {message}" if where else message]
            except (AttributeError, TypeError, KeyError, ValueError) as exc:
                # chaoslib assumes the documented shapes; anything else is a shape error.
                return [f"not a valid Chaos Toolkit experiment ({type(exc).__name__}: {exc})"]
            finally:
                clear_cache()
        return []
