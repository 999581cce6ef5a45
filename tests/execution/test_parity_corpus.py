"""A corpus of experiments, one per construct of the Chaos Toolkit format, each run through
the real `gameday run RUNBOOK --live --json` and through `chaos run`: both must end with
the same status and deviation, play the same rollbacks with the same statuses, run the same
activities and leave the same evidence (files the activities and controls write).

Every case sets `runtime.rollbacks.strategy` because gameday's default (`always`) is not
chaoslib's (`default`); the last test shows that difference on purpose.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from gameday.adapters.db import Database
from tests.execution.conftest import PROVIDERS, REPO, experiment, python_activity, sqlite_copy

CONTROLS = "tests.execution.controls"
ENV_TOKEN = "t0ken-from-the-environment"
FILE_TOKEN = "t0ken-from-a-var-file"


@pytest.fixture
def db_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """SQLite only: the comparison with `chaos run` does not depend on the database."""
    return sqlite_copy(tmp_path, _sqlite_template)


@dataclass(frozen=True)
class Case:
    """An experiment built in an evidence folder, with what both commands are given:
    arguments (`{dir}` is the folder holding `files`), files and environment."""

    build: Callable[[Path], dict[str, Any]]
    args: Sequence[str] = ()
    files: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    # (status, deviated, rollbacks) chaoslib is documented to give, so a case where both
    # commands went wrong the same way does not pass unnoticed.
    expect: tuple[str, bool, list[tuple[str, str]]] | None = None
    needs: str | None = None  # an optional library chaoslib needs for this case


def doc(
    *,
    rollbacks: str = "default",
    hypothesis: str | None = None,
    probes: Sequence[Mapping[str, Any]] = (),
    method: Sequence[Mapping[str, Any]] = (),
    undo: Sequence[Mapping[str, Any]] = (),
    **extra: Any,
) -> dict[str, Any]:
    """An experiment with its runtime strategies set explicitly."""
    runtime: dict[str, Any] = {"rollbacks": {"strategy": rollbacks}}
    if hypothesis is not None:
        runtime["hypothesis"] = {"strategy": hypothesis}
    return experiment(probes=probes, method=method, rollbacks=undo, runtime=runtime, **extra)


def touch(name: str, ev: Path, file: str, **more: Any) -> dict[str, Any]:
    """An action appending a line to `file` in the evidence folder."""
    extra = {k: v for k, v in more.items() if k in ("pauses", "background", "controls")}
    arguments = {k: v for k, v in more.items() if k not in extra}
    return {**python_activity("action", name, "touch", path=str(ev / file), **arguments), **extra}


def answer(tolerance: Any = 42, value: Any = 42, name: str = "answer") -> dict[str, Any]:
    return python_activity("probe", name, "value", tolerance=tolerance, value=value)


def undo(ev: Path) -> dict[str, Any]:
    return touch("undo", ev, "undone")


def tracker(ev: Path, log: str) -> dict[str, Any]:
    """The test control (tests/execution/controls.py), logging to `log`."""
    arguments = {"path": str(ev / log)}
    return {
        "name": "tracker",
        "provider": {"type": "python", "module": CONTROLS, "arguments": arguments},
    }


def drifting(
    ev: Path, tolerance: Any = "ok", good: Any = "ok", bad: Any = "broken", **runtime: Any
) -> dict[str, Any]:
    """A steady state read from `state.json` (`good` before), which the method sets to
    `bad`: the steady state after is judged against `tolerance`."""
    state = ev / "state.json"
    state.write_text(json.dumps(good), encoding="utf-8")
    return doc(
        probes=[python_activity("probe", "state", "load", tolerance=tolerance, path=str(state))],
        method=[python_activity("action", "drift", "store", path=str(state), value=bad)],
        undo=[undo(ev)],
        **runtime,
    )


def failing(ev: Path, **runtime: Any) -> dict[str, Any]:
    """A steady state whose probe raises before the method (the run fails)."""
    return doc(
        probes=[python_activity("probe", "unreachable", "broken", tolerance=True)],
        method=[touch("poke", ev, "poked")],
        undo=[undo(ev)],
        **runtime,
    )


def completed(ev: Path, **runtime: Any) -> dict[str, Any]:
    return doc(probes=[answer()], method=[touch("poke", ev, "poked")], undo=[undo(ev)], **runtime)


def refs(ev: Path) -> dict[str, Any]:
    return doc(
        rollbacks="always",
        probes=[answer(), {"ref": "answer", "tolerance": 42}],
        method=[touch("poke", ev, "poked"), {"ref": "poke"}, {"ref": "answer"}],
        undo=[undo(ev), {"ref": "poke"}],
    )


def ref_missing_its_tolerance(ev: Path) -> dict[str, Any]:
    return doc(probes=[answer(), {"ref": "answer", "tolerance": 41}], method=[touch("p", ev, "p")])


def pauses(ev: Path) -> dict[str, Any]:
    return doc(
        rollbacks="always",
        probes=[{**answer(), "pauses": {"after": 0.1}}],
        method=[touch("slow", ev, "slow", pauses={"before": 0.1, "after": 0.1})],
        undo=[touch("undo", ev, "undone", pauses={"before": 0.1})],
    )


def background(ev: Path) -> dict[str, Any]:
    return doc(
        rollbacks="always",
        probes=[answer()],
        method=[
            touch("a", ev, "a", background=True),
            touch("b", ev, "b", background=True),
            touch("c", ev, "c"),
        ],
        undo=[touch("undo a", ev, "undo-a", background=True), touch("undo b", ev, "undo-b")],
    )


def controls(ev: Path) -> dict[str, Any]:
    """A control for the whole experiment and another for one activity only."""
    watcher = {**tracker(ev, "activity-controls.log"), "name": "watcher"}
    return doc(
        rollbacks="always",
        probes=[answer()],
        method=[touch("plain", ev, "plain"), touch("watched", ev, "watched", controls=[watcher])],
        undo=[undo(ev)],
        controls=[tracker(ev, "controls.log")],
    )


def environment(ev: Path) -> dict[str, Any]:
    return doc(
        configuration={
            "who": {"type": "env", "key": "GD_PARITY_WHO"},
            "where": {"type": "env", "key": "GD_PARITY_NEVER_SET", "default": "nowhere"},
        },
        secrets={"api": {"token": {"type": "env", "key": "GD_PARITY_TOKEN"}}},
        probes=[answer(tolerance="alice", value="${who}", name="who")],
        method=[{**touch("use", ev, "used", text="${who} ${where} ${token}"), "secrets": ["api"]}],
    )


def configured(ev: Path) -> dict[str, Any]:
    """Configuration and a secret the command line may override."""
    return doc(
        configuration={
            "who": "nobody",
            "n": 1,
            "from_env": {"type": "env", "key": "GD_PARITY_DOT_ENV", "default": "unset"},
        },
        secrets={"api": {"token": "placeholder"}},
        probes=[answer(tolerance=7, value="${n}", name="n")],
        method=[
            {**touch("use", ev, "used", text="${who} ${from_env} ${token}"), "secrets": ["api"]}
        ],
    )


def probe_tolerance(minimum: int) -> dict[str, Any]:
    provider = {
        "type": "python",
        "module": PROVIDERS,
        "func": "at_least",
        "arguments": {"value": None, "minimum": minimum},
    }
    return {"type": "probe", "name": "big enough", "provider": provider}


def drift(tolerance: Any, good: Any, bad: Any) -> Case:
    """The steady state meets `tolerance` with `good` and misses it with `bad`: deviated."""
    return Case(
        lambda ev: drifting(ev, tolerance, good, bad),
        expect=("completed", True, [("undo", "succeeded")]),
    )


CORPUS: dict[str, Case] = {
    "ref-activities": Case(
        refs, expect=("completed", False, [("poke", "succeeded"), ("undo", "succeeded")])
    ),
    "ref-missing-its-tolerance": Case(ref_missing_its_tolerance, expect=("completed", False, [])),
    "pauses": Case(pauses),
    "background-activities": Case(background),
    "controls": Case(controls),
    "rollbacks-default-after-failure": Case(
        lambda ev: failing(ev, rollbacks="default"), expect=("failed", False, [])
    ),
    "rollbacks-default-after-deviation": Case(
        lambda ev: drifting(ev, rollbacks="default"),
        expect=("completed", True, [("undo", "succeeded")]),
    ),
    "rollbacks-always-after-failure": Case(
        lambda ev: failing(ev, rollbacks="always"),
        expect=("failed", False, [("undo", "succeeded")]),
    ),
    "rollbacks-never-after-deviation": Case(
        lambda ev: drifting(ev, rollbacks="never"), expect=("completed", True, [])
    ),
    "rollbacks-deviated-after-deviation": Case(
        lambda ev: drifting(ev, rollbacks="deviated"),
        expect=("completed", True, [("undo", "succeeded")]),
    ),
    "rollbacks-deviated-when-completed": Case(
        lambda ev: completed(ev, rollbacks="deviated"), expect=("completed", False, [])
    ),
    "hypothesis-before-method-only": Case(
        lambda ev: drifting(ev, hypothesis="before-method-only"),
        expect=("completed", False, [("undo", "succeeded")]),
    ),
    "hypothesis-after-method-only": Case(
        lambda ev: drifting(ev, hypothesis="after-method-only"),
        expect=("completed", True, [("undo", "succeeded")]),
    ),
    "hypothesis-during-method-only": Case(lambda ev: drifting(ev, hypothesis="during-method-only")),
    "hypothesis-continuously": Case(lambda ev: drifting(ev, hypothesis="continuously")),
    "env-configuration-and-secrets": Case(
        environment, env={"GD_PARITY_WHO": "alice", "GD_PARITY_TOKEN": ENV_TOKEN}
    ),
    "tolerance-bool": drift(True, True, False),
    "tolerance-int": drift(42, 42, 41),
    "tolerance-string": drift("ok", "ok", "nope"),
    "tolerance-list": drift(["a", "b", "c"], "b", "z"),
    "tolerance-list-bounds": drift([1, 10], 5, 11),
    "tolerance-range-target": drift(
        {"type": "range", "range": [1, 10], "target": "n"}, {"n": 5}, {"n": 11}
    ),
    "tolerance-regex": drift({"type": "regex", "pattern": "^he.lo$"}, "hello", "bye"),
    "tolerance-jsonpath": replace(
        drift(
            {"type": "jsonpath", "path": "$.items[*].ok", "expect": [True, True]},
            {"items": [{"ok": True}, {"ok": True}]},
            {"items": [{"ok": True}, {"ok": False}]},
        ),
        needs="jsonpath2",  # chaostoolkit-lib's `jsonpath` extra
    ),
    "tolerance-probe": drift(probe_tolerance(10), 12, 3),
    "var": Case(configured, args=["--var", "who=carol", "--var", "n:int=7"]),
    "var-file-json": Case(
        configured,
        args=["--var-file", "{dir}/vars.json"],
        files={
            "vars.json": json.dumps(
                {
                    "configuration": {"who": "dana", "n": 7},
                    "secrets": {"api": {"token": FILE_TOKEN}},
                }
            )
        },
    ),
    "var-file-yaml-env-and-var": Case(
        configured,
        args=[
            "--var-file",
            "{dir}/vars.yaml",
            "--var-file",
            "{dir}/vars.env",
            "--var",
            "who=frank",
        ],
        files={
            "vars.yaml": "configuration:\n  who: erin\n  n: 7\n",
            "vars.env": "# for env configuration\nGD_PARITY_DOT_ENV=from-the-env-file\n",
        },
    ),
}


@dataclass(frozen=True)
class Outcome:
    """What one command did with one experiment."""

    status: str
    deviated: bool
    steady_states: tuple[Any, Any]
    method: list[tuple[str, str]]
    rollbacks: list[tuple[str, str]]
    evidence: dict[str, list[str]]
    exit_code: int


def _runs(items: Any) -> list[tuple[str, str]]:
    # Background activities finish in any order.
    return sorted((r["activity"]["name"], r.get("status", "interrupted")) for r in items or [])


def outcome(journal: Mapping[str, Any], evidence: Path, exit_code: int) -> Outcome:
    states = journal.get("steady_states") or {}
    met = tuple((states.get(p) or {}).get("steady_state_met") for p in ("before", "after"))
    return Outcome(
        status=journal["status"],
        deviated=bool(journal.get("deviated")),
        steady_states=(met[0], met[1]),
        method=_runs(journal.get("run")),
        rollbacks=_runs(journal.get("rollbacks")),
        # Lines of background activities and their controls arrive in any order.
        evidence={
            f.name: sorted(f.read_text(encoding="utf-8").splitlines())
            for f in sorted(evidence.iterdir())
        },
        exit_code=exit_code,
    )


def prepare(root: Path, case: Case) -> tuple[dict[str, Any], list[str], Path]:
    """The experiment, the arguments and the evidence folder of one side."""
    evidence = root / "evidence"
    evidence.mkdir(parents=True)
    for name, text in case.files.items():
        (root / name).write_text(text, encoding="utf-8")
    args = [a.replace("{dir}", str(root)) for a in case.args]
    return case.build(evidence), args, evidence


@dataclass(frozen=True)
class Ran:
    """One command's exit code, output and journal (None when it wrote none)."""

    code: int
    out: str
    err: str
    journal: dict[str, Any] | None
    evidence: Path

    def outcome(self) -> Outcome:
        assert self.journal is not None, self.err
        return outcome(self.journal, self.evidence, self.code)


def run_both(tmp_path: Path, db_url: str, name: str, case: Case) -> tuple[Ran, Ran]:
    """Run the case through gameday and through chaos at the same time."""
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    our_doc, our_args, our_evidence = prepare(ours, case)
    their_doc, their_args, their_evidence = prepare(theirs, case)
    home = ours / "home"
    (home / "runbooks").mkdir(parents=True)
    (home / "runbooks" / f"{name}.json").write_text(json.dumps(our_doc), encoding="utf-8")
    source = theirs / "experiment.json"
    source.write_text(json.dumps(their_doc), encoding="utf-8")
    journal_path = theirs / "journal.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), **case.env}
    gameday = subprocess.Popen(
        [sys.executable, "-m", "gameday", "--home", str(home), "run", name, "--live", "--json",
         *our_args],
        env={**env, "GAMEDAY_DATABASE_URL": db_url,
             "GAMEDAY_CHAOSTOOLKIT_SETTINGS": str(ours / "none.yaml")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    chaos = subprocess.Popen(
        [sys.executable, "-m", "chaostoolkit", "--no-version-check", "--no-log-file",
         "--settings", str(theirs / "none.yaml"),
         "run", "--journal-path", str(journal_path), *their_args, str(source)],
        cwd=theirs, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    our_out, our_err = gameday.communicate(timeout=120)
    their_out, their_err = chaos.communicate(timeout=120)

    our_journal = None
    if our_out:
        database = Database.open(db_url, upgrade=False)
        try:
            our_journal = database.runs.journal(json.loads(our_out)["run_id"])
        finally:
            database.close()
    their_journal = None
    if journal_path.exists():
        their_journal = json.loads(journal_path.read_text(encoding="utf-8"))
    return (
        Ran(gameday.returncode, our_out, our_err, our_journal, our_evidence),
        Ran(chaos.returncode, their_out, their_err, their_journal, their_evidence),
    )


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_gameday_run_does_what_chaos_run_does(tmp_path: Path, db_url: str, name: str) -> None:
    case = CORPUS[name]
    ours, theirs = run_both(tmp_path, db_url, name, case)

    if case.needs is not None and importlib.util.find_spec(case.needs) is None:
        # Without the optional library both refuse the experiment, naming it.
        assert (ours.code, ours.journal, theirs.code, theirs.journal) == (2, None, 1, None)
        assert case.needs in ours.err
        assert case.needs in theirs.out + theirs.err
        return
    assert ours.code in (0, 1), ours.err
    assert ours.outcome() == theirs.outcome()
    if case.expect is not None:
        found = ours.outcome()
        assert (found.status, found.deviated, found.rollbacks) == case.expect


def test_without_a_strategy_gameday_rolls_back_where_chaos_does_not(
    tmp_path: Path, db_url: str
) -> None:
    # gameday's documented default is `always`: a failed GameDay must not leave its fault.
    def unset(ev: Path) -> dict[str, Any]:
        built = failing(ev)
        del built["runtime"]
        return built

    ran = run_both(tmp_path, db_url, "no-strategy", Case(unset))
    ours, theirs = ran[0].outcome(), ran[1].outcome()

    assert (ours.status, theirs.status) == ("failed", "failed")
    assert ours.rollbacks == [("undo", "succeeded")]
    assert theirs.rollbacks == []
    assert ours.evidence["undone"] == ["ran"]
    assert "undone" not in theirs.evidence
