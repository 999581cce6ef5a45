"""Protected namespaces a runbook names literally: found before it ever runs.

The request guard refuses such requests at run time whatever a runbook does; this check
turns the plain cases into a `gameday validate` error with the value's position, so nobody
schedules a GameDay that can only fail. What is checked: the python providers' `ns`,
`namespace` and `namespaces` arguments, and `-n NS`, `--namespace NS` and `--namespace=NS`
in the process providers' arguments, of every activity (steady-state probes, method,
rollbacks) and every control, after substituting `${name}` with the runbook's literal
string configuration values, as chaoslib does before calling a provider.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping
from string import Template
from typing import Any

Path = tuple[str | int, ...]

NAMESPACE_ARGUMENTS = ("ns", "namespace", "namespaces")
_FLAGS = ("-n", "--namespace")


def dotted(path: Path) -> str:
    """`("method", 0, "provider")` -> `method[0].provider`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _items(value: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    if isinstance(value, list):
        yield from ((item, (*path, i)) for i, item in enumerate(value))


def _activities(experiment: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], Path]]:
    """Every activity and control holding a provider, with its path."""
    hypothesis = experiment.get("steady-state-hypothesis")
    found: list[tuple[Any, Path]] = list(_items(experiment.get("controls"), ("controls",)))
    if isinstance(hypothesis, Mapping):
        base: Path = ("steady-state-hypothesis",)
        found += _items(hypothesis.get("probes"), (*base, "probes"))
        found += _items(hypothesis.get("controls"), (*base, "controls"))
    for key in ("method", "rollbacks"):
        found += _items(experiment.get(key), (key,))
    for item, path in list(found):
        if isinstance(item, Mapping) and path[-2:-1] != ("controls",):
            found += _items(item.get("controls"), (*path, "controls"))
    for item, path in found:
        if isinstance(item, Mapping) and isinstance(item.get("provider"), Mapping):
            yield item, path


def _literals(experiment: Mapping[str, Any]) -> dict[str, str]:
    configuration = experiment.get("configuration")
    if not isinstance(configuration, Mapping):
        return {}
    return {str(k): v for k, v in configuration.items() if isinstance(v, str)}


def _tokens(arguments: Any, path: Path) -> list[tuple[str, Path]]:
    """Command-line words of a process provider's arguments, each with where it is written."""
    if isinstance(arguments, str):
        lexer = shlex.shlex(arguments, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        try:
            words = list(lexer)
        except ValueError:  # an unbalanced quote: the shell will refuse it anyway
            words = arguments.split()
        return [(word, path) for word in words]
    if isinstance(arguments, Mapping):
        return [
            (str(part), (*path, str(key)))
            for key, value in arguments.items()
            for part in (key, value)
            if part not in (None, "")
        ]
    if isinstance(arguments, list):
        return [(str(word), (*path, i)) for i, word in enumerate(arguments)]
    return []


def _flag_values(tokens: list[tuple[str, Path]]) -> Iterator[tuple[str, Path]]:
    for i, (word, path) in enumerate(tokens):
        if word in _FLAGS and i + 1 < len(tokens):
            yield tokens[i + 1]
        elif word.startswith("--namespace="):
            yield word.partition("=")[2], path
        elif word.startswith("-n") and not word.startswith("--") and len(word) > 2:
            yield word[2:].removeprefix("="), path  # -nkube-system, -n=kube-system


def _python_values(arguments: Any, path: Path) -> Iterator[tuple[str, Path]]:
    if not isinstance(arguments, Mapping):
        return
    for key in NAMESPACE_ARGUMENTS:
        value = arguments.get(key)
        if isinstance(value, str):
            yield value, (*path, key)
        elif isinstance(value, list):
            yield from ((v, (*path, key, i)) for i, v in enumerate(value) if isinstance(v, str))


def protected_namespace_uses(
    experiment: Mapping[str, Any], protected: frozenset[str]
) -> list[tuple[Path, str]]:
    """(where, message) for every protected namespace the runbook names.

    Rules: see the module docstring; a value is compared after `${name}` substitution with
    the runbook's literal string configuration values (other configuration kinds, such as
    environment variables, are only known at run time and are left to the request guard).
    """
    literals = _literals(experiment)
    found: list[tuple[Path, str]] = []
    for activity, path in _activities(experiment):
        provider = activity["provider"]
        arguments_path = (*path, "provider", "arguments")
        arguments = provider.get("arguments")
        if provider.get("type") == "process":
            values = _flag_values(_tokens(arguments, arguments_path))
        elif provider.get("type", "python") == "python":
            values = _python_values(arguments, arguments_path)
        else:
            continue
        for raw, where in values:
            namespace = Template(raw).safe_substitute(literals)
            if namespace not in protected:
                continue
            source = f" (from configuration via {raw!r})" if namespace != raw else ""
            found.append(
                (
                    where,
                    f"{dotted(where)}: namespace {namespace!r}{source} is protected: "
                    "gameday never changes it",
                )
            )
    return found
