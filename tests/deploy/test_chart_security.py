"""What the chart guarantees: installing never kills anything, least-privilege RBAC, a
locked-down pod, secrets only by reference, and one replica unless PostgreSQL is there."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from gameday.adapters.kubernetes import owners
from tests.deploy.chart import NAMESPACE, RELEASE, VARIANTS, Rendered, render

SA = {"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}

# Every permission gameday may ever hold, as (apiGroup, resource, verb): anything the chart
# renders beyond this fails, whatever the values.
ALLOWED: set[tuple[str, str, str]] = {
    *(("", "pods", v) for v in ("get", "list", "watch", "delete")),
    ("", "pods/eviction", "create"),
    *(
        ("apps", r, v)
        for r in ("replicasets", "deployments", "statefulsets", "daemonsets")
        for v in ("get", "list")
    ),
    *(("batch", r, v) for r in ("jobs", "cronjobs") for v in ("get", "list")),
    ("policy", "poddisruptionbudgets", "get"),
    ("policy", "poddisruptionbudgets", "list"),
    *(("networking.istio.io", "virtualservices", v) for v in ("get", "list", "patch", "update")),
    *(("coordination.k8s.io", "leases", v) for v in ("get", "create", "update")),
}

# Every combination of the values that change RBAC.
MATRIX = [
    {
        "targetNamespaces": targets,
        "allowDelete": delete,
        "istio": {"enabled": istio},
        "database": {"existingSecret": database},
    }
    for targets, delete, istio, database in itertools.product(
        ([], ["bookinfo"], ["bookinfo", "shop"]), (False, True), (False, True), ("", "pg")
    )
]


def grants(rendered: Rendered, kind: str | None = None) -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) of every rule of the Roles/ClusterRoles rendered."""
    found = set()
    for role, rule in rendered.rules():
        if kind is not None and role["kind"] != kind:
            continue
        for group, resource, verb in itertools.product(
            rule.get("apiGroups", []), rule.get("resources", []), rule.get("verbs", [])
        ):
            found.add((group, resource, verb))
    return found


def all_containers(rendered: Rendered) -> list[dict[str, Any]]:
    spec = rendered.pod_spec()
    return [*spec.get("initContainers", []), *spec["containers"]]


# -- installing never kills anything --------------------------------------------------


def test_the_defaults_are_one_dry_replica_on_sqlite_in_a_claim() -> None:
    rendered = render()
    env = rendered.env()
    deployment = rendered.one("Deployment")

    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert env["GAMEDAY_LIVE"] == "false"
    assert env["GAMEDAY_LEADER_ELECTION"] == "sqlite"
    assert env["GAMEDAY_DATABASE_URL"] == "sqlite:////var/lib/gameday/data/gameday.db"
    mounts = {m["name"]: m["mountPath"] for m in rendered.container()["volumeMounts"]}
    assert mounts["data"] == "/var/lib/gameday/data"
    volumes = {v["name"]: v for v in rendered.pod_spec()["volumes"]}
    claim = rendered.one("PersistentVolumeClaim")
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert rendered.of_kind("Secret") == []


def test_live_is_only_what_the_values_say() -> None:
    assert render({"live": True}).env()["GAMEDAY_LIVE"] == "true"
    assert render({"live": False}).env()["GAMEDAY_LIVE"] == "false"


# -- several replicas ---------------------------------------------------------------------


def test_postgresql_brings_two_replicas_and_a_lease() -> None:
    rendered = render(VARIANTS["postgres"])
    env = rendered.env()
    deployment = rendered.one("Deployment")

    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert env["GAMEDAY_LEADER_ELECTION"] == "kubernetes"
    assert env["GAMEDAY_DATABASE_URL"] == {
        "secretKeyRef": {"name": "gameday-database", "key": "url"}
    }
    assert rendered.of_kind("PersistentVolumeClaim") == []
    assert "data" not in {v["name"] for v in rendered.pod_spec()["volumes"]}
    (lease_role,) = [
        r for r in rendered.of_kind("Role") if r["metadata"]["name"].endswith("-leader")
    ]
    assert lease_role["metadata"]["namespace"] == NAMESPACE
    assert grants(Rendered((lease_role,))) == {
        ("coordination.k8s.io", "leases", v) for v in ("get", "create", "update")
    }
    # get/update only on the service's own Lease; create cannot name an object.
    named = [r for r in lease_role["rules"] if "resourceNames" in r]
    assert named == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": ["gameday-leader"],
            "verbs": ["get", "update"],
        }
    ]
    (binding,) = [
        b for b in rendered.of_kind("RoleBinding") if b["metadata"]["name"].endswith("-leader")
    ]
    assert binding["metadata"]["namespace"] == NAMESPACE
    assert binding["roleRef"]["name"] == lease_role["metadata"]["name"]
    assert binding["subjects"] == [SA]


def test_no_lease_access_on_sqlite() -> None:
    assert not any(g[0] == "coordination.k8s.io" for g in grants(render()))


# -- RBAC -------------------------------------------------------------------------------------


def test_target_namespaces_get_one_role_each_and_no_cluster_role() -> None:
    rendered = render(VARIANTS["namespaced"])

    assert rendered.of_kind("ClusterRole") == []
    assert rendered.of_kind("ClusterRoleBinding") == []
    roles = {
        r["metadata"]["namespace"]: r
        for r in rendered.of_kind("Role")
        if r["metadata"]["name"].endswith("-target")
    }
    assert sorted(roles) == ["bookinfo", "shop"]
    bindings = [
        b for b in rendered.of_kind("RoleBinding") if b["metadata"]["name"].endswith("-target")
    ]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["bookinfo", "shop"]
    for binding in bindings:
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": roles[binding["metadata"]["namespace"]]["metadata"]["name"],
        }
        assert binding["subjects"] == [SA]
    assert rendered.env()["GAMEDAY_TARGET_NAMESPACES"] == "bookinfo,shop"


def test_bookinfo_only_means_no_cluster_wide_pod_access() -> None:
    rendered = render({"targetNamespaces": ["bookinfo"], "istio": {"enabled": True}})

    cluster_pods = {g for g in grants(rendered, "ClusterRole") if g[1].startswith("pods")}
    assert cluster_pods == set()
    assert rendered.of_kind("ClusterRoleBinding") == []
    pod_roles = {
        r["metadata"]["namespace"]
        for r, rule in rendered.rules()
        if any(res.startswith("pods") for res in rule["resources"])
    }
    assert pod_roles == {"bookinfo"}


def test_no_target_namespaces_means_one_cluster_role_with_the_same_rules() -> None:
    everywhere = render({"targetNamespaces": [], "allowDelete": True})
    narrowed = render({"targetNamespaces": ["bookinfo"], "allowDelete": True})

    (cluster_role,) = everywhere.of_kind("ClusterRole")
    (binding,) = everywhere.of_kind("ClusterRoleBinding")
    assert binding["roleRef"]["name"] == cluster_role["metadata"]["name"]
    assert binding["subjects"] == [SA]
    assert grants(everywhere, "ClusterRole") == grants(narrowed, "Role")
    assert everywhere.env()["GAMEDAY_TARGET_NAMESPACES"] == ""


@pytest.mark.parametrize("targets", [[], ["bookinfo"]])
def test_delete_and_istio_only_when_asked(targets: list[str]) -> None:
    base = grants(render({"targetNamespaces": targets}))
    deleting = grants(render({"targetNamespaces": targets, "allowDelete": True}))
    istio = grants(render({"targetNamespaces": targets, "istio": {"enabled": True}}))

    assert ("", "pods", "delete") not in base
    assert ("", "pods/eviction", "create") in base
    assert deleting - base == {("", "pods", "delete")}
    assert istio - base == {
        ("networking.istio.io", "virtualservices", v) for v in ("get", "list", "patch", "update")
    }


def test_the_rules_cover_what_the_service_reads() -> None:
    # owners.py follows these kinds to a pod's workload; the monkey lists and reads pods
    # and budgets and evicts.
    kinds = {
        "ReplicaSet": "replicasets",
        "Deployment": "deployments",
        "StatefulSet": "statefulsets",
        "DaemonSet": "daemonsets",
        "Job": "jobs",
        "CronJob": "cronjobs",
    }
    granted = grants(render())
    for kind in owners._APPS | owners._BATCH:
        group = "apps" if kind in owners._APPS else "batch"
        assert {(group, kinds[kind], "get"), (group, kinds[kind], "list")} <= granted, kind
    assert {
        ("", "pods", "get"),
        ("", "pods", "list"),
        ("policy", "poddisruptionbudgets", "list"),
    } <= granted


def rule_problems(rendered: Rendered) -> list[str]:
    """Every way the rendered RBAC is broader than gameday needs (empty: none)."""
    problems = []
    for role, rule in rendered.rules():
        where = f"{role['kind']}/{role['metadata']['name']}"
        for key in ("apiGroups", "resources", "verbs", "resourceNames"):
            if "*" in rule.get(key, []):
                problems.append(f"{where}: wildcard in {key}")
        if {"secrets", "configmaps"} & set(rule.get("resources", [])):
            problems.append(f"{where}: Secret or ConfigMap access")
        if {"escalate", "bind", "impersonate"} & set(rule.get("verbs", [])):
            problems.append(f"{where}: escalate, bind or impersonate")
        if "nonResourceURLs" in rule:
            problems.append(f"{where}: nonResourceURLs")
    problems.extend(f"not needed: {g}" for g in sorted(grants(rendered) - ALLOWED))
    # Bindings only ever bind the chart's own roles to its own service account.
    for binding in [*rendered.of_kind("RoleBinding"), *rendered.of_kind("ClusterRoleBinding")]:
        if binding["subjects"] != [SA]:
            problems.append(f"binding {binding['metadata']['name']}: {binding['subjects']}")
    return problems


def _matrix_id(values: dict[str, Any]) -> str:
    return "-".join(
        [
            ",".join(values["targetNamespaces"]) or "all",
            f"delete={values['allowDelete']}",
            f"istio={values['istio']['enabled']}",
            f"db={bool(values['database']['existingSecret'])}",
        ]
    )


@pytest.mark.parametrize("values", MATRIX, ids=_matrix_id)
def test_no_rule_is_broader_than_gameday_needs(values: dict[str, Any]) -> None:
    rendered = render({**values, "replicas": 2 if values["database"]["existingSecret"] else 1})

    assert list(rendered.rules())
    assert rule_problems(rendered) == []


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}, "wildcard in apiGroups"),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}, "wildcard in verbs"),
        ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}, "Secret or ConfigMap"),
        (
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["bind"]},
            "bind",
        ),
        ({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}, "not needed"),
    ],
)
def test_the_rbac_check_catches_a_broader_rule(extra: dict[str, Any], problem: str) -> None:
    role = render().one("ClusterRole")
    widened = Rendered(({**role, "rules": [*role["rules"], extra]},))

    assert any(problem in found for found in rule_problems(widened))


# -- the pod ---------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_container_is_locked_down(variant: str) -> None:
    rendered = render(VARIANTS[variant])
    pod = rendered.pod_spec()

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["serviceAccountName"] == RELEASE
    for container in all_containers(rendered):
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, container["name"]
        assert "privileged" not in context
        assert container["resources"]["requests"], container["name"]
        assert container["resources"]["limits"]["memory"], container["name"]
    # A read-only root: the service writes only to its volumes.
    mounts = {m["mountPath"] for m in rendered.container()["volumeMounts"]}
    assert "/tmp" in mounts


@pytest.mark.parametrize("grace", [0, 30, 300])
def test_kubernetes_waits_longer_than_the_service_shutdown(grace: int) -> None:
    rendered = render({"shutdownGrace": grace})

    assert rendered.env()["GAMEDAY_SHUTDOWN_GRACE"] == str(grace)
    assert rendered.pod_spec()["terminationGracePeriodSeconds"] > grace


def test_probes_and_identity() -> None:
    rendered = render(namespace="chaos-tools")
    container = rendered.container()
    env = rendered.env()

    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert env["GAMEDAY_NAMESPACE"] == "chaos-tools"
    assert env["GAMEDAY_POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert (env["GAMEDAY_HOST"], env["GAMEDAY_PORT"]) == ("0.0.0.0", "8080")


def test_service_budget_and_scrape_annotations_select_the_pods() -> None:
    rendered = render()
    labels = rendered.one("Deployment")["spec"]["template"]["metadata"]["labels"]
    annotations = rendered.one("Deployment")["spec"]["template"]["metadata"]["annotations"]

    for selector in (
        rendered.one("Service")["spec"]["selector"],
        rendered.one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        rendered.one("Deployment")["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= labels.items()
    # A budget of one unavailable pod never blocks a drain of the single replica.
    assert rendered.one("PodDisruptionBudget")["spec"] == {
        "maxUnavailable": 1,
        "selector": rendered.one("PodDisruptionBudget")["spec"]["selector"],
    }
    assert annotations["prometheus.io/scrape"] == "true"
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == (
        "8080",
        "/metrics",
    )
    quiet = render({"metrics": {"annotations": False}}).one("Deployment")
    assert "prometheus.io/scrape" not in quiet["spec"]["template"]["metadata"]["annotations"]


# -- secrets --------------------------------------------------------------------------------


def test_secrets_only_by_reference() -> None:
    rendered = render(VARIANTS["postgres"])
    container = rendered.container()

    assert rendered.of_kind("Secret") == []
    assert container["envFrom"] == [
        {"secretRef": {"name": "gameday-slack"}},
        {"secretRef": {"name": "gameday-web"}},
    ]
    env = rendered.env()
    for name, value in env.items():
        if any(word in name for word in ("TOKEN", "SECRET", "PASSWORD", "DATABASE_URL")):
            assert isinstance(value, dict), name
            assert "secretKeyRef" in value, name
    assert env["GAMEDAY_TIMEZONE"] == "Asia/Tokyo"


def test_no_bundled_database() -> None:
    for variant in VARIANTS.values():
        rendered = render(variant)
        assert rendered.of_kind("StatefulSet") == []
        images = {c["image"].rsplit(":", 1)[0] for c in all_containers(rendered)}
        assert images <= {"gameday", "registry.k8s.io/git-sync/git-sync"}


# -- the home -----------------------------------------------------------------------------


def test_specs_from_values_are_mounted_in_the_home() -> None:
    rendered = render(
        {
            "runbooks": {"files": {"latency.yaml": "title: x\n"}},
            "schedules": {"existingConfigMap": "team-schedules"},
        }
    )
    (runbooks,) = rendered.of_kind("ConfigMap")
    volumes = {v["name"]: v for v in rendered.pod_spec()["volumes"]}
    mounts = {m["name"]: m for m in rendered.container()["volumeMounts"]}
    home = rendered.env()["GAMEDAY_HOME"]

    assert runbooks["data"] == {"latency.yaml": "title: x\n"}
    assert volumes["runbooks"]["configMap"]["name"] == runbooks["metadata"]["name"]
    assert volumes["schedules"]["configMap"]["name"] == "team-schedules"
    assert mounts["runbooks"]["mountPath"] == f"{home}/runbooks"
    assert mounts["schedules"]["mountPath"] == f"{home}/schedules"
    assert mounts["home"]["mountPath"] == home


def test_a_spec_change_rolls_the_pods() -> None:
    def checksum(files: dict[str, str]) -> str:
        deployment = render({"schedules": {"files": files}}).one("Deployment")
        value: str = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/specs"]
        return value

    before = checksum({"monkey.yaml": "kind: monkey\nname: a\n"})
    assert checksum({"monkey.yaml": "kind: monkey\nname: a\n"}) == before
    assert checksum({"monkey.yaml": "kind: monkey\nname: b\n"}) != before
    assert len(before) == 64


def test_git_sync_shares_an_empty_dir_home() -> None:
    rendered = render(VARIANTS["git-sync"])
    pod = rendered.pod_spec()
    volumes = {v["name"]: v for v in pod["volumes"]}
    home = rendered.env()["GAMEDAY_HOME"]
    sidecar = rendered.container("git-sync")

    assert "emptyDir" in volumes["home"]
    assert "runbooks" not in volumes
    assert rendered.of_kind("ConfigMap") == []
    assert sidecar["image"].startswith("registry.k8s.io/git-sync/git-sync:v4.")
    for name in ("gameday", "git-sync", "git-sync-init", "home-links"):
        mounts = {m["name"]: m["mountPath"] for m in rendered.container(name)["volumeMounts"]}
        assert mounts["home"] == home, name
    args = dict(a.split("=", 1) for a in sidecar["args"] if "=" in a)
    assert args["--repo"] == "https://git.example.com/sre/chaos.git"
    assert args["--root"] == f"{home}/.git-sync"
    assert "--one-time" in rendered.container("git-sync-init")["args"]
    assert sidecar["envFrom"] == [{"secretRef": {"name": "git-credentials"}}]
    assert rendered.env("home-links")["GAMEDAY_GIT_SUBPATH"] == "gameday"
    annotations = rendered.one("Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/specs" not in annotations
