"""Rate limits as the settings write them ("10 per 10 minutes;50 per day"), parsed once per text.

Shared by the throttles the views check themselves (respond/throttle.py, auth/throttle.py).
"""
from __future__ import annotations

from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse_many


@lru_cache(maxsize=32)
def _parsed(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


def configured_limits(setting: str) -> tuple[RateLimitItem, ...]:
    """The limits a setting names, such as TOKEN_GUESS_LIMIT or LOGIN_LIMIT."""
    return _parsed(current_app.config[setting])
