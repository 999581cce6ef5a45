"""Python providers the test runbooks call (imported by the real worker process).

They leave evidence on disk instead of touching any system: a probe returns what it is
given, an action blocks until a file appears (so a test can halt it while it runs), a
rollback appends a line to a file (so a test can count how often it ran), and a JSON
file holds the state a steady state checks (`store` and `load`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path


def value(value: object) -> object:
    """A probe: returns its argument."""
    return value


def touch(path: str, text: str = "ran") -> str:
    """An action or rollback: appends one line to `path` (evidence it ran, and how often)."""
    with Path(path).open("a", encoding="utf-8") as f:
        f.write(text + "\n")
    return text


def broken(message: str = "the probe could not reach the system") -> None:
    """A probe that fails."""
    raise RuntimeError(message)


def block_until(started: str, release: str, deadline_seconds: float = 60.0) -> str:
    """An action that runs until `release` exists: writes `started` first so a test knows
    it is running; gives up after `deadline_seconds` (a safety net, not a wait)."""
    Path(started).write_text("started\n", encoding="utf-8")
    give_up = time.monotonic() + deadline_seconds
    while not Path(release).exists():
        if time.monotonic() > give_up:
            raise TimeoutError(f"{release} never appeared")
        time.sleep(0.01)
    return "released"


def echo_secret(token: str) -> str:
    """A probe that returns the secret it was given (a careless provider)."""
    return f"token is {token}"


def exists(path: str) -> bool:
    """A probe: whether a file exists."""
    return Path(path).exists()


def remove(path: str) -> None:
    """An action: removes a file (the fault a deviation test injects)."""
    Path(path).unlink(missing_ok=True)


def store(path: str, value: object) -> None:
    """An action: writes `value` to `path` as JSON (the state a `load` probe reads), whole
    at once, so a probe reading it meanwhile sees the old value or the new one."""
    partial = Path(f"{path}.partial")
    partial.write_text(json.dumps(value), encoding="utf-8")
    partial.replace(path)


def load(path: str) -> object:
    """A probe: the JSON value `store` wrote to `path`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def at_least(value: object, minimum: float) -> bool:
    """A tolerance probe: whether the probe's value is a number of at least `minimum`."""
    return isinstance(value, int | float) and value >= minimum
