"""Per-address budgets of the public pages: guessed secret links, and new responses through the open link.

Link guesses: every unknown personal (/s/), resume (/r/) or opt-out (/optout/) token counts against
one budget per client address (TOKEN_GUESS_LIMIT); past it, every token page answers 429 to that
address, whichever kind of link it asks for. Open-link starts: each new response through
/survey/<slug> counts against OPEN_LINK_LIMIT for the address.

Checked in the views through Flask-Limiter's storage and strategy (memory, or the Redis every web
machine shares), so a fellow's page pays one counter read, not the decorator's pass.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem
from werkzeug.exceptions import TooManyRequests

from ..extensions import limiter
from ..rate_limits import configured_limits

SCOPE = "token-guess"
OPEN_LINK_SCOPE = "open-link"



def _identifiers(scope: str) -> tuple[str, ...]:
    """The counter's name parts: RATELIMIT_KEY_PREFIX (as Flask-Limiter's own limits use it), scope, address."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or ""
    return (prefix, scope, get_remote_address()) if prefix else (scope, get_remote_address())


def _seconds_until_allowed(items: Sequence[RateLimitItem], identifiers: tuple[str, ...]) -> int:
    """Whole seconds until every exhausted limit of `items` has room again, from the limiter's window stats.

    Rounded to the nearest second: storages keep expiry to the second (Redis's TTL), not finer.
    """
    strategy, now = limiter.limiter, time.time()
    waits = [stats.reset_time - now for stats in (strategy.get_window_stats(item, *identifiers) for item in items)
             if stats.remaining <= 0]
    return max(1, round(max(waits, default=1)))


def refuse_when_exhausted() -> None:
    """Answer 429 to an address that has tried too many unknown links, whatever link it asks for now."""
    if not limiter.enabled:
        return
    strategy, identifiers, items = limiter.limiter, _identifiers(SCOPE), configured_limits("TOKEN_GUESS_LIMIT")
    for item in items:
        if not strategy.test(item, *identifiers):
            raise TooManyRequests(retry_after=_seconds_until_allowed(items, identifiers))


def count_unknown_link() -> None:
    """Count one unknown link against the address."""
    if not limiter.enabled:
        return
    strategy, identifiers = limiter.limiter, _identifiers(SCOPE)
    for item in configured_limits("TOKEN_GUESS_LIMIT"):
        strategy.hit(item, *identifiers)


def take_open_link_start() -> int | None:
    """Count one new open-link response against the address: None if allowed, else seconds until it is."""
    if not limiter.enabled:
        return None
    strategy, identifiers, items = limiter.limiter, _identifiers(OPEN_LINK_SCOPE), configured_limits("OPEN_LINK_LIMIT")
    # hit() both counts and says whether the count is within the limit, so two requests at once
    # cannot both take the last place.
    if all([strategy.hit(item, *identifiers) for item in items]):
        return None
    return _seconds_until_allowed(items, identifiers)
