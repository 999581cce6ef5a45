"""Console stand-ins for Slack: a notifier that prints messages and a Ctrl-C veto gate."""

from __future__ import annotations

import getpass
import sys
import time
from datetime import timedelta
from typing import Protocol, TextIO

from gameday.domain.runs import OutgoingMessage


class ConsoleNotifier:
    """Implements the Notifier port by printing the plain-text fallback to a stream."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def notify(self, message: OutgoingMessage) -> None:
        """Print `[channel] text` (stderr by default, so --json output stays clean)."""
        stream = self._stream or sys.stderr
        lines = [f"[{message.channel}] {message.text}"]
        # The summary sits in a plain-text section of the blocks (what will happen, dry run
        # or live); a console reader needs it as much as a Slack reader does.
        for block in message.blocks or []:
            text = block.get("text") if block.get("type") == "section" else None
            if isinstance(text, dict) and text.get("type") == "plain_text":
                lines.append(f"    {text.get('text', '')}")
        print("\n".join(lines), file=stream, flush=True)


class VetoSource(Protocol):
    """Vetoes recorded elsewhere (a Veto click in Slack) and the kill switch."""

    def vetoer(self, run_id: int) -> str | None:
        """Who vetoed the run so far, or None."""
        ...

    def halted(self) -> bool:
        """True while the kill switch is engaged."""
        ...


class ConsoleVetoGate:
    """Implements the VetoGate port: waits out the heads-up; Ctrl-C during it is a veto,
    and so is a veto recorded in `also` (Slack); the kill switch ends the wait early."""

    def __init__(
        self, stream: TextIO | None = None, *, step: float = 0.25, also: VetoSource | None = None
    ) -> None:
        self._stream = stream
        self._step = step
        self._also = also

    def wait_for_veto(self, run_id: int, heads_up: timedelta) -> str | None:
        """Sleep for the heads-up; the local user's name if they press Ctrl-C meanwhile."""
        stream = self._stream or sys.stderr
        seconds = heads_up.total_seconds()
        print(
            f"run #{run_id}: heads-up of {int(seconds)}s; press Ctrl-C to veto",
            file=stream,
            flush=True,
        )
        deadline = time.monotonic() + seconds
        try:
            while (left := deadline - time.monotonic()) > 0:
                if self._also is not None:
                    vetoer = self._also.vetoer(run_id)
                    if vetoer is not None:
                        return vetoer
                    if self._also.halted():
                        return None  # the kill cycle skips the kill on its guard
                time.sleep(min(left, self._step))
        except KeyboardInterrupt:
            return f"{getpass.getuser()} (console)"
        return None
