"""Loading a run's experiment the way `chaos run` does: the file (with the digest the run
recorded), Chaos Toolkit's settings, `--var` and `--var-file` overrides, the steady-state
strategy, the cache `ref` activities are found in, and the changes a dry run makes (every
activity dry, no controls)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gameday.adapters.chaostoolkit.runbooks import recorded_var_files, resolve_runbook
from gameday.domain import execution as ex
from gameday.domain.errors import InvalidInput
from gameday.domain.runs import Run


def chaostoolkit_settings(path: Path | None) -> dict[str, Any]:
    """Chaos Toolkit's own settings file, as `chaos run` reads it (controls, auths); `path`
    names another file than chaoslib's default."""
    from chaoslib.settings import CHAOSTOOLKIT_CONFIG_PATH, load_settings

    return dict(load_settings(str(path) if path else CHAOSTOOLKIT_CONFIG_PATH) or {})


def experiment_vars(run_options: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(configuration, secrets) overrides as `chaos run --var-file F --var k[:type]=v`
    gives them (chaoslib's `merge_vars`): the var files in order, then `--var` over the
    configuration. A `.env` var file sets its variables in this process's environment, as
    `chaos run` does, so call this before the experiment is validated or configured.
    InvalidInput when a recorded var file is gone or changed since the run started."""
    from chaoslib import convert_vars

    options = run_options or {}
    config_vars: dict[str, Any] = {}
    secret_vars: dict[str, Any] = {}
    for var_file in recorded_var_files(list(options.get("var_file") or [])):
        config_vars.update(var_file.configuration)
        secret_vars.update(var_file.secrets)
        os.environ.update(var_file.environment)
    config_vars.update(convert_vars(list(options.get("var") or [])))
    return config_vars, secret_vars


@contextmanager
def activity_cache(experiment: Mapping[str, Any]) -> Iterator[None]:
    """chaoslib's cache of named activities, filled for the time of a run: a `ref`
    activity is looked up there when it runs. `chaos run` fills it around the whole run
    (`run_experiment`), but the Runner alone does not, and validation empties it."""
    from chaoslib.caching import cache_activities, clear_cache

    cache_activities(experiment)
    try:
        yield
    finally:
        clear_cache()


def load_runbook(
    home: Path, run: Run, settings: dict[str, Any], *, without_controls: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """The run's experiment, loaded and validated as `chaos run` does, and the names of
    the controls stripped from it; the file must still have the digest the run recorded.
    `without_controls` strips every control before validation, so not even their modules
    are imported (a dry run)."""
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid
    from chaoslib.loader import load_experiment

    if not run.runbook:
        raise InvalidInput(f"run {run.id} names no runbook")
    path = resolve_runbook(home, run.runbook)
    if not ex.digest_matches(run.runbook_digest, path.read_bytes()):
        raise InvalidInput(
            f"runbook {run.runbook} changed since run {run.id} was planned (digest differs)"
        )
    stripped: list[str] = []
    try:
        experiment = dict(load_experiment(str(path), settings))
        if without_controls:
            stripped = strip_controls(experiment)
        ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise InvalidInput(f"runbook {run.runbook} is not valid: {exc}") from None
    return experiment, stripped


def force_dry(experiment: dict[str, Any]) -> None:
    """Dry run for every activity: chaoslib lets an activity carry its own `dry` value,
    which would otherwise override the experiment's, so each is set to `activities`."""
    from chaoslib.types import Dry

    experiment["dry"] = Dry.ACTIVITIES
    for activity in _activities(experiment):
        if "dry" in activity:
            activity["dry"] = Dry.ACTIVITIES


def strip_controls(experiment: dict[str, Any]) -> list[str]:
    """Remove every control (experiment, steady-state hypothesis and activity level) and
    return their names: a dry run executes no arbitrary code, controls included."""
    names: list[str] = []
    holders: list[dict[str, Any]] = [experiment]
    hypothesis = experiment.get("steady-state-hypothesis")
    if isinstance(hypothesis, dict):
        holders.append(hypothesis)
    holders.extend(_activities(experiment))
    for holder in holders:
        for control in holder.pop("controls", None) or []:
            if isinstance(control, Mapping):
                names.append(str(control.get("name") or control.get("ref") or "?"))
    return sorted(set(names))


def global_control_names(settings: Mapping[str, Any]) -> list[str]:
    """The controls Chaos Toolkit's settings would apply to every experiment."""
    controls = settings.get("controls")
    return sorted(str(name) for name in controls) if isinstance(controls, Mapping) else []


def hypothesis_strategy(experiment: Mapping[str, Any]) -> Any:
    """chaoslib's steady-state strategy from the runbook's `runtime.hypothesis.strategy`."""
    from chaoslib.types import Strategy

    runtime = experiment.get("runtime") or {}
    name = ((runtime.get("hypothesis") or {}) if isinstance(runtime, Mapping) else {}).get(
        "strategy", "default"
    )
    if name == "continously":  # `chaos run` accepts this old spelling too
        name = "continuously"
    try:
        return Strategy.from_string(name)
    except ValueError:
        raise InvalidInput(f"invalid hypothesis strategy {name!r}") from None


def _activities(experiment: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    for block in (hypothesis.get("probes"), experiment.get("method"), experiment.get("rollbacks")):
        for activity in block or []:
            if isinstance(activity, dict):
                yield activity
