"""Who may change what chaos runs from Slack: only operators may `/gameday run`, `resume`,
`pause` and `unpause`; anyone may halt, veto, note, and approve or reject as the approval
policy allows. A refusal says who may and is recorded in the control log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from gameday import wiring
from gameday.adapters.db import Database
from gameday.adapters.slack.runtime import SlackRuntime
from gameday.domain.clock import FixedClock
from gameday.domain.runs import Run
from gameday.services.catalog import Catalog
from gameday.services.chatops import NotAnOperator, spec_approvers
from gameday.settings import Settings
from tests.fakes.slack_api import FakeSlackApi
from tests.slack.conftest import ALICE, APPROVERS_GROUP, BOB, CAROL, GROUPIE, OUTSIDER
from tests.slack.support import SlackClient
from tests.support import noop_runbook

DAVE, ERIN = "UDAVE", "WERIN"
OPS = "SOPS"
SPEC_APPROVERS = "<@UALICE>, <@UBOB>, <@UCAROL>, <!subteam^SAPPROVERS>"


@pytest.fixture
def configured_operators() -> list[str]:
    """GAMEDAY_SLACK_OPERATORS; tests parametrize it (empty: the specs' approvers)."""
    return []


@pytest.fixture
def settings(settings: Settings, configured_operators: list[str]) -> Settings:
    """The Slack settings of conftest, with the operators of the test."""
    return settings.model_copy(update={"slack_operators": configured_operators})


@pytest.fixture
def ops_group(fake_slack: FakeSlackApi) -> None:
    """The user group SOPS, whose only member is ERIN."""
    fake_slack.set_usergroup(OPS, [ERIN])


@pytest.fixture
def reply(slack: SlackClient, fake_slack: FakeSlackApi) -> Callable[[str, str], dict]:
    """`/gameday TEXT` by USER: the ephemeral answer, from the ack or, when telling whether
    the person is an operator may ask Slack for group members, from the response URL."""

    def send(text: str, user: str) -> dict:
        before = len(fake_slack.calls_to("response_url"))
        response = slack.command(text, user)
        assert response.status_code == 200
        if response.text:
            body: dict = response.json()
        else:
            body = fake_slack.wait_for("response_url", before + 1)[before].args
        assert body["response_type"] == "ephemeral"
        return body

    return send


def _engage(database: Database) -> None:
    database.control.engage_kill_switch(actor="test", reason="drill")


def test_a_non_operator_cannot_resume_and_the_refusal_is_recorded(
    reply: Callable[[str, str], dict], database: Database
) -> None:
    assert "Kill switch engaged" in reply("halt drill", OUTSIDER)["text"]
    depth = database.outbox.depth()
    refused = reply("resume", OUTSIDER)
    assert refused["text"] == (
        ":no_entry: Only operators may `/gameday resume`; operators are the approvers named "
        f"in the specs: {SPEC_APPROVERS}. Anyone may `/gameday halt` to stop chaos."
    )
    assert database.control.kill_switch() == (True, "drill")
    assert database.outbox.depth() == depth  # nothing said in the channel
    (entry,) = database.control.refusals()
    assert (entry.actor, entry.action) == (OUTSIDER, "resume")
    assert "only operators may resume" in entry.reason
    assert entry.at == database.control.kill_switch_detail().at  # the fixed clock


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
def test_every_refusal_is_its_own_entry_of_the_control_log(
    reply: Callable[[str, str], dict], database: Database
) -> None:
    for _ in range(2):  # same person, same command, same instant of the fixed clock
        reply("resume", OUTSIDER)
    reply("pause reviews-latency", OUTSIDER)
    # Entries of one instant come in no particular order.
    assert sorted((e.actor, e.action) for e in database.control.refusals()) == [
        (OUTSIDER, "pause"),
        (OUTSIDER, "resume"),
        (OUTSIDER, "resume"),
    ]
    assert database.control.pauses() == []
    assert database.control.kill_switch() == (False, None)


@pytest.mark.parametrize("configured_operators", [[DAVE, OPS]])
def test_a_configured_operator_resumes_by_user_id(
    reply: Callable[[str, str], dict], database: Database, ops_group: None
) -> None:
    _engage(database)
    assert "Kill switch released" in reply("resume", DAVE)["text"]
    assert database.control.kill_switch() == (False, None)
    assert database.control.refusals() == []


@pytest.mark.parametrize("configured_operators", [[DAVE, OPS]])
def test_a_configured_operator_resumes_as_a_member_of_a_user_group(
    reply: Callable[[str, str], dict],
    database: Database,
    fake_slack: FakeSlackApi,
    ops_group: None,
) -> None:
    _engage(database)
    assert "Kill switch released" in reply("resume", ERIN)["text"]
    assert database.control.kill_switch() == (False, None)
    assert [c.args["usergroup"] for c in fake_slack.calls_to("usergroups.users.list")] == [OPS]
    _engage(database)
    assert "Kill switch released" in reply("resume", ERIN)["text"]
    assert len(fake_slack.calls_to("usergroups.users.list")) == 1  # cached


@pytest.mark.parametrize("configured_operators", [[DAVE, OPS]])
def test_configured_operators_replace_the_spec_approvers(
    reply: Callable[[str, str], dict], database: Database, ops_group: None
) -> None:
    _engage(database)
    refused = reply("resume", ALICE)["text"]  # an approver, but not an operator
    assert "operators are <@UDAVE>, <!subteam^SOPS>." in refused
    assert database.control.kill_switch()[0] is True
    assert [(e.actor, e.action) for e in database.control.refusals()] == [(ALICE, "resume")]


def test_operators_default_to_the_spec_approvers_users_and_groups(
    reply: Callable[[str, str], dict], database: Database, catalog: Catalog
) -> None:
    assert spec_approvers(catalog) == [APPROVERS_GROUP, ALICE, BOB, CAROL]
    _engage(database)
    assert "Kill switch released" in reply("resume", CAROL)["text"]  # a user
    _engage(database)
    assert "Kill switch released" in reply("resume", GROUPIE)["text"]  # via SAPPROVERS
    assert database.control.refusals() == []


def test_only_operators_run_pause_and_unpause(
    reply: Callable[[str, str], dict], database: Database, db_clock: FixedClock
) -> None:
    for text in ("run reviews-latency", "pause reviews-latency", "unpause bookinfo-monkey"):
        command = text.split()[0]
        refused = reply(text, OUTSIDER)["text"]
        assert f"Only operators may `/gameday {command}`" in refused
        db_clock.advance(timedelta(seconds=1))
    database.control.pause("bookinfo-monkey", actor="test")
    reply("unpause bookinfo-monkey", OUTSIDER)
    assert database.runs.list_runs() == []
    assert [p.schedule for p in database.control.pauses()] == ["bookinfo-monkey"]
    assert [e.action for e in database.control.refusals()] == ["run", "pause", "unpause", "unpause"]
    assert "Requested run #1" in reply("run reviews-latency", BOB)["text"]
    assert "Paused reviews-latency" in reply("pause reviews-latency", ALICE)["text"]
    assert "Unpaused" in reply("unpause bookinfo-monkey", GROUPIE)["text"]


def test_a_refusal_comes_before_any_other_answer(
    reply: Callable[[str, str], dict], database: Database
) -> None:
    """A non-operator learns nothing about runbook or schedule names."""
    assert "Only operators" in reply("run nope", OUTSIDER)["text"]
    assert "Only operators" in reply("pause nope", OUTSIDER)["text"]


def test_halt_veto_note_and_decisions_stay_open_to_everyone(
    reply: Callable[[str, str], dict],
    slack: SlackClient,
    fake_slack: FakeSlackApi,
    database: Database,
    gameday_run: Callable[..., Run],
    monkey_run: Run,
) -> None:
    run = gameday_run()
    assert "Kill switch engaged" in reply("halt drill", OUTSIDER)["text"]
    assert "Note added" in reply(f"note {run.id} watching", OUTSIDER)["text"]
    for verb, run_id in (("halt", run.id), ("veto", monkey_run.id)):
        slack.click(verb, run_id, OUTSIDER)
    answers = [c.args["text"] for c in fake_slack.wait_for("response_url", 2)]
    assert any(f"Halting run #{run.id}" in a for a in answers)
    assert any("no pod will be killed" in a for a in answers)
    slack.command(f"approve {run.id}", GROUPIE)  # an approver who is not named an operator
    assert "1 of 2" in fake_slack.wait_for("response_url", 3)[-1].args["text"]
    assert database.control.refusals() == []


def test_the_operators_follow_a_reload_of_the_specs(
    settings: Settings, database: Database, catalog: Catalog, db_clock: FixedClock, tmp_path: Path
) -> None:
    current = {"catalog": catalog}
    runtime: SlackRuntime = wiring.slack_for(
        settings, database=database, catalog=lambda: current["catalog"], clock=db_clock
    )
    chatops = runtime.deps.chatops
    assert chatops.is_operator(ALICE)
    assert not chatops.is_operator(DAVE)

    home = tmp_path / "reloaded"
    (home / "runbooks").mkdir(parents=True)
    extension = f"""\
extensions:
  - name: gameday
    approval: {{approvers: {{users: [{DAVE}]}}, quorum: 1}}
"""
    (home / "runbooks" / "solo.yaml").write_text(noop_runbook(title="Solo", extra=extension))
    current["catalog"] = wiring.load_catalog(home).require_valid()
    assert chatops.operators().ids() == [DAVE]
    assert chatops.is_operator(DAVE)
    _engage(database)
    with pytest.raises(NotAnOperator, match=r"only operators may resume \(operators: UDAVE\)"):
        chatops.resume(actor=ALICE)
    assert chatops.resume(actor=DAVE) is True

    current["catalog"] = Catalog()  # no approvers anywhere: nobody may
    _engage(database)
    with pytest.raises(NotAnOperator, match=r"operators: none"):
        chatops.resume(actor=DAVE)


def test_with_nobody_to_ask_the_refusal_says_how_to_name_operators(
    settings: Settings, database: Database, db_clock: FixedClock
) -> None:
    from gameday.adapters.slack.listeners.command import answer

    runtime = wiring.slack_for(settings, database=database, catalog=Catalog, clock=db_clock)
    text = answer(runtime.deps, "resume", "", DAVE).text
    assert "nobody is an operator yet: set `GAMEDAY_SLACK_OPERATORS`" in text


def test_the_setting_takes_comma_separated_slack_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMEDAY_SLACK_OPERATORS", f" {DAVE}, {ERIN},{OPS} ,")
    assert Settings().slack_operators == [DAVE, ERIN, OPS]
    monkeypatch.setenv("GAMEDAY_SLACK_OPERATORS", "")
    assert Settings().slack_operators == []
    monkeypatch.delenv("GAMEDAY_SLACK_OPERATORS")
    assert Settings().slack_operators == []
    monkeypatch.setenv("GAMEDAY_SLACK_OPERATORS", f"{DAVE},alice")
    with pytest.raises(ValidationError, match="'alice' is not a Slack user"):
        Settings()


def test_waiting_runs_are_not_touched_by_a_refusal(
    reply: Callable[[str, str], dict], database: Database, gameday_run: Callable[..., Run]
) -> None:
    run = gameday_run()
    events = database.runs.events(run.id)
    reply("pause reviews-latency", OUTSIDER)
    reply("run reviews-latency", OUTSIDER)
    assert database.runs.get(run.id) == run
    assert database.runs.events(run.id) == events
    assert database.runs.list_runs() == [run]


@pytest.mark.parametrize("configured_operators", [[DAVE, OPS]])
def test_only_a_check_that_may_ask_slack_answers_through_the_response_url(
    slack: SlackClient, fake_slack: FakeSlackApi, database: Database, ops_group: None
) -> None:
    """Asking Slack for group members must not hold up the ack (Slack waits 3 s)."""
    _engage(database)
    assert "Kill switch released" in slack.command("resume", DAVE).json()["text"]  # an id
    assert fake_slack.calls_to("usergroups.users.list") == []
    _engage(database)
    assert slack.command("resume", ERIN).text == ""  # acked at once
    answer = fake_slack.wait_for("response_url", 1)[0].args
    assert "Kill switch released" in answer["text"]
    assert slack.command("status", OUTSIDER).json()["response_type"] == "ephemeral"
