"""Spec files of a home folder: `schedules/*.yaml|yml` and `runbooks/*.yaml|yml|json`.

Implements the SpecSource port. Files are refused (with a problem, not an exception) when
they are larger than the size limit, are not UTF-8, or resolve outside the home through a
symlink; nothing is parsed here.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from gameday.domain.spec_files import SourceFile
from gameday.domain.spec_parse import RUNBOOK_SUFFIXES, SCHEDULE_SUFFIXES

MAX_BYTES = 1024 * 1024
"""Largest spec file read (1 MiB); real specs are a few kilobytes."""

_KIND_LINE = re.compile(rb"^kind\s*:", re.MULTILINE)
_GATES_LINE = re.compile(r"^kind\s*:\s*[\"']?gates[\"']?\s*(#.*)?$", re.MULTILINE)


def _display(path: Path, home: Path) -> str:
    try:
        return path.relative_to(home).as_posix()
    except ValueError:
        return path.as_posix()


def _size_text(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


class FolderSpecSource:
    """SpecSource reading from a folder; optionally with extra files named on the CLI."""

    schedule_kinds: frozenset[str] | None = None  # every kind

    def __init__(self, home: Path, extra: Sequence[Path] = (), max_bytes: int = MAX_BYTES) -> None:
        self.home = home.absolute()
        self.resolved_home = self.home.resolve()
        self.max_bytes = max_bytes
        self._extra_schedules: list[Path] = []
        self._extra_runbooks: list[Path] = []
        for path in self._expand(extra):
            self._classify(path)

    def schedule_files(self) -> list[SourceFile]:
        """Every `schedules/*.yaml|yml` of the home, plus extra schedule files."""
        return self._files(self.home / "schedules", SCHEDULE_SUFFIXES, self._extra_schedules)

    def runbook_files(self) -> list[SourceFile]:
        """Every `runbooks/*.yaml|yml|json` of the home, plus extra runbook files."""
        return self._files(self.home / "runbooks", RUNBOOK_SUFFIXES, self._extra_runbooks)

    def _files(self, folder: Path, suffixes: Iterable[str], extra: list[Path]) -> list[SourceFile]:
        try:
            found = self._listed(folder, suffixes)
        except OSError as exc:
            problem = f"cannot read the folder: {exc.strerror or exc}"
            return [SourceFile(_display(folder, self.home), problem=problem)]
        return self._read_all(found, extra)

    def display(self, path: Path) -> str:
        """How a path is shown in messages: relative to the home when inside it."""
        return _display(path.absolute(), self.home)

    def _listed(self, folder: Path, suffixes: Iterable[str]) -> list[Path]:
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.suffix in suffixes and not p.is_dir())

    def _expand(self, paths: Sequence[Path]) -> list[Path]:
        files: list[Path] = []
        for path in paths:
            path = path.absolute()
            if path.is_dir():
                files.extend(
                    sorted(
                        p for p in path.rglob("*") if p.suffix in RUNBOOK_SUFFIXES and p.is_file()
                    )
                )
            else:
                files.append(path)
        return files

    def _classify(self, path: Path) -> None:
        # Files already in the home's own folders are read anyway.
        if path.parent in (self.home / "schedules", self.home / "runbooks"):
            return
        if path.parent.name == "schedules":
            self._extra_schedules.append(path)
        elif path.parent.name == "runbooks" or path.suffix == ".json":
            self._extra_runbooks.append(path)
        else:
            head = b""
            try:
                with path.open("rb") as handle:
                    head = handle.read(self.max_bytes)
            except OSError:
                pass
            # A schedule document always says its kind; an experiment never does.
            target = self._extra_schedules if _KIND_LINE.search(head) else self._extra_runbooks
            target.append(path)

    def _read_all(self, found: list[Path], extra: list[Path]) -> list[SourceFile]:
        seen: set[Path] = set()
        files: list[SourceFile] = []
        for path in [*found, *extra]:
            if path in seen:
                continue
            seen.add(path)
            files.append(self._read(path))
        return sorted(files, key=lambda f: f.path)

    def _read(self, path: Path) -> SourceFile:
        shown = _display(path, self.home)
        inside_home = path.is_relative_to(self.home)
        try:
            real = path.resolve()
            if inside_home and not real.is_relative_to(self.resolved_home):
                return SourceFile(shown, problem="symlink to a file outside the home folder")
            if not real.is_file():
                return SourceFile(shown, problem="not a regular file")
            size = real.stat().st_size
            if size > self.max_bytes:
                return SourceFile(
                    shown,
                    problem=f"file is larger than the {_size_text(self.max_bytes)} limit "
                    f"({size} bytes)",
                )
            with real.open("rb") as handle:
                # Read at most one byte past the limit: the file may grow after stat().
                data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            return SourceFile(shown, problem=f"cannot read the file: {exc.strerror or exc}")
        if len(data) > self.max_bytes:
            return SourceFile(
                shown, problem=f"file is larger than the {_size_text(self.max_bytes)} limit"
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return SourceFile(shown, problem=f"not UTF-8 text (byte {exc.start + 1})")
        return SourceFile(shown, text=text, digest=hashlib.sha256(data).hexdigest())


class OneRunbook(FolderSpecSource):
    """SpecSource of a single runbook file of a home and the default gates: what `gameday
    run` needs, without reading (and importing the providers of) every other runbook."""

    def __init__(self, home: Path, runbook: Path, max_bytes: int = MAX_BYTES) -> None:
        super().__init__(home, (), max_bytes)
        self._runbook = runbook.absolute()

    # The default health gates apply to a single run too; nothing else of the schedules.
    schedule_kinds: frozenset[str] | None = frozenset({"gates"})

    def schedule_files(self) -> list[SourceFile]:
        """The schedule files holding a `kind: gates` spec (unreadable ones too: they might,
        and a run must not start with its gates unknown)."""
        files = super().schedule_files()
        return [f for f in files if f.problem or _GATES_LINE.search(f.text or "")]

    def runbook_files(self) -> list[SourceFile]:
        """The one runbook file."""
        return self._read_all([self._runbook], [])
