"""Finding a runbook file in the home folder from what a run or a person names, and
reading the values `--var` and `--var-file` give it, as `chaos run` reads them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.domain.errors import InvalidInput, NotFound
from gameday.domain.execution import runbook_digest
from gameday.domain.spec_values import did_you_mean

SUFFIXES = (".yaml", ".yml", ".json")
_VAR_FILE_KEYS = ("configuration", "secrets")


def resolve_runbook(home: Path, ref: str) -> Path:
    """The runbook file `ref` names: a path inside the home (relative to it or absolute),
    or a name, i.e. the file stem of `runbooks/NAME.yaml|.yml|.json`.

    Rules: the result always lies inside the home (symlinks resolved); NotFound with the
    places looked at otherwise.
    """
    home = home.resolve()
    as_path = Path(ref)
    candidates = [as_path if as_path.is_absolute() else home / as_path]
    if as_path.suffix not in SUFFIXES and len(as_path.parts) == 1:
        candidates += [home / "runbooks" / f"{ref}{suffix}" for suffix in SUFFIXES]
    for candidate in candidates:
        resolved = candidate.resolve()
        if resolved.is_file() and resolved.is_relative_to(home):
            return resolved
        if resolved.is_file():
            raise NotFound(f"runbook {ref!r} is outside the home folder {home}")
    raise NotFound(f"no runbook {ref!r} in {home} (looked for runbooks/{ref}.yaml|.yml|.json)")


def parse_vars(items: list[str]) -> dict[str, Any]:
    """`--var key[:type]=value` items read exactly as `chaos run --var` reads them;
    InvalidInput naming the bad item otherwise."""
    from chaoslib import convert_vars

    for item in items:
        try:
            convert_vars([item])
        except ValueError as exc:
            raise InvalidInput(f"--var {item!r}: {exc}") from None
    return dict(convert_vars(items))


@dataclass(frozen=True)
class VarFile:
    """What one `--var-file` gives: configuration and secret values (a JSON or YAML file)
    or environment variables (any other file, read as `.env` lines)."""

    configuration: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)


def parse_var_file(path: Path, content: bytes) -> VarFile:
    """One var file's content read as `chaos run --var-file` reads it (chaoslib's
    `merge_vars`); `path` gives its kind (by suffix) and its name in messages.

    Rules: `.json`, `.yaml` and `.yml` files hold a mapping with `configuration` and/or
    `secrets` mappings (an empty file or mapping gives nothing); any other file holds
    `NAME=value` lines, blank lines and `# comments`, the value taken as written. Where
    chaoslib would ignore a file it cannot parse, or crash on it, this raises InvalidInput
    with one line naming the file and the problem (an unknown top-level key included).
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"--var-file {path}: not UTF-8 text") from None
    if not text:
        return VarFile()
    if path.suffix in (".json", ".yaml", ".yml"):
        return _structured_var_file(path, text)
    return VarFile(environment=_env_lines(path, text))


def _structured_var_file(path: Path, text: str) -> VarFile:
    import yaml

    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "JSON" if path.suffix == ".json" else "YAML"
        problem = " ".join(str(exc).split())
        raise InvalidInput(f"--var-file {path}: invalid {kind}: {problem}") from None
    if data is None:
        return VarFile()
    if not isinstance(data, Mapping):
        raise InvalidInput(
            f"--var-file {path}: expected a mapping with 'configuration' and/or 'secrets', "
            f"found {type(data).__name__}"
        )
    for key in data:
        if key not in _VAR_FILE_KEYS:
            hint = did_you_mean(str(key), _VAR_FILE_KEYS)
            raise InvalidInput(
                f"--var-file {path}: unknown key {key!r}{hint}: "
                "expected 'configuration' and/or 'secrets'"
            )
    values: dict[str, dict[str, Any]] = {}
    for key in _VAR_FILE_KEYS:
        value = data.get(key)
        if value is not None and not isinstance(value, Mapping):
            raise InvalidInput(f"--var-file {path}: {key} must be a mapping")
        values[key] = dict(value or {})
    return VarFile(configuration=values["configuration"], secrets=values["secrets"])


def _env_lines(path: Path, text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        # chaoslib sets the name exactly as written: one with spaces ("export X") or
        # none at all is a mistake, not a variable.
        if not equals or not name or name != name.strip() or " " in name:
            raise InvalidInput(
                f"--var-file {path}:{number}: expected NAME=value, found {line[:40]!r}"
            )
        found[name] = value
    return found


def var_file_options(paths: Sequence[str | Path]) -> list[dict[str, str]]:
    """The run options recording `--var-file` files: each file's absolute path and digest,
    checked readable and well-formed now (InvalidInput otherwise). Values are not recorded
    (a file may hold secrets); the worker and recovery read the files again and refuse
    one whose digest changed, so both see the values checked here."""
    recorded: list[dict[str, str]] = []
    for item in paths:
        given = Path(item)
        try:
            content = given.expanduser().read_bytes()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise InvalidInput(f"--var-file {given}: cannot read it ({reason})") from None
        parse_var_file(given, content)
        path = given.expanduser().absolute()
        recorded.append({"path": str(path), "digest": runbook_digest(content)})
    return recorded


def recorded_var_files(recorded: Sequence[Mapping[str, Any]]) -> list[VarFile]:
    """The var files a run's options recorded, read again; InvalidInput when one is gone
    or no longer has the digest recorded when the run started."""
    files: list[VarFile] = []
    for entry in recorded:
        path = Path(str(entry.get("path")))
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"var file {path} cannot be read ({exc.strerror or exc})") from None
        if runbook_digest(content) != entry.get("digest"):
            raise InvalidInput(f"var file {path} changed since the run started (digest differs)")
        files.append(parse_var_file(path, content))
    return files
