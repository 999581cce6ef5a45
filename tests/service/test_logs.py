"""Log lines: one JSON object per line for machines (run id on lines about a run), short
human lines otherwise."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from gameday.adapters.observability.logs import configure_logging, run_logger


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root")
def test_json_lines_carry_the_run_id_and_extras() -> None:
    stream = io.StringIO()
    configure_logging(json_logs=True, stream=stream)
    log = run_logger(logging.getLogger("gameday.test"), 42, schedule="weekly")
    log.info("run %s started\nsecond line", 42, extra={"kind": "gameday"})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("run failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["event"] == "run 42 started\nsecond line"
    assert (first["run_id"], first["schedule"], first["kind"]) == (42, "weekly", "gameday")
    assert first["level"] == "info"
    assert first["ts"].endswith("+00:00")
    assert second["run_id"] == 42
    assert "RuntimeError: boom" in second["exc_info"]


@pytest.mark.usefixtures("restore_root")
def test_human_lines_show_the_zone_and_only_new_fields() -> None:
    stream = io.StringIO()
    configure_logging(json_logs=False, stream=stream)
    logging.getLogger("gameday.test").info(
        "database %s", "sqlite:///x.db", extra={"database": "sqlite:///x.db", "run_id": 7}
    )
    (line,) = stream.getvalue().splitlines()
    assert "+0000 INFO    database sqlite:///x.db  run_id=7" in line
    assert "database=" not in line


@pytest.mark.usefixtures("restore_root")
def test_the_format_follows_the_terminal_unless_told() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    configure_logging(stream=tty)
    logging.getLogger("gameday.test").info("hello")
    configure_logging(stream=pipe)
    logging.getLogger("gameday.test").info("hello")
    assert not tty.getvalue().startswith("{")
    assert json.loads(pipe.getvalue())["event"] == "hello"
