"""Every way `gameday serve` ends is clean: one clear line, no traceback, a documented exit
code (0 stopped, 2 invalid specs, 3 database or port unavailable, 4 already served); a
reload with broken specs keeps the service running on its old plan."""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.service.serving import Home, Serve, soon

NOISE = ("Traceback", "JobLookupError", "cannot join thread", "internal error")


@pytest.fixture
def home(tmp_path: Path) -> Home:
    home = Home(tmp_path / "home")
    home.gamedays(home.quick_runbook(), soon(3600))
    return home


@pytest.fixture
def serves(tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def start(home: Home, *, url: str | None = None, **kwargs: object) -> Serve:
        serve = Serve(home, url or f"sqlite:///{tmp_path / 'gameday.db'}", **kwargs)  # type: ignore[arg-type]
        started.append(serve.start())
        return serve

    yield start
    for serve in started:
        serve.stop()


def clean(serve: Serve) -> str:
    """The process's stderr, checked for tracebacks and shutdown noise."""
    text = "\n".join(serve.raw)
    for noise in NOISE:
        assert noise not in text, text
    return text


def last_error(serve: Serve) -> str:
    (line,) = [r for r in serve.raw if r.startswith("gameday: error: ")]
    return line


def test_invalid_specs_exit_2_with_every_problem(home: Home, serves: Callable[..., Serve]) -> None:
    (home.path / "schedules" / "bad.yaml").write_text("kind: window\nname: b\n")
    serve = serves(home)
    assert serve.wait_exit() == 2
    text = clean(serve)
    assert "schedules/bad.yaml:1:1: missing required key 'timezone'" in text
    assert last_error(serve).startswith("gameday: error: the specs have 1 error(s)")


def test_an_unreachable_database_exits_3(home: Home, serves: Callable[..., Serve]) -> None:
    serve = serves(home, url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert serve.wait_exit() == 3
    clean(serve)
    assert "cannot open database" in last_error(serve)


def test_a_port_in_use_exits_3_before_anything_is_scheduled(
    home: Home, serves: Callable[..., Serve]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = serves(home, port=port)
        assert serve.wait_exit() == 3
    clean(serve)
    assert last_error(serve) == (
        f"gameday: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert not any("elected leader" in line for line in serve.raw)


def test_a_second_serve_on_the_same_file_exits_4(home: Home, serves: Callable[..., Serve]) -> None:
    first = serves(home)
    first.wait_ready()
    second = serves(home)
    assert second.wait_exit() == 4
    clean(second)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_stop_signal_exits_0(home: Home, serves: Callable[..., Serve], signum: int) -> None:
    serve = serves(home)
    serve.wait_ready()
    serve.wait_log("scheduler running")
    serve.signal(signum)
    assert serve.wait_exit() == 0
    clean(serve)
    assert serve.logs[-1]["event"] == "stopped"


def test_a_reload_with_broken_specs_keeps_the_old_plan(
    home: Home, serves: Callable[..., Serve]
) -> None:
    serve = serves(home)
    serve.wait_ready()
    (home.path / "schedules" / "broken.yaml").write_text("kind: gameday\nname: x\n")
    serve.signal(signal.SIGHUP)
    refused = serve.wait_log("reload refused")
    assert "the specs have" in refused["event"]
    assert serve.get("/readyz").status_code == 200  # type: ignore[union-attr]
    serve.signal(signal.SIGTERM)
    assert serve.wait_exit() == 0
    clean(serve)
