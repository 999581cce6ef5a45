"""The read-only pages and the calendar feed: what is planned, what ran, each postmortem.

Pages are server-rendered Jinja2 (autoescaped, strict about missing values), need no
script and load nothing but this app's stylesheet and icon. Routes:

- `/`: the kill switch, the next 7 days (GameDays, monkey window periods, waiting runs,
  skips with reasons) and the 20 most recent runs;
- `/runs`: history with `schedule`, `state`, `since` (ISO date or date and time), `page` and
  `limit`; `?format=json` or `Accept: application/json` answers `gameday history --json`;
- `/runs/<id>`: the run's postmortem (the renderer of `gameday journal export --format
  html`), `/runs/<id>/journal.json` its journal export;
- `/schedules` (`page`) and `/schedules/<name>`: each schedule with its window's next
  periods, approvers and last runs;
- `/calendar.ics` (`days` 1-400, default 30; `schedule`): the iCalendar feed.

Errors: an unknown run or schedule is 404, a malformed query 400 with the reason, the
database unreachable 503; pages answer them as HTML, the JSON and feed routes as JSON.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, Response, redirect, render_template, request, url_for
from jinja2 import StrictUndefined

from gameday.adapters.postmortem.render import render
from gameday.domain.errors import GamedayError, InvalidInput, NotFound, Unavailable
from gameday.domain.mrkdwn import format_when
from gameday.domain.runs import Run, RunState
from gameday.services.calendar_feed import feed_days, feed_events
from gameday.services.history import history_json
from gameday.services.journal_export import export_document, export_journal
from gameday.services.overview import Pages, Sources, history_query
from gameday.services.postmortem_trend import trend_of
from gameday.web.access import COOKIE, PageAccess, client, style_csp, without_token
from gameday.web.freshness import RecentPage
from gameday.web.ical import render_calendar

log = logging.getLogger(__name__)

# Endpoints behind the web token; those answering data rather than a page take `?token=`
# as it is (no redirect, no cookie): calendar clients and scripts.
HTML_PAGES = frozenset({"index", "runs", "run_page", "schedules", "schedule"})
DATA_PAGES = frozenset({"run_journal", "calendar"})
PROTECTED = HTML_PAGES | DATA_PAGES
# The largest id the runs table holds (BIGINT); larger ones cannot name a run.
MAX_RUN_ID = 2**63 - 1
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#7a1f1f"/>'
    '<path d="M4 11l4-7 4 7z" fill="#fff"/></svg>'
)

Mask = Callable[[Any], Any]


def _no_mask(value: Any) -> Any:
    return value


@dataclass
class Site:
    """What the pages read and how they show it: the use cases, the display zone, the
    public address (links and calendar UIDs), the web token and the secret masks of
    runbooks (postmortems never show a secret)."""

    pages: Pages
    timezone: str = "UTC"
    public_url: str | None = None
    web_token: str | None = None
    mask_for: Callable[[str | None], Mask] = field(default=lambda _runbook: _no_mask)
    # How long the overview's render is kept (gameday.web.freshness).
    overview_ttl: timedelta = timedelta(seconds=2)

    @classmethod
    def of(cls, sources: Sources, **options: Any) -> Site:
        """A site over `sources` (see the fields for `options`)."""
        return cls(Pages(sources), **options)

    @cached_property
    def zone(self) -> ZoneInfo:
        """The display zone."""
        return ZoneInfo(self.timezone)

    @cached_property
    def uid_domain(self) -> str:
        """The right-hand side of calendar UIDs: the public host, else `gameday`."""
        host = urlsplit(self.public_url).hostname if self.public_url else None
        return host or "gameday"

    def error_page(self, code: int, message: str) -> Response:
        """An HTML error page saying `message` (autoescaped) and nothing more."""
        html = render_template("error.html.j2", code=code, message=message, **self.common_context())
        return Response(html, status=code, mimetype="text/html")

    def common_context(self) -> dict[str, Any]:
        """What every template shows: the display zone, now, and the app's mount point."""
        return {"zone": self.timezone, "generated": self.pages.now(), "root": request.script_root}


def wants_html() -> bool:
    """Whether the client prefers HTML to JSON (a browser does; curl's `*/*` does not)."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def _wants_json() -> bool:
    fmt = request.args.get("format", "")
    if fmt not in ("", "html", "json"):
        raise InvalidInput(f"format must be html or json, not {fmt!r}")
    if fmt:
        return fmt == "json"
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def _zone_filters(app: Flask, site: Site) -> None:
    def local(at: datetime, zone: str | None = None) -> str:
        return format_when(at, zone or site.timezone)

    def utc(at: datetime) -> str:
        return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"

    def clock(at: datetime, zone: str | None = None) -> str:
        shown = at.astimezone(ZoneInfo(zone or site.timezone))
        return f"{shown:%H:%M} {shown.tzname()}"

    app.jinja_env.filters.update(local=local, utc=utc, clock=clock)


def register_pages(app: Flask, site: Site) -> None:
    """Add the pages, the feed, the stylesheet and the icon to `app`."""
    env = app.jinja_env
    env.autoescape = True  # every template is HTML here, whatever its name ends with
    env.undefined = StrictUndefined
    env.trim_blocks = True
    env.lstrip_blocks = True
    _zone_filters(app, site)
    access = PageAccess(site.web_token)
    secure_cookie = bool(site.public_url and site.public_url.startswith("https://"))
    common = site.common_context

    @app.before_request
    def guard() -> Response | None:
        if request.endpoint not in PROTECTED or not access.required:
            return None
        if access.allowed(request.environ, request.cookies):
            return None
        if access.query_token_matches(request.args.get("token")):
            if request.endpoint in DATA_PAGES or request.args.get("format") == "json":
                return None
            # Move the token out of the address: a cookie carries the session instead.
            target = request.script_root + without_token(
                request.path, request.args.to_dict(flat=False)
            )
            answer = redirect(target, 303)
            answer.set_cookie(
                COOKIE,
                access.session_value(),
                httponly=True,
                samesite="Strict",
                secure=secure_cookie or request.is_secure,
                path=request.script_root or "/",
            )
            answer.headers["Cache-Control"] = "no-store"
            return answer
        log.info(
            "refused %s: no valid web token (client %s)", request.path, client(request.environ)
        )
        headers = {"WWW-Authenticate": 'Bearer realm="gameday"', "Cache-Control": "no-store"}
        if request.endpoint in HTML_PAGES and wants_html():
            page = site.error_page(401, "This page needs the service's web token.")
            page.headers.update(headers)
            return page
        body = json.dumps({"error": "unauthorized"})
        return Response(body, status=401, mimetype="application/json", headers=headers)

    @app.errorhandler(GamedayError)
    def gameday_error(error: GamedayError) -> Response:
        if isinstance(error, NotFound | InvalidInput):
            code, message = (404 if isinstance(error, NotFound) else 400), str(error)
        elif isinstance(error, Unavailable):
            # Its message may name the database; the client hears only that it is down.
            log.warning("%s: %s", request.path, error)
            code, message = 503, "the database is unavailable; try again shortly"
        else:
            log.error("%s failed", request.path, exc_info=error)
            code, message = 500, "something went wrong on our side; it has been logged"
        json_asked = request.args.get("format") == "json" or (
            request.accept_mimetypes.best_match(["text/html", "application/json"])
            == "application/json"
        )
        html = request.endpoint in HTML_PAGES and not json_asked
        if html or (request.endpoint not in PROTECTED and wants_html()):
            return site.error_page(code, message)
        body = json.dumps({"error": message}, sort_keys=True)
        return Response(body, status=code, mimetype="application/json")

    def page(template: str, **values: Any) -> Response:
        html = render_template(template, **values, **common())
        return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})

    overview_page = RecentPage(site.pages.now, ttl=site.overview_ttl)

    @app.get("/")
    def index() -> Response:
        sources = site.pages.sources
        # Never stale: the kill switch, the pauses and the catalog (a reload).
        key = (
            sources.control.kill_switch_detail(),
            tuple(sources.control.pauses()),
            id(sources.catalog()),
            request.script_root,
        )

        def render() -> bytes:
            overview = site.pages.overview()
            return render_template("index.html.j2", overview=overview, **common()).encode()

        body = overview_page.get(key, render)
        return Response(body, mimetype="text/html", headers={"Cache-Control": "no-store"})

    @app.get("/runs")
    def runs() -> Response:
        query = history_query(
            schedule=request.args.get("schedule"),
            state=request.args.get("state"),
            since=request.args.get("since"),
            page=request.args.get("page"),
            limit=request.args.get("limit"),
            zone=site.timezone,
        )
        as_json = _wants_json()
        found = site.pages.history(query)
        if as_json:
            # Byte for byte what `gameday history --json` prints.
            listed = history_json(site.pages.sources.runs, found.runs)
            text = json.dumps(listed, indent=2, sort_keys=True)
            return Response(
                text + "\n", mimetype="application/json", headers={"Cache-Control": "no-store"}
            )
        catalog = site.pages.sources.catalog()
        return page(
            "runs.html.j2",
            history=found,
            args={k: v for k, v in request.args.items() if k not in ("token", "page")},
            schedules=sorted([*catalog.gamedays, *catalog.monkeys]),
            states=[s.value for s in RunState],
            since_text=request.args.get("since", ""),
        )

    def _export_of(run_id: int) -> tuple[dict[str, Any], Run]:
        if run_id > MAX_RUN_ID:
            raise NotFound(f"no run {run_id}")
        sources = site.pages.sources
        export = export_journal(sources.runs, sources.outbox, run_id)
        document = export_document(export, mask=site.mask_for(export.journal.run.runbook))
        return document, export.journal.run

    @app.get("/runs/<int:run_id>")
    def run_page(run_id: int) -> Response:
        document, run = _export_of(run_id)
        trend = trend_of(site.pages.sources.runs, run, site.zone)
        html = render(document, "html", site.zone, trend=trend)
        # The postmortem carries its own <style> (it is a standalone file too): allowed by
        # its hash, so no other inline style could run.
        hashes = [
            base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode()
            for m in _STYLE.finditer(html)
        ]
        headers = {"Content-Security-Policy": style_csp(hashes), "Cache-Control": "no-store"}
        return Response(html, mimetype="text/html", headers=headers)

    @app.get("/runs/<int:run_id>/journal.json")
    def run_journal(run_id: int) -> Response:
        document, _ = _export_of(run_id)
        text = render(document, "json", site.zone)
        return Response(text, mimetype="application/json", headers={"Cache-Control": "no-store"})

    @app.get("/schedules")
    def schedules() -> Response:
        number = request.args.get("page", "1")
        if not number.isdigit() or len(number) > 9:
            raise InvalidInput(f"page must be a whole number, not {number!r}")
        return page("schedules.html.j2", listing=site.pages.schedules(int(number)))

    @app.get("/schedules/<name>")
    def schedule(name: str) -> Response:
        return page("schedule.html.j2", view=site.pages.schedule(name))

    @app.get("/calendar.ics")
    def calendar() -> Response:
        days = feed_days(request.args.get("days"))
        wanted = request.args.get("schedule") or None
        now = site.pages.now()
        events = feed_events(
            site.pages.outlook, now, days=days, schedule=wanted, domain=site.uid_domain
        )
        base = site.public_url or (request.host_url.rstrip("/") + request.script_root)
        body = render_calendar(events, base_url=base, now=now)
        headers = {
            "Cache-Control": "no-store",
            "Content-Disposition": 'inline; filename="gameday.ics"',
        }
        return Response(body, mimetype="text/calendar", headers=headers)

    stylesheet: dict[str, bytes] = {}

    @app.get("/static/gameday.css")
    def stylesheet_view() -> Response:
        if "css" not in stylesheet:  # a template only so it ships with the package's *.j2
            stylesheet["css"] = app.jinja_env.get_template("gameday.css.j2").render().encode()
        return Response(
            stylesheet["css"], mimetype="text/css", headers={"Cache-Control": "max-age=3600"}
        )

    @app.get("/favicon.ico")
    @app.get("/static/favicon.svg")
    def favicon() -> Response:
        return Response(
            FAVICON, mimetype="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    app.jinja_env.globals["page_url"] = _page_url


def _page_url(endpoint: str, args: Mapping[str, Any], **changes: Any) -> str:
    """The address of `endpoint` with `args` and `changes` (None removes a parameter)."""
    merged = {**args, **changes}
    return url_for(endpoint, **{k: v for k, v in merged.items() if v not in (None, "")})
