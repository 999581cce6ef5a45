"""Text where Slack parses mrkdwn, kept inert: one way to make it, user text escaped in.

Rules:
- one rendering path: mrkdwn (block text and every message's fallback `text`, which Slack
  also parses) is a `Mrkdwn` string, made only by `md` (our own template, arguments
  escaped), `join_md`, `mention`, `date_token`, `code` and `link`; a function taking our
  markup takes Mrkdwn, user or spec text plain `str`, so no caller can pass text a person
  typed as markup;
- text a person or a spec wrote (notes, reasons, titles, names, errors) can never mention
  anyone, link anywhere or format: it is escaped with `escape_mrkdwn` (`&`, `<`, `>` as
  entities; `*_~` and backticks fenced by zero-width spaces so they cannot open or close
  formatting);
- text is cut with "…", never inside one of our tokens, an entity or a fence;
- every time carries its zone and offset, plus a `<!date^…>` token so each reader also
  sees it in their own local time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

_ZWSP = "\u200b"
_FORMATTING = re.compile(r"([*_~`])")
_SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
# An address Slack's `<url|label>` token can hold: http(s), no space, `<`, `>` or `|`.
_LINKABLE = re.compile(r"^https?://[^\s<>|]+$")
_ENTITY_TAIL = len("&amp;") - 1


class Mrkdwn(str):
    """Text safe to send where Slack parses mrkdwn: our own markup with any user text
    escaped in. Make it with `md`, `mention`, `date_token`, `code` or `escape_mrkdwn`."""

    __slots__ = ()


def escape_mrkdwn(text: str) -> Mrkdwn:
    """Make user text inert in mrkdwn: no mentions, links or formatting."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Mrkdwn(_FORMATTING.sub(rf"{_ZWSP}\1{_ZWSP}", text))


def _inert(value: object) -> str:
    if isinstance(value, Mrkdwn):
        return value
    if isinstance(value, Enum):  # our own vocabulary (states, kinds), never typed by anyone
        return str(value.value)
    if isinstance(value, int | float):
        return str(value)
    return escape_mrkdwn(str(value))


def md(template: str, /, *args: object) -> Mrkdwn:
    """Our own mrkdwn `template` (a literal we wrote) with its `{}` filled in: Mrkdwn as
    is, enum values and numbers as text, anything else escaped as user text."""
    return Mrkdwn(template.format(*(_inert(a) for a in args)))


def join_md(separator: str, parts: Iterable[object]) -> Mrkdwn:
    """`parts` (as `md` treats arguments) joined by our own `separator`."""
    return Mrkdwn(separator.join(_inert(p) for p in parts))


def code(text: str) -> Mrkdwn:
    """Inline code (Slack does not format inside it, though it still reads `&<>`), or
    fully escaped text when the text could break out of the backticks."""
    if "`" in text or "\n" in text:
        return escape_mrkdwn(text)
    return Mrkdwn("`" + text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "`")


def mention(slack_id: str) -> Mrkdwn:
    """A mention of a user (`U…`/`W…`) or user group (`S…`); anything else is escaped."""
    if not _SLACK_ID.match(slack_id):
        return escape_mrkdwn(slack_id)
    return Mrkdwn(f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>")


def format_when(at: datetime, zone: str) -> str:
    """`2026-12-02 14:00 JST (+09:00)`: a time in a zone, with its offset."""
    local = at.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({offset[:3]}:{offset[3:]})"


def date_token(at: datetime, zone: str) -> Mrkdwn:
    """Slack's date token: each reader sees local time; the fallback keeps the zone."""
    shown = escape_mrkdwn(format_when(at, zone))
    return Mrkdwn(f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{shown}>")


def run_page(public_url: str | None, run_id: int) -> str | None:
    """The address of a run's web page under the service's `public_url`; None without one,
    or when it is not an http(s) address that can sit inside a Slack link."""
    if not public_url:
        return None
    url = f"{public_url.strip().rstrip('/')}/runs/{run_id}"
    return url if _LINKABLE.match(url) else None


def link(url: str, label: str) -> Mrkdwn:
    """A link to an address we built (`run_page`) showing `label` as inert text; the label
    alone when the address could break out of Slack's `<url|label>` token."""
    text = escape_mrkdwn(label)
    if not _LINKABLE.match(url):
        return text
    return Mrkdwn(f"<{url.replace('&', '&amp;')}|{text}>")


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, ending in "…" when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut_markup(text: str, limit: int) -> str:
    """Mrkdwn within `limit` characters, never cut inside a token, entity or fence."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    # Never end inside one of our tokens (`<@U…>`, `<!date^…|…>`), an entity (`&amp;`) or
    # a fence (ZWSP*ZWSP): half of one shows as garbage, or as a character user text
    # was not meant to have, or leaves formatting open.
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        head = head[:opened]
    amp = head.rfind("&", max(0, len(head) - _ENTITY_TAIL))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    if head[-2:-1] == _ZWSP and _FORMATTING.fullmatch(head[-1:]):
        head = head[:-2]
    return head + "…"
