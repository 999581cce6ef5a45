"""Turn kubernetes client and transport failures into precise, secret-free Unavailable errors."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import urllib3
from kubernetes.client.exceptions import ApiException

from gameday.domain.errors import Unavailable


def server_message(exc: ApiException) -> str:
    """The `message` of the Status body the API server sent, or its HTTP reason."""
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str) and body:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            return " ".join(data["message"].split())
    return str(exc.reason or "no reason given")


def server_causes(exc: ApiException) -> list[str]:
    """`details.causes[].message` of the Status body (a PDB refusal names the budget there)."""
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
    try:
        data = json.loads(body) if isinstance(body, str) and body else {}
    except ValueError:
        return []
    causes = (data.get("details") or {}).get("causes") or [] if isinstance(data, dict) else []
    return [str(c["message"]) for c in causes if isinstance(c, dict) and c.get("message")]


def public_host(host: str) -> str:
    """The API server address without any user info a URL might carry."""
    parts = urlsplit(host)
    if not parts.hostname:
        return host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def unavailable(exc: Exception, host: str, action: str) -> Unavailable:
    """An Unavailable naming the server, what we were doing and what went wrong."""
    where = public_host(host)
    if isinstance(exc, ApiException):
        if not exc.status:
            return Unavailable(f"Kubernetes API at {where} failed while {action}: {exc.reason}")
        return Unavailable(
            f"Kubernetes API at {where} answered {exc.status} while {action}: {server_message(exc)}"
        )
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        inner = exc.reason
        text = "connection refused" if "refused" in str(inner).lower() else type(inner).__name__
        return Unavailable(f"Kubernetes API at {where} cannot be reached while {action}: {text}")
    return Unavailable(
        f"Kubernetes API at {where} cannot be reached while {action}: {type(exc).__name__}"
    )


def read_json(response: Any) -> Any:
    """Read a raw (`_preload_content=False`) response as JSON and give its connection back to
    the pool; without the release every request would open a new connection."""
    try:
        return json.loads(response.data)
    finally:
        response.release_conn()


def drain(response: Any) -> None:
    """Read and release a raw response whose body we do not need."""
    try:
        response.data  # noqa: B018 - reading the body frees the connection for reuse
    finally:
        response.release_conn()


TRANSPORT_ERRORS: tuple[type[Exception], ...] = (urllib3.exceptions.HTTPError, OSError)
