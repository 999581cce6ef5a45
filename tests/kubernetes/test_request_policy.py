"""The pure request decision: how paths parse, what counts as mutating, and the refusal rules,
with properties for the two rules that must never bend."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gameday.domain.kube_requests import (
    MUTATING_METHODS,
    READ_ONLY_REVIEWS,
    KubeRequest,
    RequestPolicy,
    is_mutating,
    parse_request,
    path_from_url,
    refusal,
)
from gameday.domain.protection import PROTECTED_NAMESPACES

PROTECTED = PROTECTED_NAMESPACES | {"gameday"}
LIVE = RequestPolicy(PROTECTED, None, dry_run=False)
METHODS = sorted(MUTATING_METHODS | {"GET", "HEAD", "OPTIONS", "get", "delete"})


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/namespaces/shop/pods/web-1", ("shop", "", "v1", "pods", "web-1", None)),
        (
            "/api/v1/namespaces/shop/pods/web-1/eviction",
            ("shop", "", "v1", "pods", "web-1", "eviction"),
        ),
        (
            "/apis/networking.istio.io/v1alpha3/namespaces/bookinfo/virtualservices/reviews",
            ("bookinfo", "networking.istio.io", "v1alpha3", "virtualservices", "reviews", None),
        ),
        ("/api/v1/namespaces/shop/pods", ("shop", "", "v1", "pods", None, None)),
        (
            "/api/v1/namespaces/kube-system",
            ("kube-system", "", "v1", "namespaces", "kube-system", None),
        ),
        (
            "/api/v1/namespaces/kube-system/finalize",
            ("kube-system", "", "v1", "namespaces", "kube-system", "finalize"),
        ),
        ("/api/v1/namespaces", (None, "", "v1", "namespaces", None, None)),
        ("/api/v1/nodes/n1", (None, "", "v1", "nodes", "n1", None)),
        ("/api/v1/nodes/n1/proxy/metrics", (None, "", "v1", "nodes", "n1", "proxy")),
        (
            "/apis/apps/v1/watch/namespaces/shop/deployments",
            ("shop", "apps", "v1", "deployments", None, None),
        ),
        ("/api/v1/namespaces/shop/pods/x?dryRun=All", ("shop", "", "v1", "pods", "x", None)),
        ("/api/v1/namespaces/kube%2Dsystem/pods/x", ("kube-system", "", "v1", "pods", "x", None)),
        (
            "/api/v1/namespaces/shop/../kube-system/pods/x",
            ("kube-system", "", "v1", "pods", "x", None),
        ),
        ("/version", (None, "", None, None, None, None)),
        ("/apis/apps/v1", (None, "apps", "v1", None, None, None)),
    ],
)
def test_paths_parse_as_the_server_routes_them(path: str, expected: tuple[str | None, ...]) -> None:
    req = parse_request("delete", path)
    assert req.method == "DELETE"
    assert (req.namespace, req.group, req.version, req.resource, req.name, req.subresource) == (
        expected
    )


@pytest.mark.parametrize(
    ("method", "path", "mutating"),
    [
        ("GET", "/api/v1/namespaces/shop/pods", False),
        ("HEAD", "/api/v1/namespaces/shop/pods/x", False),
        ("DELETE", "/api/v1/namespaces/shop/pods/x", True),
        ("POST", "/api/v1/namespaces/shop/pods/x/eviction", True),
        ("GET", "/api/v1/namespaces/shop/pods/x/exec", True),
        ("GET", "/api/v1/namespaces/shop/pods/x/attach", True),
        ("GET", "/api/v1/namespaces/shop/pods/x/portforward", True),
        ("GET", "/api/v1/namespaces/shop/services/web:80/proxy/admin", True),
        ("GET", "/api/v1/namespaces/shop/pods/x/log", False),
        ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", False),
        ("POST", "/apis/authorization.k8s.io/v1/namespaces/shop/localsubjectaccessreviews", False),
        ("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", False),
        ("POST", "/apis/authentication.k8s.io/v1/tokenreviews", False),
        ("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", False),
        ("POST", "/apis/example.com/v1/tokenreviews", True),  # only the real review APIs
        ("GET", "/api/v1/namespaces/shop/pods/%2E%2E", True),  # ambiguous: never sent
    ],
)
def test_what_counts_as_mutating(method: str, path: str, mutating: bool) -> None:
    assert is_mutating(parse_request(method, path)) is mutating


@pytest.mark.parametrize(
    ("policy", "method", "path", "expected"),
    [
        (LIVE, "DELETE", "/api/v1/namespaces/shop/pods/x", None),
        (LIVE, "GET", "/api/v1/namespaces/kube-system/pods/x", None),
        (
            RequestPolicy(PROTECTED, None, dry_run=True),
            "DELETE",
            "/api/v1/namespaces/y/pods/x",
            "dry run: gameday sends no mutating request (DELETE pods/x in namespace y)",
        ),
        (
            LIVE,
            "DELETE",
            "/api/v1/namespaces/kube-system/pods/x",
            "namespace kube-system is protected: gameday never changes it "
            "(DELETE pods/x in namespace kube-system)",
        ),
        (
            LIVE,
            "DELETE",
            "/api/v1/namespaces/gameday",
            "namespace gameday is protected: gameday never changes it (DELETE namespaces/gameday)",
        ),
        (
            RequestPolicy(PROTECTED, frozenset({"shop", "bookinfo"}), dry_run=False),
            "PATCH",
            "/apis/networking.istio.io/v1beta1/namespaces/web/virtualservices/vs",
            "namespace web is not a target (GAMEDAY_TARGET_NAMESPACES: bookinfo, shop): gameday "
            "never changes it (PATCH virtualservices.networking.istio.io/vs in namespace web)",
        ),
        (
            LIVE,
            "PATCH",
            "/api/v1/nodes/n1",
            "PATCH nodes/n1 is cluster-scoped: gameday changes cluster-scoped objects only with "
            "GAMEDAY_ALLOW_CLUSTER_SCOPED=true",
        ),
        (
            RequestPolicy(PROTECTED, None, False, allow_cluster_scoped=True),
            "PATCH",
            "/api/v1/nodes/n1",
            None,
        ),
        (
            RequestPolicy(PROTECTED, frozenset({"shop"}), False, allow_cluster_scoped=True),
            "PATCH",
            "/api/v1/nodes/n1",
            None,
        ),
        (
            LIVE,
            "DELETE",
            "/api/v1/namespaces/shop/pods/a%2F..%2F..%2Fkube-system",
            "gameday cannot tell what DELETE "
            "/api/v1/namespaces/shop/pods/a%2F..%2F..%2Fkube-system changes "
            "('.', '..' or an encoded '/' in the path)",
        ),
    ],
)
def test_refusal_rules_and_their_reasons(
    policy: RequestPolicy, method: str, path: str, expected: str | None
) -> None:
    assert refusal(parse_request(method, path), policy) == expected


def test_protected_wins_over_targets() -> None:
    policy = RequestPolicy(PROTECTED, frozenset({"kube-system"}), dry_run=False)
    reason = refusal(parse_request("DELETE", "/api/v1/namespaces/kube-system/pods/x"), policy)
    assert reason is not None
    assert reason.startswith("namespace kube-system is protected")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("http://127.0.0.1:1/api/v1/namespaces/shop/pods?limit=1", "/api/v1/namespaces/shop/pods"),
        ("https://rancher/k8s/clusters/c-1/apis/apps/v1/deployments", "/apis/apps/v1/deployments"),
        ("https://gw/api/k8s/api/v1/nodes", "/api/v1/nodes"),
        ("https://host/version", "/version"),
    ],
)
def test_path_from_url_drops_the_server_prefix(url: str, path: str) -> None:
    assert path_from_url(url) == path


# -- properties ---------------------------------------------------------------------------

NAME = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)
RESOURCE_GROUPS = st.sampled_from(
    [
        ("api/v1", "pods"),
        ("api/v1", "services"),
        ("api/v1", "configmaps"),
        ("apis/apps/v1", "deployments"),
        ("apis/networking.istio.io/v1alpha3", "virtualservices"),
        ("apis/coordination.k8s.io/v1", "leases"),
        ("apis/policy/v1", "poddisruptionbudgets"),
    ]
)
SUBRESOURCES = st.sampled_from([None, "status", "scale", "eviction", "exec", "attach", "proxy"])
POLICIES = st.builds(
    RequestPolicy,
    protected=st.just(PROTECTED),
    targets=st.none() | st.frozensets(st.sampled_from([*sorted(PROTECTED), "shop", "web"])),
    dry_run=st.booleans(),
    allow_cluster_scoped=st.booleans(),
)


@st.composite
def encoded(draw: st.DrawFn, text: str) -> str:
    """`text` with some characters percent-encoded, as a client may send them."""
    flags = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(f"%{ord(c):02X}" if f else c for c, f in zip(text, flags, strict=True))


@st.composite
def into_namespace(draw: st.DrawFn, namespace: str) -> str:
    """A path that reaches `namespace`, written in any of the ways servers accept."""
    ns = draw(encoded(namespace))
    root, plural = draw(RESOURCE_GROUPS)
    watch = draw(st.sampled_from(["", "watch/"]))
    detour = draw(st.sampled_from(["", "shop/../", "./", "/"]))
    tail = draw(
        st.sampled_from(["namespace", "namespace-sub", "collection", "object", "object-sub"])
    )
    sub = draw(SUBRESOURCES) or "status"
    own_sub = draw(st.sampled_from(["status", "finalize"]))
    name = draw(NAME)
    body = {
        "namespace": f"api/v1/namespaces/{detour}{ns}",
        "namespace-sub": f"api/v1/namespaces/{detour}{ns}/{own_sub}",
        "collection": f"{root}/{watch}namespaces/{detour}{ns}/{plural}",
        "object": f"{root}/namespaces/{detour}{ns}/{plural}/{name}",
        "object-sub": f"{root}/namespaces/{detour}{ns}/{plural}/{name}/{sub}",
    }[tail]
    trailer = draw(st.sampled_from(["", "/", "?dryRun=All", "?gracePeriodSeconds=0"]))
    return f"/{body}{trailer}"


@given(
    st.sampled_from(sorted(PROTECTED)).flatmap(into_namespace),
    st.sampled_from(sorted(MUTATING_METHODS)),
    POLICIES,
)
def test_no_mutating_request_to_a_protected_namespace_is_ever_allowed(
    path: str, method: str, policy: RequestPolicy
) -> None:
    assert refusal(parse_request(method, path), policy) is not None


@given(
    st.sampled_from(sorted(PROTECTED)).flatmap(into_namespace),
    st.sampled_from(METHODS),
    POLICIES,
)
def test_no_request_to_a_protected_namespace_is_allowed_unless_a_read(
    path: str, method: str, policy: RequestPolicy
) -> None:
    req = parse_request(method, path)
    if refusal(req, policy) is None:
        assert req.method not in MUTATING_METHODS
        assert req.subresource not in {"exec", "attach", "portforward", "proxy"}


PATHS = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="/.%2Fapivnmescub-k", max_size=60).map(lambda t: "/" + t),
    st.sampled_from([*sorted(PROTECTED), "shop"]).flatmap(into_namespace),
    st.sampled_from(
        [f"/apis/{group}/v1/{plural}" for group, plural in sorted(READ_ONLY_REVIEWS)]
        + ["/api/v1/nodes/n1", "/api/v1/namespaces", "/version", "/"]
    ),
)


@given(PATHS, st.sampled_from(METHODS), POLICIES)
def test_in_a_dry_run_no_mutating_request_is_ever_allowed(
    path: str, method: str, policy: RequestPolicy
) -> None:
    req = parse_request(method, path)
    dry = RequestPolicy(policy.protected, policy.targets, True, policy.allow_cluster_scoped)
    if refusal(req, dry) is None:
        assert not is_mutating(req)
        assert req.subresource not in {"exec", "attach", "portforward", "proxy"}
        if req.method in MUTATING_METHODS:  # only a question to the server
            assert req.method == "POST"
            assert (req.group, req.resource) in READ_ONLY_REVIEWS
            assert req.name is None


@given(st.text(max_size=200), st.text(max_size=10))
def test_parsing_never_fails(path: str, method: str) -> None:
    req = parse_request(method, path)
    assert isinstance(req, KubeRequest)
    assert isinstance(req.describe(), str)
