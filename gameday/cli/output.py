"""Writing a command's output to a file: the target checked before any work, the file
replaced whole (a temporary file in the same folder, then a rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gameday.domain.errors import InvalidInput, NotFound


def output_target(output: Path | None) -> Path | None:
    """The file to write, checked before anything is read, so a bad path writes nothing."""
    if output is None:
        return None
    target = output.expanduser().absolute()
    if not target.parent.is_dir():
        raise NotFound(f"--output {output}: folder {target.parent} does not exist")
    if target.is_dir():
        raise InvalidInput(f"--output {output} is a folder, not a file")
    return target


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_whole(target: Path, text: str) -> None:
    """Replace `target` whole: a temporary file in the same folder, then a rename; the
    file keeps its permissions (a new one gets the usual ones, not mkstemp's 0600)."""
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
