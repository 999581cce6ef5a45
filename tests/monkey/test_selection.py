"""Candidate filtering and kill selection (pure), including the safety property test."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.domain.kill_mode import parse_kill_mode
from gameday.domain.pods import PodFacts
from gameday.domain.selection import (
    ExclusionReason,
    TargetPolicy,
    classify,
    opt_in_state,
    select,
)
from tests.monkey.factories import NOW, OPT_IN, OPT_OUT, facts

PROTECTED = frozenset({"kube-system", "kube-public", "kube-node-lease", "gameday"})
POLICY = TargetPolicy(
    namespaces=frozenset({"shop", "kube-system"}),
    protected=PROTECTED,
    own_pod="gameday-7f9-abc",
    min_age=timedelta(minutes=5),
)


@pytest.mark.parametrize(
    ("pod", "reason"),
    [
        (facts(namespace="kube-system"), ExclusionReason.PROTECTED_NAMESPACE),
        (facts(namespace="billing"), ExclusionReason.NOT_TARGETED),
        (facts(name="gameday-7f9-abc"), ExclusionReason.OWN_POD),
        (facts(labels=OPT_OUT, owner_labels=OPT_IN), ExclusionReason.OPTED_OUT),
        (facts(labels={}), ExclusionReason.NOT_OPTED_IN),
        (
            facts(labels={}, owner_labels={"gameday.io/enabled": "yes"}),
            ExclusionReason.NOT_OPTED_IN,
        ),
        (facts(phase="Pending"), ExclusionReason.NOT_RUNNING),
        (facts(ready=False), ExclusionReason.NOT_READY),
        (facts(age=timedelta(minutes=4)), ExclusionReason.TOO_YOUNG),
    ],
)
def test_each_exclusion_has_its_reason(pod: PodFacts, reason: ExclusionReason) -> None:
    result = classify([pod], POLICY, NOW)

    assert result.candidates == ()
    assert [(e.pod, e.reason) for e in result.exclusions] == [(pod, reason)]


@pytest.mark.parametrize(
    ("labels", "owner_labels", "expected"),
    [
        (OPT_IN, {}, True),
        ({}, OPT_IN, True),
        (OPT_OUT, OPT_IN, False),
        (OPT_IN, OPT_OUT, True),
        ({}, {}, None),
    ],
)
def test_opt_in_by_pod_or_owner_and_pod_opt_out_wins(
    labels: dict[str, str], owner_labels: dict[str, str], expected: bool | None
) -> None:
    assert opt_in_state(facts(labels=labels, owner_labels=owner_labels)) is expected


def test_candidate_through_owner_opt_in() -> None:
    pod = facts(labels={}, owner_labels=OPT_IN)

    assert classify([pod], POLICY, NOW).candidates == (pod,)


def _workload(name: str, replicas: int, namespace: str = "shop") -> list[PodFacts]:
    return [facts(f"{name}-{i}", namespace, owner=("Deployment", name)) for i in range(replicas)]


@pytest.mark.parametrize(
    ("mode", "max_kills", "expected"),
    [
        ("one", 3, 1),
        ("fixed:2", 3, 2),
        ("fixed:9", 3, 3),  # capped by max_kills
        ("fixed:9", 9, 4),  # one replica of five stays
        ("percent:50", 9, 3),
        ("all", 9, 5),
        ("all", 2, 2),
    ],
)
def test_kill_mode_and_caps(mode: str, max_kills: int, expected: int) -> None:
    candidates = classify(_workload("web", 5), POLICY, NOW)

    chosen = select(
        candidates, kill_mode=parse_kill_mode(mode), max_kills=max_kills, rng=random.Random(1)
    )

    assert len(chosen.picks) == expected
    assert chosen.workload == "shop/Deployment/web"


def test_a_single_replica_workload_may_lose_its_pod_but_a_pair_keeps_one() -> None:
    pods = [*_workload("solo", 1), *_workload("pair", 2)]
    candidates = classify(pods, POLICY, NOW)
    fixed = parse_kill_mode("fixed:5")

    picks: dict[str | None, int] = {}
    for seed in range(20):
        chosen = select(candidates, kill_mode=fixed, max_kills=5, rng=random.Random(seed))
        picks[chosen.workload] = len(chosen.picks)

    assert picks == {"shop/Deployment/solo": 1, "shop/Deployment/pair": 1}


def test_excluded_replicas_still_count_so_the_last_ready_one_is_kept() -> None:
    pods = [*_workload("web", 2), facts("web-2", ready=False)]
    candidates = classify(pods, POLICY, NOW)

    chosen = select(candidates, kill_mode=parse_kill_mode("all"), max_kills=9, rng=random.Random(0))
    chosen_fixed = select(
        candidates, kill_mode=parse_kill_mode("fixed:9"), max_kills=9, rng=random.Random(0)
    )

    assert len(chosen.picks) == 2
    assert len(chosen_fixed.picks) == 2  # 2 of 3 replicas: one (not ready) stays


def test_same_seed_same_choice_and_the_decision_explains_itself() -> None:
    pods = [*_workload("web", 3), *_workload("api", 3), *_workload("db", 2)]
    candidates = classify(pods, POLICY, NOW)
    mode = parse_kill_mode("one")

    first = select(candidates, kill_mode=mode, max_kills=1, rng=random.Random(42), seed=42)
    again = select(candidates, kill_mode=mode, max_kills=1, rng=random.Random(42), seed=42)
    described = first.describe(NOW)

    assert first.picks == again.picks
    assert described["seed"] == 42
    assert [g["workload"] for g in described["groups"]] == [
        "shop/Deployment/api",
        "shop/Deployment/db",
        "shop/Deployment/web",
    ]
    assert described["picks"][0]["owner"] == described["workload"]
    assert "at random from 3 eligible workload(s)" in described["explanation"]


def test_no_candidates_selects_nothing() -> None:
    chosen = select(
        classify([], POLICY, NOW),
        kill_mode=parse_kill_mode("all"),
        max_kills=3,
        rng=random.Random(),
    )

    assert (chosen.picks, chosen.workload, chosen.explanation) == ((), None, "no candidates")


# -- the safety property -------------------------------------------------------------------

NAMESPACES = ["shop", "billing", "kube-system", "kube-public", "kube-node-lease", "gameday"]
LABEL_VALUES = st.sampled_from([None, "true", "false", "yes"])


@st.composite
def clusters(draw: st.DrawFn) -> list[PodFacts]:
    pods: list[PodFacts] = []
    for w in range(draw(st.integers(0, 6))):
        namespace = draw(st.sampled_from(NAMESPACES))
        owner_value = draw(LABEL_VALUES)
        bare = draw(st.booleans())
        for r in range(draw(st.integers(1, 5))):
            pod_value = draw(LABEL_VALUES)
            pods.append(
                facts(
                    f"w{w}-{r}",
                    namespace,
                    labels={} if pod_value is None else {"gameday.io/enabled": pod_value},
                    owner=None if bare else ("Deployment", f"w{w}"),
                    owner_labels={} if owner_value is None else {"gameday.io/enabled": owner_value},
                    phase=draw(st.sampled_from(["Running", "Running", "Pending"])),
                    ready=draw(st.booleans()),
                    age=timedelta(minutes=draw(st.integers(0, 60))),
                )
            )
    return pods


MODES = st.one_of(
    st.sampled_from(["one", "all"]),
    st.integers(1, 8).map(lambda n: f"fixed:{n}"),
    st.integers(1, 100).map(lambda p: f"percent:{p}"),
)


@settings(max_examples=300, deadline=None)
@given(
    pods=clusters(),
    spec_namespaces=st.sets(st.sampled_from(NAMESPACES), min_size=1),
    mode=MODES,
    max_kills=st.integers(0, 6),
    seed=st.integers(0, 2**32 - 1),
)
def test_selection_never_breaks_the_safety_rules(
    pods: list[PodFacts], spec_namespaces: set[str], mode: str, max_kills: int, seed: int
) -> None:
    policy = TargetPolicy(frozenset(spec_namespaces), PROTECTED, None, timedelta(minutes=5))
    kill_mode = parse_kill_mode(mode)

    chosen = select(
        classify(pods, policy, NOW),
        kill_mode=kill_mode,
        max_kills=max_kills,
        rng=random.Random(seed),
    )

    assert len(chosen.picks) <= max_kills
    for pod in chosen.picks:
        assert pod.namespace not in PROTECTED
        assert pod.namespace in spec_namespaces
        assert opt_in_state(pod) is True
        assert pod.phase == "Running"
        assert pod.ready
    assert len({p.workload for p in chosen.picks}) <= 1
    replicas = sum(1 for p in pods if chosen.picks and p.workload == chosen.picks[0].workload)
    if kill_mode.kind != "all" and replicas >= 2:
        assert len(chosen.picks) < replicas
