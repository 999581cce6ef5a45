"""How many pods a monkey kill takes: `one`, `all`, `fixed:N`, `percent:P`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

_FIXED = re.compile(r"fixed:(\d+)")
_PERCENT = re.compile(r"percent:(\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class KillMode:
    """A parsed kill mode; `amount` is N for fixed and P for percent, else 0."""

    kind: Literal["one", "all", "fixed", "percent"]
    amount: float = 0

    def __str__(self) -> str:
        if self.kind in ("one", "all"):
            return self.kind
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{self.kind}:{amount}"

    def count(self, available: int) -> int:
        """How many of `available` pods this mode asks for (before any max_kills cap).

        Rules: `one` is 1, `all` is all, `fixed:N` is N, `percent:P` rounds up so a
        non-zero percent of a non-empty group is at least one pod; never above available.
        """
        if available <= 0:
            return 0
        wanted: int
        if self.kind == "one":
            wanted = 1
        elif self.kind == "all":
            wanted = available
        elif self.kind == "fixed":
            wanted = int(self.amount)
        else:
            wanted = math.ceil(available * self.amount / 100)
        return max(0, min(wanted, available))


def parse_kill_mode(text: str) -> KillMode:
    """Parse `one`, `all`, `fixed:N` (N >= 1) or `percent:P` (0 < P <= 100).

    Raises ValueError naming what was expected.
    """
    raw = text.strip() if isinstance(text, str) else ""
    if raw in ("one", "all"):
        return KillMode(raw)  # type: ignore[arg-type]
    if m := _FIXED.fullmatch(raw):
        n = int(m.group(1))
        if n < 1:
            raise ValueError(f"invalid kill_mode {text!r}: fixed:N needs N >= 1")
        return KillMode("fixed", n)
    if m := _PERCENT.fullmatch(raw):
        p = float(m.group(1))
        if not 0 < p <= 100:
            raise ValueError(f"invalid kill_mode {text!r}: percent:P needs 0 < P <= 100")
        return KillMode("percent", p)
    raise ValueError(f"invalid kill_mode {text!r}: expected one, all, fixed:N or percent:P")
