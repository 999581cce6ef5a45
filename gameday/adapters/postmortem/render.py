"""Writing an exported journal as JSON, or its postmortem as Markdown or HTML.

The postmortem templates ship in `templates/`; HTML is autoescaped, and Markdown escapes
people's text (notes, reasons) so it can neither inject HTML nor break the tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gameday.domain.errors import InvalidInput
from gameday.domain.trend_chart import TrendPoint
from gameday.services.postmortem import postmortem_of

FORMATS = ("json", "markdown", "html")
_TEMPLATES = {"markdown": "postmortem.md.j2", "html": "postmortem.html.j2"}
# Inline Markdown punctuation (and `|`, which ends a table cell); escaped with a backslash.
# Text never starts a line in the templates, so line-start markers (#, -, >) need nothing.
# An underscore inside a word (`state_changed`) emphasises nothing and stays as it is.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]|~]|(?<![^\W_])_|_(?![^\W_]))")


def markdown_text(value: Any) -> str:
    """Text safe inside Markdown (one line, table cells included): `&` and `<` as HTML
    entities (no tag, no chat mention such as `<!channel>` survives), Markdown punctuation
    backslash-escaped, line breaks turned into spaces."""
    text = " ".join(str(value).split()).replace("&", "&amp;").replace("<", "&lt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def fence(text: str) -> str:
    """A Markdown code fence longer than any run of backticks in `text`, so the block
    shows `text` verbatim (a code block interprets neither markup nor HTML)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


@cache
def environment() -> Environment:
    """The templates' environment (built once: loading and compiling them is the slow part)."""
    env = Environment(
        loader=PackageLoader("gameday.adapters.postmortem", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_text
    env.globals["fence"] = fence
    return env


def check_format(name: str) -> str:
    """The export format `name` names; InvalidInput listing the valid ones otherwise."""
    chosen = name.strip().lower()
    if chosen not in FORMATS:
        raise InvalidInput(f"unknown format {name!r}; choose one of: {', '.join(FORMATS)}")
    return chosen


def render(
    document: Mapping[str, Any], fmt: str, zone: tzinfo, *, trend: Sequence[TrendPoint] = ()
) -> str:
    """The exported journal in `fmt`: the JSON document, or the postmortem in `zone` with
    the runbook's `trend` (its recent runs, oldest first; JSON leaves it out)."""
    chosen = check_format(fmt)
    if chosen == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    template = environment().get_template(_TEMPLATES[chosen])
    return template.render(pm=postmortem_of(document, zone, trend))
