"""A guard on the kubernetes client: every request is checked before it leaves the process.

A runbook may call any Chaos Toolkit extension, and extensions build their own clients, so
the worker guards the client *classes*: `ApiClient.call_api` (every generated API call, the
dynamic client, and `kubernetes.stream` exec/portforward, which swap `ApiClient.request`
per instance but still go through `call_api`) and `RESTClientObject.request` (code that
talks REST directly). A refused request raises `RequestRefused`, an ordinary 403
`ApiException` to the caller, and nothing is sent. The decision is
`gameday.domain.kube_requests.refusal`.

The service process guards single clients instead (`guard_api_client`): its own Lease
writes in its own, protected, namespace must go through.
"""

from __future__ import annotations

import functools
import inspect
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException
from kubernetes.client.rest import RESTClientObject

from gameday.domain.kube_requests import RequestPolicy, parse_request, path_from_url, refusal

__all__ = ["RequestRefused", "guard_api_client", "install_request_guard"]

OnRefused = Callable[[str, str, str], None]
"""Told (method, path, reason) of each refused request, before RequestRefused is raised."""

_MARK = "_gameday_request_guard"
_lock = threading.Lock()


class RequestRefused(ApiException):  # type: ignore[misc]
    """A request the guard refused: a 403 whose reason is the refusal, so extensions treat it
    as any other API error; nothing reached the server."""

    def __init__(self, method: str, path: str, reason: str) -> None:
        super().__init__(status=403, reason=reason)
        self.method = method
        self.path = path
        # A Status body like the server's, so code reading `.body` finds the message too.
        self.body = json.dumps(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": reason,
                "reason": "Forbidden",
                "code": 403,
            }
        )


@dataclass
class _Guard:
    """The current policy; installing again replaces it instead of wrapping twice."""

    policy: RequestPolicy
    on_refused: OnRefused | None

    def check(self, method: str, path: str) -> None:
        """Raise RequestRefused (after telling on_refused) when the policy refuses."""
        request = parse_request(method, path)
        reason = refusal(request, self.policy)
        if reason is None:
            return
        if self.on_refused is not None:
            self.on_refused(request.method, path, reason)
        raise RequestRefused(request.method, path, reason)


_CALL_API = inspect.signature(ApiClient.call_api)
_REQUEST = inspect.signature(RESTClientObject.request)


def _resource_path(client: Any, arguments: dict[str, Any]) -> str:
    """The path `call_api` will request: path parameters substituted exactly as the client
    does (its own serialisation and quoting), so a name cannot hide a different path."""
    path = str(arguments.get("resource_path") or "")
    params = arguments.get("path_params")
    if not params:
        return path
    safe = client.configuration.safe_chars_for_path_param
    pairs = client.parameters_to_tuples(
        client.sanitize_for_serialization(params), arguments.get("collection_formats")
    )
    for key, value in pairs:
        path = path.replace(f"{{{key}}}", quote(str(value), safe=safe))
    return path


def _guarded_call_api(original: Callable[..., Any], guard: _Guard) -> Callable[..., Any]:
    @functools.wraps(original)
    def call_api(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = _CALL_API.bind(self, *args, **kwargs).arguments
        guard.check(str(arguments.get("method") or ""), _resource_path(self, arguments))
        return original(self, *args, **kwargs)

    setattr(call_api, _MARK, guard)
    return call_api


def _guarded_request(original: Callable[..., Any], guard: _Guard) -> Callable[..., Any]:
    @functools.wraps(original)
    def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = _REQUEST.bind(self, *args, **kwargs).arguments
        guard.check(str(arguments.get("method") or ""), path_from_url(str(arguments["url"])))
        return original(self, *args, **kwargs)

    setattr(request, _MARK, guard)
    return request


def _unwrap(owner: Any, name: str) -> None:
    current = getattr(owner, name)
    if getattr(current, _MARK, None) is not None:
        setattr(owner, name, current.__wrapped__)


def install_request_guard(
    policy: RequestPolicy, on_refused: OnRefused | None = None
) -> Callable[[], None]:
    """Guard every kubernetes client of this process; returns the function that removes it.

    Rules: both `ApiClient.call_api` and `RESTClientObject.request` are wrapped at class
    level, so clients built before and after are guarded alike; installing again replaces
    the policy and never wraps twice; a refused request calls `on_refused(method, path,
    reason)` and raises RequestRefused without sending anything.
    """
    with _lock:
        current = getattr(ApiClient.call_api, _MARK, None)
        if isinstance(current, _Guard):
            current.policy, current.on_refused = policy, on_refused
        else:
            guard = _Guard(policy, on_refused)
            ApiClient.call_api = _guarded_call_api(ApiClient.call_api, guard)
            RESTClientObject.request = _guarded_request(RESTClientObject.request, guard)

    def uninstall() -> None:
        with _lock:
            _unwrap(ApiClient, "call_api")
            _unwrap(RESTClientObject, "request")

    return uninstall


def guard_api_client(
    api_client: ApiClient, policy: RequestPolicy, on_refused: OnRefused | None = None
) -> ApiClient:
    """Guard one client only (and its REST client); returns it.

    Rules: as `install_request_guard`, for this instance; guarding it again replaces the
    policy; a process-wide guard, when installed, still applies as well.
    """
    with _lock:
        current = getattr(api_client.__dict__.get("call_api"), _MARK, None)
        if isinstance(current, _Guard):
            current.policy, current.on_refused = policy, on_refused
            return api_client
        guard = _Guard(policy, on_refused)
        rest = api_client.rest_client

        # The class methods are looked up at call time, so installing or removing the
        # process-wide guard later neither bypasses nor strands this one.
        def call_api(*args: Any, **kwargs: Any) -> Any:
            arguments = _CALL_API.bind(api_client, *args, **kwargs).arguments
            guard.check(str(arguments.get("method") or ""), _resource_path(api_client, arguments))
            return type(api_client).call_api(api_client, *args, **kwargs)

        def request(*args: Any, **kwargs: Any) -> Any:
            arguments = _REQUEST.bind(rest, *args, **kwargs).arguments
            guard.check(str(arguments.get("method") or ""), path_from_url(str(arguments["url"])))
            return type(rest).request(rest, *args, **kwargs)

        setattr(call_api, _MARK, guard)
        setattr(request, _MARK, guard)
        api_client.call_api = call_api
        rest.request = request
    return api_client
