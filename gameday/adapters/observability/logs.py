"""Logging set-up: one JSON object per line for machines, short human lines on a TTY.

Every record about a run carries its id: pass `extra={"run_id": ...}` or log through
`run_logger(logger, run_id)`. Extra fields given with `extra=` land in the JSON object.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import IO, Any

# Attributes every LogRecord has; anything else was passed with `extra=` and is ours.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, logger, event, then extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a single line of JSON."""
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update(_extras(record))
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, sort_keys=False)


class HumanFormatter(logging.Formatter):
    """`HH:MM:SS+00:00 LEVEL message key=value ...` for a person watching a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as one readable line (exceptions follow on their own lines)."""
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S%z")
        message = record.getMessage()
        # Fields the sentence already says are left out; the JSON form keeps them all.
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items() if str(v) not in message)
        line = f"{ts} {record.levelname:<7} {message}"
        if extras:
            line = f"{line}  {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure_logging(
    *, json_logs: bool | None = None, level: str = "INFO", stream: IO[str] | None = None
) -> logging.Handler:
    """Send the root logger to stderr; JSON unless stderr is a TTY (or `json_logs` says)."""
    out = stream or sys.stderr
    if json_logs is None:
        json_logs = not out.isatty()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter() if json_logs else HumanFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries that chatter at INFO about every job and request.
    for noisy in ("apscheduler", "waitress.queue", "urllib3", "kubernetes", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


class RunLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger whose every line carries the run id (and the schedule, when known)."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        """Merge the run's fields into `extra` without dropping the caller's."""
        extra: dict[str, Any] = dict(self.extra or {})
        extra.update(kwargs.get("extra") or {})
        kwargs["extra"] = extra
        return msg, kwargs


def run_logger(logger: logging.Logger, run_id: int, **fields: Any) -> RunLogger:
    """A logger for lines about one run."""
    extra: Mapping[str, Any] = {"run_id": run_id, **fields}
    return RunLogger(logger, extra)
