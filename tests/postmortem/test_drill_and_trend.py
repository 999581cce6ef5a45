"""A drill's figures against their targets, hostile text in every new section, and the
runbook's trend read through the repository on both databases."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from gameday.adapters.db import Database
from gameday.domain import drills
from gameday.domain.clock import FixedClock
from gameday.domain.runs import RunState
from gameday.services.postmortem_trend import trend_of
from tests.db.factories import BASE_TIME, make_run
from tests.journal.conftest import HOSTILE_NOTE, Cli
from tests.postmortem.scenarios import started
from tests.postmortem.test_states import parse_html

HOSTILE = "<script>x</script> <!channel> & co"


def drill_run(db: Database, clock: FixedClock, *, ack: int, resolve: int, **kw: object) -> int:
    """A drill whose ack comes `ack` s and resolve `resolve` s after its fault started."""
    spec = drills.DrillSpec(responders=("S0ONCALL",), detect_within=timedelta(seconds=3))
    run = started(db, clock, drill=spec, **kw)
    fault = db.runs.events(run.id)[-1].at
    db.runs.append_event(
        run.id,
        drills.ALERT_FIRED,
        actor="alertmanager",
        payload={
            "alertname": HOSTILE,
            "labels": {"team": HOSTILE},
            "starts_at": (fault + timedelta(seconds=1)).isoformat(),
        },
    )
    clock.advance(fault + timedelta(seconds=ack) - clock.now())
    db.runs.append_event(run.id, drills.DRILL_ACKED, actor="U0ONCALL", payload={"by": "U0ONCALL"})
    clock.advance(fault + timedelta(seconds=resolve) - clock.now())
    db.runs.append_event(
        run.id, drills.DRILL_RESOLVED, actor="U0ONCALL", payload={"by": "U0ONCALL", "note": HOSTILE}
    )
    db.runs.add_note(run.id, author="U0ONCALL", text=f"action: {HOSTILE_NOTE}")
    clock.advance(timedelta(seconds=2))
    db.runs.transition(run.id, RunState.COMPLETED, actor="worker", reason="completed")
    return run.id


def test_a_drill_shows_its_figures_against_targets(
    cli: Cli, database: Database, db_clock: FixedClock
) -> None:
    run_id = drill_run(database, db_clock, ack=2, resolve=4)

    out = {
        f: cli("journal", "export", str(run_id), "-f", f).out for f in ("json", "html", "markdown")
    }

    drill = json.loads(out["json"])["gameday"]["drill"]
    assert (drill["ttd_s"], drill["tta_s"], drill["ttr_s"]) == (1.0, 2.0, 4.0)
    html, markdown = out["html"], out["markdown"]
    parse_html(html)
    assert "<h2>Drill: detect, acknowledge, resolve</h2>" in html
    assert '<tr class="verdict-met"><td>time to detect</td><td>1.0 s</td><td>3.0 s</td>' in html
    assert '<tr class="verdict-missed"><td>time to resolve</td><td>4.0 s</td>' not in html
    assert "| time to acknowledge | 2.0 s | 3.0 s | **met** | U0ONCALL |" in markdown
    assert 'class="mk mk-ack"' in html
    assert 'class="mk mk-resolve"' in html
    assert 'class="mk mk-alert"' in html
    assert 'class="fault"' in html
    assert "U0ONCALL" in html.split("<h2>Participants</h2>")[1]


def test_hostile_text_is_inert_in_charts_drill_and_action_items(
    cli: Cli, database: Database, db_clock: FixedClock
) -> None:
    run_id = drill_run(database, db_clock, ack=2, resolve=4)

    html = cli("journal", "export", str(run_id), "-f", "html").out
    markdown = cli("journal", "export", str(run_id), "-f", "markdown").out

    parse_html(html)
    for text in (html, markdown):
        assert "<script>" not in text
        assert "<!channel>" not in text
    assert "&lt;script&gt;x&lt;/script&gt; &lt;!channel&gt; &amp; co" in html
    assert "&lt;script>x&lt;/script> &lt;!channel> &amp; co" in markdown
    action = html.split("<h2>Action items</h2>")[1].split("</ul>")[0]
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in action


def test_the_trend_is_the_runbooks_last_runs_oldest_first(
    database: Database, db_clock: FixedClock
) -> None:
    ids = [
        drill_run(
            database, db_clock, ack=2 + n, resolve=5 + n, planned_at=BASE_TIME + timedelta(days=n)
        )
        for n in range(12)
    ]
    other = make_run(
        database.runs, RunState.SKIPPED, schedule="other", runbook="another", planned_at=BASE_TIME
    )
    current = database.runs.get(ids[10])

    points = trend_of(database.runs, current, ZoneInfo("UTC"))

    assert [p.run_id for p in points] == ids[1:11]
    assert [p.current for p in points] == [False] * 9 + [True]
    assert points[-1].ttr_s == 15.0
    assert points[-1].ttd_s == 1.0
    assert points[0].outcome == "completed"
    assert points[0].duration_s is not None
    assert trend_of(database.runs, other, ZoneInfo("UTC"))[-1].run_id == other.id


def test_the_postmortem_draws_the_trend(cli: Cli, database: Database, db_clock: FixedClock) -> None:
    first = drill_run(database, db_clock, ack=2, resolve=4, planned_at=BASE_TIME)
    second = drill_run(
        database, db_clock, ack=3, resolve=9, planned_at=BASE_TIME + timedelta(days=7)
    )

    html = cli("journal", "export", str(second), "-f", "html").out
    markdown = cli("journal", "export", str(second), "-f", "markdown").out

    trend = html.split("<h2>Trend of runbook")[1].split("<h2>")[0]
    assert trend.count('class="trend-bar trend-completed') == 2
    assert "current" in trend
    assert "outlined: this run" in trend
    assert f"| {first} | 2026-03-02 | completed |" in markdown
    assert f"| {second} (this run) | 2026-03-09 | completed |" in markdown
