"""Gate specs for the gate tests, built from dicts as a spec file would give them."""

from __future__ import annotations

from typing import Any

from gameday.domain.gate_specs import GateSpec


def gate(name: str = "g", **fields: Any) -> GateSpec:
    """A gate spec as `gates: [{name: ..., **fields}]` gives it."""
    return GateSpec.model_validate({"name": name, **fields})
