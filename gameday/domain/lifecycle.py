"""The run lifecycle: the one table of allowed state changes.

```
planned -> announced -> awaiting_approval -> approved -> running -> completed | deviated
                                                                   | failed | aborted
                                  awaiting_approval -> rejected | expired
planned / announced / awaiting_approval / approved -> skipped      (window closed, kill
                                                                    switch, paused, no targets)
running -> interrupted                                              (process died; recovery
                                                                    rolled back)
```

Shortcuts the product needs, beyond the plain drawing:

- planned -> awaiting_approval: an ad-hoc run asks for approval without a prior announcement.
- planned -> approved and announced -> approved: no approval policy, so the run is approved
  as soon as it is planned or announced (a monkey kill after its heads-up passes unvetoed).
- announced -> rejected: a veto during a monkey kill's heads-up (anyone in the channel may
  veto; no approval was asked for).
- awaiting_approval -> skipped: the kill switch or a pause lands while approval is pending;
  the run must not wait for a deadline that no longer matters.

Every other move is illegal. States without outgoing moves are final.
"""

from __future__ import annotations

from types import MappingProxyType

from gameday.domain.errors import IllegalTransition
from gameday.domain.runs import RunState

_S = RunState

TRANSITIONS: MappingProxyType[RunState, frozenset[RunState]] = MappingProxyType(
    {
        _S.PLANNED: frozenset({_S.ANNOUNCED, _S.AWAITING_APPROVAL, _S.APPROVED, _S.SKIPPED}),
        _S.ANNOUNCED: frozenset({_S.AWAITING_APPROVAL, _S.APPROVED, _S.REJECTED, _S.SKIPPED}),
        _S.AWAITING_APPROVAL: frozenset({_S.APPROVED, _S.REJECTED, _S.EXPIRED, _S.SKIPPED}),
        _S.APPROVED: frozenset({_S.RUNNING, _S.SKIPPED}),
        _S.RUNNING: frozenset({_S.COMPLETED, _S.DEVIATED, _S.FAILED, _S.ABORTED, _S.INTERRUPTED}),
        _S.COMPLETED: frozenset(),
        _S.DEVIATED: frozenset(),
        _S.FAILED: frozenset(),
        _S.ABORTED: frozenset(),
        _S.REJECTED: frozenset(),
        _S.EXPIRED: frozenset(),
        _S.SKIPPED: frozenset(),
        _S.INTERRUPTED: frozenset(),
    }
)

FINAL_STATES: frozenset[RunState] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
ACTIVE_STATES: frozenset[RunState] = frozenset(RunState) - FINAL_STATES


def is_final(state: RunState) -> bool:
    """True when a run in `state` never changes again."""
    return state in FINAL_STATES


def check_transition(src: RunState, dst: RunState) -> None:
    """Raise IllegalTransition unless the lifecycle allows `src -> dst`."""
    allowed = TRANSITIONS[src]
    if dst in allowed:
        return
    if not allowed:
        raise IllegalTransition(
            f"a run that is {src.value} cannot become {dst.value}: {src.value} is final"
        )
    options = ", ".join(sorted(s.value for s in allowed))
    raise IllegalTransition(
        f"a run that is {src.value} cannot become {dst.value} (allowed: {options})"
    )
