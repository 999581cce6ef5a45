"""A monkey's target discovery refuses namespaces outside GAMEDAY_TARGET_NAMESPACES before it
asks the cluster anything."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from gameday.domain.errors import InvalidInput
from gameday.domain.pods import PodFacts, Termination
from gameday.services.targets import discover_targets, target_policy
from tests.monkey.factories import NOW, facts, monkey_spec

PROTECTED = frozenset({"kube-system", "gameday"})


class RecordingCluster:
    """A Cluster that records the namespaces it was asked to list."""

    def __init__(self) -> None:
        self.listed: list[list[str]] = []

    def pods_in(self, namespaces: Sequence[str], selector: str | None) -> list[PodFacts]:
        self.listed.append(list(namespaces))
        return [facts(namespace=ns, name=f"{ns}-web-1") for ns in namespaces]

    def terminate(
        self, namespace: str, name: str, *, method: str, grace_period: int | None
    ) -> Termination:
        raise AssertionError("discovery never terminates")


def test_a_namespace_outside_the_targets_is_refused_before_listing() -> None:
    spec = monkey_spec(targets={"namespaces": ["bookinfo", "shop"]})
    cluster = RecordingCluster()
    policy = target_policy(spec, PROTECTED, None)

    with pytest.raises(InvalidInput) as refused:
        discover_targets(cluster, spec, policy, NOW, targets=frozenset({"bookinfo"}))

    assert str(refused.value) == (
        "schedule shop-monkey targets namespace 'shop', which is not in "
        "GAMEDAY_TARGET_NAMESPACES (bookinfo): gameday may not act there"
    )
    assert refused.value.exit_code == 2
    assert cluster.listed == []


@pytest.mark.parametrize(
    ("targets", "namespaces"),
    [
        (None, ["bookinfo", "shop"]),
        (frozenset({"bookinfo", "shop", "other"}), ["bookinfo", "shop"]),
        # A protected namespace is skipped as always, not a reason to refuse the schedule.
        (frozenset({"shop"}), ["shop", "kube-system"]),
    ],
)
def test_namespaces_inside_the_targets_are_listed(
    targets: frozenset[str] | None, namespaces: list[str]
) -> None:
    spec = monkey_spec(targets={"namespaces": namespaces}, min_pod_age="1m")
    cluster = RecordingCluster()
    policy = target_policy(spec, PROTECTED, None)

    report = discover_targets(cluster, spec, policy, NOW + timedelta(hours=1), targets=targets)

    allowed = [ns for ns in namespaces if ns not in PROTECTED]
    assert cluster.listed == [allowed]
    assert list(report.namespaces) == allowed
    assert [pod.namespace for pod in report.candidates.candidates] == allowed
