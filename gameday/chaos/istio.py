"""Istio fault injection for runbooks: `gameday.chaos.istio` (a Chaos Toolkit python
provider module).

The same actions and arguments as chaostoolkit-istio's `chaosistio.fault.actions`
(`add_delay_fault`, `add_abort_fault`, `remove_delay_fault`, `remove_abort_fault`), which
cannot run with the kubernetes client gameday ships: chaostoolkit-istio 0.4.1 unpacks
`ApiClient.call_api` as a 3-tuple, which it no longer is. These use the client's
CustomObjectsApi instead. They refuse protected namespaces whatever a runbook says.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from chaoslib.exceptions import ActivityFailed
from kubernetes import client
from kubernetes.client.rest import ApiException

__all__ = ["add_abort_fault", "add_delay_fault", "remove_abort_fault", "remove_delay_fault"]

DEFAULT_VERSION = "networking.istio.io/v1alpha3"


def _api(secrets: dict[str, Any] | None) -> client.CustomObjectsApi:
    """A client found exactly as chaostoolkit-kubernetes finds one (the worker points it at
    the service's cluster: see gameday.settings)."""
    from chaosk8s import create_k8s_api_client

    return client.CustomObjectsApi(create_k8s_api_client(secrets))


def _check_namespace(ns: str) -> None:
    # The worker's request guard refuses these too; a clear activity error here says why
    # before any request is made, even where no guard is installed.
    from gameday.settings import Settings

    if ns in Settings().protected_namespaces():
        raise ActivityFailed(f"namespace {ns!r} is protected: gameday never changes it")


def _set_fault(
    name: str,
    routes: list[dict[str, Any]],
    fault: dict[str, Any] | None,
    ns: str,
    version: str,
    secrets: dict[str, Any] | None,
) -> dict[str, Any]:
    _check_namespace(ns)
    group, _, api_version = version.partition("/")
    api = _api(secrets)
    try:
        current = api.get_namespaced_custom_object(group, api_version, ns, "virtualservices", name)
    except ApiException as exc:
        raise ActivityFailed(f"virtual service {ns}/{name}: {exc.status} {exc.reason}") from None
    targets = {
        (r["destination"]["host"], r["destination"].get("subset"))
        for r in routes
        if "destination" in r
    }
    http = deepcopy(current.get("spec", {}).get("http", []))
    for entry in http:
        for route in entry.get("route", []):
            destination = route.get("destination")
            if destination and (destination["host"], destination.get("subset")) in targets:
                if fault is None:
                    entry.pop("fault", None)
                else:
                    entry["fault"] = fault
                break
    try:
        result: dict[str, Any] = api.patch_namespaced_custom_object(
            group, api_version, ns, "virtualservices", name, {"spec": {"http": http}}
        )
    except ApiException as exc:
        raise ActivityFailed(f"virtual service {ns}/{name}: {exc.status} {exc.reason}") from None
    return result


def _fault(kind: str, settings: dict[str, Any], percentage: float | None) -> dict[str, Any]:
    """An HTTPFaultInjection of `kind` (delay or abort), for `percentage` of the requests
    when given (all of them otherwise)."""
    if percentage is not None:
        settings = {**settings, "percentage": {"value": percentage}}
    return {kind: settings}


def add_delay_fault(
    virtual_service_name: str,
    fixed_delay: str,
    routes: list[dict[str, Any]],
    percentage: float | None = None,
    ns: str = "default",
    version: str = DEFAULT_VERSION,
    configuration: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Delay the traffic of the routes to `routes`' destinations by `fixed_delay`."""
    fault = _fault("delay", {"fixedDelay": fixed_delay}, percentage)
    return _set_fault(virtual_service_name, routes, fault, ns, version, secrets)


def add_abort_fault(
    virtual_service_name: str,
    http_status: int,
    routes: list[dict[str, Any]],
    percentage: float | None = None,
    ns: str = "default",
    version: str = DEFAULT_VERSION,
    configuration: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Answer requests of the routes to `routes`' destinations with `http_status`."""
    fault = _fault("abort", {"httpStatus": http_status}, percentage)
    return _set_fault(virtual_service_name, routes, fault, ns, version, secrets)


def remove_delay_fault(
    virtual_service_name: str,
    routes: list[dict[str, Any]],
    ns: str = "default",
    version: str = DEFAULT_VERSION,
    configuration: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Remove the fault from the routes to `routes`' destinations (the rollback)."""
    return _set_fault(virtual_service_name, routes, None, ns, version, secrets)


remove_abort_fault = remove_delay_fault
