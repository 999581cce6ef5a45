"""`gameday journal export` on SQLite and PostgreSQL: the JSON document, the postmortem,
secrets and bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from gameday.domain.execution import RUN_OPTIONS
from gameday.domain.runs import RunKind, RunState
from tests.db.factories import make_run
from tests.journal.conftest import (
    CHAOS_JOURNAL,
    ENV_TOKEN,
    HOSTILE_NOTE,
    INLINE_PASSWORD,
    Cli,
    recorded_gameday,
)


def test_json_is_the_stored_journal_plus_a_gameday_section(
    cli: Cli, database: Database, db_clock: FixedClock
) -> None:
    run = recorded_gameday(database, db_clock)

    result = cli("journal", "export", str(run.id), "--format", "json")

    assert result.code == 0, result.err
    document = json.loads(result.out)
    section = document.pop("gameday")
    assert document == CHAOS_JOURNAL
    assert section["run"]["id"] == run.id
    assert section["run"]["state"] == "completed"
    assert section["run"]["dry_run"] is True
    assert section["run"]["seed"] == run.seed
    assert section["run"]["runbook_digest"] == run.runbook_digest
    assert section["has_chaostoolkit_journal"] is True
    assert [(a["user"], a["decision"]) for a in section["approvals"]] == [("U0APPROVER", "approve")]
    assert section["announcements"] == [
        {
            "channel": "#gameday",
            "kind": "announcement",
            "created_at": section["announcements"][0]["created_at"],
            "delivered_at": "2026-03-02T10:01:00+00:00",
        }
    ]
    seqs = [e["seq"] for e in section["events"]]
    assert seqs == sorted(seqs)
    assert seqs[0] == 1
    assert [e["type"] for e in section["events"]][-1] == "note"
    assert section["notes"] == [
        {"author": "U0SRE", "text": HOSTILE_NOTE, "at": "2026-03-02T10:02:00+00:00"}
    ]


@pytest.mark.parametrize(
    ("kind", "state", "status", "deviated"),
    [
        (RunKind.MONKEY, RunState.COMPLETED, "completed", False),
        (RunKind.MONKEY, RunState.FAILED, "failed", False),
        (RunKind.GAMEDAY, RunState.DEVIATED, "completed", True),
        (RunKind.GAMEDAY, RunState.ABORTED, "interrupted", False),
        (RunKind.GAMEDAY, RunState.SKIPPED, "skipped", False),
        (RunKind.GAMEDAY, RunState.REJECTED, "rejected", False),
    ],
)
def test_a_run_without_a_chaos_toolkit_journal_gets_a_journal_shaped_document(
    cli: Cli, database: Database, kind: RunKind, state: RunState, status: str, deviated: bool
) -> None:
    run = make_run(database.runs, state, kind=kind)

    result = cli("journal", "export", str(run.id))

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["status"] == status
    assert document["deviated"] is deviated
    assert document["steady_states"] == {"before": None, "after": None, "during": []}
    assert document["run"] == []
    assert document["rollbacks"] == []
    assert document["experiment"]["title"]
    assert document["gameday"]["has_chaostoolkit_journal"] is False
    assert document["gameday"]["run"]["kind"] == kind.value
    assert document["gameday"]["events"][-1]["payload"]["to"] == state.value


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_the_postmortem_shows_outcome_timeline_and_escaped_notes(
    cli: Cli, database: Database, db_clock: FixedClock, fmt: str
) -> None:
    run = recorded_gameday(database, db_clock)

    result = cli("journal", "export", str(run.id), "-f", fmt)

    assert result.code == 0, result.err
    text = result.out
    assert "completed" in text
    assert "Reviews stay fast" in text
    # the timeline, with times in the configured zone and its offset
    assert "2026-03-02 19:00:00+09:00 (Asia/Tokyo)" in text
    arrow = "-&gt;" if fmt == "html" else "->"
    assert f"awaiting_approval {arrow} approved" in text
    # steady state, method, rollbacks, approvals
    for name in ("reviews-answer", "inject-latency", "remove-latency", "U0APPROVER"):
        assert name in text
    for heading in ("What went well", "What went wrong", "Action items"):
        assert heading in text
    # a person's text can inject neither markup nor a Slack mention
    assert "<script>" not in text
    assert "<!channel>" not in text
    closing = "&gt;" if fmt == "html" else ">"
    assert f"&lt;script{closing}" in text
    assert f"&lt;!channel{closing}" in text


def test_html_postmortem_is_a_document_with_escaped_text(
    cli: Cli, database: Database, db_clock: FixedClock
) -> None:
    run = recorded_gameday(database, db_clock)

    text = cli("journal", "export", str(run.id), "--format", "html").out

    assert text.lstrip().startswith("<!DOCTYPE html>")
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in text


def test_markdown_escapes_table_and_emphasis_characters(
    cli: Cli, database: Database, db_clock: FixedClock
) -> None:
    run = recorded_gameday(database, db_clock)

    text = cli("journal", "export", str(run.id), "--format", "markdown").out

    assert text.startswith("# Postmortem: Reviews stay fast")
    assert r"\| \*bold\* &amp; more" in text


def test_secrets_of_the_runbook_never_reach_any_format(
    cli: Cli, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GD_JOURNAL_TOKEN", ENV_TOKEN)
    run = make_run(database.runs, RunState.RUNNING, runbook="secretive")
    # what gameday itself records: a --var carrying a secret, a careless note
    database.runs.append_event(
        run.id, RUN_OPTIONS, actor="cli:sre", payload={"var": [f"password={INLINE_PASSWORD}"]}
    )
    database.runs.add_note(run.id, author="U0SRE", text=f"used {ENV_TOKEN} and {INLINE_PASSWORD}")

    outputs = {
        fmt: cli("journal", "export", str(run.id), "--format", fmt)
        for fmt in ("json", "markdown", "html")
    }

    for fmt, result in outputs.items():
        assert result.code == 0, result.err
        assert ENV_TOKEN not in result.out, fmt
        assert INLINE_PASSWORD not in result.out, fmt
        assert (r"used \*\*\*" if fmt == "markdown" else "used ***") in result.out, fmt
    notes = json.loads(outputs["json"].out)["gameday"]["notes"]
    assert notes[0]["text"] == "used *** and ***"


def test_output_file_is_written_whole(cli: Cli, database: Database, tmp_path: Path) -> None:
    run = make_run(database.runs, RunState.SKIPPED)
    target = tmp_path / "postmortem.md"
    target.write_text("old content")
    target.chmod(0o640)

    result = cli("journal", "export", str(run.id), "-f", "markdown", "--output", str(target))

    assert result.code == 0, result.err
    assert result.out == ""
    assert target.read_text().startswith("# Postmortem: GameDay reviews-latency")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".postmortem")] == []
    assert target.stat().st_mode & 0o777 == 0o640


def test_a_new_output_file_gets_the_usual_permissions(
    cli: Cli, database: Database, tmp_path: Path
) -> None:
    run = make_run(database.runs, RunState.SKIPPED)
    target = tmp_path / "journal.json"

    result = cli("journal", "export", str(run.id), "--output", str(target))

    assert result.code == 0, result.err
    assert json.loads(target.read_text())["status"] == "skipped"
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_unknown_run_is_one_line_and_exit_1(cli: Cli) -> None:
    result = cli("journal", "export", "4242")

    assert result.code == 1
    assert result.out == ""
    assert result.err == "gameday: error: no run 4242\n"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--output", "{tmp}/missing/journal.json"], 1, "folder {tmp}/missing does not exist"),
        (["--output", "{tmp}"], 2, "is a folder, not a file"),
        (["--format", "pdf"], 2, "unknown format 'pdf'; choose one of: json, markdown, html"),
    ],
)
def test_bad_output_or_format_is_one_line_and_writes_nothing(
    cli: Cli, database: Database, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    run = make_run(database.runs, RunState.SKIPPED)
    before = sorted(tmp_path.rglob("*"))

    result = cli("journal", "export", str(run.id), *[a.format(tmp=tmp_path) for a in args])

    assert result.code == code
    assert result.err.startswith("gameday: error: ")
    assert message.format(tmp=tmp_path) in result.err
    assert result.err.count("\n") == 1
    assert result.out == ""
    assert sorted(tmp_path.rglob("*")) == before
