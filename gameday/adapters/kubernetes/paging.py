"""Paginated list calls (`limit`/`continue`) read as raw JSON items."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from gameday.adapters.kubernetes.errors import read_json


def list_raw(
    method: Callable[..., Any],
    namespace: str,
    *,
    page_size: int,
    timeout: float | tuple[float, float],
    selector: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every item of a namespaced list call, page by page, as raw JSON.

    Rules: `selector` is applied by the server; raw JSON instead of the client's models is an
    order of magnitude faster on tens of thousands of objects, and callers read few fields.
    """
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "limit": page_size,
            "_preload_content": False,
            "_request_timeout": timeout,
        }
        if selector:
            kwargs["label_selector"] = selector
        if token:
            kwargs["_continue"] = token
        page = read_json(method(namespace, **kwargs))
        yield from page.get("items") or []
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return
