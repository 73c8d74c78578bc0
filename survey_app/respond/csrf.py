"""CSRF tokens for the secret-link forms, bound to the link instead of a session cookie.

A section or submit form is only reachable through its secret link (/s/<token>, /r/<token>): the
link is the fellow's credential, so it is also what the CSRF token is bound to (OWASP's HMAC-based
token pattern, with the link in the place of the session id). The token is the time it was issued
and an HMAC of link and time under a key derived from SECRET_KEY: a page from another site cannot
make one without the link, a token for one link is refused on every other, and nothing has to be
kept between requests. So a respondent page needs no cookie, a lost or blocked cookie never costs
a fellow their answers, and the hot pages skip the session round trip. Staff pages and the
open-link start form keep Flask-WTF's session-bound tokens.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time

from flask import current_app, g

# Tokens from a few minutes in the future are accepted: web machines' clocks may differ a little.
_CLOCK_SKEW = 300


def _key() -> bytes:
    """A key of its own for these tokens, derived from SECRET_KEY (about a microsecond)."""
    return hmac.new(str(current_app.config["SECRET_KEY"]).encode(), b"survey_app respond csrf", hashlib.sha256).digest()


def _mac(kind: str, link_token: str, issued: str) -> str:
    digest = hmac.new(_key(), f"{kind}:{link_token}:{issued}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def issue(kind: str, link_token: str, now: float | None = None) -> str:
    """A CSRF token for the forms of one secret link (URL-safe characters only), one per request."""
    if now is not None:
        issued = format(int(now), "x")
        return f"{issued}.{_mac(kind, link_token, issued)}"
    issued_here = g.setdefault("_respond_csrf", {})
    token = issued_here.get((kind, link_token))
    if token is None:  # every form of a page carries the same token, even across a second's tick
        token = issued_here[(kind, link_token)] = issue(kind, link_token, time.time())
    return token


def is_valid(kind: str, link_token: str, value: str | None, now: float | None = None) -> bool:
    """True when `value` was issued for this link and is not older than RESPOND_CSRF_MAX_AGE."""
    if not value or value.count(".") != 1:
        return False
    issued, mac = value.split(".")
    try:
        at = int(issued, 16)
    except ValueError:
        return False
    if not hmac.compare_digest(mac.encode(), _mac(kind, link_token, issued).encode()):
        return False
    age = (time.time() if now is None else now) - at
    return -_CLOCK_SKEW <= age <= current_app.config["RESPOND_CSRF_MAX_AGE"].total_seconds()
