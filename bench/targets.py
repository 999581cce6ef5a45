"""Discovery, candidates and one selection over a large cluster served by the fake API server.

`python -m bench targets [--namespaces N] [--pods-per-namespace N] [--page-size N]`
The fake server runs in its own process so the peak RSS reported is the client side's
(what the gameday service would use); targets: under 5 s and 300 MB for 50,000 pods.
Wall time depends on how busy the machine is (the load average is reported with it); the
client's CPU time is the steadier number.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

PODS_PER_WORKLOAD = 10


def _serve(conn: Connection, namespaces: int, pods_per_namespace: int) -> None:
    from tests.fakes import kube_objects as ko
    from tests.fakes.kube_api import FakeKubeApi

    api = FakeKubeApi()
    workloads = max(1, pods_per_namespace // PODS_PER_WORKLOAD)
    for n in range(namespaces):
        namespace = f"team-{n:03d}"
        for w in range(workloads):
            # Half the workloads opt in on the Deployment, a few pods opt out on their own.
            labels = {"gameday.io/enabled": "true"} if w % 2 == 0 else {}
            objects = ko.workload(
                namespace, f"svc-{w:02d}", replicas=PODS_PER_WORKLOAD, labels=labels
            )
            if w % 5 == 0:
                objects[-1]["metadata"]["labels"]["gameday.io/enabled"] = "false"
            api.put(*objects)
    api.start()
    conn.send((api.url, len(api.names("pods"))))
    conn.recv()  # wait until told to stop
    api.stop()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(args: list[str]) -> Iterable[dict[str, Any]]:
    """Measure discovery + classification + one selection; yields one result."""
    parser = argparse.ArgumentParser(prog="python -m bench targets")
    parser.add_argument("--namespaces", type=int, default=500)
    parser.add_argument("--pods-per-namespace", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(args)

    from kubernetes import client

    from gameday.adapters.kubernetes.cluster import KubeCluster
    from gameday.domain.selection import select
    from gameday.domain.specs import MonkeySpec
    from gameday.services.targets import discover_targets, target_policy
    from gameday.settings import PROTECTED_NAMESPACES

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(
        target=_serve, args=(child, options.namespaces, options.pods_per_namespace), daemon=True
    )
    server.start()
    try:
        url, total = parent.recv()
        namespaces = [f"team-{n:03d}" for n in range(options.namespaces)]
        spec = MonkeySpec.model_validate(
            {
                "kind": "monkey",
                "name": "bench",
                "window": "always",
                "targets": {"namespaces": namespaces},
                "kill_mode": "fixed:3",
                "max_kills": 3,
            }
        )
        api_client = client.ApiClient(client.Configuration(host=url))
        cluster = KubeCluster(api_client, read_only=True, page_size=options.page_size)
        now = datetime.now(UTC) + timedelta(days=1)
        policy = target_policy(spec, PROTECTED_NAMESPACES | {"gameday"}, None)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu_before = _cpu()
        started = time.perf_counter()
        report = discover_targets(cluster, spec, policy, now)
        discovered = time.perf_counter()
        selection = select(
            report.candidates,
            kill_mode=spec.kill_mode,
            max_kills=spec.max_kills,
            rng=random.Random(options.seed),
            seed=options.seed,
        )
        finished = time.perf_counter()
        cpu = _cpu() - cpu_before
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        api_client.close()
    finally:
        parent.send("stop")
        server.join(timeout=10)
    yield {
        "pods": total,
        "namespaces": options.namespaces,
        "page_size": options.page_size,
        "candidates": len(report.candidates.candidates),
        "excluded": len(report.candidates.exclusions),
        "workloads": len(selection.groups),
        "picked": len(selection.picks),
        "discovery_seconds": round(discovered - started, 3),
        "selection_seconds": round(finished - discovered, 3),
        "total_seconds": round(finished - started, 3),
        "client_cpu_seconds": round(cpu, 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "peak_rss_mb": round(peak_kib / 1024, 1),
        "rss_before_mb": round(rss_before / 1024, 1),
        "target_seconds": 5,
        "target_rss_mb": 300,
    }
