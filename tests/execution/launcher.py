"""A warm launcher for tests (gameday.launcher.server), and `launched`: the same test run
once with `gameday run` started cold and once handed to the launcher."""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gameday.launcher import client
from gameday.launcher.protocol import Place

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Launcher:
    """A launcher listening in a runtime folder of its own; `env` points commands at it."""

    env: dict[str, str]
    place: Place
    process: subprocess.Popen[bytes] | None = None

    def log(self) -> str:
        return self.place.log.read_text(encoding="utf-8") if self.place.log.exists() else ""

    def handlers(self) -> list[int]:
        """The pids of the processes it forked for commands, oldest first."""
        return [int(pid) for pid in re.findall(r"command taken by pid (\d+)", self.log())]

    def wait_listening(self, limit: float = 60.0) -> None:
        """Until its socket exists (woken by the folder's change, never by a timer)."""
        assert wait_for_path(self.place.socket, limit), f"never listened:\n{self.log()}"

    def stop(self) -> None:
        """Stop it, and any other launcher of its folder (whoever started them: each
        one's pid is in its lock file)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        stop_launchers(self.place.lock.parent)


def wait_for_path(path: Path, limit: float) -> bool:
    """Whether `path` exists within `limit` seconds, woken by inotify when its folder
    changes (a socket or file created or moved there)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    assert fd >= 0, os.strerror(ctypes.get_errno())
    try:
        created_or_moved_in = 0x100 | 0x80
        assert libc.inotify_add_watch(fd, bytes(path.parent), created_or_moved_in) >= 0
        give_up = time.monotonic() + limit
        while not path.exists():  # checked after the watch began: no change is missed
            remaining = give_up - time.monotonic()
            if remaining <= 0:
                return False
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                os.read(fd, 65536)
        return True
    finally:
        os.close(fd)


def wait_exited(pid: int, limit: float = 30.0) -> bool:
    """Whether process `pid` (not necessarily a child) exits within `limit` seconds."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], limit)
        return bool(ready)
    finally:
        os.close(fd)


def stop_launchers(folder: Path) -> None:
    """SIGTERM every launcher of `folder` (each one's pid is in its lock file)."""
    for lock in folder.glob("*.lock"):
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(lock.read_text()), signal.SIGTERM)


def runtime_env() -> dict[str, str]:
    """The variables of a warm launcher in a new private folder (short, since a socket's
    path has at most 107 bytes), for commands that import the tests' providers (the
    import path is part of a launcher's identity)."""
    folder = tempfile.mkdtemp(prefix="gd-", dir="/tmp")
    return {"GAMEDAY_WARM_RUNS": "true", "GAMEDAY_RUNTIME_DIR": folder, "PYTHONPATH": str(REPO)}


def launcher_for(env: dict[str, str]) -> Launcher:
    """The launcher a `gameday` command with `env` would use (not started): asked of a
    Python started with `env`, since the locale may put it in UTF-8 mode."""
    code = (
        "import os; from gameday.launcher import client; print(client.place_for(os.environ).socket)"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert found.returncode == 0, f"the runtime folder is not private: {found.stderr}"
    return Launcher(env=env, place=Place.of_socket(Path(found.stdout.strip())))


def start_launcher(env: dict[str, str]) -> Launcher:
    """A launcher started as the first cold run starts one, but held by the test."""
    launcher = launcher_for(env)
    with open(launcher.place.log, "ab") as log:
        launcher.process = subprocess.Popen(
            client.launcher_argv(launcher.place),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env={**os.environ, **env},
            cwd="/",
        )
    launcher.wait_listening()
    return launcher


@pytest.fixture(scope="module")
def warm_launcher() -> Iterator[Launcher]:
    """One launcher for a module's tests (it serves any home and environment)."""
    env = runtime_env()
    launcher = start_launcher(env)
    yield launcher
    launcher.stop()
    shutil.rmtree(env["GAMEDAY_RUNTIME_DIR"], ignore_errors=True)


@pytest.fixture(params=["cold", "warm"])
def launched(request: pytest.FixtureRequest) -> Launcher | None:
    """None: `gameday run` starts cold; else the launcher it is handed to."""
    if request.param == "cold":
        return None
    launcher: Launcher = request.getfixturevalue("warm_launcher")
    return launcher


def launch_env(launched: Launcher | None) -> dict[str, str]:
    """The environment a command needs to start as `launched` says."""
    return dict(launched.env) if launched is not None else {"GAMEDAY_WARM_RUNS": "false"}
