"""The session cookie with its serializer reused: same signatures, and a changed key still takes effect."""
from __future__ import annotations

from flask import session

from survey_app.security import public
from survey_app.session_cookie import SessionInterface


def _cookie_app(app):
    """Two tiny routes on the test app: one stores a value in the session, one reads it back."""
    @public
    def put():
        session["seen"] = "yes"
        return "stored"

    @public
    def get():
        return session.get("seen", "nothing")

    app.add_url_rule("/_session/put", "session_put", put)
    app.add_url_rule("/_session/get", "session_get", get)
    return app


def test_the_app_uses_the_reusing_interface(app):
    assert isinstance(app.session_interface, SessionInterface)


def test_a_session_survives_requests_and_key_rotation_with_a_fallback(app):
    client = _cookie_app(app).test_client()
    assert client.get("/_session/put").data == b"stored"
    assert client.get("/_session/get").data == b"yes"

    old = app.secret_key
    app.secret_key = "a-new-secret-key-of-at-least-32-characters!"
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert client.get("/_session/get").data == b"yes"  # signed with the old key, accepted by fallback

    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/_session/get").data == b"nothing"  # the old key is gone: the cookie is refused


def test_a_changed_key_is_not_served_from_the_cache(app):
    client = _cookie_app(app).test_client()
    client.get("/_session/put")
    app.secret_key = "another-secret-key-of-at-least-32-characters"
    assert client.get("/_session/get").data == b"nothing"


def test_an_empty_session_sets_no_cookie_but_a_cleared_one_is_deleted(app):
    """As Flask does: no Set-Cookie for a session left empty, Vary when it was read, deletion when emptied."""
    @public
    def read():
        return session.get("seen", "nothing")

    @public
    def clear():
        session.clear()
        return "cleared"

    app.add_url_rule("/_session/read", "session_read", read)
    app.add_url_rule("/_session/clear", "session_clear", clear)
    client = _cookie_app(app).test_client()
    fresh = client.get("/_session/read")
    assert "Set-Cookie" not in fresh.headers and "Cookie" in fresh.headers.get("Vary", "")
    client.get("/_session/put")
    cleared = client.get("/_session/clear")
    assert "Expires=Thu, 01 Jan 1970" in cleared.headers["Set-Cookie"]
    assert client.get("/_session/get").data == b"nothing"
