"""Durations as people write them in specs: `90s`, `10m`, `4h`, `2d`, `1w`, or `1h30m`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"(?:\d+[smhdw])+")


def parse_duration(text: str) -> timedelta:
    """Parse a positive duration such as `90s`, `10m`, `4h`, `2d`, `1w` or `1h30m`.

    Rules: one or more NUMBER+UNIT parts, units s/m/h/d/w, no spaces, no sign, no
    fractions; the total must be greater than zero. Raises ValueError with the reason.
    """
    raw = text.strip() if isinstance(text, str) else text
    if not isinstance(raw, str) or not _WHOLE.fullmatch(raw):
        raise ValueError(
            f"invalid duration {text!r}: expected NUMBER+UNIT such as 90s, 10m, 4h, 2d or 1h30m"
        )
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(raw))
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: must be greater than zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Render a duration the way specs write it, largest units first (`1h30m`)."""
    remaining = int(value.total_seconds())
    if remaining <= 0:
        return "0s"
    parts = []
    for unit, size in sorted(_UNITS.items(), key=lambda kv: -kv[1]):
        if unit == "w":
            continue
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
