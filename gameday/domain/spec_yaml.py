"""YAML with positions: PyYAML's safe loader, plus the line and column of every node.

Pure: takes text, returns plain Python values together with a table from each value's path
(`("approval", "quorum")`, `("weekdays", 2)`) to where it was written, so a validation
error can name `file:line:col`. Hostile input is refused with an error instead of a crash:
alias bombs and recursive aliases, deep nesting, duplicate keys, merge keys, non-string
keys, and documents that are not mappings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gameday.domain.spec_files import SpecError

Path = tuple[str | int, ...]

MAX_ALIASES = 100
"""Alias uses allowed in one file; real specs need few, alias bombs need many."""
MAX_NODES = 100_000
"""Nodes allowed in one document once aliases are expanded."""
MAX_DEPTH = 64
"""Nesting allowed in one document."""


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column in a file."""

    line: int
    col: int


@dataclass
class YamlDoc:
    """One document: its value, where it starts, and where each path's key and value are."""

    data: Any
    start: Mark
    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def mark(self, path: Path) -> Mark:
        """Where the value at `path` was written, else its nearest written ancestor."""
        for end in range(len(path), 0, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return self.start

    def key_mark(self, path: Path) -> Mark:
        """Where the key of `path` was written (falls back to its value, then ancestors)."""
        return self.keys.get(path) or self.mark(path)

    def find_scalar(self, text: str) -> Mark | None:
        """The first place a string value (or key) equal to `text` was written, if any."""
        best: Mark | None = None
        for path, mark in self.values.items():
            value = self.get(path)
            if isinstance(value, str) and value == text and (best is None or mark_lt(mark, best)):
                best = mark
        for path, mark in self.keys.items():
            if path and path[-1] == text and (best is None or mark_lt(mark, best)):
                best = mark
        return best

    def get(self, path: Path) -> Any:
        """The value at `path`, or None when it does not exist."""
        value = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value


def mark_lt(a: Mark, b: Mark) -> bool:
    """Whether `a` comes before `b` in the file."""
    return (a.line, a.col) < (b.line, b.col)


class _Refused(Exception):
    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


def _mark(node: Node | yaml.Mark | None) -> Mark:
    m = node.start_mark if isinstance(node, Node) else node
    if m is None:
        return Mark(1, 1)
    return Mark(m.line + 1, m.column + 1)


class _CountingLoader(yaml.SafeLoader):
    """The safe loader, refusing files that use aliases more than MAX_ALIASES times."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_uses = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self.alias_uses += 1
            if self.alias_uses > MAX_ALIASES:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _Refused(
                    _mark(event.start_mark), f"too many aliases (more than {MAX_ALIASES})"
                )
        return super().compose_node(parent, index)


def _check_size(root: Node) -> None:
    """Refuse recursive aliases, too deep nesting and documents that expand too far."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise _Refused(_mark(node), f"nesting deeper than {MAX_DEPTH} levels")
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Refused(_mark(node), "recursive alias: a node contains itself")
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
                if total > MAX_NODES:
                    break
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
                if total > MAX_NODES:
                    break
        active.discard(key)
        if total > MAX_NODES:
            raise _Refused(
                _mark(node), f"document too large once aliases are expanded (over {MAX_NODES})"
            )
        sizes[key] = total
        return total

    size(root, 0)


class _Builder:
    """Turns a composed node tree into Python values, recording positions and key errors."""

    def __init__(self, loader: yaml.SafeLoader, doc: YamlDoc) -> None:
        self.loader = loader
        self.doc = doc

    def build(self, node: Node, path: Path) -> Any:
        self.doc.values.setdefault(path, _mark(node))
        if isinstance(node, MappingNode):
            self._plain(node, "tag:yaml.org,2002:map")
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            self._plain(node, "tag:yaml.org,2002:seq")
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: Node) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:
            # A 5000-digit integer or a date such as 2026-13-45.
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            reason = "too many digits" if "digits" in str(exc) else str(exc)
            raise _Refused(_mark(node), f"cannot read the value {shown!r}: {reason}") from None

    def _plain(self, node: Node, tag: str) -> None:
        # Only plain maps and lists: !!set, !!omap and the like would change the shape.
        if node.tag != tag:
            raise _Refused(_mark(node), f"unsupported tag {node.tag!r}")

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        seen: dict[Any, Mark] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(_mark(key_node), "merge keys (<<) are not supported")
            if not isinstance(key_node, ScalarNode):
                raise _Refused(_mark(key_node), "a key must be a plain string")
            key = self._scalar(key_node)
            if not isinstance(key, str):
                raise _Refused(_mark(key_node), f"key {key!r} must be a string (quote it)")
            if key in seen:
                first = seen[key]
                raise _Refused(
                    _mark(key_node), f"duplicate key {key!r} (first at line {first.line})"
                )
            seen[key] = _mark(key_node)
            self.doc.keys[(*path, key)] = _mark(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result


def _yaml_error(path: str, exc: yaml.YAMLError) -> SpecError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = _mark(exc.problem_mark or exc.context_mark)
        text = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        return SpecError(path, mark.line, mark.col, f"invalid YAML: {text}")
    return SpecError(path, 1, 1, f"invalid YAML: {exc}")


def _reader_error(path: str, text: str, exc: yaml.reader.ReaderError) -> SpecError:
    before = text[: exc.position]
    line = before.count("\n") + 1
    col = exc.position - (before.rfind("\n") + 1) + 1
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return SpecError(path, line, col, f"invalid YAML: character U+{ord(char):04X} is not allowed")


def _describe(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode):
        return "an empty document" if node.value == "" else f"the value {node.value!r}"
    return "something else"


def load_documents(text: str, path: str) -> tuple[list[YamlDoc], list[SpecError]]:
    """Load every document of a YAML (or JSON) text; each must be a mapping.

    Rules: safe loading only; empty documents are skipped; a document that fails is
    reported and loading stops there (later documents cannot be located reliably).
    """
    docs: list[YamlDoc] = []
    errors: list[SpecError] = []
    try:
        loader = _CountingLoader(text)
    except yaml.reader.ReaderError as exc:
        return docs, [_reader_error(path, text, exc)]
    try:
        while loader.check_node():
            root = loader.get_node()
            if root is None or (
                isinstance(root, ScalarNode)
                and root.tag.endswith(":null")
                and root.value in ("", "~")
            ):
                continue
            if not isinstance(root, MappingNode):
                mark = _mark(root)
                errors.append(
                    SpecError(
                        path,
                        mark.line,
                        mark.col,
                        f"expected a mapping (key: value lines), found {_describe(root)}",
                    )
                )
                continue
            _check_size(root)
            doc = YamlDoc(data=None, start=_mark(root))
            doc.data = _Builder(loader, doc).build(root, ())
            docs.append(doc)
    except _Refused as exc:
        errors.append(SpecError(path, exc.mark.line, exc.mark.col, exc.message))
    except yaml.reader.ReaderError as exc:
        errors.append(_reader_error(path, text, exc))
    except yaml.YAMLError as exc:
        errors.append(_yaml_error(path, exc))
    except RecursionError:
        errors.append(SpecError(path, 1, 1, f"nesting deeper than {MAX_DEPTH} levels"))
    finally:
        loader.dispose()
    return docs, errors
