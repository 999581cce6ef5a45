"""Alertmanager's webhook payload (version 4), read into the alerts a drill may count.

Rules: the body is a JSON object with `version` "4" and an `alerts` list; each alert has
`status` ("firing" or "resolved"), a `labels` object of strings, `startsAt` (RFC 3339) and
usually a `fingerprint` (else one is derived from its labels and start). Anything else is
refused with the reason, naming the offending alert by its index; nothing is half-read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_ALERTS = 1000


@dataclass(frozen=True)
class IncomingAlert:
    """One alert of a webhook call."""

    status: str
    labels: Mapping[str, str]
    starts_at: datetime
    fingerprint: str

    @property
    def name(self) -> str:
        """Its `alertname` label ("?" when it has none)."""
        return self.labels.get("alertname", "?")

    @property
    def firing(self) -> bool:
        """Whether Alertmanager says it fires now."""
        return self.status == "firing"


def parse_rfc3339(text: Any) -> datetime:
    """An aware UTC datetime from Alertmanager's RFC 3339 (nanoseconds are cut to micro)."""
    if not isinstance(text, str) or not text:
        raise ValueError("startsAt is missing")
    raw = text.strip().replace("z", "Z")
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    head, dot, rest = raw.partition(".")
    if dot:  # fractional seconds: keep at most six digits
        digits = len(rest) - len(rest.lstrip("0123456789"))
        raw = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"startsAt {text!r} is not an RFC 3339 time") from None
    if value.tzinfo is None:
        raise ValueError(f"startsAt {text!r} has no offset")
    return value.astimezone(UTC)


def parse_webhook(body: Any) -> list[IncomingAlert]:
    """The alerts of an Alertmanager webhook body (already JSON-decoded); ValueError."""
    if not isinstance(body, Mapping):
        raise ValueError("expected a JSON object")
    if str(body.get("version")) != "4":
        raise ValueError(f'unsupported webhook version {body.get("version")!r}: expected "4"')
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise ValueError("alerts must be a list")
    if len(alerts) > MAX_ALERTS:
        raise ValueError(f"too many alerts ({len(alerts)}; at most {MAX_ALERTS})")
    return [_alert(i, a) for i, a in enumerate(alerts)]


def _alert(index: int, raw: Any) -> IncomingAlert:
    where = f"alerts[{index}]"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected an object")
    status = raw.get("status")
    if status not in ("firing", "resolved"):
        raise ValueError(f'{where}.status: expected "firing" or "resolved", not {status!r}')
    labels = raw.get("labels")
    if not isinstance(labels, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise ValueError(f"{where}.labels: expected an object of strings")
    try:
        starts_at = parse_rfc3339(raw.get("startsAt"))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    fingerprint = raw.get("fingerprint")
    if not isinstance(fingerprint, str) or not fingerprint:
        blob = json.dumps([sorted(labels.items()), starts_at.isoformat()])
        fingerprint = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return IncomingAlert(str(status), dict(labels), starts_at, fingerprint[:128])
