"""Who may read what, and the headers every answer carries.

Rules:
- Tokens are compared in constant time, as bytes (WSGI hands headers over as latin-1
  strings: back to the bytes the client sent, so any token works); an empty token is
  treated as unset. No token, header, cookie or query string is ever logged.
- Pages and the calendar feed need the web token when one is set: `Authorization: Bearer`,
  `?token=` (calendar clients cannot send headers) or the session cookie. A page opened
  with `?token=` answers with a redirect to the same address without it, setting the
  cookie, so the token leaves the address bar, the history and every link on the page.
  The cookie holds an HMAC of the token, never the token: HttpOnly, SameSite=Strict,
  Secure over HTTPS.
- `/metrics` needs `Authorization: Bearer <metrics token>` when one is set.
- Every answer says `nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and,
  unless it carries its own, a Content-Security-Policy allowing nothing but this origin's
  stylesheet and images (no script at all, no inline style, no framing).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

COOKIE = "gameday_session"
CSP = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_SESSION_LABEL = b"gameday web session v1"


def bearer_matches(environ: Mapping[str, Any], expected: bytes) -> bool:
    """Whether the request's `Authorization: Bearer` credentials are `expected`."""
    header = str(environ.get("HTTP_AUTHORIZATION") or "")
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(_bytes(credentials.strip()), expected)


def _bytes(text: str) -> bytes:
    return text.encode("latin-1", errors="replace")


def client(environ: Mapping[str, Any]) -> str:
    """REMOTE_ADDR, plus X-Forwarded-For (quoted and cut short: the client writes it)."""
    remote = str(environ.get("REMOTE_ADDR") or "unknown")
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    return f"{remote}, X-Forwarded-For {str(forwarded)[:200]!r}" if forwarded else remote


def style_csp(hashes: list[str]) -> str:
    """The policy of a page whose only inline content is styles with these SHA-256 hashes."""
    allowed = " ".join(f"'sha256-{h}'" for h in hashes)
    return CSP.replace("style-src 'self'", f"style-src 'self' {allowed}".rstrip())


class PageAccess:
    """The web token's check for pages and the feed (see the module's rules)."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None
        self._session = (
            hmac.new(self._token, _SESSION_LABEL, hashlib.sha256).hexdigest().encode()
            if self._token
            else None
        )

    @property
    def required(self) -> bool:
        """Whether a token is needed at all."""
        return self._token is not None

    def allowed(self, environ: Mapping[str, Any], cookies: Mapping[str, str]) -> bool:
        """Whether the header or the cookie carries the token (the query is separate)."""
        if self._token is None or self._session is None:
            return True
        if bearer_matches(environ, self._token):
            return True
        return hmac.compare_digest(_bytes(cookies.get(COOKIE, "")), self._session)

    def query_token_matches(self, given: str | None) -> bool:
        """Whether `?token=` carries the token."""
        if self._token is None or given is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", errors="replace"), self._token)

    def session_value(self) -> str:
        """The cookie value that stands for the token."""
        return self._session.decode() if self._session is not None else ""


def without_token(path: str, args: Mapping[str, list[str]]) -> str:
    """`path` with its query string less any `token` parameter."""
    kept = [(k, v) for k, values in args.items() if k != "token" for v in values]
    return f"{path}?{urlencode(kept)}" if kept else path
