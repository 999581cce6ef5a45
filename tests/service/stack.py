"""The assembled service as a team meets it: a real `gameday serve` process talking to the
fake Slack Web API and the fake Kubernetes API over HTTP, running real worker processes,
driven by requests signed as Slack signs them, by the CLI and by POST /halt.

A `Stack` holds the fakes, a home folder, the database serve writes (read back here) and
the serve processes started; it waits on conditions with deadlines, never on the clock.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from gameday.adapters.db import Database
from gameday.domain.lifecycle import is_final
from gameday.domain.runs import Run, RunEvent
from tests.execution.conftest import experiment, python_activity
from tests.fakes import kube_objects as ko
from tests.fakes.kube_api import FakeKubeApi, Request
from tests.fakes.slack_api import FakeSlackApi
from tests.service.serving import REPO, Home, Serve
from tests.slack.support import BOT_TOKEN, SIGNING_SECRET, SlackClient

HALT_TOKEN = "halt-token-for-tests"
ALICE, BOB, CAROL = "UALICE", "UBOB", "UCAROL"
OPT_IN = {"gameday.io/enabled": "true"}
CHANNEL = "#gameday"
CONTROLS = "tests.execution.controls"


def k8s(kind: str, name: str, module: str, func: str, **arguments: Any) -> dict[str, Any]:
    """A Chaos Toolkit activity calling an installed extension (chaosk8s)."""
    provider = {"type": "python", "module": module, "func": func, "arguments": arguments}
    return {"type": kind, "name": name, "provider": provider}


def gameday_extension(**fields: Any) -> dict[str, Any]:
    """A runbook's `gameday` extension entry."""
    return {"extensions": [{"name": "gameday", **fields}]}


@dataclass
class Stack:
    """The fakes, the home, the database and the serve processes of one test."""

    tmp: Path
    home: Home
    slack: FakeSlackApi
    kube: FakeKubeApi
    database_url: str
    kubeconfig: Path
    env: dict[str, str] = field(default_factory=dict)
    serves: list[Serve] = field(default_factory=list)
    _db: Database | None = None

    # -- the service -------------------------------------------------------------------
    def service_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment a team would give serve: Slack, the cluster, a halt token."""
        return {
            "GAMEDAY_SLACK_BOT_TOKEN": BOT_TOKEN,
            "GAMEDAY_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "GAMEDAY_SLACK_API_URL": self.slack.base_url,
            "GAMEDAY_KUBECONFIG": str(self.kubeconfig),
            "GAMEDAY_HALT_TOKEN": HALT_TOKEN,
            "GAMEDAY_DEFAULT_CHANNEL": CHANNEL,
            "GAMEDAY_PLAN_HORIZON_HOURS": "1",
            # CAROL runs GameDays (an operator); ALICE approves them.
            "GAMEDAY_SLACK_OPERATORS": f"{CAROL},{ALICE}",
            **self.env,
            **(extra or {}),
        }

    def serve(self, *, live: bool = False, env: Mapping[str, str] | None = None) -> Serve:
        """Start `gameday serve` (dry unless `live`) and wait until it leads and is ready."""
        serve = Serve(
            self.home,
            self.database_url,
            env=self.service_env(env),
            args=["--live"] if live else [],
        ).start()
        self.serves.append(serve)
        serve.wait_ready()
        return serve

    def client(self, serve: Serve) -> SlackClient:
        """Signed Slack requests to this serve's /slack/events."""
        return SlackClient(serve.url, lambda: self.slack.response_url)

    def halt_over_http(self, serve: Serve, reason: str) -> requests.Response:
        """POST /halt as a tool would."""
        return requests.post(
            serve.url + "/halt",
            headers={"Authorization": f"Bearer {HALT_TOKEN}"},
            json={"reason": reason, "actor": "pager"},
            timeout=10,
        )

    def cli(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """`gameday ARGS` on the same home and database, as an operator's shell runs it."""
        return subprocess.run(
            [sys.executable, "-m", "gameday", "--home", str(self.home.path), *args],
            env=self.cli_env(env),
            cwd=self.home.path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def cli_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a CLI command next to the service."""
        return {
            **os.environ,
            **self.service_env(extra),
            "GAMEDAY_DATABASE_URL": self.database_url,
            "GAMEDAY_CHAOSTOOLKIT_SETTINGS": str(self.home.path / "no-settings.yaml"),
            "PYTHONPATH": str(REPO),
        }

    # -- the database ------------------------------------------------------------------
    @property
    def db(self) -> Database:
        """The database serve writes (opened once serve has migrated it)."""
        if self._db is None:
            self._db = Database.open(self.database_url, upgrade=False)
        return self._db

    def runs(self) -> list[Run]:
        """Every run, oldest first."""
        return sorted(self.db.runs.list_runs(limit=1000), key=lambda r: r.id)

    def events(self, run_id: int) -> list[RunEvent]:
        return list(self.db.runs.events(run_id))

    def types(self, run_id: int) -> list[str]:
        return [e.type for e in self.events(run_id)]

    def wait_run(
        self,
        serve: Serve,
        what: str,
        check: Callable[[Run], bool],
        *,
        run_id: int | None = None,
        limit: float = 60.0,
    ) -> Run:
        """The first run (or run `run_id`) that passes `check`, waiting up to `limit`."""

        def found() -> Run | None:
            runs = self.runs() if run_id is None else [self.db.runs.get(run_id)]
            return next((r for r in runs if check(r)), None)

        run: Run = serve.wait(what, found, limit=limit)
        return run

    def wait_final(self, serve: Serve, run_id: int, *, limit: float = 60.0) -> Run:
        return self.wait_run(
            serve, f"run {run_id} to end", lambda r: is_final(r.state), run_id=run_id, limit=limit
        )

    # -- Slack -------------------------------------------------------------------------
    def anchor_ts(self, run_id: int) -> str | None:
        """The Slack ts of the run's first delivered message (its thread)."""
        for channel in {m.message.channel for m in self.messages(run_id)}:
            remote = self.db.outbox.thread_of(run_id, channel)
            if remote is not None:
                return remote.rpartition(":")[2]
        return None

    def messages(self, run_id: int) -> list[Any]:

        return self.db.outbox.of_run(run_id)

    def thread(self, run_id: int) -> list[str]:
        """The texts of the replies in the run's thread, in order."""
        ts = self.anchor_ts(run_id)
        return [m.get("text", "") for m in self.slack.posted() if ts and m.get("thread_ts") == ts]

    def anchor_updates(self, run_id: int) -> list[dict[str, Any]]:
        """Every chat.update of the run's first message, oldest first."""
        ts = self.anchor_ts(run_id)
        return [c.args for c in self.slack.calls_to("chat.update") if c.args.get("ts") == ts]

    def wait_thread(self, serve: Serve, run_id: int, part: str, limit: float = 30.0) -> list[str]:
        """Wait until a reply holding `part` is in the run's thread; the thread then."""

        def found() -> list[str] | None:
            texts = self.thread(run_id)
            return texts if any(part in t for t in texts) else None

        texts: list[str] = serve.wait(f"{part!r} in run {run_id}'s thread", found, limit=limit)
        return texts

    # -- the cluster -------------------------------------------------------------------
    def mutating(self) -> list[Request]:
        """Every POST/PUT/PATCH/DELETE the fake Kubernetes API received."""
        return self.kube.mutating_requests()

    def close(self) -> None:
        for serve in self.serves:
            serve.stop()
        if self._db is not None:
            self._db.close()


def buttons(blocks: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """The action ids of the buttons in a message's blocks."""
    return [
        e["action_id"]
        for b in blocks or []
        if b.get("type") == "actions"
        for e in b.get("elements", [])
    ]


def run_id_in(text: str) -> int:
    """The run number a reply names (`run #12`)."""
    match = re.search(r"#(\d+)", text)
    assert match, f"no run number in {text!r}"
    return int(match.group(1))


def at_in(seconds: float) -> str:
    """An `at:` value `seconds` from now (whole seconds, UTC)."""
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
    return when.isoformat()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """Fakes of Slack and Kubernetes over HTTP, a home with runbooks, an empty SQLite file.

    The cluster: `bookinfo` with three opted-in reviews pods, `payments` with two opted-in
    pods, and `kube-system` whose coredns pods are labelled opted-in too (protection must
    win over any label).
    """
    slack = FakeSlackApi(token=BOT_TOKEN).start()
    kube = FakeKubeApi().start()
    kube.put(*ko.workload("bookinfo", "reviews", replicas=3, labels={"app": "reviews", **OPT_IN}))
    kube.put(*ko.workload("payments", "ledger", replicas=2, labels={"app": "ledger", **OPT_IN}))
    kube.put(*ko.workload("kube-system", "coredns", replicas=2, labels={"app": "dns", **OPT_IN}))
    kube.clear_requests()
    kubeconfig = ko.write_kubeconfig(tmp_path / "kubeconfig", kube.url)
    home = Home(tmp_path / "home")
    built = Stack(
        tmp=tmp_path,
        home=home,
        slack=slack,
        kube=kube,
        database_url=f"sqlite:///{tmp_path / 'gameday.db'}",
        kubeconfig=kubeconfig,
    )
    try:
        yield built
    finally:
        built.close()
        kube.stop()
        slack.stop()


def write_runbook(home: Home, name: str, doc: Mapping[str, Any]) -> str:
    """Write runbook `name` (JSON) into the home; its name."""
    home.runbook(name, doc)
    return name


def quick_runbook(home: Home, name: str = "quick", **extension: Any) -> str:
    """A runbook whose one action appends to `ran-NAME.txt`; with a gameday extension."""
    doc = experiment(
        probes=[python_activity("probe", "ok", "value", value=1, tolerance=1)],
        method=[
            python_activity("action", "mark", "touch", path=str(home.evidence(f"ran-{name}.txt")))
        ],
        **(gameday_extension(**extension) if extension else {}),
    )
    return write_runbook(home, name, doc)


def schedule(home: Home, name: str, text: str) -> None:
    """Write schedules/NAME.yaml."""
    (home.path / "schedules" / f"{name}.yaml").write_text(text, encoding="utf-8")
