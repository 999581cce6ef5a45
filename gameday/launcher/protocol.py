"""What the `gameday` command and its warm launcher agree on: where the launcher listens,
which commands it takes, and the messages between them.

Standard library only, and little of it: the command imports this before anything else,
on every start.

Messages are JSON objects, one per datagram of an AF_UNIX SOCK_SEQPACKET socket (which
keeps message boundaries and reports a closed peer as end of input). The conversation:

    command  -> launcher   {"argv", "argv0", "cwd", "env", "path", "umask", "streams",
                            "main_package"} + its stdin, stdout and stderr
    launcher -> command    {"pid"}  (the process that will run it)  or  {"stale": true}
    command  -> launcher   {"go": true}          (nothing runs before this)
    launcher -> command    {"exit": CODE}        (when the command is done)

A launcher that gets no "go" runs nothing, so a command that gives up waiting runs the
command itself without running it twice.
"""

from __future__ import annotations

import json
import os
import socket
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The commands a launcher runs: the ones that pay for a cold start every time.
WARM_COMMANDS = frozenset({"run", "validate"})
# Root options of `gameday` that take a value (see gameday.cli._root).
_ROOT_VALUE_OPTIONS = frozenset({"--home"})

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
MAX_MESSAGE = 1 << 20


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand in `gameday` arguments (None for the root's --help or --version)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _ROOT_VALUE_OPTIONS:
            skip = True
        elif arg in ("--help", "--version"):
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def warm_runs_enabled(env: Mapping[str, str]) -> bool:
    """GAMEDAY_WARM_RUNS read as pydantic reads a bool (unset: on). A value that is not a
    bool turns the launcher off; the command itself then reports it."""
    value = env.get("GAMEDAY_WARM_RUNS")
    if value is None:
        return True
    return value.strip().lower() in _TRUE


def runtime_dir(env: Mapping[str, str]) -> Path:
    """GAMEDAY_RUNTIME_DIR, else $XDG_RUNTIME_DIR/gameday, else <tmp>/gameday-<uid>."""
    if env.get("GAMEDAY_RUNTIME_DIR"):
        return Path(env["GAMEDAY_RUNTIME_DIR"])
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "gameday"
    # Shared /tmp is safe here: private_dir refuses a folder that is not ours and 0700.
    return Path(env.get("TMPDIR") or "/tmp") / f"gameday-{os.getuid()}"  # noqa: S108


def private_dir(path: Path) -> bool:
    """Make `path` (mode 0700) if missing; True only when it is a real directory owned by
    this user that nobody else can read or write (so its socket speaks only to us)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


@dataclass(frozen=True)
class Place:
    """The files of one launcher: one per Python environment and gameday installation."""

    socket: Path
    lock: Path
    log: Path

    @classmethod
    def in_dir(cls, folder: Path, key: str) -> Place:
        """The launcher files named `key` in `folder`."""
        stem = folder / f"run-{key}"
        return cls(stem.with_suffix(".sock"), stem.with_suffix(".lock"), stem.with_suffix(".log"))

    @classmethod
    def of_socket(cls, path: Path) -> Place:
        """The launcher files beside the socket `path`."""
        return cls(path, path.with_suffix(".lock"), path.with_suffix(".log"))


def launcher_key(
    executable: str, prefix: str, package_dir: str, env: Mapping[str, str], utf8_mode: int
) -> str:
    """A short name for this interpreter, environment and gameday installation: a launcher
    serves only commands that would import exactly what it imported, in the same UTF-8
    mode (which decides what `open()` reads and writes)."""
    parts = (executable, prefix, package_dir, env.get("PYTHONPATH", ""),
             env.get("PYTHONHOME", ""), f"utf8={utf8_mode}")  # fmt: skip
    return f"{zlib.crc32(chr(0).join(parts).encode()):08x}"


def send(sock: socket.socket, message: Mapping[str, Any], fds: Sequence[int] = ()) -> None:
    """Send one message (and file descriptors)."""
    data = json.dumps(message, separators=(",", ":")).encode()
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.sendall(data)


def receive(sock: socket.socket, max_fds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """One message and the file descriptors sent with it; (None, []) at end of input."""
    if max_fds:
        data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, max_fds)
    else:
        data, fds = sock.recv(MAX_MESSAGE), []
    if not data:
        for fd in fds:
            os.close(fd)
        return None, []
    message = json.loads(data)
    if not isinstance(message, dict):
        raise ValueError("launcher message is not an object")
    return message, list(fds)
