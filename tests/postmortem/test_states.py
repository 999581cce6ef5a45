"""Every end state of a run renders in every format: JSON keeps the Chaos Toolkit journal,
the HTML is one valid HTML5 document with its charts, Markdown has the same sections."""

from __future__ import annotations

import json

import html5lib
import pytest

from gameday.adapters.db import Database
from gameday.domain.clock import FixedClock
from tests.journal.conftest import Cli
from tests.postmortem.scenarios import SCENARIOS

SECTIONS = (
    "Timeline chart",
    "Normal vs injected",
    "Trend of runbook",
    "Timeline",
    "Action items",
    "Participants",
    "Appendix: the Chaos Toolkit journal",
)


def parse_html(text: str) -> None:
    """Parse as HTML5, strictly: any parse error raises."""
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_state_renders_in_every_format(
    cli: Cli, database: Database, db_clock: FixedClock, scenario: str
) -> None:
    run = SCENARIOS[scenario](database, db_clock)
    stored = database.runs.journal(run.id)

    out = {f: cli("journal", "export", str(run.id), "-f", f) for f in ("json", "markdown", "html")}

    for fmt, result in out.items():
        assert result.code == 0, (fmt, result.err)
    document = json.loads(out["json"].out)
    section = document.pop("gameday")
    if stored is not None:
        assert document == stored  # the Chaos Toolkit journal, unchanged
    assert section["run"]["state"] == run.state.value
    html, markdown = out["html"].out, out["markdown"].out
    parse_html(html)
    assert "<svg" in html
    assert "<script" not in html.lower()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    for heading in SECTIONS:
        assert f"<h2>{heading}" in html, heading
        assert f"## {heading}" in markdown, heading
    assert run.state.value in html
    assert "add an alert on &lt;latency&gt; &amp; errors" in html
    assert r"add an alert on &lt;latency> &amp; errors" in markdown


def test_a_deviation_is_highlighted_beside_the_normal_value(
    cli: Cli, database: Database, db_clock: FixedClock
) -> None:
    run = SCENARIOS["deviated"](database, db_clock)

    html = cli("journal", "export", str(run.id), "-f", "html").out
    markdown = cli("journal", "export", str(run.id), "-f", "markdown").out

    row = next(line for line in html.splitlines() if line.startswith('<tr class="deviation">'))
    assert "reviews-answer" in row
    assert '<code>200</code> <span class="met">met</span>' in row  # before: normal
    assert '<code>503</code> <span class="miss">missed</span>' in row  # after: injected
    assert "| reviews-answer **(deviation)** | 200 | 200 (met) | - | 503 **(missed)** |" in markdown
    assert 'class="mk mk-deviation"' in html


def test_the_chart_marks_halt_stop_condition_and_rollbacks(
    cli: Cli, database: Database, db_clock: FixedClock
) -> None:
    halted = SCENARIOS["aborted by stop condition"](database, db_clock)

    html = cli("journal", "export", str(halted.id), "-f", "html").out
    markdown = cli("journal", "export", str(halted.id), "-f", "markdown").out

    for kind in ("start", "halt", "stop_condition", "rollback", "note", "end"):
        assert f'class="mk mk-{kind}"' in html, kind
    assert 'class="fault"' in html  # the method's span, shaded
    assert "| stop_condition | stop condition error-rate |" in markdown
    assert "| halt | halt requested (flow) |" in markdown


def test_a_crashed_run_is_charted_from_its_events(
    cli: Cli, database: Database, db_clock: FixedClock
) -> None:
    run = SCENARIOS["interrupted by a crash"](database, db_clock)

    html = cli("journal", "export", str(run.id), "-f", "html").out

    assert 'class="bar bar-unfinished"' in html  # the activity the crash cut short
    assert "No Chaos Toolkit journal was stored for this run." in html
