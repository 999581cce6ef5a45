"""The warm launcher of `gameday run` (gameday.launcher): a command handed to it behaves as
a cold one (tests/execution/test_cli_run.py and test_supervisor_death.py run both ways);
these tests cover what is its own: the environment and folder are the command's, nothing
runs twice or unasked, it starts itself when missing, it never outlives the code it
imported, and it holds no threads and no kubernetes client."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameday.domain.runs import RunState
from gameday.launcher import protocol
from gameday.launcher.server import Stamps
from tests.execution.conftest import REPO, Gameday, experiment, python_activity
from tests.execution.launcher import (
    Launcher,
    launcher_for,
    runtime_env,
    start_launcher,
    stop_launchers,
    wait_exited,
)
from tests.support import run_gameday


def command_env(gameday: Gameday, db_url: str, launcher: Launcher) -> dict[str, str]:
    return {
        "PYTHONPATH": str(REPO),
        "GAMEDAY_DATABASE_URL": db_url,
        "GAMEDAY_CHAOSTOOLKIT_SETTINGS": str(gameday.home / "none.yaml"),
        **launcher.env,
    }


def test_a_run_gets_the_commands_environment_and_folder(
    gameday: Gameday, db_url: str, warm_launcher: Launcher
) -> None:
    # The target comes from a variable the launcher's own environment never had.
    gameday.write_runbook(
        "poke",
        experiment(
            configuration={"target": {"type": "env", "key": "POKE_TARGET"}},
            method=[python_activity("action", "poke", "touch", path="${target}")],
        ),
    )
    served = len(warm_launcher.handlers())
    for name in ("first", "second"):
        target = {"POKE_TARGET": str(gameday.file(name))}
        env = {**command_env(gameday, db_url, warm_launcher), **target}
        # No --home: the home is the command's working folder.
        done = run_gameday("run", "poke", "--live", "--json", env=env, cwd=gameday.home)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["state"] == "completed"

    assert gameday.file("first").read_text() == "ran\n"
    assert gameday.file("second").read_text() == "ran\n"
    assert len(warm_launcher.handlers()) == served + 2


def test_a_command_that_gives_up_before_go_runs_nothing(
    gameday: Gameday, db_url: str, warm_launcher: Launcher
) -> None:
    poke = python_activity("action", "poke", "touch", path=str(gameday.file("poked")))
    gameday.write_runbook("poke", experiment(method=[poke]))
    env = {**os.environ, **command_env(gameday, db_url, warm_launcher)}
    request = {"argv": ["--home", str(gameday.home), "run", "poke", "--live"], "argv0": "gameday",
               "cwd": str(gameday.home), "env": env, "path": sys.path}  # fmt: skip
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.settimeout(30)
        sock.connect(str(warm_launcher.place.socket))
        with open(os.devnull, "r+b") as null:
            protocol.send(sock, request, [null.fileno()] * 3)
        reply, _ = protocol.receive(sock)
        assert reply is not None
        handler = int(reply["pid"])
    # Closed without "go": the handler leaves, having run nothing.
    assert wait_exited(handler)
    assert gameday.runs.in_state(*RunState) == []
    assert not gameday.file("poked").exists()


@pytest.fixture
def own_runtime() -> Iterator[dict[str, str]]:
    env = runtime_env()
    yield env
    stop_launchers(Path(env["GAMEDAY_RUNTIME_DIR"]))
    shutil.rmtree(env["GAMEDAY_RUNTIME_DIR"], ignore_errors=True)


def test_the_first_run_starts_a_launcher_for_the_next(
    tmp_path: Path, own_runtime: dict[str, str]
) -> None:
    home = tmp_path / "home"
    (home / "runbooks").mkdir(parents=True)
    (home / "runbooks" / "noop.json").write_text(json.dumps(experiment()), encoding="utf-8")
    launcher = launcher_for(own_runtime)

    first = run_gameday("--home", home, "run", "noop", "--json", env=own_runtime)
    assert first.returncode == 0, first.stderr
    launcher.wait_listening()
    second = run_gameday("--home", home, "run", "noop", "--json", env=own_runtime)

    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["run_id"] == json.loads(first.stdout)["run_id"] + 1
    assert len(launcher.handlers()) == 1, launcher.log()
    # The launcher keeps none of the starting command's secrets.
    (pid,) = {int(launcher.place.lock.read_text())}
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert not any(item.startswith(b"GAMEDAY_DATABASE_URL") for item in environ)


@pytest.mark.parametrize("why", ["switched off", "folder not private"])
def test_no_launcher_when_switched_off_or_unsafe(
    tmp_path: Path, own_runtime: dict[str, str], why: str
) -> None:
    home = tmp_path / "home"
    (home / "runbooks").mkdir(parents=True)
    (home / "runbooks" / "noop.json").write_text(json.dumps(experiment()), encoding="utf-8")
    folder = Path(own_runtime["GAMEDAY_RUNTIME_DIR"])
    env = dict(own_runtime)
    if why == "switched off":
        env["GAMEDAY_WARM_RUNS"] = "false"
    else:
        folder.chmod(0o755)  # others could reach its socket

    done = run_gameday("--home", home, "run", "noop", "--json", env=env)

    assert done.returncode == 0, done.stderr  # the run ran, cold
    assert json.loads(done.stdout)["state"] == "completed"
    assert list(folder.iterdir()) == []


def test_a_launcher_whose_code_changed_on_disk_is_stale(tmp_path: Path) -> None:
    module = tmp_path / "stamped_module.py"
    module.write_text("X = 1\n", encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        import stamped_module  # noqa: F401

        stamps = Stamps({"stamped_module": sys.modules["stamped_module"]})
        assert stamps.changed() is None
        os.utime(module, ns=(0, module.stat().st_mtime_ns + 1_000_000_000))
        assert stamps.changed() == str(module)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("stamped_module", None)


def test_a_stale_launcher_hands_the_command_back_and_exits(
    tmp_path: Path, own_runtime: dict[str, str]
) -> None:
    # A launcher importing a module of this test's, which then changes on disk.
    extra = tmp_path / "lib"
    extra.mkdir()
    (extra / "sitecustomize.py").write_text("import stamped_too\n", encoding="utf-8")
    (extra / "stamped_too.py").write_text("X = 1\n", encoding="utf-8")
    env = {**own_runtime, "PYTHONPATH": os.pathsep.join([str(extra), str(REPO)])}
    launcher = start_launcher(env)
    os.utime(extra / "stamped_too.py", ns=(0, 1))
    home = tmp_path / "home"
    (home / "runbooks").mkdir(parents=True)
    (home / "runbooks" / "noop.json").write_text(json.dumps(experiment()), encoding="utf-8")

    done = run_gameday("--home", home, "run", "noop", "--json", env=env)

    assert done.returncode == 0, done.stderr  # ran here, cold
    assert launcher.process.wait(timeout=30) == 0
    assert "stale:" in launcher.log()
    assert "stamped_too.py" in launcher.log()
    assert launcher.handlers() == []
    # The command started a fresh launcher for the next run (stopped by own_runtime).
    stale, launcher.process = launcher.process.pid, None
    launcher.wait_listening()
    assert int(launcher.place.lock.read_text()) != stale


def test_the_launcher_preloads_no_kubernetes_client_and_no_threads() -> None:
    code = (
        "import sys, threading; from gameday.launcher.server import preload; preload(); "
        "print(sorted(m for m in ('kubernetes', 'chaosk8s', 'chaoslib', 'sqlalchemy', "
        "'typer') if m in sys.modules), threading.active_count())"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.split("] ")[0] + "]" == "['chaoslib', 'sqlalchemy', 'typer']"
    assert done.stdout.split("] ")[1].strip() == "1"


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["run", "x"], "run"),
        (["--home", "run", "validate"], "validate"),
        (["--home=/h", "--debug", "run", "x"], "run"),
        (["--help"], None),
        (["--version", "run"], None),
        ([], None),
    ],
)
def test_the_command_is_found_past_the_root_options(argv: list[str], command: str | None) -> None:
    assert protocol.command_of(argv) == command


@pytest.mark.parametrize(
    ("value", "enabled"),
    [(None, True), ("true", True), ("1", True), ("on", True), ("false", False), ("0", False),
     ("maybe", False)],
)  # fmt: skip
def test_warm_runs_reads_a_boolean_as_the_settings_do(value: str | None, enabled: bool) -> None:
    env = {} if value is None else {"GAMEDAY_WARM_RUNS": value}
    assert protocol.warm_runs_enabled(env) is enabled


def test_files_a_run_creates_follow_the_commands_umask(
    tmp_path: Path, warm_launcher: Launcher
) -> None:
    home = tmp_path / "home"
    (home / "runbooks").mkdir(parents=True)
    (home / "runbooks" / "noop.json").write_text(json.dumps(experiment()), encoding="utf-8")
    served = len(warm_launcher.handlers())

    done = subprocess.run(
        [sys.executable, "-m", "gameday", "--home", str(home), "run", "noop", "--json"],
        env={**os.environ, **warm_launcher.env},
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: os.umask(0o077),
    )

    assert done.returncode == 0, done.stderr
    assert len(warm_launcher.handlers()) == served + 1
    assert (home / "gameday.db").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("args", "env", "code"),
    [
        (["validate"], {}, 1),
        (["--debug", "validate", "runbooks/nope.yaml"], {}, 1),  # the traceback, exit 1
        (["run", "--bogus"], {}, 2),  # click's usage text, naming the program alike
        (["run", "noop"], {"LC_ALL": "C"}, 0),  # progress with "▶" in the C locale
        (["run", "noop"], {"PYTHONIOENCODING": "ascii:backslashreplace"}, 0),
    ],
    ids=["validate", "debug traceback", "usage error", "C locale", "PYTHONIOENCODING"],
)
def test_the_launcher_says_what_a_cold_command_says(
    tmp_path: Path, own_runtime: dict[str, str], args: list[str], env: dict[str, str], code: int
) -> None:
    home = tmp_path / "home"
    (home / "runbooks").mkdir(parents=True)
    (home / "runbooks" / "noop.json").write_text(json.dumps(experiment()), encoding="utf-8")
    (home / "runbooks" / "broken.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    # A launcher started as a command with `env` would start it (the C locale puts Python
    # in UTF-8 mode, which is part of a launcher's identity).
    launcher = start_launcher({**own_runtime, **env})

    cold = run_gameday("--home", home, *args, env={**env, "GAMEDAY_WARM_RUNS": "false"})
    warm = run_gameday("--home", home, *args, env={**env, **launcher.env})

    assert len(launcher.handlers()) == 1, launcher.log()
    assert (cold.returncode, warm.returncode) == (code, code), warm.stderr
    # The same words; run ids and times may differ, and a traceback's outer frames.
    assert comparable(warm.stdout) == comparable(cold.stdout)
    if cold.stderr.startswith("Traceback"):
        assert warm.stderr.startswith("Traceback")
        assert warm.stderr.splitlines()[-1] == cold.stderr.splitlines()[-1]
    else:
        assert comparable(warm.stderr) == comparable(cold.stderr)


def comparable(text: str) -> str:
    return re.sub(r"\d+", "N", text)
