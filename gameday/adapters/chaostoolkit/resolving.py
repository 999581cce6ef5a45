"""Resolving a drill inside its worker: the method ends early, the rest of the run goes on.

When responders resolve a drill, its supervisor sends RESOLVE_SIGNAL. chaoslib has no way
to end a method early and still judge the steady state after it: each of its own exits
(SIGUSR1, SIGUSR2, SIGTERM, `InterruptExecution`) marks the journal `interrupted` and skips
the hypothesis after the method, and an ordinary exception in the method marks it
`aborted`, which skips it as well. So for the length of the run, `chaoslib.run.run_method`
(which `Runner._run` looks up by name at each call) is wrapped:

- the signal raises `_Resolved` (a BaseException: chaoslib's activity and handler code
  catches only Exception subclasses, so it unwinds the activity, a pause or a provider call
  included, with their `finally` blocks) only while the method runs, and only once;
- the wrapper catches it and returns the method's runs as if it had finished, so chaoslib
  judges the steady state after the method and plays the rollbacks; the run ends
  `completed` or `deviated` per that hypothesis, never `aborted`;
- a resolve that arrives before the method skips it (nothing was injected); one that
  arrives after it does nothing (the steady state and rollbacks are under way already).

Limit: a `background: true` activity is not interrupted (it runs on chaoslib's thread pool,
which chaoslib waits for before the rollbacks); a drill should hold its fault in the
foreground (an action followed by a pause, or a probe that waits).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gameday.adapters.chaostoolkit import protocol as wp


class _Resolved(BaseException):
    """Raised by RESOLVE_SIGNAL on the main thread while a drill's method runs."""


class MethodResolver:
    """Ends the method when RESOLVE_SIGNAL arrives (see the module docstring).

    `on_resolved(when)` records it: `when` is "method" (cut short), "before_method" (skipped)
    or "after_method" (it had just finished).
    """

    def __init__(self, on_resolved: Callable[[str], None]) -> None:
        self._on_resolved = on_resolved
        self.requested = False
        self._in_method = False

    def _signalled(self, signum: int, frame: object) -> None:
        if self.requested:
            return
        self.requested = True
        if self._in_method:
            raise _Resolved

    @contextmanager
    def installed(self) -> Iterator[MethodResolver]:
        """Listen for RESOLVE_SIGNAL and wrap chaoslib's method runner, for one run."""
        import chaoslib.run as chaos_run

        original = chaos_run.run_method

        def run_method(*args: Any) -> Any:
            return self._run_method(original, *args)

        previous = signal.signal(wp.RESOLVE_SIGNAL, self._signalled)
        chaos_run.run_method = run_method
        try:
            yield self
        finally:
            chaos_run.run_method = original
            signal.signal(wp.RESOLVE_SIGNAL, previous)

    def _run_method(self, original: Callable[..., Any], *args: Any) -> Any:
        # chaoslib's signature: (strategy, activity_pool, experiment, journal,
        # configuration, secrets, event_registry, dry).
        experiment, journal, event_registry = args[2], args[3], args[6]
        if self.requested:
            event_registry.start_method(experiment)
            journal["run"] = []
            event_registry.method_completed(experiment, [])
            self._on_resolved("before_method")
            return []
        finished = False
        try:
            self._in_method = True
            if self.requested:  # arrived between the check above and this line
                raise _Resolved
            result = original(*args)
            finished = True  # chaoslib told its handlers the method completed
            self._in_method = False
            return result
        except _Resolved:
            self._in_method = False
            runs = journal.get("run") or []
            if not finished:
                event_registry.method_completed(experiment, runs)
            self._on_resolved("after_method" if finished else "method")
            return runs
