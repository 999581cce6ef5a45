"""Writing `gameday report` as JSON, Markdown or HTML (one self-contained file, no script).

The templates ship in `templates/` beside the postmortem's and share its escaping: HTML
autoescaped, Markdown through `markdown_text`.
"""

from __future__ import annotations

import json
from datetime import tzinfo

from gameday.adapters.postmortem.render import environment
from gameday.domain.errors import InvalidInput
from gameday.domain.trend_chart import TrendPoint, trend_chart
from gameday.services.postmortem import when
from gameday.services.report import FIGURES, Report, report_json

REPORT_FORMATS = {"md": "md", "markdown": "md", "html": "html", "json": "json"}
_TEMPLATES = {"md": "report.md.j2", "html": "report.html.j2"}


def check_report_format(name: str) -> str:
    """`md`, `html` or `json` (`markdown` is `md`); InvalidInput listing them otherwise."""
    chosen = REPORT_FORMATS.get(name.strip().lower())
    if chosen is None:
        raise InvalidInput(f"unknown format {name!r}; choose one of: md, html, json")
    return chosen


def render_report(report: Report, fmt: str, zone: tzinfo) -> str:
    """The report in `fmt`, times shown in `zone`."""
    chosen = check_report_format(fmt)
    data = report_json(report)
    if chosen == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    trends = {
        name: trend_chart(
            [
                TrendPoint(r.run_id, r.day, r.outcome, r.duration_s, r.ttd_s, r.ttr_s)
                for r in runs[-10:]
            ]
        )
        for name, runs in report.by_runbook().items()
    }
    template = environment().get_template(_TEMPLATES[chosen])
    return template.render(
        r=data,
        figures=FIGURES,
        trends=trends,
        since=when(data["since"], zone),
        until=when(data["until"], zone),
    )
