"""The chart's git-sync home works with the real spec loader: the `home-links` init
container (run here exactly as rendered) links runbooks/ and schedules/ to git-sync's
`current` checkout, and a sync (a new worktree, the link swapped, the old one deleted) is
read by the next load, with every file still resolving inside the home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.chart import VARIANTS, render
from tests.support import CliResult, run_main

WINDOW = """\
kind: window
name: {name}
timezone: UTC
weekdays: [mon, tue, wed, thu, fri, sat, sun]
"""


def checkout(root: Path, commit: str, sub: str, window: str) -> Path:
    """A worktree as git-sync lays it out: root/.worktrees/COMMIT/<repository files>."""
    tree = root / ".worktrees" / commit
    (tree / sub / "schedules").mkdir(parents=True)
    (tree / sub / "runbooks").mkdir()
    (tree / sub / "schedules" / "windows.yaml").write_text(WINDOW.format(name=window))
    return tree


def publish(root: Path, commit: str) -> None:
    """Point root/current at a worktree atomically, as git-sync does."""
    staging = root / "current.tmp"
    staging.symlink_to(Path(".worktrees") / commit)
    os.replace(staging, root / "current")


def test_a_sync_is_read_at_the_next_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rendered = render(VARIANTS["git-sync"])
    links = rendered.container("home-links")
    env = rendered.env("home-links")
    sub = env["GAMEDAY_GIT_SUBPATH"]
    root_arg = next(a for a in rendered.container("git-sync")["args"] if a.startswith("--root="))
    home = tmp_path / "home"
    # The rendered paths, moved under tmp_path: git-sync's root is inside the home.
    root = home / Path(root_arg.removeprefix("--root=")).relative_to(env["GAMEDAY_HOME"])
    checkout(root, "aaa", sub, "first-window")
    publish(root, "aaa")

    command = [sys.executable if arg == "python" else arg for arg in links["command"]]
    subprocess.run(command, env={**env, "GAMEDAY_HOME": str(home)}, check=True, capture_output=True)

    def window(name: str) -> CliResult:
        return run_main(monkeypatch, capsys, "--home", home, "window", name, "--json")

    assert (home / "schedules").is_symlink()
    assert run_main(monkeypatch, capsys, "--home", home, "validate").code == 0
    assert window("first-window").json()["open"] is True

    checkout(root, "bbb", sub, "second-window")
    publish(root, "bbb")
    # git-sync removes a stale worktree (after --stale-worktree-timeout).
    for path in sorted((root / ".worktrees" / "aaa").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (root / ".worktrees" / "aaa").rmdir()

    validated = run_main(monkeypatch, capsys, "--home", home, "validate")
    assert validated.code == 0, validated.err
    assert "outside the home" not in validated.out + validated.err
    assert window("second-window").json()["open"] is True
    assert window("first-window").code != 0
