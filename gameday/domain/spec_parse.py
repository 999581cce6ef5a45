"""Spec files to models: schedules (multi-document YAML) and runbooks, errors with positions.

Pure: takes a file's text and its display path, returns models plus `SpecError`s whose
line and column are those of the offending node (for a missing key, its mapping's).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from gameday.domain.spec_files import SpecError
from gameday.domain.spec_values import did_you_mean
from gameday.domain.spec_yaml import Mark, Path, YamlDoc, load_documents
from gameday.domain.specs import SPEC_MODELS, Runbook, RunbookExtension, ScheduleSpec

RUNBOOK_SUFFIXES = (".yaml", ".yml", ".json")
SCHEDULE_SUFFIXES = (".yaml", ".yml")
_RUNBOOK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class ParsedSpec:
    """A schedule document that validated, with where it came from."""

    spec: ScheduleSpec
    path: str
    doc: YamlDoc


@dataclass(frozen=True)
class ParsedRunbook:
    """A runbook file that parsed, with its positions for later checks."""

    runbook: Runbook
    doc: YamlDoc


def error_at(path: str, mark: Mark, message: str) -> SpecError:
    """A SpecError at `mark`."""
    return SpecError(path, mark.line, mark.col, message)


def warning_at(path: str, mark: Mark, message: str) -> SpecError:
    """A warning at `mark`."""
    return SpecError(path, mark.line, mark.col, message, "warning")


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside `X`, `X | None`, `list[X]` or `Annotated[X, ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None:
        for arg in get_args(annotation):
            found = _submodel(arg)
            if found is not None:
                return found
    return None


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue
        info = current.model_fields.get(str(part))
        current = _submodel(info.annotation) if info is not None else None
    return current


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(err: Any) -> str:
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg[:1].lower() + msg[1:]


def validation_errors(
    exc: ValidationError,
    model: type[BaseModel],
    doc: YamlDoc,
    path: str,
    prefix: Path = (),
) -> list[SpecError]:
    """Turn pydantic's errors into positioned SpecErrors (one per problem)."""
    found: list[SpecError] = []
    errors = exc.errors()
    # A misspelt key also shows up as a missing one; the "did you mean" line says both.
    explained: set[tuple[Any, ...]] = set()
    for err in errors:
        if err["type"] == "extra_forbidden":
            loc = tuple(err["loc"])
            parent = _model_at(model, loc[:-1])
            names = list(parent.model_fields) if parent else []
            for name in difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6):
                explained.add((*loc[:-1], name))
    for err in errors:
        loc = tuple(err["loc"])
        where = (*prefix, *loc)
        owner = f"{_dotted(where[:-1])}: " if len(where) > 1 else ""
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            names = list(parent.model_fields) if parent else []
            key = str(loc[-1])
            message = f"{owner}unknown key {key!r}{did_you_mean(key, names)}"
            found.append(error_at(path, doc.key_mark(where), message))
        elif kind == "missing":
            if loc in explained:
                continue
            message = f"{owner}missing required key {loc[-1]!r}"
            found.append(error_at(path, doc.mark(where[:-1]), message))
        else:
            text = _message(err)
            if kind == "string_type" and isinstance(err.get("input"), bool | int | float | date):
                # YAML reads NO (Norway), yes, 2026 or 2026-12-24 as non-text values.
                value = err["input"]
                text += f" (YAML read this as the {type(value).__name__} {value!r}: quote it)"
            mark = doc.mark(where)
            value = doc.get(where)
            if isinstance(value, dict):
                # A check across keys ("quorum 3 is larger ..."): point at the key it names.
                first = text.split(" ", 1)[0].rstrip(":")
                if first in value:
                    mark = doc.mark((*where, first))
            label = _dotted(where)
            found.append(error_at(path, mark, f"{label}: {text}" if label else text))
    return found


@dataclass
class ScheduleFile:
    """What a schedule file held: valid specs, errors, and the names of invalid specs by
    kind (so a reference to one says "has errors" rather than "does not exist")."""

    specs: list[ParsedSpec]
    errors: list[SpecError]
    broken: dict[str, set[str]]


def parse_schedules(text: str, path: str) -> ScheduleFile:
    """Parse a `schedules/*.yaml` file: every document is a window, monkey or gameday."""
    docs, errors = load_documents(text, path)
    parsed: list[ParsedSpec] = []
    broken: dict[str, set[str]] = {k: set() for k in SPEC_MODELS}
    for doc in docs:
        data: dict[str, Any] = doc.data
        kind = data.get("kind")
        if kind is None:
            errors.append(
                error_at(
                    path,
                    doc.start,
                    "missing required key 'kind' (window, monkey, gameday or gates)",
                )
            )
            continue
        model = SPEC_MODELS.get(kind) if isinstance(kind, str) else None
        if model is None:
            hint = did_you_mean(str(kind), SPEC_MODELS)
            errors.append(
                error_at(
                    path,
                    doc.mark(("kind",)),
                    f"kind: unknown kind {kind!r}{hint}: expected window, monkey, gameday or gates",
                )
            )
            continue
        try:
            spec = model.model_validate(data)
        except ValidationError as exc:
            errors.extend(validation_errors(exc, model, doc, path))
            if isinstance(data.get("name"), str):
                broken[kind].add(data["name"])
            continue
        parsed.append(ParsedSpec(spec, path, doc))
    return ScheduleFile(parsed, errors, broken)


def _load_json(text: str, path: str) -> tuple[YamlDoc | None, list[SpecError]]:
    """A JSON object parsed as JSON, without positions below the root."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"duplicate key {key!r}")
            result[key] = value
        return result

    try:
        data = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        return None, [SpecError(path, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")]
    except (ValueError, RecursionError) as exc:
        return None, [SpecError(path, 1, 1, f"invalid JSON: {exc}")]
    if not isinstance(data, dict):
        return None, [SpecError(path, 1, 1, "expected a JSON object at the top")]
    return YamlDoc(data=data, start=Mark(1, 1)), []


def parse_runbook(
    text: str, path: str, digest: str
) -> tuple[ParsedRunbook | None, list[SpecError]]:
    """Parse a runbook: one mapping (YAML or JSON) plus its optional `gameday` extension.

    Rules: the runbook's name is its file stem; the Chaos Toolkit rules themselves are
    checked elsewhere (by chaoslib, behind a port).
    """
    docs, errors = load_documents(text, path)
    if path.endswith(".json"):
        # JSON is judged as JSON (YAML accepts more); YAML only adds the positions.
        json_doc, json_errors = _load_json(text, path)
        if json_errors:
            duplicates = [e for e in errors if e.message.startswith("duplicate key")]
            return None, duplicates or json_errors
        if errors and json_doc is not None:
            docs, errors = [json_doc], []  # valid JSON YAML cannot read (tabs): no positions
    if errors:
        return None, errors
    if len(docs) != 1:
        where = docs[1].start if len(docs) > 1 else Mark(1, 1)
        what = "several documents" if docs else "nothing"
        return None, [error_at(path, where, f"a runbook holds one experiment, found {what}")]
    doc = docs[0]
    experiment: dict[str, Any] = doc.data
    extension: RunbookExtension | None = None
    entries = experiment.get("extensions")
    if isinstance(entries, list):
        seen = False
        for i, entry in enumerate(entries):
            if not (isinstance(entry, dict) and entry.get("name") == "gameday"):
                continue
            if seen:
                mark = doc.mark(("extensions", i))
                errors.append(error_at(path, mark, "a second gameday extension (keep one)"))
                continue
            seen = True
            try:
                extension = RunbookExtension.model_validate(entry)
            except ValidationError as exc:
                errors.extend(
                    validation_errors(exc, RunbookExtension, doc, path, ("extensions", i))
                )
    stem = PurePosixPath(path).stem
    if not _RUNBOOK_NAME.fullmatch(stem):
        errors.append(
            error_at(
                path,
                Mark(1, 1),
                f"runbook name {stem!r} (the file name) must use letters, digits, '.', '_' "
                "and '-' only",
            )
        )
    title = experiment.get("title")
    runbook = Runbook(
        name=stem,
        path=path,
        title=title if isinstance(title, str) and title else stem,
        experiment=experiment,
        extension=extension,
        digest=digest,
    )
    return ParsedRunbook(runbook, doc), errors


def locate_message(doc: YamlDoc, message: str) -> Mark:
    """Best position for a message that names no line (chaoslib's).

    Rules: a message that starts with a document path (`method[1]: ...`, as the runbook
    checker prefixes the activity at fault) points inside that node: at the first quoted
    name in the message written there, else at the node itself; otherwise at the first
    quoted name the document contains, else a top-level key the message names, else 1:1.
    """
    path = _leading_path(message)
    if path is not None and doc.get(path) is not None:
        return _quoted_within(doc, message, path) or doc.mark(path)
    return _quoted_within(doc, message, ()) or _named_key(doc, message) or Mark(1, 1)


_PATH_PREFIX = re.compile(r"([A-Za-z_][\w-]*(?:\[\d+\]|\.[A-Za-z_][\w-]*)*): ")
_PATH_PART = re.compile(r"\[(\d+)\]|\.?([A-Za-z_][\w-]*)")


def _leading_path(message: str) -> Path | None:
    """The document path a message starts with (`steady-state-hypothesis.probes[0]: `)."""
    found = _PATH_PREFIX.match(message)
    if found is None:
        return None
    return tuple(int(index) if index else key for index, key in _PATH_PART.findall(found.group(1)))


def _quoted_within(doc: YamlDoc, message: str, path: Path) -> Mark | None:
    """Where the first quoted name of the message is written under `path` (a value or a
    key), the earliest such place for each name."""
    for quoted in re.findall(r"'([^']+)'", message):
        marks = [
            mark
            for where, mark in doc.values.items()
            if where[: len(path)] == path and doc.get(where) == quoted
        ]
        marks += [
            mark
            for where, mark in doc.keys.items()
            if where[: len(path)] == path and where and where[-1] == quoted
        ]
        if marks:
            return min(marks, key=lambda m: (m.line, m.col))
    return None


def _named_key(doc: YamlDoc, message: str) -> Mark | None:
    lowered = message.lower()
    for word, key in _MESSAGE_KEYS:
        if word in lowered and (key,) in doc.keys:
            return doc.keys[(key,)]
    return None


# Words chaoslib's messages use for the top-level key they are about, most specific first.
_MESSAGE_KEYS = (
    ("hypothesis", "steady-state-hypothesis"),
    ("rollback", "rollbacks"),
    ("control", "controls"),
    ("extension", "extensions"),
    ("configuration", "configuration"),
    ("secret", "secrets"),
    ("tags", "tags"),
    ("method", "method"),
    ("title", "title"),
    ("description", "description"),
)
