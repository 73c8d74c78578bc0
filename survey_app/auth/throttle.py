"""Sign-in throttling that a stranger cannot turn against the account holder.

Failed sign-ins count against the client's address (LOGIN_LIMIT, any accounts) and against the pair
of account and address (LOGIN_ACCOUNT_ADDRESS_LIMIT); past either, that address is refused, so one
client cannot guess on and on, yet the real person's right password from their own address still
works. Per account there is only a wait: after LOGIN_DELAY_AFTER failures in a day, a browser that
has not signed in to the account before gets one try per slot, the slot growing from 1 second to
LOGIN_DELAY_MAX_SECONDS. Browsers that have signed in to it before are not slowed at all.
A wait is answered at once, without checking the password: no worker sleeps for it.

Counters live in Flask-Limiter's storage (memory, or the Redis every web machine shares) through
the `limits` strategies. Accounts are keyed by a keyed hash of the e-mail typed, known or not, so
an unknown e-mail is throttled exactly like a real one and no e-mail address is stored there.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItemPerDay, RateLimitItemPerSecond
from limits.strategies import FixedWindowRateLimiter
from werkzeug.wrappers import Response

from ..extensions import limiter
from ..rate_limits import configured_limits
from ..services.staff import account_key

log = logging.getLogger(__name__)

ADDRESS_SCOPE = "sign-in-address"
PAIR_SCOPE = "sign-in-account-address"
ACCOUNT_SCOPE = "sign-in-account"
SLOT_SCOPE = "sign-in-account-slot"
ALERT_SCOPE = "sign-in-alert"
# A counter, not a limit: failures per account over a day (the amount is never reached).
_ACCOUNT_DAY = RateLimitItemPerDay(1_000_000_000)
_ALERT_ONCE_A_DAY = RateLimitItemPerDay(1)

KNOWN_BROWSER_COOKIE = "signin_known"
KNOWN_BROWSER_AGE = timedelta(days=180)
_KNOWN_BROWSER_MAX_ACCOUNTS = 5



@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is not tried now, and in how many seconds it may be."""

    retry_after: int
    account_wait: bool  # True: the account's wait for new browsers; False: this address's budget



def _counter() -> FixedWindowRateLimiter:
    """The account's counters keep fixed-window meaning whatever RATELIMIT_STRATEGY says."""
    return FixedWindowRateLimiter(limiter.storage)


def delay_for(failures: int) -> int:
    """Seconds a new browser waits between tries after this many failures today (0: no wait)."""
    after = int(current_app.config["LOGIN_DELAY_AFTER"])
    if failures < after:
        return 0
    cap = max(1, int(current_app.config["LOGIN_DELAY_MAX_SECONDS"]))
    return min(cap, 2 ** min(failures - after, 30))


def _seconds_until(reset_at: float) -> int:
    return max(1, int(reset_at - time.time() + 0.999))


def _exhausted(setting: str, *identifiers: str) -> int | None:
    """Seconds until the first exhausted limit of a setting frees up, or None if none is exhausted."""
    strategy = limiter.limiter
    for item in configured_limits(setting):
        if not strategy.test(item, *identifiers):
            return _seconds_until(strategy.get_window_stats(item, *identifiers).reset_time)
    return None


def account_failures(account: str) -> int:
    stats = _counter().get_window_stats(_ACCOUNT_DAY, ACCOUNT_SCOPE, account)
    return _ACCOUNT_DAY.amount - stats.remaining


def refusal(email: str) -> Refusal | None:
    """Say whether this sign-in may be tried now; a try from a new browser takes the account's slot."""
    if not limiter.enabled:
        return None
    address, account = get_remote_address(), account_key(email)
    wait = _exhausted("LOGIN_LIMIT", ADDRESS_SCOPE, address) or \
        _exhausted("LOGIN_ACCOUNT_ADDRESS_LIMIT", PAIR_SCOPE, account, address)
    if wait is not None:
        log.warning("sign-in refused for %s: too many failed sign-ins from this address", address)
        return Refusal(wait, account_wait=False)
    if account in known_accounts():
        return None
    delay = delay_for(account_failures(account))
    if delay:
        slot = RateLimitItemPerSecond(1, delay)
        counter = _counter()
        if not counter.hit(slot, SLOT_SCOPE, account):
            reset_at = counter.get_window_stats(slot, SLOT_SCOPE, account).reset_time
            return Refusal(_seconds_until(reset_at), account_wait=True)
    return None


def record_failure(email: str) -> int:
    """Count a failed sign-in everywhere it counts; return the account's failures today."""
    if not limiter.enabled:
        return 0
    address, account = get_remote_address(), account_key(email)
    strategy, counter = limiter.limiter, _counter()
    for item in configured_limits("LOGIN_LIMIT"):
        strategy.hit(item, ADDRESS_SCOPE, address)
    for item in configured_limits("LOGIN_ACCOUNT_ADDRESS_LIMIT"):
        strategy.hit(item, PAIR_SCOPE, account, address)
    counter.hit(_ACCOUNT_DAY, ACCOUNT_SCOPE, account)
    failures = account_failures(account)
    delay = delay_for(failures)
    if delay:
        # Start the next slot now, so the wait runs from this failure (the slot's key changes with
        # its length, so a fresh, longer slot would otherwise open at once).
        counter.hit(RateLimitItemPerSecond(1, delay), SLOT_SCOPE, account)
    return failures


def record_success(email: str) -> None:
    """Forget this address's own failures on the account (the person got in); the rest stays."""
    if not limiter.enabled:
        return
    address, account = get_remote_address(), account_key(email)
    for item in configured_limits("LOGIN_ACCOUNT_ADDRESS_LIMIT"):
        limiter.limiter.clear(item, PAIR_SCOPE, account, address)


def alert_due(email: str, failures: int) -> bool:
    """True once a day per account, when its failures reach LOGIN_ALERT_AFTER (atomic across machines)."""
    if not limiter.enabled or failures < int(current_app.config["LOGIN_ALERT_AFTER"]):
        return False
    return _counter().hit(_ALERT_ONCE_A_DAY, ALERT_SCOPE, account_key(email))


# --- browsers that have signed in to an account before ----------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="sign-in-known-browser")


def known_accounts() -> list[str]:
    """The account keys this browser has signed in to (signed cookie; anything else is ignored)."""
    value = request.cookies.get(KNOWN_BROWSER_COOKIE)
    if not value:
        return []
    try:
        accounts = _serializer().loads(value, max_age=int(KNOWN_BROWSER_AGE.total_seconds()))
    except BadSignature:
        return []
    return [a for a in accounts if isinstance(a, str)] if isinstance(accounts, list) else []


def remember_browser(response: Response, email: str) -> None:
    """Mark this browser as one the account holder uses, so the account's wait never slows it."""
    account = account_key(email)
    accounts = [account, *[a for a in known_accounts() if a != account]][:_KNOWN_BROWSER_MAX_ACCOUNTS]
    response.set_cookie(
        KNOWN_BROWSER_COOKIE, _serializer().dumps(accounts), max_age=KNOWN_BROWSER_AGE,
        path=request.path, secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), httponly=True,
        samesite="Lax",
    )
