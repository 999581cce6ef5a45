"""Layer rules import-linter cannot express: the pure layers may use APScheduler's triggers
(pure functions of time) but not its schedulers, job stores or executors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "gameday"
PURE_LAYERS = ("domain", "services")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("layer", PURE_LAYERS)
def test_pure_layers_use_only_apscheduler_triggers(layer: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT.parent)} imports {name}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] == "apscheduler" and not name.startswith("apscheduler.triggers")
    ]
    assert offenders == []


def test_the_check_sees_modules() -> None:
    # Guard against the check passing vacuously because it found nothing to read.
    assert any((ROOT / "domain").rglob("*.py"))
