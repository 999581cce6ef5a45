"""Keep a runbook's secret values out of everything recorded about a run.

Secret values are the leaves of the runbook's `secrets` block as chaoslib resolved them
(inline values, values read from environment variables, Vault payloads). Any string that
contains one is rewritten with the value replaced by `***`, in events and in the stored
journal alike; the structure of the journal is left as it is.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import json
import logging
import sys
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
# A value this short would mangle ordinary words if replaced inside longer text; it is
# still hidden wherever it is the whole value.
_MIN_SUBSTRING = 3
_REFERENCE_KEYS = frozenset({"type", "key", "path"})


def secret_values(secrets: Any) -> set[str]:
    """Every leaf value of a (resolved or declared) secrets block, as text."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if node.get("type") in ("env", "vault") and set(node) <= _REFERENCE_KEYS:
                return  # a reference to where the secret lives, not the secret itself
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple | set):
            for value in node:
                walk(value)
        elif isinstance(node, bytes):
            found.add(node.decode("utf-8", "replace"))
        elif node is not None and not isinstance(node, bool):
            text = str(node)
            if text:
                found.add(text)

    walk(secrets)
    return found


class Redactor:
    """Replaces known secret values in JSON-like data; learns values as they resolve."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        """Learn more secret values (empty strings are ignored)."""
        self._values.update(v for v in values if v)

    def text(self, value: str) -> str:
        """One string with every secret value masked."""
        if value in self._values:
            return MASK
        # Longest first, so a secret containing another is masked whole.
        for secret in sorted(self._values, key=len, reverse=True):
            if len(secret) >= _MIN_SUBSTRING and secret in value:
                value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        """JSON-able copy of `value` with every secret value masked (keys included)."""
        plain = to_json_able(value)
        return self._walk(plain)

    def _walk(self, node: Any) -> Any:
        if isinstance(node, str):
            return self.text(node)
        if isinstance(node, dict):
            return {self.text(str(k)): self._walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self._walk(v) for v in node]
        if (
            isinstance(node, int | float)
            and not isinstance(node, bool)
            and str(node) in self._values
        ):
            return MASK
        return node


def _default(obj: Any) -> Any:
    if isinstance(obj, dt.datetime | dt.date | dt.time):
        return obj.isoformat()
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, decimal.Decimal | uuid.UUID):
        return str(obj)
    if isinstance(obj, bytes):
        try:
            return obj.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(obj).decode("ascii")
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, BaseException):
        return f"{type(obj).__name__}: {obj}"
    return repr(obj)


def to_json_able(value: Any) -> Any:
    """A copy of `value` made only of JSON types (what `chaos run` would write to disk)."""
    return json.loads(json.dumps(value, default=_default, ensure_ascii=False))


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redactor.text(record.getMessage())
        record.args = None
        return True


def configure_logging(redactor: Redactor) -> None:
    """A worker's log (its stderr): Chaos Toolkit's and gameday's lines, secrets redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(_RedactingFilter(redactor))
    for name in ("chaostoolkit", "chaostoolkit-lib", "gameday"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
        logger.propagate = False
