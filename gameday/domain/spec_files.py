"""What the spec parser reads and reports: source files and positioned errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class SpecError:
    """One problem in a spec file; `str()` is `PATH:LINE:COL: message` (1-based line/col).

    `path` is relative to the home folder when the file is inside it. Warnings render as
    `PATH:LINE:COL: warning: message`.
    """

    path: str
    line: int
    col: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}:{self.col}: {prefix}{self.message}"

    def as_dict(self) -> dict[str, object]:
        """Stable snake_case keys for `--json` output."""
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(frozen=True)
class SourceFile:
    """A file the source adapter read: its display path, text and digest, or why not.

    When `problem` is set the file could not be read (too large, not UTF-8, a symlink
    leaving the home) and `text` is empty.
    """

    path: str
    text: str = ""
    digest: str = ""
    problem: str | None = None
