"""Secret-link guessing: unknown links count against the address; past TOKEN_GUESS_LIMIT, every link page says 429.

Checked in the link lookup itself through Flask-Limiter's storage and strategy (memory, or Redis
shared by every web machine), so a fellow's page pays one counter read, not the decorator's pass.
"""
from __future__ import annotations

from flask import abort, current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from ..extensions import limiter

SCOPE = "token-guess"
_parsed: dict[str, list[RateLimitItem]] = {}


def _limits() -> list[RateLimitItem]:
    text = current_app.config["TOKEN_GUESS_LIMIT"]
    items = _parsed.get(text)
    if items is None:
        items = _parsed[text] = parse_many(text)
    return items


def refuse_when_exhausted() -> None:
    """Answer 429 to an address that has tried too many unknown links, whatever link it asks for now."""
    if not limiter.enabled:
        return
    strategy, address = limiter.limiter, get_remote_address()
    for item in _limits():
        if not strategy.test(item, SCOPE, address):
            abort(429)


def count_unknown_link() -> None:
    """Count one unknown link against the address."""
    if not limiter.enabled:
        return
    strategy, address = limiter.limiter, get_remote_address()
    for item in _limits():
        strategy.hit(item, SCOPE, address)
