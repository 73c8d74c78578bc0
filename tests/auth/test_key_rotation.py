"""Rotating SECRET_KEY with SECRET_KEY_FALLBACKS keeps staff signed in; dropping the old key signs them out."""
from __future__ import annotations


def test_a_staff_session_survives_a_key_rotation_only_with_the_old_key_as_fallback(app, make_staff, login):
    client = app.test_client()
    login(client, make_staff())
    assert client.get("/staff/").status_code == 200

    old = app.secret_key
    app.secret_key = app.config["SECRET_KEY"] = "a-new-secret-key-of-at-least-32-characters!"
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert client.get("/staff/").status_code == 200  # signed with the old key, accepted by the fallback

    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/staff/").status_code == 302  # the old key is gone: the cookie is refused
