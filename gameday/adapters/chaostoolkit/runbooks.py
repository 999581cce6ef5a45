"""Finding a runbook file in the home folder from what a run or a person names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gameday.domain.errors import InvalidInput, NotFound

SUFFIXES = (".yaml", ".yml", ".json")


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
