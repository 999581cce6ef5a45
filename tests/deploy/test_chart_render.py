"""The chart renders for its defaults and every variant, and each object it renders is
valid for a current Kubernetes (the OpenAPI schemas kubernetes-validate ships, strict:
unknown fields are errors); values that cannot work fail the rendering with a message."""

from __future__ import annotations

import copy
from typing import Any

import helm_python
import pytest
import yaml
from kubernetes_validate import utils as kube_schemas

from tests.deploy.chart import CHART, NAMESPACE, VARIANTS, render

# Current releases the package ships schemas for (it ships 1.25 up to its own version):
# the newest, and an older one still common on managed clusters.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
# Custom resources have no schema in kubernetes-validate; each is checked by hand below.
CUSTOM_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}


def validate(obj: dict[str, Any], version: str = KUBERNETES_VERSIONS[-1]) -> None:
    """Raise when the object is not valid for that Kubernetes version (strict schemas)."""
    kube_schemas.validate(obj, version, strict=True)


def test_the_schemas_are_those_of_current_kubernetes_releases() -> None:
    shipped = set(kube_schemas.all_versions())
    assert set(KUBERNETES_VERSIONS) <= shipped
    assert max(KUBERNETES_VERSIONS, key=lambda v: tuple(map(int, v.split(".")))) == max(
        shipped, key=lambda v: tuple(map(int, v.split(".")))
    )


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_rendered_object_is_valid(variant: str, version: str) -> None:
    rendered = render(VARIANTS[variant])

    kinds = {o["kind"] for o in rendered.objects}
    assert {"Deployment", "ServiceAccount", "Service", "PodDisruptionBudget"} <= kinds
    for obj in rendered.objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            continue
        try:
            validate(obj, version)
        except kube_schemas.ValidationError as exc:
            pytest.fail(
                f"{variant} on {version}: {obj['kind']}/{obj['metadata']['name']}: {exc.message}"
            )


def test_the_validation_is_not_vacuous() -> None:
    # A misspelled field and a wrong type in the chart's own Deployment are both caught.
    deployment = render().one("Deployment")
    typo = copy.deepcopy(deployment)
    typo["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}
    wrong = copy.deepcopy(deployment)
    wrong["spec"]["replicas"] = "two"

    for broken in (typo, wrong):
        with pytest.raises(kube_schemas.ValidationError):
            validate(broken)


def test_the_service_monitor_is_well_formed() -> None:
    rendered = render(VARIANTS["postgres"])
    monitor = rendered.one("ServiceMonitor")
    service = rendered.one("Service")

    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    assert endpoint["authorization"]["credentials"] == {
        "name": "gameday-web",
        "key": "GAMEDAY_METRICS_TOKEN",
    }
    assert service["spec"]["ports"][0]["name"] == "http"
    assert render().of_kind("ServiceMonitor") == []


def test_every_template_is_rendered_by_some_variant() -> None:
    # A template no variant renders would escape the validation above.
    rendered: set[str] = set()
    for values in VARIANTS.values():
        rendered |= {o["kind"] for o in render(values).objects}
    declared = {
        line.split(":", 1)[1].strip()
        for template in (CHART / "templates").glob("*.yaml")
        for line in template.read_text().splitlines()
        if line.startswith("kind:")
    }
    assert len(declared) >= 10
    assert declared <= rendered


def test_rendering_needs_no_network() -> None:
    # No dependency to download and no `lookup` (which would ask a cluster): rendering,
    # and so `helm template`, works offline.
    metadata = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert "dependencies" not in metadata
    assert not (CHART / "charts").exists()
    for template in (CHART / "templates").iterdir():
        assert "lookup" not in template.read_text(), template.name


def test_replicas_without_postgresql_fail_with_a_message() -> None:
    with pytest.raises(helm_python.HelmRenderError) as refused:
        render({"replicas": 2})

    assert "replicas: 2 needs PostgreSQL: set database.existingSecret" in str(refused.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"targetNamespaces": ["bookinfo", "kube-system"]},
            "targetNamespaces: kube-system is protected",
        ),
        ({"targetNamespaces": [NAMESPACE]}, f"targetNamespaces: {NAMESPACE} is protected"),
        ({"gitSync": {"enabled": True}}, "gitSync.enabled needs gitSync.repo"),
        (
            {"gitSync": {"enabled": True, "repo": "https://x.example/r.git", "subPath": "../up"}},
            "gitSync.subPath must stay inside the repository",
        ),
        ({"config": {"GAMEDAY_SLACK_BOT_TOKEN": "xoxb-1"}}, "looks like a secret"),
        ({"config": {"GAMEDAY_DATABASE_URL": "postgresql://u:p@db/g"}}, "looks like a secret"),
        ({"config": {"GAMEDAY_LIVE": "true"}}, "config.GAMEDAY_LIVE is set by the chart: use live"),
        (
            {"config": {"GAMEDAY_TARGET_NAMESPACES": "a"}},
            "config.GAMEDAY_TARGET_NAMESPACES is set by the chart: use targetNamespaces",
        ),
    ],
)
def test_values_that_would_weaken_a_rule_fail(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm_python.HelmRenderError) as refused:
        render(values)

    assert message in str(refused.value)


@pytest.mark.parametrize(
    "values",
    [
        {"replica": 2},  # a typo of `replicas`
        {"live": "yes"},
        {"targetNamespaces": "bookinfo"},
        {"istio": {"enable": True}},
        {"gitSync": {"enabled": True, "repo": "https://x.example/r.git", "image": "busybox"}},
    ],
)
def test_the_values_schema_refuses_mistakes(values: dict[str, Any]) -> None:
    with pytest.raises(helm_python.HelmValuesError):
        render(values)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_helm_lint_finds_nothing_to_fix(variant: str) -> None:
    # Strict lint (warnings are errors); only the info-level "icon is recommended" stays.
    report = helm_python.lint(CHART, VARIANTS[variant], strict=True, namespace=NAMESPACE)

    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []
