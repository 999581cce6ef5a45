"""The deployment docs stay true to what they describe: the alerts name real metrics and
labels, the metrics table is complete, every value of the chart is documented, the paths
and names they cite exist, and nothing points at the removed deploy/kubernetes/."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from prometheus_client import Counter, Gauge, Histogram

from gameday.adapters.observability.metrics import Metrics
from tests.deploy.chart import CHART, REPO

DOCS = REPO / "docs"
PAGES = ["install.md", "operations.md", "first-gameday.md", "configuration.md", "safety.md"]
SUFFIXES = {Counter: ("_total",), Histogram: ("_bucket", "_sum", "_count"), Gauge: ("",)}


def metric_labels() -> dict[str, tuple[str, ...]]:
    """Every series name the service exposes (with suffixes) and its label names."""
    names: dict[str, tuple[str, ...]] = {}
    for metric in vars(Metrics()).values():
        for kind, suffixes in SUFFIXES.items():
            if isinstance(metric, kind):
                # prometheus_client keeps the name and labels of a metric in these fields.
                for suffix in suffixes:
                    names[metric._name + suffix] = tuple(metric._labelnames)
    return names


def yaml_blocks(page: str) -> list[Any]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_the_alerts_use_real_metrics_and_labels() -> None:
    (rule,) = [b for b in yaml_blocks("operations.md") if b.get("kind") == "PrometheusRule"]
    known = metric_labels()

    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    alerts = [r for group in rule["spec"]["groups"] for r in group["rules"]]
    assert len(alerts) >= 5
    for alert in alerts:
        assert alert["alert"].startswith("Gameday")
        assert alert["annotations"]["summary"]
        used = re.findall(r"(gameday_\w+)(\{[^}]*\})?", alert["expr"])
        assert used, alert["alert"]
        for name, selector in used:
            assert name in known, f"{alert['alert']}: no metric {name}"
            for label in re.findall(r"(\w+)\s*=~?", selector):
                assert label in known[name], f"{alert['alert']}: {name} has no label {label}"


def test_the_metrics_table_lists_every_metric() -> None:
    text = (DOCS / "operations.md").read_text(encoding="utf-8")

    for metric in vars(Metrics()).values():
        name = getattr(metric, "_name", None)
        if name is not None:
            assert f"`{name}" in text, name


def test_every_chart_value_is_documented() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    text = (DOCS / "install.md").read_text(encoding="utf-8")

    for key in values:
        assert f"`{key}" in text, key
    for key in (
        "istio.enabled",
        "database.existingSecret",
        "slack.existingSecret",
        "web.existingSecret",
        "gitSync.enabled",
        "serviceMonitor.enabled",
    ):
        assert f"`{key}" in text, key


@pytest.mark.parametrize("page", [*PAGES, "../README.md"])
def test_cited_paths_exist(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")

    assert "deploy/kubernetes" not in text
    cited = re.findall(r"`((?:docs|deploy|runbooks|schedules|gameday|tests)/[\w./-]*)`", text)
    for path in cited:
        assert (REPO / path.rstrip("/")).exists(), f"{page} cites {path}"


def test_the_tutorial_names_real_runbooks_and_schedules() -> None:
    text = (DOCS / "first-gameday.md").read_text(encoding="utf-8")
    schedules = "".join(p.read_text() for p in (REPO / "schedules").glob("*.yaml"))

    runbooks = set(re.findall(r"gd run ([\w-]+)", text))
    assert runbooks == {"bookinfo-reviews-latency", "bookinfo-kill-ratings-pod"}
    for name in runbooks:
        assert (REPO / "runbooks" / f"{name}.yaml").exists(), name
    for name in re.findall(r"gd (?:targets|window) ([\w-]+)", text):
        assert f"name: {name}\n" in schedules, name


def test_the_readme_links_the_chart_and_the_tutorial() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    links = text.split("## Links", 1)[1]

    for target in (
        "docs/first-gameday.md",
        "docs/install.md",
        "deploy/helm/gameday",
        "docs/configuration.md",
        "docs/operations.md",
    ):
        assert target in links, target


def test_no_reference_to_the_removed_manifests() -> None:
    assert not (REPO / "deploy" / "kubernetes").exists()
    for path in [*DOCS.glob("*.md"), REPO / "README.md"]:
        assert "deploy/kubernetes" not in path.read_text(encoding="utf-8"), path.name
