"""A worker whose supervisor dies does not carry on unsupervised: it interrupts its run
the way a halt does (the rollbacks play) and ends it `interrupted`, telling its channel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from gameday.domain.execution import worker_of
from gameday.domain.lifecycle import is_final
from gameday.domain.runs import Run, RunState
from gameday.services import execution, halting, recovery
from tests.execution.conftest import REPO, Gameday
from tests.execution.launcher import Launcher, launch_env
from tests.execution.test_halt_and_recovery import blocking_runbook


@pytest.fixture
def supervisors(gameday: Gameday, db_url: str) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def supervise(
    gameday: Gameday, db_url: str, run: Run, started: list[subprocess.Popen[bytes]], *extra: str
) -> subprocess.Popen[bytes]:
    """A supervisor process of its own for `run` (the one the test will kill)."""
    log_dir = gameday.home.parent / "logs"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.execution.supervise"),
            *(db_url, str(gameday.home), str(log_dir), str(run.id), *extra),
        ],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )
    started.append(process)
    # The supervisor claims the run first; from then on the worker's progress shows.
    give_up = time.monotonic() + 60
    while gameday.runs.get(run.id).state is RunState.APPROVED:
        assert process.poll() is None, f"the supervisor exited with {process.returncode}"
        assert time.monotonic() < give_up, "the supervisor never started the run"
        time.sleep(0.02)
    return process


def wait_final(gameday: Gameday, run_id: int, limit: float = 60.0) -> Run:
    """Poll the run until it is final (bounded, so a worker that carries on fails here)."""
    give_up = time.monotonic() + limit
    while not is_final((run := gameday.runs.get(run_id)).state):
        assert time.monotonic() < give_up, f"run {run_id} never ended:\n{gameday.logs()}"
        time.sleep(0.02)
    return run


@pytest.mark.parametrize("how", ["launched", "standby"])
def test_a_worker_whose_supervisor_is_killed_rolls_back_and_ends_interrupted(
    gameday: Gameday, db_url: str, supervisors: list[subprocess.Popen[bytes]], how: str
) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.plan("slow")
    extra = ["--standby"] if how == "standby" else []
    supervisor = supervise(gameday, db_url, run, supervisors, *extra)
    gameday.wait_for_file(gameday.file("started"))
    before = gameday.events(run.id)

    supervisor.send_signal(signal.SIGKILL)
    supervisor.wait()
    ended = wait_final(gameday, run.id)

    assert ended.state is RunState.INTERRUPTED
    assert gameday.file("undone").read_text() == "ran\n"  # rollbacks, exactly once
    assert not gameday.file("next").exists()  # the method went no further
    after = gameday.events(run.id)
    assert after[: len(before)] == before  # nothing lost
    types = [e.type for e in after]
    assert types.index("supervisor_lost") < types.index("interrupted")
    assert types.index("interrupted") < types.index("rollback_finished")
    lost = next(e for e in after if e.type == "supervisor_lost")
    assert lost.payload["pid"] == supervisor.pid
    assert "halt_requested" not in types  # nobody halted it
    reason = after[-1].payload["reason"]
    assert f"the supervisor (pid {supervisor.pid} on" in reason
    assert "rollbacks played (succeeded)" in reason
    journal = gameday.runs.journal(run.id)
    assert journal is not None
    assert journal["status"] == "interrupted"

    # The channel is told, in the same transaction as the end (after the start).
    messages = gameday.database.outbox.of_run(run.id)
    kinds = [m.message.kind for m in messages]
    assert kinds[:2] == kinds[-2:] == ["update", "thread"]
    assert set(kinds[2:-2]) == {"thread"}  # notable events, told as they happened
    assert "started" in messages[1].message.text
    assert any("supervising this run died" in m.message.text for m in messages[2:-2])
    assert "interrupted" in messages[-1].message.text
    assert {m.message.channel for m in messages} == {"#gameday"}

    # The worker is gone, and recovery on the next start finds nothing to do.
    worker = worker_of(after)
    assert worker is not None
    gameday.workers.wait_gone([(worker, run.id)], halting.HARD_STOP_GRACE)
    assert gameday.workers.is_alive(worker, run.id) is False
    assert recovery.recover_runs(gameday.runs, gameday.workers, actor="test:service") == []
    assert gameday.file("undone").read_text() == "ran\n"
    assert gameday.events(run.id) == after


def start_gameday_run(
    gameday: Gameday, db_url: str, launched: Launcher | None, started: list[subprocess.Popen[bytes]]
) -> tuple[subprocess.Popen[bytes], Run]:
    """`gameday run slow --live` as a user starts it, once its fault is being injected."""
    gameday.write_runbook("slow", blocking_runbook(gameday))
    env = {
        **os.environ,
        "GAMEDAY_DATABASE_URL": db_url,
        "GAMEDAY_CHAOSTOOLKIT_SETTINGS": str(gameday.home / "none.yaml"),
        **launch_env(launched),
    }
    cli = subprocess.Popen(
        [sys.executable, "-m", "gameday", "--home", str(gameday.home), "run", "slow", "--live"],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    started.append(cli)
    give_up = time.monotonic() + 60
    while not gameday.file("started").exists():
        assert cli.poll() is None, f"gameday run exited with {cli.returncode}"
        assert time.monotonic() < give_up, "the action never started"
        time.sleep(0.02)
    (run,) = gameday.runs.in_state(RunState.RUNNING)
    return cli, run


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_killing_gameday_run_interrupts_its_run_with_rollbacks(
    gameday: Gameday,
    db_url: str,
    supervisors: list[subprocess.Popen[bytes]],
    signum: int,
    launched: Launcher | None,
) -> None:
    cli, run = start_gameday_run(gameday, db_url, launched, supervisors)

    cli.send_signal(signum)
    cli.wait()
    ended = wait_final(gameday, run.id)

    assert ended.state is RunState.INTERRUPTED
    assert gameday.file("undone").read_text() == "ran\n"
    lost = next(e for e in gameday.events(run.id) if e.type == "supervisor_lost")
    # The supervisor was the command, or the launcher's process that was the command.
    supervisor = cli.pid if launched is None else launched.handlers()[-1]
    assert lost.payload["pid"] == supervisor


def test_ctrl_c_halts_gameday_run_with_rollbacks(
    gameday: Gameday,
    db_url: str,
    supervisors: list[subprocess.Popen[bytes]],
    launched: Launcher | None,
) -> None:
    cli, run = start_gameday_run(gameday, db_url, launched, supervisors)

    cli.send_signal(signal.SIGINT)

    assert cli.wait(timeout=60) == 2  # aborted
    ended = gameday.runs.get(run.id)
    assert ended.state is RunState.ABORTED
    assert gameday.file("undone").read_text() == "ran\n"
    assert not gameday.file("next").exists()  # the method stopped at the fault
    halt = next(e for e in gameday.events(run.id) if e.type == "halt_requested")
    assert halt.payload["reason"] == "Ctrl-C"


def test_a_halted_run_stays_aborted_when_its_supervisor_dies_during_the_rollbacks(
    gameday: Gameday, db_url: str, supervisors: list[subprocess.Popen[bytes]]
) -> None:
    gameday.write_runbook("stuck", blocking_runbook(gameday, rollback_blocks=True))
    run = gameday.plan("stuck")
    supervisor = supervise(gameday, db_url, run, supervisors)
    gameday.wait_for_file(gameday.file("started"))
    (result,) = halting.halt_running(
        gameday.runs, gameday.workers, actor="test:sre", reason="drill", wait=execution.WATCH_TICK
    )
    assert result.action == "signalled"
    gameday.wait_for_file(gameday.file("rollback-started"))

    supervisor.send_signal(signal.SIGKILL)
    supervisor.wait()
    deadline = time.monotonic() + 30
    while "supervisor_lost" not in gameday.types(run.id):
        assert time.monotonic() < deadline, gameday.logs()
        time.sleep(0.02)
    gameday.file("never").touch()  # the slow rollback may now finish
    ended = wait_final(gameday, run.id)

    # Someone halted it: the halt's outcome stands; the rollbacks were not cut short.
    assert ended.state is RunState.ABORTED
    assert gameday.file("undone").read_text() == "ran\n"
    journal = gameday.runs.journal(run.id)
    assert journal is not None
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded", "succeeded"]
    # Its channel is told how it ended: aborted (by the halt), never "interrupted".
    texts = [m.message.text for m in gameday.database.outbox.of_run(run.id)]
    assert "finished: *aborted*" in texts[-1]
    assert not any("*interrupted*" in t for t in texts), texts


def test_recovery_on_start_tells_the_channel_in_the_same_transaction(
    gameday: Gameday, db_url: str
) -> None:
    gameday.write_runbook("slow", blocking_runbook(gameday))
    run = gameday.start("slow")
    gameday.wait_for_file(gameday.file("started"))
    worker = worker_of(gameday.events(run.id))
    assert worker is not None
    os.kill(worker.pid, signal.SIGKILL)
    gameday.workers.wait_gone([(worker, run.id)], halting.HARD_STOP_GRACE)
    told: list[tuple[int, str]] = []

    def end_messages(ended: Run, outcome: str, reason: str) -> list[object]:
        from gameday.domain.runs import OutgoingMessage

        told.append((ended.id, outcome))
        return [OutgoingMessage("#sre", f"run {ended.id} {outcome}", thread_of_run=ended.id)]

    results = recovery.recover_runs(
        gameday.runs, gameday.workers, actor="test:service", end_messages=end_messages
    )

    assert [(r.run_id, r.state) for r in results] == [(run.id, RunState.INTERRUPTED)]
    assert told == [(run.id, "interrupted")]
    messages = gameday.database.outbox.of_run(run.id)
    assert [(m.message.channel, m.message.text) for m in messages] == [
        ("#sre", f"run {run.id} interrupted")
    ]
