"""Label and field selectors as the Kubernetes API server parses them (for the fake server).

Label selector grammar (k8s.io/apimachinery/pkg/labels): comma-separated requirements, each
one of `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (v1,v2)`,
`key notin (v1,v2)`, `key>N`, `key<N`. `!=` and `notin` also match objects without the key.
A malformed selector is a 400 from the real server; here it raises SelectorError.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_KEY = re.compile(rf"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?{_NAME}$")
_VALUE = re.compile(rf"^({_NAME})?$")


class SelectorError(ValueError):
    """The selector does not parse; the message is what the API server would say."""


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector."""

    key: str
    op: str  # exists, !exists, =, !=, in, notin, gt, lt
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether `labels` satisfy this clause."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if not present:
            return False
        try:
            number = int(value or "")
        except ValueError:
            return False
        bound = int(self.values[0])
        return number > bound if self.op == "gt" else number < bound


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise SelectorError(f"unable to parse requirement: unbalanced ')' in {text!r}")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise SelectorError(f"unable to parse requirement: unbalanced '(' in {text!r}")
    parts.append("".join(current))
    return parts


def _key(raw: str) -> str:
    key = raw.strip()
    if not _KEY.match(key) or len(key.split("/")[-1]) > 63:
        raise SelectorError(f"unable to parse requirement: invalid label key {key!r}")
    return key


def _value(raw: str) -> str:
    value = raw.strip()
    if not _VALUE.match(value) or len(value) > 63:
        raise SelectorError(f"unable to parse requirement: invalid label value {value!r}")
    return value


_SET = re.compile(r"^(?P<key>[^\s!=<>()]+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")


def _requirement(clause: str) -> Requirement:
    text = clause.strip()
    if not text:
        raise SelectorError("unable to parse requirement: found ',', expected: identifier")
    if match := _SET.match(text):
        values = tuple(_value(v) for v in match.group("values").split(","))
        return Requirement(_key(match.group("key")), match.group("op"), values)
    if text.startswith("!"):
        return Requirement(_key(text[1:]), "!exists")
    for token, op in (("!=", "!="), ("==", "="), ("=", "="), (">", "gt"), ("<", "lt")):
        if token in text:
            key, _, value = text.partition(token)
            if op in ("gt", "lt") and not value.strip().lstrip("-").isdigit():
                raise SelectorError(f"unable to parse requirement: {value!r} is not an integer")
            return Requirement(_key(key), op, (_value(value),))
    return Requirement(_key(text), "exists")


def parse_label_selector(text: str | None) -> Callable[[Mapping[str, str]], bool]:
    """Compile a label selector string into a predicate over a labels mapping."""
    if text is None or not text.strip():
        return lambda _labels: True
    requirements = [_requirement(clause) for clause in _split_top_level(text)]
    return lambda labels: all(r.matches(labels) for r in requirements)


def _field(obj: Mapping[str, Any], path: str) -> str:
    current: Any = obj
    for part in path.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return "" if current is None else str(current)


_FIELDS = {"metadata.name", "metadata.namespace", "status.phase", "spec.nodeName"}


def parse_field_selector(text: str | None) -> Callable[[Mapping[str, Any]], bool]:
    """Compile a pod field selector (`=`, `==`, `!=` on the fields pods support here)."""
    if text is None or not text.strip():
        return lambda _obj: True
    clauses: list[tuple[str, bool, str]] = []
    for clause in text.split(","):
        for token, equal in (("!=", False), ("==", True), ("=", True)):
            if token in clause:
                field, _, value = clause.partition(token)
                field = field.strip()
                if field not in _FIELDS:
                    raise SelectorError(
                        f'field label not supported: "{field}" (supported: {sorted(_FIELDS)})'
                    )
                clauses.append((field, equal, value.strip()))
                break
        else:
            raise SelectorError(f"invalid field selector: {clause!r}")
    return lambda obj: all((_field(obj, f) == v) == eq for f, eq, v in clauses)
