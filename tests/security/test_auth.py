"""Sign-in, passwords and server-side sessions: policy, throttling, fixation, replay, timeouts, cookies."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from config import ProductionConfig
from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import StaffSession, StaffUser
from survey_app.services import staff as staff_service
from tests.conftest import STAFF_PASSWORD, csrf_from, make_app
from tests.security.helpers import post_login as _post_login

GOOD_PASSWORD = "violet-harbour-lantern-42"
SESSION_COOKIE = "session"


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie else None


# --- password policy and hashing -------------------------------------------------------------

@pytest.mark.parametrize("password, accepted", [
    ("short-pass1", False),          # 11 characters
    ("password1234", False),         # on the common list
    ("aaaaaaaaaaaaaaaa", False),     # too few different characters
    (GOOD_PASSWORD, True),
])
def test_cli_create_applies_password_policy(app, runner, password, accepted):
    result = runner.invoke(args=["staff", "create", "new@itp.example", "--name", "New"],
                           env={"SURVEY_STAFF_PASSWORD": password}, input=f"{password}\n{password}\n")
    with app.app_context():
        exists = db.session.execute(select(StaffUser).where(StaffUser.email == "new@itp.example")).first()
    assert bool(exists) is accepted, result.output
    if not accepted:
        assert result.exit_code != 0


def test_change_password_page_applies_policy(app, staff_client):
    for bad in ("short-pass1", "password1234"):
        page = staff_client.get("/staff/password")
        response = staff_client.post("/staff/password", data={
            "current_password": STAFF_PASSWORD, "new_password": bad, "confirm": bad,
            "csrf_token": csrf_from(page.data)})
        assert response.status_code == 200  # shown again with the error, nothing changed
    page = staff_client.get("/staff/password")
    response = staff_client.post("/staff/password", data={
        "current_password": STAFF_PASSWORD, "new_password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD,
        "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.execute(select(StaffUser)).scalar_one()
        assert staff_service.authenticate(user.email, GOOD_PASSWORD) is not None


def test_wrong_current_password_changes_nothing(app, staff_client):
    page = staff_client.get("/staff/password")
    staff_client.post("/staff/password", data={
        "current_password": "not-the-password-at-all", "new_password": GOOD_PASSWORD,
        "confirm": GOOD_PASSWORD, "csrf_token": csrf_from(page.data)})
    with app.app_context():
        user = db.session.execute(select(StaffUser)).scalar_one()
        assert staff_service.authenticate(user.email, STAFF_PASSWORD) is not None


@pytest.fixture
def production_app(tmp_path, monkeypatch):
    """An app built from ProductionConfig itself (secrets from the environment)."""
    monkeypatch.setenv("SECRET_KEY", "p" * 40 + "-production-secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    monkeypatch.setenv("BASE_URL", "https://surveys.example.org")
    app = create_app({"CONFIG": ProductionConfig, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "HUEY_SQLITE_PATH": str(tmp_path / "huey.db"), "RATELIMIT_STORAGE_URI": "memory://",
                      "MAIL_OUTBOX_DIR": str(tmp_path / "outbox")})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_production_hashes_with_scrypt(production_app):
    with production_app.app_context():
        assert staff_service.hash_password(GOOD_PASSWORD).startswith("scrypt:")
        user = staff_service.create_staff("p@itp.example", "P", GOOD_PASSWORD)
        assert user.password_hash.startswith("scrypt:") and GOOD_PASSWORD not in user.password_hash


def test_production_cookie_is_secure_httponly_lax(production_app):
    with production_app.app_context():
        staff_service.create_staff("p@itp.example", "P", GOOD_PASSWORD)
    client = production_app.test_client()
    base = "https://localhost"
    page = client.get("/staff/login", base_url=base)
    response = client.post("/staff/login", base_url=base, headers={"Referer": base + "/staff/login"},
                           data={"email": "p@itp.example", "password": GOOD_PASSWORD,
                                 "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302, response.data[:300]
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    assert "Secure" in session and "HttpOnly" in session and "SameSite=Lax" in session
    assert not any(c.startswith("remember_token=") and "Max-Age=0" not in c for c in cookies)
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_cookie_is_httponly_lax_in_every_config(app, make_staff):
    client = app.test_client()
    response = _post_login(client, make_staff(), STAFF_PASSWORD)
    session = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session and "SameSite=Lax" in session


# --- throttling and equal answers ------------------------------------------------------------

@pytest.fixture
def app_overrides():
    return {"LOGIN_LIMIT": "3 per minute", "RATELIMIT_STORAGE_URI": "memory://"}


def test_strangers_failures_never_block_the_right_password_from_another_address(app, make_staff):
    """A stranger who knows a staff e-mail cannot lock its holder out (it could, keyed by e-mail)."""
    email = make_staff()
    stranger = app.test_client()
    for _ in range(3):
        assert _post_login(stranger, email, "wrong-password-xx", address="10.0.0.1").status_code == 200
    # The stranger's address is refused now, even with the right password ...
    refused = _post_login(stranger, email, STAFF_PASSWORD, address="10.0.0.1")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # ... while the holder, from their own address, signs in at once.
    assert _post_login(app.test_client(), email, STAFF_PASSWORD, address="10.0.0.99").status_code == 302
    # Another account from a fresh address is unaffected.
    assert _post_login(app.test_client(), make_staff(), STAFF_PASSWORD, address="10.0.1.1").status_code == 302


def test_login_throttled_per_address_across_accounts(app, make_staff):
    client = app.test_client()
    for n in range(3):
        assert _post_login(client, f"nobody{n}@itp.example", "wrong-password-xx",
                           address="10.9.9.9").status_code == 200
    assert _post_login(client, make_staff(), STAFF_PASSWORD, address="10.9.9.9").status_code == 429
    assert _post_login(client, make_staff(), STAFF_PASSWORD, address="10.9.9.8").status_code == 302


def test_throttle_does_not_leak_between_apps(app, make_staff, tmp_path):
    """The limiter's memory storage starts empty for each app, so tests cannot pass by accident."""
    email = make_staff()
    client = app.test_client()
    for _ in range(3):
        _post_login(client, email, "wrong-password-xx", address="10.3.3.3")
    assert _post_login(client, email, "wrong-password-xx", address="10.3.3.3").status_code == 429
    other = make_app(f"sqlite:///{tmp_path / 'other.db'}", tmp_path / "other",
                     LOGIN_LIMIT="3 per minute", RATELIMIT_STORAGE_URI="memory://")
    with other.app_context():
        db.create_all()
        staff_service.create_staff(email, "Again", STAFF_PASSWORD)
    assert _post_login(other.test_client(), email, STAFF_PASSWORD, address="10.3.3.3").status_code == 302
    with other.app_context():
        db.engine.dispose()


def _normalised(body: bytes) -> str:
    text = body.decode()
    text = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", text)
    return re.sub(r'value="[^"]*@[^"]*"', 'value=""', text)


def test_unknown_email_and_wrong_password_get_the_same_answer(app, make_staff):
    email = make_staff()
    known = _post_login(app.test_client(), email, "wrong-password-xx")
    unknown = _post_login(app.test_client(), "unknown-person@itp.example", "wrong-password-xx")
    assert known.status_code == unknown.status_code == 200
    assert _normalised(known.data) == _normalised(unknown.data)


def test_disabled_account_gets_the_same_answer_as_a_wrong_password(app, make_staff):
    email = make_staff()
    with app.app_context():
        db.session.execute(update(StaffUser).values(active=False))
        db.session.commit()
    disabled = _post_login(app.test_client(), email, STAFF_PASSWORD)
    unknown = _post_login(app.test_client(), "unknown-person@itp.example", STAFF_PASSWORD)
    assert disabled.status_code == unknown.status_code == 200
    assert _normalised(disabled.data) == _normalised(unknown.data)


# --- sessions ----------------------------------------------------------------------------------

def _session_data(app, cookie_value: str) -> dict:
    return app.session_interface.get_signing_serializer(app).loads(cookie_value)


def test_sign_in_starts_a_new_session(app, make_staff):
    email = make_staff()
    client = app.test_client()
    client.get("/staff/login")
    before = _session_cookie(client)
    old = _session_data(app, before)
    assert "csrf_token" in old
    response = _post_login(client, email, STAFF_PASSWORD)
    assert response.status_code == 302
    after = _session_cookie(client)
    assert after != before
    new = _session_data(app, after)
    assert new.get("csrf_token") != old["csrf_token"]
    # The cookie holds a random server-side session id, never the user id.
    with app.app_context():
        user = db.session.execute(select(StaffUser)).scalar_one()
        assert new["_user_id"] != str(user.id)
        assert db.session.execute(select(StaffSession)).scalar_one().token_hash != new["_user_id"]


def test_planted_session_data_does_not_survive_sign_in(app, make_staff):
    email = make_staff()
    client = app.test_client()
    client.get("/staff/login")
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
        session["_user_id"] = "forged-session-id"
    _post_login(client, email, STAFF_PASSWORD)
    data = _session_data(app, _session_cookie(client))
    assert "planted" not in data and data["_user_id"] != "forged-session-id"


def test_forged_session_id_is_refused(app, make_staff):
    make_staff()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"
    assert client.get("/staff/").status_code == 302


def _replay(app, cookie_value: str):
    thief = app.test_client()
    thief.set_cookie(SESSION_COOKIE, cookie_value)
    return thief.get("/staff/")


def test_sign_out_ends_the_session_on_the_server(app, make_staff, login):
    client = app.test_client()
    login(client, make_staff())
    copied = _session_cookie(client)
    assert _replay(app, copied).status_code == 200
    page = client.get("/staff/password")
    assert client.post("/staff/logout", data={"csrf_token": csrf_from(page.data)}).status_code == 302
    replay = _replay(app, copied)
    assert replay.status_code == 302 and "/staff/login" in replay.headers["Location"]
    with app.app_context():
        assert db.session.execute(select(StaffSession.revoked_at)).scalar_one() is not None


def test_sign_out_needs_post_and_csrf(app, staff_client):
    assert staff_client.get("/staff/logout").status_code == 405
    assert staff_client.post("/staff/logout").status_code == 400
    assert staff_client.get("/staff/").status_code == 200


def test_password_change_ends_other_sessions_but_keeps_this_one(app, make_staff, login):
    email = make_staff()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, email)
    login(phone, email)
    phone_cookie = _session_cookie(phone)
    page = laptop.get("/staff/password")
    response = laptop.post("/staff/password", data={
        "current_password": STAFF_PASSWORD, "new_password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD,
        "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302
    assert laptop.get("/staff/").status_code == 200
    assert phone.get("/staff/").status_code == 302
    assert _replay(app, phone_cookie).status_code == 302


@pytest.mark.parametrize("limit_key", ["STAFF_IDLE_TIMEOUT", "STAFF_ABSOLUTE_TIMEOUT"])
def test_session_limits(app, staff_client, limit_key):
    from survey_app.models.base import utcnow

    limit = app.config[limit_key]

    def age_session(by: timedelta) -> None:
        now = utcnow()
        values = ({"last_seen_at": now - by} if limit_key == "STAFF_IDLE_TIMEOUT"
                  else {"created_at": now - by, "last_seen_at": now})
        with app.app_context():
            db.session.execute(update(StaffSession).values(values))
            db.session.commit()

    age_session(limit - timedelta(seconds=30))  # just inside the limit the session lives on
    assert staff_client.get("/staff/").status_code == 200
    age_session(limit + timedelta(seconds=1))
    response = staff_client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_activity_keeps_an_idle_session_alive(app, staff_client):
    limit = app.config["STAFF_IDLE_TIMEOUT"]
    from survey_app.models.base import utcnow

    with app.app_context():
        db.session.execute(update(StaffSession).values(last_seen_at=utcnow() - limit + timedelta(minutes=1)))
        db.session.commit()
    assert staff_client.get("/staff/").status_code == 200
    with app.app_context():
        seen = db.session.execute(select(StaffSession.last_seen_at)).scalar_one()
        assert utcnow() - seen < timedelta(minutes=1)


# --- redirects ---------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "%2F%2Fevil.example", "/%09/evil.example", "/\t/evil.example",
    "http:/evil.example", "///evil.example", " //evil.example",
])
def test_next_goes_only_to_our_own_paths(app, make_staff, target):
    response = _post_login(app.test_client(), make_staff(), STAFF_PASSWORD, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"


def test_next_to_our_own_page_is_honoured(app, make_staff):
    response = _post_login(app.test_client(), make_staff(), STAFF_PASSWORD, next_url="/staff/password")
    assert response.headers["Location"] == "/staff/password"


def test_login_form_needs_csrf(app, make_staff):
    client = app.test_client()
    response = client.post("/staff/login", data={"email": make_staff(), "password": STAFF_PASSWORD})
    assert response.status_code != 302
    assert client.get("/staff/").status_code == 302
