"""What a health gate costs beyond the endpoint it asks.

A local server (a child process, so it does not share the client's interpreter) answers
like Prometheus' instant-query API. Side by side, interleaved in one run: the bare HTTP
exchange with `requests` (one Session, the body read and parsed: what any client pays for
the server's answer) and gameday's `HttpGateChecker.check` of a Prometheus gate over the
same server. The overhead of an evaluation is its latency minus that of the bare exchange
next to it; target p99 < 5 ms. Also the judging alone (no I/O), per evaluation.

    python -m bench gates [--evaluations 1000] [--series 10]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any

import requests

from bench._stats import latency_ms, percentile
from gameday.adapters.gates.http_checker import HttpGateChecker
from gameday.domain.gate_specs import GateSpec
from gameday.domain.gates import judge_prometheus

QUERY = 'sum by (instance) (rate(http_requests_total{code=~"5.."}[1m]))'


def _answer(series: int) -> bytes:
    result = [
        {"metric": {"instance": f"10.0.0.{i}:8080"}, "value": [1_700_000_000.0, "0.5"]}
        for i in range(series)
    ]
    body = {"status": "success", "data": {"resultType": "vector", "result": result}}
    return json.dumps(body).encode()


def _serve(series: int, conn: Connection) -> None:
    """Child process: answer every GET with the same instant-query body until stopped."""
    body = _answer(series)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Prometheus does
        # Headers and body leave in separate writes: without this, Nagle's algorithm and
        # the client's delayed ACK add 40 ms to every answer (Go's server sets it too).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    conn.send(server.server_address[1])
    server.serve_forever(poll_interval=0.1)


def run(args: list[str]) -> Iterable[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="python -m bench gates")
    parser.add_argument("--evaluations", type=int, default=1000)
    parser.add_argument("--series", type=int, default=10, help="series in each answer")
    opts = parser.parse_args(args)

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(opts.series, child), daemon=True
    )
    server.start()
    try:
        port = parent.recv()
        yield from _measure(f"http://127.0.0.1:{port}", opts)
    finally:
        server.terminate()
        server.join()


def _measure(url: str, opts: argparse.Namespace) -> Iterable[dict[str, Any]]:
    gate = GateSpec.model_validate(
        {"name": "errors", "prometheus": {"url": url, "query": QUERY, "max": 5}}
    )
    checker = HttpGateChecker({})
    session = requests.Session()
    endpoint = url + "/api/v1/query"

    def bare() -> float:
        began = time.perf_counter()
        answer = session.get(endpoint, params={"query": QUERY}, timeout=5)
        answer.json()
        return time.perf_counter() - began

    def gated() -> float:
        began = time.perf_counter()
        result = checker.check(gate)
        assert result.passed, result
        return time.perf_counter() - began

    for _ in range(100):  # warm up: connections, imports, caches
        bare()
        gated()
    bares: list[float] = []
    gates: list[float] = []
    for i in range(opts.evaluations):
        # Alternate which goes first so neither always follows the other's work.
        if i % 2:
            bares.append(bare())
            gates.append(gated())
        else:
            gates.append(gated())
            bares.append(bare())
    overhead = [g - b for g, b in zip(gates, bares, strict=True)]
    yield {"what": "bare requests exchange (peer)", "n": len(bares), **latency_ms(bares)}
    yield {"what": "HttpGateChecker.check", "n": len(gates), **latency_ms(gates)}
    p99 = percentile(overhead, 0.99) * 1000
    yield {
        "what": "overhead per evaluation (check - bare, pairwise)",
        "n": len(overhead),
        **latency_ms(overhead),
        "target_p99_ms": 5.0,
        "meets_target": p99 < 5.0,
    }
    body = json.loads(_answer(opts.series))
    check = gate.prometheus
    assert check is not None
    began = time.perf_counter()
    for _ in range(opts.evaluations):
        judge_prometheus(check, body)
    each = (time.perf_counter() - began) / opts.evaluations
    yield {"what": "judging alone (no I/O)", "n": opts.evaluations, "mean_us": round(each * 1e6, 2)}
    checker.close()
    session.close()
