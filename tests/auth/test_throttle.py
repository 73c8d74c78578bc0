"""Sign-in throttling: per address and per (account, address); per account only a wait new browsers see."""
from __future__ import annotations

import re
import time

import pytest

from survey_app.auth.throttle import KNOWN_BROWSER_COOKIE, account_key
from tests.conftest import REDIS_TEST_URL, STAFF_PASSWORD, csrf_from, redis_available, service_missing
from tests.security.helpers import post_login

WRONG = "wrong-password-xx"


@pytest.fixture
def app_overrides():
    return {"LOGIN_LIMIT": "50 per minute", "LOGIN_ACCOUNT_ADDRESS_LIMIT": "3 per minute",
            "LOGIN_DELAY_AFTER": 4, "LOGIN_DELAY_MAX_SECONDS": 2, "LOGIN_ALERT_AFTER": 1000,
            "RATELIMIT_STORAGE_URI": "memory://"}


def _retry_after(response) -> int:
    assert response.status_code == 429, response.status_code
    return int(response.headers["Retry-After"])


def _fail_from_many_addresses(app, email: str, count: int, prefix: str = "10.50.0") -> None:
    """A stranger's failures, each from another address (as a botnet would), each in a fresh browser."""
    for n in range(count):
        response = post_login(app.test_client(), email, WRONG, address=f"{prefix}.{n + 1}")
        if response.status_code == 429:  # the account's wait for new browsers: let it pass, as a patient attacker
            time.sleep(_retry_after(response))
            response = post_login(app.test_client(), email, WRONG, address=f"{prefix}.{n + 1}")
        assert response.status_code == 200, response.status_code


def _sign_out(client) -> None:
    page = client.get("/staff/password")
    assert client.post("/staff/logout", data={"csrf_token": csrf_from(page.data)}).status_code == 302


def test_failures_on_one_account_from_one_address_stop_only_that_pair(app, make_staff):
    email, other = make_staff(), make_staff()
    client = app.test_client()
    for _ in range(3):
        assert post_login(client, email, WRONG, address="10.1.0.1").status_code == 200
    refused = post_login(client, email, STAFF_PASSWORD, address="10.1.0.1")
    assert _retry_after(refused) > 0
    assert b"too many unsuccessful sign-ins from your connection" in refused.data
    assert client.get("/staff/").status_code == 302  # the right password was not even tried
    # The same address may still sign in to another account, and the holder from elsewhere.
    assert post_login(app.test_client(), other, STAFF_PASSWORD, address="10.1.0.1").status_code == 302
    assert post_login(app.test_client(), email, STAFF_PASSWORD, address="10.1.0.2").status_code == 302


def test_a_successful_sign_in_forgets_that_addresss_own_mistakes(app, make_staff):
    email = make_staff()
    browser = app.test_client()
    for _ in range(2):
        assert post_login(browser, email, WRONG, address="10.1.1.1").status_code == 200
    assert post_login(browser, email, STAFF_PASSWORD, address="10.1.1.1").status_code == 302
    _sign_out(browser)
    for _ in range(3):  # two more mistakes would have been refused had the first two still counted
        assert post_login(browser, email, WRONG, address="10.1.1.1").status_code == 200
    assert post_login(browser, email, STAFF_PASSWORD, address="10.1.1.1").status_code == 429


def test_strangers_only_slow_new_browsers_never_one_that_signed_in_before(app, make_staff):
    email = make_staff()
    owner = app.test_client()
    assert post_login(owner, email, STAFF_PASSWORD, address="10.2.0.1").status_code == 302
    assert owner.get_cookie(KNOWN_BROWSER_COOKIE, path="/staff/login") is not None
    _sign_out(owner)
    _fail_from_many_addresses(app, email, 6)
    # A browser new to the account waits its turn; the right password is not checked meanwhile ...
    fresh = app.test_client()
    wait = _retry_after(post_login(fresh, email, STAFF_PASSWORD, address="10.2.0.2"))
    assert 1 <= wait <= 2
    assert fresh.get("/staff/").status_code == 302
    # ... while the holder's own browser signs in at once, even from an address it never used.
    assert post_login(owner, email, STAFF_PASSWORD, address="10.2.9.9").status_code == 302
    assert owner.get("/staff/").status_code == 200
    # The wait is short and then the new browser gets in too.
    time.sleep(wait)
    assert post_login(fresh, email, STAFF_PASSWORD, address="10.2.0.2").status_code == 302


def test_a_forged_known_browser_cookie_is_ignored(app, make_staff):
    email = make_staff()
    _fail_from_many_addresses(app, email, 5)
    forger = app.test_client()
    forger.set_cookie(KNOWN_BROWSER_COOKIE, "WyJhYmMiXQ.forged.signature", path="/staff/login")
    assert post_login(forger, email, STAFF_PASSWORD, address="10.3.0.1").status_code == 429


@pytest.mark.parametrize("app_overrides", [{
    "LOGIN_LIMIT": "50 per minute", "LOGIN_ACCOUNT_ADDRESS_LIMIT": "3 per minute", "LOGIN_DELAY_AFTER": 1,
    "LOGIN_DELAY_MAX_SECONDS": 30, "LOGIN_ALERT_AFTER": 1000, "RATELIMIT_STORAGE_URI": "memory://"}])
def test_the_account_wait_grows_to_its_cap_and_is_answered_at_once(app, make_staff, app_overrides):
    email = make_staff()
    owner = app.test_client()  # the holder mistyping from a browser that signed in before: never slowed
    assert post_login(owner, email, STAFF_PASSWORD, address="10.4.0.1").status_code == 302
    _sign_out(owner)
    waits = []
    for n in range(7):
        assert post_login(owner, email, WRONG, address=f"10.4.1.{n + 1}").status_code == 200
        waits.append(_retry_after(post_login(app.test_client(), email, STAFF_PASSWORD, address="10.4.2.1")))
    assert waits[:5] == [1, 2, 4, 8, 16]
    assert all(29 <= wait <= 30 for wait in waits[5:])  # capped (a second may pass between steps)
    # Waiting is the client's job: each refusal comes back at once, holding no worker for 30 s.
    started = time.monotonic()
    for n in range(10):
        assert post_login(app.test_client(), email, STAFF_PASSWORD, address=f"10.4.3.{n}").status_code == 429
    assert time.monotonic() - started < 15


def _normalised(body: bytes) -> str:
    text = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", body.decode())
    text = re.sub(r"Try again in [^.]+\.", "Try again in N.", text)
    return re.sub(r'value="[^"]*@[^"]*"', 'value=""', text)


def test_an_unknown_email_is_throttled_exactly_like_a_real_one(app, make_staff):
    real, unknown = make_staff(), "nobody-here@itp.example"
    for n in range(5):  # in step, so both accounts' waits run alike
        for email, prefix in ((real, "10.5.1"), (unknown, "10.5.2")):
            _fail_from_many_addresses(app, email, 1, prefix=f"{prefix}.{n}")
    answers = [post_login(app.test_client(), email, STAFF_PASSWORD, address="10.5.3.1") for email in (real, unknown)]
    assert all(1 <= _retry_after(answer) <= 2 for answer in answers)
    assert _normalised(answers[0].data) == _normalised(answers[1].data)
    assert b"browsers not used with it before are slowed down" in answers[0].data


@pytest.mark.redis
@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_STORAGE_URI": REDIS_TEST_URL}])
def test_counters_in_redis_hold_no_email_address(app, make_staff, app_overrides):
    """Keys name the address and a keyed hash of the account, never the e-mail (they were "login:<e-mail>")."""
    import redis

    reason = redis_available()
    if reason:
        service_missing(reason)
    store = redis.Redis.from_url(REDIS_TEST_URL)
    email = make_staff(email="redis-counter-check@itp.example")
    with app.app_context():
        account = account_key(email)
    try:
        assert post_login(app.test_client(), email, WRONG, address="10.6.6.6").status_code == 200
        keys = [key.decode() for key in store.scan_iter("*LIMITER/*")]
        assert any("/sign-in-address/10.6.6.6/" in key for key in keys)
        assert any(f"/sign-in-account/{account}/" in key for key in keys)
        assert any(f"/sign-in-account-address/{account}/10.6.6.6/" in key for key in keys)
        assert not [key for key in keys if "redis-counter-check" in key]
    finally:
        for key in store.scan_iter("*LIMITER/*"):
            if b"10.6.6.6" in key or account.encode() in key:
                store.delete(key)
