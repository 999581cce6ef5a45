"""A warm launcher for tests (gameday.launcher.server), and `launched`: the same test run
once with `gameday run` started cold and once handed to the launcher."""

from __future__ import annotations

import contextlib
import os
import re
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
        give_up = time.monotonic() + limit
        while not self.place.socket.exists():
            if self.process is not None:
                assert self.process.poll() is None, f"the launcher exited:\n{self.log()}"
            assert time.monotonic() < give_up, f"the launcher never listened:\n{self.log()}"
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop it, and any other launcher of its folder (whoever started them: each
        one's pid is in its lock file)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        stop_launchers(self.place.lock.parent)


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
    """The launcher a `gameday` command with `env` would use (not started)."""
    place = client.place_for({**os.environ, **env})
    assert place is not None, "the runtime folder is not private"
    return Launcher(env=env, place=place)


def start_launcher(env: dict[str, str]) -> Launcher:
    """A launcher started as the first cold run starts one, but held by the test."""
    launcher = launcher_for(env)
    with open(launcher.place.log, "ab") as log:
        launcher.process = subprocess.Popen(
            [sys.executable, "-P", "-m", "gameday.launcher.server", str(launcher.place.socket)],
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
