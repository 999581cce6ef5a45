"""Stream what chaoslib does into a run's event log, as it happens.

A `RunEventHandler` receives chaoslib's callbacks on the thread that runs the experiment,
which is also where chaoslib's signal handlers raise to interrupt it. So the handler never
writes to the database itself: it puts redacted events on a `SimpleQueue` (safe to call
even when a signal interrupts) and a writer thread appends them in order.

An `activity_finished` event says whether the activity really ran (`dry`) and, for a
steady-state probe, whether its tolerance was met (`tolerance_met`): chaoslib judges the
tolerance only after the activity finished, so such an event waits for its steady state's
verdict, known when the next probe starts or the steady state is judged (and is written
without one if the run stops first).
"""

from __future__ import annotations

import json
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from chaoslib.run import RunEventHandler
from chaoslib.types import Dry

from gameday.adapters.chaostoolkit.redaction import Redactor, secret_values
from gameday.domain import execution as ex
from gameday.domain.drills import FAULT_STARTED

log = logging.getLogger("gameday.worker")

Append = Callable[[str, Mapping[str, Any]], object]
_OUTPUT_LIMIT = 2000


class EventWriter:
    """Appends queued events on its own thread, in the order they were queued.

    Rules: an event that cannot be written (the database is down) is retried with backoff
    until it is, and the events after it wait behind it, so the log keeps its order; once
    the run ends (`close`), retrying goes on up to `give_up_after` seconds, and an event
    still unwritten then is logged in full to the worker's log, never dropped silently.
    """

    def __init__(self, append: Append, *, give_up_after: float = 30.0) -> None:
        self._append = append
        self._give_up_after = give_up_after
        self._deadline: float | None = None
        self._queue: queue.SimpleQueue[tuple[str, Mapping[str, Any]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, name="gameday-events", daemon=True)
        self._thread.start()

    def put(self, type_: str, payload: Mapping[str, Any]) -> None:
        """Queue one event (never blocks, safe under signals)."""
        self._queue.put((type_, payload))

    def close(self) -> None:
        """Write everything queued so far, then stop the thread."""
        self._deadline = time.monotonic() + self._give_up_after
        self._queue.put(None)
        self._thread.join()

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            self._write(*item)

    def _write(self, type_: str, payload: Mapping[str, Any]) -> None:
        delay = 0.05
        attempt = 0
        while True:
            attempt += 1
            try:
                self._append(type_, payload)
                return
            except Exception:
                log.exception("could not record event %s (attempt %d)", type_, attempt)
            if self._deadline is not None and time.monotonic() >= self._deadline:
                log.error(
                    "event %s could not be recorded before the run ended; it was: %s",
                    type_,
                    json.dumps(payload, default=str),
                )
                return
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _trim(value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) > _OUTPUT_LIMIT:
        return text[:_OUTPUT_LIMIT] + "…"
    return value


class StreamingHandler(RunEventHandler):  # type: ignore[misc]
    """chaoslib callbacks -> gameday run events (see gameday.domain.execution)."""

    def __init__(
        self,
        writer: EventWriter,
        redactor: Redactor,
        secrets_source: Any,
        before_start: Callable[[], None] | None = None,
        dry: Any = None,
        drill: bool = False,
    ) -> None:
        self._writer = writer
        self._redactor = redactor
        self._secrets_source = secrets_source
        self._before_start = before_start
        self._dry = dry  # the experiment's chaoslib `dry` (its own value once started)
        self.phase = "setup"
        self.signal_exit_seen = False
        self.rollbacks_finished = False
        # A drill's fault starts at the method's first action (`fault_started`, once).
        self._drill_fault_pending = drill
        # By thread: the steady state being judged there (before, after, during) and the
        # activity_finished payloads waiting for its verdict. The continuous hypothesis
        # runs on a thread of its own, alongside the method. Keyed by the thread itself
        # (an ident may be reused once its thread ends); plain dict operations, no lock,
        # since a signal may interrupt any of these calls on the main thread.
        self._judging: dict[threading.Thread, str] = {}
        self._pending: dict[threading.Thread, list[dict[str, Any]]] = {}

    def emit(self, type_: str, payload: Mapping[str, Any] | None = None) -> None:
        """Queue one event with its payload redacted."""
        self._writer.put(type_, self._redactor.data(dict(payload or {})))

    # experiment
    def started(self, experiment: dict[str, Any], journal: dict[str, Any]) -> None:
        # chaoslib resolved the secrets just before this call (Runner.configure).
        self._redactor.add(secret_values(getattr(self._secrets_source, "secrets", None)))
        if self._before_start is not None:
            self._before_start()  # may raise SystemExit: a halt came before the start
        self._dry = experiment.get("dry")
        self.emit(ex.EXPERIMENT_STARTED, {"title": experiment.get("title")})

    def running(self, experiment: Any, journal: Any, configuration: Any, secrets: Any,
                schedule: Any, settings: Any) -> None:  # fmt: skip
        self._redactor.add(secret_values(secrets))

    def finish(self, journal: dict[str, Any]) -> None:
        self._flush_pending()
        deviated = bool(journal.get("deviated"))
        self.emit(
            ex.FINISHED,
            {
                "status": journal.get("status"),
                "deviated": deviated,
                "chaos_status": "deviated" if deviated else journal.get("status"),
                "duration": journal.get("duration"),
            },
        )

    def interrupted(self, experiment: Any, journal: Any) -> None:
        self._flush_pending()
        self.emit(ex.INTERRUPTED, {"by": "interrupt", "phase": self.phase})

    def signal_exit(self) -> None:
        self.signal_exit_seen = True
        self._flush_pending()
        self.emit(ex.INTERRUPTED, {"by": "signal", "phase": self.phase})

    # steady state
    def start_hypothesis_before(self, experiment: Any) -> None:
        self.phase = "hypothesis_before"
        self._judging[threading.current_thread()] = "before"
        self.emit(ex.STEADY_STATE_STARTED, {"phase": "before"})

    def hypothesis_before_completed(self, experiment: Any, state: Any, journal: Any) -> None:
        self._steady_state_done("before", state)

    def start_hypothesis_after(self, experiment: Any) -> None:
        self.phase = "hypothesis_after"
        self._judging[threading.current_thread()] = "after"
        self.emit(ex.STEADY_STATE_STARTED, {"phase": "after"})

    def hypothesis_after_completed(self, experiment: Any, state: Any, journal: Any) -> None:
        self._steady_state_done("after", state)

    def start_continuous_hypothesis(self, frequency: int) -> None:
        # Called on the thread that judges the steady state during the method, and only
        # ever does that.
        self._judging[threading.current_thread()] = "during"

    def continuous_hypothesis_iteration(self, iteration_index: int, state: Any) -> None:
        self._steady_state_done("during", state, iteration=iteration_index)

    def _steady_state_done(self, phase: str, state: Any, iteration: int | None = None) -> None:
        here = threading.current_thread()
        if phase != "during":
            self._judging.pop(here, None)
        runs = state.get("probes") if isinstance(state, Mapping) else None
        verdicts = [r.get("tolerance_met") for r in runs or [] if isinstance(r, Mapping)]
        pending = self._pending.get(here, [])
        # The probes still waiting are the last ones judged (see start_activity).
        first = len(verdicts) - len(pending)
        for i, waiting in enumerate(pending, start=first):
            waiting["tolerance_met"] = verdicts[i] if 0 <= i < len(verdicts) else None
        _drain(pending, self.emit)
        if not isinstance(state, Mapping):
            return
        probes = [
            {
                "name": (p.get("activity") or {}).get("name"),
                "status": p.get("status"),
                "tolerance_met": p.get("tolerance_met"),
            }
            for p in state.get("probes", [])
        ]
        payload: dict[str, Any] = {"phase": phase, "met": state.get("steady_state_met")}
        payload["probes"] = probes
        if iteration is not None:
            payload["iteration"] = iteration
        self.emit(ex.STEADY_STATE_FINISHED, payload)
        if state.get("steady_state_met") is False:
            missed = [p["name"] for p in probes if p["tolerance_met"] is False]
            # Before the method, chaoslib stops without running it and does not call that
            # a deviation (the system was not in its steady state to begin with).
            kind = ex.STEADY_STATE_NOT_MET if phase == "before" else ex.DEVIATED
            self.emit(kind, {"phase": phase, "probes": missed})

    # method
    def start_method(self, experiment: Any) -> None:
        self.phase = "method"
        self.emit(ex.METHOD_STARTED)

    def method_completed(self, experiment: Any, state: Any = None) -> None:
        self.emit(ex.METHOD_FINISHED)

    # rollbacks
    def start_rollbacks(self, experiment: Any) -> None:
        self.phase = "rollback"
        # A halt wants exactly these rollbacks: while they play, SIGUSR1 does nothing
        # (chaoslib would otherwise cut them short; the halt is in the run's events
        # already). SIGTERM still stops them: that is the hard stop. A Python handler,
        # not SIG_IGN, so processes the rollbacks start do not inherit it.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGUSR1, _halt_during_rollbacks)
        self.emit(ex.ROLLBACK_STARTED, {"count": len(experiment.get("rollbacks") or [])})

    def rollbacks_completed(self, experiment: Any, journal: Any) -> None:
        self.rollbacks_finished = True
        runs = journal.get("rollbacks") or []
        self.emit(
            ex.ROLLBACK_FINISHED,
            {"count": len(runs), "statuses": [r.get("status", "interrupted") for r in runs]},
        )

    # activities
    def start_activity(self, activity: Mapping[str, Any]) -> None:
        pending = self._pending.get(threading.current_thread())
        if pending:
            # chaoslib judges a steady state's probes one by one and stops at the first
            # that misses: when the next one starts, the previous ones met theirs.
            for payload in pending:
                payload["tolerance_met"] = True
            _drain(pending, self.emit)
        in_method = self.phase == "method" and self._phase_here() == "method"
        if self._drill_fault_pending and in_method and activity.get("type") == "action":
            self._drill_fault_pending = False
            self.emit(FAULT_STARTED, {"activity": activity.get("name")})
        self.emit(
            ex.ACTIVITY_STARTED,
            {
                "name": activity.get("name"),
                "type": activity.get("type"),
                "phase": self._phase_here(),
                "background": bool(activity.get("background")),
                "provider": (activity.get("provider") or {}).get("type"),
            },
        )

    def activity_completed(self, activity: Mapping[str, Any], run: Mapping[str, Any]) -> None:
        exception = run.get("exception")
        error = None
        if isinstance(exception, list) and exception:
            error = str(exception[-1]).strip()
        payload: dict[str, Any] = {
            "name": activity.get("name"),
            "type": activity.get("type"),
            "phase": self._phase_here(),
            # chaoslib records no status when a signal interrupted the activity
            "status": run.get("status", "interrupted"),
            "duration": run.get("duration"),
            "output": _trim(self._redactor.data(run.get("output"))),
            "error": error,
            "dry": _is_dry(activity, self._dry),
        }
        judging = self._judging.get(threading.current_thread())
        if judging is None:
            self.emit(ex.ACTIVITY_FINISHED, payload)
            return
        # A steady-state probe: its tolerance is judged next; the event waits for it.
        payload["steady_state"] = judging
        self._pending.setdefault(threading.current_thread(), []).append(payload)

    def _phase_here(self) -> str:
        judging = self._judging.get(threading.current_thread())
        return f"hypothesis_{judging}" if judging is not None else self.phase

    def _flush_pending(self) -> None:
        """Write the steady-state probes still waiting for a verdict that will not come
        (the run stopped while judging): their tolerance is unknown."""
        for pending in list(self._pending.values()):
            for payload in pending:
                payload.setdefault("tolerance_met", None)
            _drain(pending, self.emit)


def _drain(pending: list[dict[str, Any]], emit: Callable[[str, Mapping[str, Any]], None]) -> None:
    """Emit each pending activity_finished, removing it only once emitted: a signal that
    interrupts this loop may repeat an event, never lose one."""
    while pending:
        emit(ex.ACTIVITY_FINISHED, pending[0])
        del pending[0]


def _is_dry(activity: Mapping[str, Any], experiment_dry: Any) -> bool:
    """Whether chaoslib skipped the activity (its provider was not called), by chaoslib's
    own rule: the activity's `dry`, else the experiment's, against the activity's type."""
    dry = activity.get("dry", experiment_dry)
    kind = activity.get("type")
    return (
        dry == Dry.ACTIVITIES
        or (dry == Dry.ACTIONS and kind == "action")
        or (dry == Dry.PROBES and kind == "probe")
    )


def _halt_during_rollbacks(signum: int, frame: object) -> None:
    """SIGUSR1 while the rollbacks play: nothing to interrupt."""
