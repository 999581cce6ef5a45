"""`gameday monkey --once --live` with Slack configured: the heads-up goes to Slack at once,
with a Veto button that works from Slack (through the running service) as well as from
Ctrl-C, exactly like a scheduled kill's."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from gameday.domain.runs import RunState
from tests.service.serving import Home, wait_until
from tests.service.stack import Stack, run_id_in, schedule, stack

__all__ = ["stack"]  # the fixture
MONKEY = "reviews-monkey"


def monkey_home(stack: Stack) -> Home:
    """A second home holding the monkey (the service's own home has none, so it never
    plans kills of it; both share the database)."""
    home = Home(stack.tmp / "operator")
    now = datetime.now(UTC)
    hours = f"{now - timedelta(minutes=1):%H:%M}-{now + timedelta(minutes=3):%H:%M}"
    schedule(
        home,
        "monkey",
        "kind: window\nname: around-now\ntimezone: UTC\n"
        f'weekdays: [mon, tue, wed, thu, fri, sat, sun]\nhours: "{hours}"\n---\n'
        f"kind: monkey\nname: {MONKEY}\nwindow: around-now\n"
        "targets: {namespaces: [bookinfo]}\nmtbf: 1h\nheads_up: 20s\nkill_mode: one\n"
        'channel: "#chaos"\n',
    )
    return home


@pytest.mark.parametrize("vetoed", [True, False], ids=["vetoed-in-slack", "not-vetoed"])
def test_a_live_kill_from_the_cli_announces_in_slack_and_honours_a_slack_veto(
    stack: Stack, vetoed: bool
) -> None:
    serve = stack.serve(live=True)
    home = monkey_home(stack)
    heads_up = "8s" if vetoed else "2s"
    cli = subprocess.Popen(
        [sys.executable, "-m", "gameday", "--home", str(home.path), "monkey", MONKEY,
         "--once", "--live", "--heads-up", heads_up, "--json"],
        env=stack.cli_env(), cwd=home.path, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:

        def posted() -> str | None:
            texts = [m["text"] for m in stack.slack.posted() if "may veto" in m.get("text", "")]
            return texts[0] if texts else None

        text = wait_until("the heads-up in Slack", posted, limit=30)
        run_id = run_id_in(text)
        if vetoed:
            assert stack.client(serve).click("veto", run_id, "UBOB").status_code == 200
        out, err = cli.communicate(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 0, err

    run = stack.db.runs.get(run_id)
    (message,) = [m for m in stack.slack.posted() if "may veto" in m.get("text", "")]
    assert message["channel"] == stack.slack.state.channel_ids["#chaos"]
    assert "(live)" in str(message["blocks"])
    if vetoed:
        assert run.state is RunState.REJECTED
        assert '"vetoed_by": "UBOB"' in out
        assert stack.mutating() == []
        assert len(stack.kube.names("pods", "bookinfo")) == 3
    else:
        assert run.state is RunState.COMPLETED
        assert [r.method for r in stack.mutating()] == ["POST"]  # one eviction
        assert len(stack.kube.names("pods", "bookinfo")) == 2
