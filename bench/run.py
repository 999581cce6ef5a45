"""Wall time of `gameday run` against `chaos run` on the same trivial experiment.

`python -m bench run [--repeats N]` runs both commands N times each (alternating, after
one warm-up of each that also creates gameday's database), and prints one JSON object per
command plus one with the ratio of the medians (target: gameday within 1.3x). `gameday
run` is timed as a user meets it, handed to the warm launcher (gameday.launcher) the
warm-up started, and cold (GAMEDAY_WARM_RUNS=false) for reading. `gameday --help` and
`chaos --help` are timed too: the start-up of each CLI alone (target: gameday no slower),
a floor under each run; and `gameday validate` of the same home against `chaos --help`
(target: no slower).
Both run the experiment for real (`gameday run --live`); it only runs `true`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

EXPERIMENT: dict[str, Any] = {
    "version": "1.0.0",
    "title": "trivial",
    "description": "one probe before and after, one action, one rollback",
    "steady-state-hypothesis": {
        "title": "true is true",
        "probes": [
            {"type": "probe", "name": "ok", "tolerance": 0,
             "provider": {"type": "process", "path": "true"}},
        ],
    },
    "method": [{"type": "action", "name": "noop", "provider": {"type": "process", "path": "true"}}],
    "rollbacks": [
        {"type": "action", "name": "undo", "provider": {"type": "process", "path": "true"}}
    ],
}  # fmt: skip


def _timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def run(args: list[str]) -> Iterable[dict[str, Any]]:
    """Time both commands; yield one result per command and the ratios."""
    parser = argparse.ArgumentParser(prog="python -m bench run")
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args(args)
    chaos, gameday = _command("chaos"), _command("gameday")
    if not chaos or not gameday:
        raise SystemExit("bench run: needs both `chaos` (pip install chaostoolkit) and `gameday`")
    with tempfile.TemporaryDirectory(prefix="gameday-bench-") as tmp:
        home = Path(tmp)
        (home / "runbooks").mkdir()
        source = home / "runbooks" / "trivial.json"
        source.write_text(json.dumps(EXPERIMENT), encoding="utf-8")
        # A launcher of its own (started by the warm-up run), stopped at the end.
        env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_")}
        env["GAMEDAY_RUNTIME_DIR"] = str(home / "rt")
        cold = {**env, "GAMEDAY_WARM_RUNS": "false"}
        gameday_run = [gameday, "--home", str(home), "run", "trivial", "--live", "--json"]
        commands = {
            "chaos run": ([chaos, "--no-version-check", "--settings", str(home / "none.yaml"),
                           "run", "--journal-path", str(home / "journal.json"), str(source)], env),
            "gameday run": (gameday_run, env),  # the default: in the warm launcher
            "gameday run (cold)": (gameday_run, cold),  # GAMEDAY_WARM_RUNS=false
            # the CLIs' own start-up, for reading the ratio: no run, no database
            "gameday --help": ([gameday, "--help"], env),
            "gameday validate": ([gameday, "--home", str(home), "validate"], env),
            "chaos --help": ([chaos, "--help"], env),
        }  # fmt: skip
        times: dict[str, list[float]] = {name: [] for name in commands}
        try:
            for argv, run_env in commands.values():  # warm-up: caches, database, launcher
                _timed(argv, home, run_env)
            _wait_for_launcher(env)
            for _ in range(options.repeats):
                for name, (argv, run_env) in commands.items():
                    times[name].append(_timed(argv, home, run_env))
        finally:
            _stop_launcher(env)
    for name, samples in times.items():
        yield {
            "command": name,
            "repeats": len(samples),
            "median_s": round(statistics.median(samples), 4),
            "mean_s": round(statistics.fmean(samples), 4),
            "min_s": round(min(samples), 4),
            "max_s": round(max(samples), 4),
            "python": sys.version.split()[0],
        }
    for ours, theirs, target in (
        ("gameday run", "chaos run", 1.3),
        ("gameday run (cold)", "chaos run", None),  # for reading: what the launcher saves
        ("gameday --help", "chaos --help", 1.0),
        ("gameday validate", "chaos --help", 1.0),
    ):
        ratio = statistics.median(times[ours]) / statistics.median(times[theirs])
        result: dict[str, Any] = {"command": f"ratio {ours} / {theirs}",
                                  "median_ratio": round(ratio, 3)}  # fmt: skip
        if target is not None:
            result.update(target=target, within_target=ratio <= target)
        yield result


def _wait_for_launcher(env: dict[str, str]) -> None:
    """Until the launcher the warm-up started listens (it imports for about a second)."""
    place = _place(env)
    give_up = time.monotonic() + 60
    while not place.socket.exists():
        if time.monotonic() > give_up:
            raise RuntimeError(f"the launcher never listened: {place.log.read_text()[-500:]}")
        time.sleep(0.05)


def _stop_launcher(env: dict[str, str]) -> None:
    with contextlib.suppress(OSError, ValueError):
        os.kill(int(_place(env).lock.read_text()), signal.SIGTERM)


def _place(env: dict[str, str]) -> Any:
    # The launcher of the `gameday` beside this interpreter, as its command computes it.
    from gameday.launcher import client

    place = client.place_for(env)
    if place is None:
        raise RuntimeError(f"{env['GAMEDAY_RUNTIME_DIR']} is not a private folder")
    return place


def _command(name: str) -> str | None:
    """The console script installed beside this interpreter, else the one on PATH: a
    version manager's shim on PATH would add its own start-up to both sides."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)
