"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902) as the fake API server applies them."""

from __future__ import annotations

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _walk(doc: Any, pointer: str) -> tuple[Any, str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if not parts:
        raise ValueError("a JSON patch path must not be empty")
    parent = doc
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    return parent, parts[-1]


def json_patch(doc: Any, operations: list[dict[str, Any]]) -> Any:
    """RFC 6902 add / replace / remove / test (what clients send to custom objects)."""
    for operation in operations:
        parent, key = _walk(doc, operation["path"])
        op = operation["op"]
        if isinstance(parent, list):
            index = len(parent) if key == "-" else int(key)
            if op == "add":
                parent.insert(index, operation["value"])
            elif op == "replace":
                parent[index] = operation["value"]
            elif op == "remove":
                del parent[index]
            elif op == "test" and parent[index] != operation["value"]:
                raise ValueError(f"test failed at {operation['path']}")
        elif op in ("add", "replace"):
            if op == "replace" and key not in parent:
                raise ValueError(f"cannot replace missing {operation['path']}")
            parent[key] = operation["value"]
        elif op == "remove":
            del parent[key]
        elif op == "test" and parent.get(key) != operation["value"]:
            raise ValueError(f"test failed at {operation['path']}")
    return doc


def apply_patch(doc: dict[str, Any], patch: Any) -> dict[str, Any]:
    """A list is a JSON patch; an object is a merge patch (strategic merge treated alike)."""
    from tests.fakes.kube_store import ApiError

    try:
        result: dict[str, Any] = (
            json_patch(doc, patch) if isinstance(patch, list) else merge_patch(doc, patch)
        )
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise ApiError(422, "Invalid", f"the patch could not be applied: {exc}") from exc
    return result
