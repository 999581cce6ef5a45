"""The README's two commands work on a fresh machine: a new virtualenv with no extras runs
the quick start exactly as README.md writes it, and CI runs exactly its test command.

The main command is read from README.md, so the two cannot drift apart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.service.serving import free_port, wait_until

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_SCHEDULES = ("reviews-latency", "ratings-pod-termination", "bookinfo-monkey")


def readme_commands() -> list[str]:
    """The shell commands of the README's quick start, in order (main, then tests)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    main, tests = readme_commands()
    assert main == "python -m pip install -e . && gameday serve"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci


def working_copy(target: Path) -> Path:
    """The files of this repository a clone would hold (tracked, or new and not ignored),
    copied to `target`: no build products, databases or caches."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A new virtualenv (no packages) and a working copy of the repository."""
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GAMEDAY_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return working_copy(root / "gameday"), env


def _descendant(pid: int, part: str) -> int | None:
    """`pid` or a live descendant of it whose command line holds `part` (bash may exec the
    last command of `-c` in place)."""
    if part.encode() in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "):
        return pid
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            children = (task / "children").read_text().split()
            for child in map(int, children):
                try:
                    argv = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue
                if part.encode() in argv:
                    return child
                pending.append(child)
    return None


@pytest.mark.slow
def test_the_quick_start_works_on_a_fresh_install(fresh: tuple[Path, dict[str, str]]) -> None:
    home, env = fresh
    main, _ = readme_commands()
    port = free_port()
    serve_env = {**env, "GAMEDAY_PORT": str(port)}
    log = home.parent / "quickstart.log"
    with log.open("w") as sink:
        shell = subprocess.Popen(
            ["bash", "-c", main],
            cwd=home,
            env=serve_env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> bool:
            assert shell.poll() is None, "the quick start exited:\n" + _tail(log)
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok
            except requests.ConnectionError:
                return False

        wait_until("the quick start's /healthz to answer 200", healthy, limit=300)
        gameday = str(Path(env["VIRTUAL_ENV"]) / "bin" / "gameday")
        # 90 days and a fixed seed: the monkey's kills are random draws over its open
        # hours, and around the year-end freeze 35 days may hold none.
        plan = subprocess.run(
            [gameday, "plan", "--days", "90", "--seed", "7", "--json"], cwd=home, env=env,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert plan.returncode == 0, plan.stderr
        assert {o["schedule"] for o in json.loads(plan.stdout)} >= set(EXAMPLE_SCHEDULES)
        usage_errors(gameday, home, env)

        serve = _descendant(shell.pid, "gameday serve")
        assert serve is not None, "no gameday serve process under the quick start"
        os.kill(serve, signal.SIGTERM)
        code = shell.wait(timeout=60)
    finally:
        if shell.poll() is None:
            shell.kill()
            shell.wait()
    text = _tail(log)
    assert code == 0, text
    assert "Traceback" not in text
    assert "stopped" in text


def usage_errors(gameday: str, home: Path, env: dict[str, str]) -> None:
    """Usage errors on the plain install: a one-line error and exit 2, never a traceback."""
    for argv, expected in [
        (["bogus"], "No such command 'bogus'"),
        (["window"], "Missing argument"),
        (["plan", "--days", "x"], "Invalid value for '--days'"),
    ]:
        done = subprocess.run(
            [gameday, *argv], cwd=home, env=env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert done.returncode == 2, (argv, done.stderr)
        assert expected in done.stderr
        assert "Traceback" not in done.stderr + done.stdout
    version = subprocess.run(
        [gameday, "--version"], cwd=home, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert version.returncode == 0
    assert re.fullmatch(r"gameday \d+\.\d+\.\d+\S*\n", version.stdout)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:]
