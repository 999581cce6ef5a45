"""The catalog: every window, schedule and runbook of a home, checked together.

`build_catalog(source, checker)` reads all files through the SpecSource port, parses them,
checks cross-references (a schedule naming a missing window or runbook, duplicate names)
and collects every error and warning of every file in one pass. Only specs without errors
enter the catalog. The composition root offers `gameday.wiring.load_catalog(home)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath, PurePosixPath

from gameday.domain.drill_specs import background_in_method
from gameday.domain.errors import InvalidInput, NotFound
from gameday.domain.gate_specs import GateSpec, GatesSpec, merge_gates
from gameday.domain.ports import RunbookChecker, SpecSource
from gameday.domain.protection import PROTECTED_NAMESPACES
from gameday.domain.run_policy import drill_for
from gameday.domain.runbook_namespaces import protected_namespace_uses
from gameday.domain.spec_files import SpecError
from gameday.domain.spec_parse import (
    ParsedRunbook,
    ParsedSpec,
    error_at,
    locate_message,
    parse_runbook,
    parse_schedules,
    warning_at,
)
from gameday.domain.spec_values import did_you_mean, localize
from gameday.domain.specs import GamedaySpec, MonkeySpec, Runbook, WindowSpec
from gameday.domain.windows import Window

__all__ = ["Catalog", "CatalogLoad", "SpecError", "build_catalog"]


@dataclass(frozen=True)
class Catalog:
    """Everything valid in a home, by name. Schedule names (monkeys and GameDays) are
    unique together; window names and runbook names (file stems) are unique."""

    windows: dict[str, Window] = field(default_factory=dict)
    window_specs: dict[str, WindowSpec] = field(default_factory=dict)
    monkeys: dict[str, MonkeySpec] = field(default_factory=dict)
    gamedays: dict[str, GamedaySpec] = field(default_factory=dict)
    runbooks: dict[str, Runbook] = field(default_factory=dict)
    default_gates: list[GateSpec] = field(default_factory=list)

    def schedule(self, name: str) -> MonkeySpec | GamedaySpec:
        """The monkey or GameDay called `name`; NotFound (with a suggestion) otherwise."""
        found = self.monkeys.get(name) or self.gamedays.get(name)
        if found is None:
            hint = did_you_mean(name, [*self.monkeys, *self.gamedays])
            raise NotFound(f"no schedule named {name!r}{hint}")
        return found

    def window(self, name: str) -> Window:
        """The window called `name`; NotFound (with a suggestion) otherwise."""
        found = self.windows.get(name)
        if found is None:
            raise NotFound(f"no window named {name!r}{did_you_mean(name, self.windows)}")
        return found

    def window_of(self, spec: MonkeySpec | GamedaySpec) -> Window | None:
        """The window a schedule names, None for a GameDay without one (always open)."""
        return self.window(spec.window) if spec.window else None

    def runbook(self, name_or_path: str | PurePath) -> Runbook:
        """A runbook by name (`bookinfo-reviews-latency`) or by path relative to the home
        (`runbooks/bookinfo-reviews-latency.yaml`); NotFound with a suggestion otherwise."""
        text = str(name_or_path).replace("\\", "/")
        found = self.runbooks.get(text)
        if found is None:
            wanted = normalise(text)
            found = next((r for r in self.runbooks.values() if r.path == wanted), None)
        if found is None and "/" not in text:
            # A bare file name (`x.yaml`) means the file of that name in runbooks/.
            found = next((r for r in self.runbooks.values() if r.path == f"runbooks/{text}"), None)
        if found is None:
            hint = did_you_mean(PurePosixPath(text).stem, self.runbooks)
            raise NotFound(f"no runbook {text!r}{hint}")
        return found

    def runbook_of(self, spec: GamedaySpec) -> Runbook:
        """The runbook a GameDay runs."""
        return self.runbook(spec.runbook)

    def gates_of(
        self, schedule: GamedaySpec | MonkeySpec | None, runbook: Runbook | None
    ) -> list[GateSpec]:
        """The gates a run must pass: the default ones, its runbook's, its schedule's (a
        narrower gate replaces a wider one of the same name)."""
        extension = runbook.extension if runbook is not None else None
        return merge_gates(
            self.default_gates,
            extension.gates if extension is not None else [],
            schedule.gates if schedule is not None else [],
        )


@dataclass(frozen=True)
class CatalogLoad:
    """The catalog plus every error and warning found while loading it, sorted by position."""

    catalog: Catalog
    errors: list[SpecError] = field(default_factory=list)
    warnings: list[SpecError] = field(default_factory=list)

    def require_valid(self) -> Catalog:
        """The catalog, or InvalidInput naming the first error (and how many there are)."""
        if self.errors:
            more = len(self.errors) - 1
            tail = f" (and {more} more; run `gameday validate`)" if more else ""
            raise InvalidInput(f"{self.errors[0]}{tail}")
        return self.catalog


def normalise(path: str) -> str:
    """A relative posix path without `.` parts (`./runbooks/x.yaml` -> `runbooks/x.yaml`)."""
    return str(PurePosixPath(*[p for p in PurePosixPath(path).parts if p != "."]))


class _Loader:
    def __init__(self) -> None:
        self.errors: list[SpecError] = []
        self.warnings: list[SpecError] = []
        self.windows: dict[str, ParsedSpec] = {}
        self.schedules: dict[str, ParsedSpec] = {}
        self.runbooks: dict[str, ParsedRunbook] = {}
        self.broken_windows: set[str] = set()
        self.broken_runbooks: set[str] = set()
        self.gates: ParsedSpec | None = None

    def add_spec(self, parsed: ParsedSpec) -> None:
        spec = parsed.spec
        if isinstance(spec, GatesSpec):
            if self.gates is not None:
                where = self.gates.doc.mark(("name",))
                self.error(
                    parsed,
                    ("name",),
                    f"name: a second gates spec (the first at {self.gates.path}:"
                    f"{where.line}:{where.col}); put every default gate in one",
                )
                return
            self.gates = parsed
            return
        table = self.windows if isinstance(spec, WindowSpec) else self.schedules
        first = table.get(spec.name)
        if first is not None:
            where = first.doc.mark(("name",))
            what = "window" if isinstance(spec, WindowSpec) else "schedule"
            self.error(
                parsed,
                ("name",),
                f"name: duplicate {what} name {spec.name!r} "
                f"(first at {first.path}:{where.line}:{where.col})",
            )
            return
        table[spec.name] = parsed

    def add_runbook(self, parsed: ParsedRunbook) -> None:
        first = self.runbooks.get(parsed.runbook.name)
        if first is not None:
            self.errors.append(
                error_at(
                    parsed.runbook.path,
                    parsed.doc.start,
                    f"duplicate runbook name {parsed.runbook.name!r} "
                    f"(also {first.runbook.path}; names are file stems)",
                )
            )
            return
        self.runbooks[parsed.runbook.name] = parsed

    def error(self, parsed: ParsedSpec, path: tuple[str | int, ...], message: str) -> None:
        self.errors.append(error_at(parsed.path, parsed.doc.mark(path), message))

    def warn(self, parsed: ParsedSpec, path: tuple[str | int, ...], message: str) -> None:
        self.warnings.append(warning_at(parsed.path, parsed.doc.mark(path), message))


def _check_namespaces(loader: _Loader, parsed: ParsedRunbook, protected: frozenset[str]) -> bool:
    """A protected namespace named literally is an error: the run could only be refused."""
    uses = protected_namespace_uses(parsed.runbook.experiment, protected)
    for where, message in uses:
        loader.errors.append(error_at(parsed.runbook.path, parsed.doc.mark(where), message))
    return not uses


_BACKGROUND_DRILL = (
    "a resolve does not end a background activity (chaoslib waits for it before the "
    "rollbacks): hold a drill's fault in the foreground"
)


def _warn_background_drill(loader: _Loader, parsed: ParsedRunbook) -> None:
    """A drill's resolve ends its method; a background activity would carry on."""
    if drill_for(None, parsed.runbook) is None:
        return
    for i in background_in_method(parsed.runbook.experiment):
        mark = parsed.doc.mark(("method", i, "background"))
        message = f"method[{i}].background: {_BACKGROUND_DRILL}"
        loader.warnings.append(warning_at(parsed.runbook.path, mark, message))


def _check_runbook(loader: _Loader, parsed: ParsedRunbook, checker: RunbookChecker) -> bool:
    try:
        problems = checker.problems(parsed.runbook.experiment)
    except Exception as exc:  # a checker bug must not hide the other files' errors
        problems = [f"could not check the experiment: {type(exc).__name__}: {exc}"]
    for problem in problems:
        loader.errors.append(
            error_at(parsed.runbook.path, locate_message(parsed.doc, problem), problem)
        )
    return not problems


def _missing_window(loader: _Loader, name: str) -> str:
    if name in loader.broken_windows:
        return f"window: window {name!r} has errors (see its own lines)"
    return f"window: no window named {name!r}{did_you_mean(name, loader.windows)}"


def _resolve_gameday(loader: _Loader, parsed: ParsedSpec, spec: GamedaySpec) -> GamedaySpec | None:
    window: Window | None = None
    if spec.window is not None:
        found = loader.windows.get(spec.window)
        if found is None:
            loader.error(parsed, ("window",), _missing_window(loader, spec.window))
            return None
        assert isinstance(found.spec, WindowSpec)
        window = found.spec.to_window()
    wanted = normalise(spec.runbook)
    runbooks = {r.runbook.path: r for r in loader.runbooks.values()}
    if wanted not in runbooks and spec.runbook not in loader.runbooks:
        if wanted in loader.broken_runbooks:
            message = f"runbook: {spec.runbook!r} has errors (see its own lines)"
        elif not wanted.startswith("runbooks/") and "/" in wanted:
            message = f"runbook: {spec.runbook!r} is not in runbooks/"
        else:
            hint = did_you_mean(wanted, runbooks)
            message = f"runbook: no runbook at {spec.runbook!r}{hint}"
        loader.error(parsed, ("runbook",), message)
        return None
    chosen = runbooks.get(wanted) or loader.runbooks[spec.runbook]
    background = background_in_method(chosen.runbook.experiment)
    if background and drill_for(spec, chosen.runbook) is not None:
        loader.warn(
            parsed,
            ("drill",),
            f"drill: {chosen.runbook.path} method[{background[0]}]: {_BACKGROUND_DRILL}",
        )
    zone = spec.timezone or (window.timezone if window else None) or "UTC"
    at: datetime | None = spec.at
    if at is not None and at.tzinfo is None:
        try:
            at = localize(at, zone)
        except ValueError as exc:
            loader.error(parsed, ("at",), f"at: {exc}")
            return None
    return spec.model_copy(update={"timezone": zone, "at": at})


def build_catalog(
    source: SpecSource,
    checker: RunbookChecker | None = None,
    protected: frozenset[str] = PROTECTED_NAMESPACES,
) -> CatalogLoad:
    """Read, parse and cross-check every spec of a home; all problems in one pass.

    Rules: a file that cannot be read or parsed yields errors and nothing else; a spec with
    an error (its own or a broken reference) stays out of the catalog; a protected namespace
    in a monkey's targets is a warning (its pods are filtered out when selecting); a runbook
    naming a protected namespace in an activity's or control's arguments is an error (the
    request guard would refuse it). `protected` is the domain's set unless the service adds
    its own namespace.
    """
    loader = _Loader()
    for file in source.runbook_files():
        if file.problem:
            loader.errors.append(SpecError(file.path, 1, 1, file.problem))
            loader.broken_runbooks.add(file.path)
            continue
        parsed_runbook, errors = parse_runbook(file.text, file.path, file.digest)
        loader.errors.extend(errors)
        if parsed_runbook is None or errors:
            loader.broken_runbooks.add(file.path)
            continue
        # Both checks run so one pass reports every problem of the file.
        clean = _check_namespaces(loader, parsed_runbook, protected)
        if checker is not None:
            clean = _check_runbook(loader, parsed_runbook, checker) and clean
        if clean:
            _warn_background_drill(loader, parsed_runbook)
            loader.add_runbook(parsed_runbook)
        else:
            loader.broken_runbooks.add(file.path)
    for file in source.schedule_files():
        if file.problem:
            loader.errors.append(SpecError(file.path, 1, 1, file.problem))
            continue
        result = parse_schedules(file.text, file.path)
        loader.errors.extend(result.errors)
        loader.broken_windows |= result.broken["window"]
        for parsed in result.specs:
            if source.schedule_kinds is None or parsed.spec.kind in source.schedule_kinds:
                loader.add_spec(parsed)

    catalog = Catalog()
    for name, parsed in loader.windows.items():
        assert isinstance(parsed.spec, WindowSpec)
        catalog.window_specs[name] = parsed.spec
        catalog.windows[name] = parsed.spec.to_window()
    for name, parsed in loader.schedules.items():
        spec = parsed.spec
        if isinstance(spec, MonkeySpec):
            for i, ns in enumerate(spec.targets.namespaces):
                if ns in protected:
                    loader.warn(
                        parsed,
                        ("targets", "namespaces", i),
                        f"targets.namespaces[{i}]: {ns!r} is protected; its pods are never touched",
                    )
            if spec.window not in loader.windows:
                loader.error(parsed, ("window",), _missing_window(loader, spec.window))
                continue
            catalog.monkeys[name] = spec
        elif isinstance(spec, GamedaySpec):
            resolved = _resolve_gameday(loader, parsed, spec)
            if resolved is not None:
                catalog.gamedays[name] = resolved
    for name, parsed_runbook in loader.runbooks.items():
        catalog.runbooks[name] = parsed_runbook.runbook
    if loader.gates is not None:
        assert isinstance(loader.gates.spec, GatesSpec)
        catalog.default_gates.extend(loader.gates.spec.gates)
    return CatalogLoad(catalog, sorted(loader.errors), sorted(loader.warnings))
