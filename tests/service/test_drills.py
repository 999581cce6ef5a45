"""An incident-response drill through the assembled service: a live drill run whose fault
holds until responders act; an Alertmanager webhook mid-drill, an ack in Slack after about
2 s and a resolve after about 4 s; the resolve ends the method (the rollbacks play, the run
completes per its steady state) and the exported journal carries the figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import requests

from gameday.domain.drills import FAULT_STARTED, METHOD_RESOLVED
from gameday.domain.runs import RunState
from tests.execution.conftest import experiment, python_activity
from tests.service.serving import Serve
from tests.service.stack import (
    ALICE,
    CAROL,
    Stack,
    gameday_extension,
    run_id_in,
    stack,
    write_runbook,
)

__all__ = ["stack"]  # the fixture

ALERTS_TOKEN = "alerts-token-for-tests"


def _drill_runbook(stack: Stack) -> str:
    home = stack.home
    doc = experiment(
        probes=[python_activity("probe", "ok", "value", value=1, tolerance=1)],
        method=[
            python_activity("action", "inject", "touch", path=str(home.evidence("injected.txt"))),
            # The fault holds until the drill is resolved (never released otherwise).
            python_activity(
                "action",
                "hold",
                "block_until",
                started=str(home.evidence("holding.txt")),
                release=str(home.evidence("never.txt")),
                deadline_seconds=120,
            ),
        ],
        rollbacks=[
            python_activity("action", "remove", "touch", path=str(home.evidence("rolled.txt")))
        ],
        **gameday_extension(drill={"responders": [ALICE], "alert_matchers": ['service="reviews"']}),
    )
    return write_runbook(home, "drill", doc)


def _at(serve: Serve, moment: datetime, what: str) -> None:
    """Poll until the wall clock reaches `moment` (the drill measures real seconds)."""
    serve.wait(what, lambda: datetime.now(UTC) >= moment, limit=30)


def _alert(name: str, service: str, starts: datetime) -> dict[str, object]:
    return {
        "status": "firing",
        "labels": {"alertname": name, "service": service},
        "annotations": {"summary": "reviews are slow"},
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": f"fp-{name}",
    }


def test_a_drill_acked_resolved_and_detected_by_an_alert(stack: Stack) -> None:
    runbook = _drill_runbook(stack)
    serve = stack.serve(live=True, env={"GAMEDAY_ALERTS_TOKEN": ALERTS_TOKEN})
    slack = stack.client(serve)
    run_id = run_id_in(slack.command(f"run {runbook}", user=CAROL).json()["text"])

    def fault() -> datetime | None:
        return next((e.at for e in stack.events(run_id) if e.type == FAULT_STARTED), None)

    started: datetime = serve.wait("the drill's fault to start", fault, limit=60)
    serve.wait("the fault to hold", lambda: stack.home.evidence("holding.txt").exists())

    # Alertmanager calls mid-drill: one alert matches the drill, one does not.
    body = {
        "version": "4",
        "groupKey": "{}:{}",
        "status": "firing",
        "receiver": "gameday",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager",
        "alerts": [
            _alert("ReviewsSlow", "reviews", started + timedelta(seconds=1.5)),
            _alert("LedgerSlow", "ledger", started + timedelta(seconds=1)),
        ],
    }
    url = serve.url + "/alerts"
    headers = {"Authorization": f"Bearer {ALERTS_TOKEN}"}
    answer = requests.post(url, json=body, headers=headers, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["recorded"] == 1
    # Alertmanager repeats a group: the alert is recorded once.
    assert requests.post(url, json=body, headers=headers, timeout=10).json()["recorded"] == 0

    _at(serve, started + timedelta(seconds=2), "2 s into the drill")
    assert slack.command(f"ack {run_id}", user=ALICE).status_code == 200
    _at(serve, started + timedelta(seconds=4), "4 s into the drill")
    assert slack.command(f"resolve {run_id} restarted reviews", user=ALICE).status_code == 200

    run = stack.wait_final(serve, run_id)
    assert run.state is RunState.COMPLETED, stack.types(run_id)  # not aborted
    assert not run.dry_run
    assert stack.home.evidence("rolled.txt").exists()  # the rollbacks ran
    assert not stack.home.evidence("never.txt").exists()
    types = stack.types(run_id)
    assert METHOD_RESOLVED in types
    hold = next(
        e
        for e in stack.events(run_id)
        if e.type == "activity_finished" and e.payload.get("name") == "hold"
    )
    assert hold.payload["status"] == "interrupted"  # the resolve cut the fault short
    after = [e.payload for e in stack.events(run_id) if e.type == "steady_state_finished"]
    assert [p["phase"] for p in after] == ["before", "after"]  # judged after the method

    done = stack.cli("journal", "export", str(run_id), "--format", "json")
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    drill = exported["gameday"]["drill"]
    assert abs(drill["tta_s"] - 2) < 0.75, drill
    assert abs(drill["ttr_s"] - 4) < 0.75, drill
    assert drill["ttd_s"] == 1.5  # from the alert's startsAt
    assert [a["name"] for a in drill["alerts"]] == ["ReviewsSlow"]
    assert drill["verdicts"] == {"detect": "met", "acknowledge": "met", "resolve": "met"}
    assert drill["acknowledged_by"] == ALICE
    assert drill["resolve_note"] == "restarted reviews"
    assert exported["status"] == "completed"  # the Chaos Toolkit journal is unchanged

    thread = stack.wait_thread(serve, run_id, "drill outcome")
    assert any("acknowledged the drill" in t for t in thread)
    history = json.loads(stack.cli("history", "--json").stdout)
    assert next(r for r in history if r["id"] == run_id)["drill"]["tta_s"] == drill["tta_s"]
