"""Which Kubernetes API requests gameday may send: a pure decision over (method, path).

The request guard on the Kubernetes client (`gameday.adapters.kubernetes.guard`) asks this
module about every request, whatever extension makes it, so the safety rules hold at the
request as well as at the decision: protected namespaces are never changed, nothing outside
the configured target namespaces is changed, a dry run changes nothing, and cluster-scoped
objects are changed only when explicitly allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Running a command in a pod or reaching into it changes it, whatever the HTTP method
# (exec and attach upgrade a GET to a stream).
STREAM_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy"})
# POSTs that only ask the server a question and store nothing.
READ_ONLY_REVIEWS = frozenset(
    {
        ("authorization.k8s.io", "subjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "localsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
        ("authentication.k8s.io", "tokenreviews"),
        ("authentication.k8s.io", "selfsubjectreviews"),
    }
)
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_VERSION = re.compile(r"v[0-9]+((alpha|beta)[0-9]+)?")


@dataclass(frozen=True)
class RequestPolicy:
    """What the guard allows: `targets` None means any namespace that is not protected."""

    protected: frozenset[str]
    targets: frozenset[str] | None
    dry_run: bool
    allow_cluster_scoped: bool = False


@dataclass(frozen=True)
class KubeRequest:
    """One API request as the server will route it; `resource` is None for a path outside
    `/api` and `/apis` (`/version`), `namespace` None for a cluster-scoped one."""

    method: str
    path: str
    namespace: str | None = None
    group: str = ""
    version: str | None = None
    resource: str | None = None
    name: str | None = None
    subresource: str | None = None
    ambiguous: bool = False  # '.', '..' or an encoded '/' survived: no honest client sends it

    def describe(self) -> str:
        """`DELETE pods/web-1 in namespace shop`, as short as exact."""
        if self.resource is None:
            return f"{self.method} {self.path}"
        what = self.resource if not self.group else f"{self.resource}.{self.group}"
        if self.name is not None:
            what += f"/{self.name}"
        if self.subresource is not None:
            what += f"/{self.subresource}"
        own_namespace = self.resource == "namespaces" and self.name == self.namespace
        where = f" in namespace {self.namespace}" if self.namespace and not own_namespace else ""
        return f"{self.method} {what}{where}"


def _segments(path: str) -> tuple[list[str], bool]:
    """Decoded path segments after resolving `.`/`..` and empty ones as servers and urllib3
    do, and whether anything ambiguous is left once decoded."""
    raw = path.split("?", 1)[0].split("#", 1)[0]
    kept: list[str] = []
    for segment in raw.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    decoded = [unquote(s) for s in kept]
    ambiguous = any(d in ("", ".", "..") or "/" in d for d in decoded)
    return decoded, ambiguous


def parse_request(method: str, path: str) -> KubeRequest:
    """Split an API path into namespace, group, version, resource, name and subresource.

    Rules: `/api/v1/...` is the core group, `/apis/GROUP/VERSION/...` any other; a
    `namespaces/NS/...` prefix makes it namespaced; the namespace object itself
    (`/api/v1/namespaces/NAME`, and its status and finalize) counts as being in namespace
    NAME; `watch/` prefixes are ignored; a query string is ignored.
    """
    verb = method.upper()
    segs, ambiguous = _segments(path)
    base = KubeRequest(method=verb, path=path, ambiguous=ambiguous)
    if len(segs) >= 2 and segs[0] == "api":
        group, version, rest = "", segs[1], segs[2:]
    elif len(segs) >= 3 and segs[0] == "apis":
        group, version, rest = segs[1], segs[2], segs[3:]
    else:
        return base
    if rest and rest[0] == "watch":
        rest = rest[1:]
    if not rest:
        return KubeRequest(verb, path, None, group, version, ambiguous=ambiguous)
    if rest[0] == "namespaces" and len(rest) >= 2:
        namespace = rest[1]
        if len(rest) == 2 or (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES):
            sub = rest[2] if len(rest) == 3 else None
            return KubeRequest(
                verb, path, namespace, group, version, "namespaces", namespace, sub, ambiguous
            )
        rest = rest[2:]
    else:
        namespace = None
    resource = rest[0]
    name = rest[1] if len(rest) >= 2 else None
    sub = rest[2] if len(rest) >= 3 else None  # a proxy path's remainder is not a resource
    return KubeRequest(verb, path, namespace, group, version, resource, name, sub, ambiguous)


def is_mutating(req: KubeRequest) -> bool:
    """Whether the request may change the cluster.

    Rules: POST, PUT, PATCH and DELETE do, except the read-only review APIs (access and
    token reviews); any method on exec, attach, portforward and proxy does; so does any
    request whose path stays ambiguous after decoding.
    """
    if req.ambiguous or req.subresource in STREAM_SUBRESOURCES:
        return True
    if req.method not in MUTATING_METHODS:
        return False
    review = req.method == "POST" and req.subresource is None and req.name is None
    return not (review and (req.group, req.resource) in READ_ONLY_REVIEWS)


def refusal(req: KubeRequest, policy: RequestPolicy) -> str | None:
    """None when the request may be sent, else why not, in one line.

    Rules, in order: a read is allowed; an ambiguous path is refused; in a dry run every
    mutating request is refused; a protected namespace is refused; with targets, a
    namespace outside them is refused; a cluster-scoped mutating request is refused unless
    cluster-scoped changes are allowed.
    """
    if not is_mutating(req):
        return None
    what = req.describe()
    if req.ambiguous:
        return (
            f"gameday cannot tell what {req.method} {req.path} changes "
            "('.', '..' or an encoded '/' in the path)"
        )
    if policy.dry_run:
        return f"dry run: gameday sends no mutating request ({what})"
    namespace = req.namespace
    if namespace is not None and namespace in policy.protected:
        return f"namespace {namespace} is protected: gameday never changes it ({what})"
    if namespace is not None and policy.targets is not None and namespace not in policy.targets:
        allowed = ", ".join(sorted(policy.targets)) or "none"
        return (
            f"namespace {namespace} is not a target (GAMEDAY_TARGET_NAMESPACES: {allowed}): "
            f"gameday never changes it ({what})"
        )
    if namespace is None and not policy.allow_cluster_scoped:
        return (
            f"{what} is cluster-scoped: gameday changes cluster-scoped objects only with "
            "GAMEDAY_ALLOW_CLUSTER_SCOPED=true"
        )
    return None


def path_from_url(url: str) -> str:
    """The API path of a full request URL, without the query and without any prefix the
    server address carries (`https://proxy/k8s/clusters/c-1/api/v1/pods` -> `/api/v1/pods`).

    Rules: the API root is the first `api/VERSION` or `apis/GROUP/VERSION`; a URL with
    neither keeps its whole path (`/version`).
    """
    path = urlsplit(url).path or "/"
    segs = path.split("/")
    for i, seg in enumerate(segs):
        core = seg == "api" and i + 1 < len(segs) and _VERSION.fullmatch(segs[i + 1])
        named = seg == "apis" and i + 2 < len(segs) and _VERSION.fullmatch(segs[i + 2])
        if core or named:
            return "/" + "/".join(segs[i:])
    return path
