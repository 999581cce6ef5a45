"""`python -m bench slack`: ack latency of `/gameday status` over real HTTP.

2,000 signed requests (default) at concurrency 32 against waitress serving the web app of
`gameday serve` (the real gameday Bolt app behind its intake; SQLite database, a catalog
with one GameDay and one monkey), and the same against a bare Bolt app with one no-op
command under Bolt's own WSGI adapter on the same server, in the same run. Reports p50/p99
latency and throughput of each and their ratio.

Options: --requests N, --concurrency C, --threads T (waitress threads), --text TEXT
(the command's text, default `status`).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import logging
import multiprocessing
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from pydantic import SecretStr
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from bench._stats import percentile
from gameday import wiring
from gameday.adapters.observability.health import Health
from gameday.adapters.observability.metrics import Metrics
from gameday.settings import Settings
from gameday.web.app import create_app
from gameday.web.server import HttpServer

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"

RUNBOOK = """\
title: Nothing happens
description: Only checks a steady state.
steady-state-hypothesis:
  title: Always fine
  probes:
    - type: probe
      name: ok
      tolerance: 0
      provider: {type: process, path: "true"}
method: []
"""
SCHEDULES = """\
kind: window
name: office
timezone: Europe/Berlin
---
kind: gameday
name: noop-weekly
runbook: runbooks/noop.yaml
cron: "0 14 * * wed"
window: office
approval: {approvers: {users: [UALICE, UBOB]}, quorum: 2}
---
kind: monkey
name: noop-monkey
window: office
targets: {namespaces: [bookinfo]}
"""


def _body(text: str) -> bytes:
    return urlencode(
        {
            "team_id": "T0BENCH",
            "user_id": "UBENCH",
            "command": "/gameday",
            "text": text,
            "channel_id": "C0BENCH",
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": "1.2.3",
        }
    ).encode()


def _signed(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def _bare_app() -> App:
    def authorize(enterprise_id: str | None, team_id: str | None, **_: Any) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=TOKEN)

    app = App(
        signing_secret=SECRET,
        authorize=authorize,
        client=WebClient(base_url="http://127.0.0.1:9/api/"),
        process_before_response=True,
    )

    @app.command("/gameday")
    def noop(ack: Ack) -> None:
        ack()

    return app


def _measure(
    url: str, requests_total: int, concurrency: int, text: str = "status"
) -> tuple[list[float], float, int]:
    body = _body(text)
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    local = __import__("threading").local()

    def one(_: int) -> tuple[float, int]:
        # http.client with one keep-alive connection per client thread: the lightest
        # client the standard library offers, so the load generator steals little CPU.
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(host, port, timeout=30)
        headers = _signed(body)  # signed per request, like Slack (timestamps move)
        start = time.perf_counter()
        conn.request("POST", "/slack/events", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return time.perf_counter() - start, response.status

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(min(200, requests_total))))  # warm up
        started = time.perf_counter()
        results = list(pool.map(one, range(requests_total)))
        elapsed = time.perf_counter() - started
    errors = sum(1 for _, status in results if status != 200)
    return [latency for latency, _ in results], elapsed, errors


def _summary(name: str, latencies: list[float], elapsed: float, errors: int) -> dict[str, Any]:
    return {
        "app": name,
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
    }


def _server_main(kind: str, home: str, threads: int, conn: Connection) -> None:
    """Child process: serve one app until told to stop (keeps the GIL away from the client)."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if kind == "gameday":
        settings = Settings(
            home=Path(home),
            slack_bot_token=SecretStr(TOKEN),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url="http://127.0.0.1:9/api/",
        )
        catalog = wiring.load_catalog(Path(home)).require_valid()
        database = wiring.database_for(settings)
        runtime = wiring.slack_for(settings, database=database, catalog=lambda: catalog)
        app = create_app(Health(mode="sqlite-file-lock"), Metrics().exposition, slack=runtime.app)
    else:
        app = SlackRequestHandler(_bare_app())
    assert app is not None
    server = HttpServer(app, threads=threads)
    conn.send(server.url)
    conn.recv()
    server.stop()


@contextmanager
def _served(kind: str, home: Path, threads: int) -> Iterator[str]:
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_server_main, args=(kind, str(home), threads, child))
    process.start()
    try:
        if not parent.poll(60):
            raise RuntimeError(f"the {kind} server did not start")
        yield str(parent.recv())
    finally:
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()


def run(args: list[str]) -> Iterable[dict[str, Any]]:
    """Run the benchmark; yields one result per app and one comparison."""
    parser = argparse.ArgumentParser(prog="python -m bench slack")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--text", default="status", help="the command's text (default: status)")
    opts = parser.parse_args(args)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "runbooks").mkdir()
        (home / "schedules").mkdir()
        (home / "runbooks" / "noop.yaml").write_text(RUNBOOK)
        (home / "schedules" / "all.yaml").write_text(SCHEDULES)
        results = []
        for name in ("gameday", "bare_bolt"):
            with _served(name, home, opts.threads) as url:
                latencies, elapsed, errors = _measure(
                    url, opts.requests, opts.concurrency, opts.text
                )
            summary = _summary(name, latencies, elapsed, errors)
            summary.update(concurrency=opts.concurrency, server_threads=opts.threads)
            results.append(summary)
            yield summary
    ours, bare = results
    yield {
        "app": "ratio_gameday_to_bare",
        "p50_ratio": round(ours["p50_ms"] / bare["p50_ms"], 2),
        "p99_ratio": round(ours["p99_ms"] / bare["p99_ms"], 2),
        "throughput_ratio": round(ours["throughput_rps"] / bare["throughput_rps"], 2),
    }
