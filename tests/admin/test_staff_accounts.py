"""Admins manage staff accounts; staff cannot; the last active admin cannot be removed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, StaffUser
from tests.conftest import STAFF_PASSWORD, csrf_from

NEW_PASSWORD = "violet-kettle-sunrise-42"


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.execute(select(StaffUser.id).where(StaffUser.email == email)).scalar_one()


def actions(app) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(a, d) for a, d in db.session.execute(
            select(AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.id)).all()]


@pytest.fixture
def admin(app, make_staff, login):
    client = app.test_client()
    email = make_staff(role="admin", email="boss@itp.example")
    login(client, email)
    return client


def test_staff_get_403_on_every_admin_page(app, staff_client, make_staff):
    other = user_id(app, make_staff(email="colleague@itp.example"))
    token = csrf_from(staff_client.get("/staff/password").data)
    for url in ("/staff/admin/users", "/staff/admin/users/new", f"/staff/admin/users/{other}",
                f"/staff/admin/users/{other}/password"):
        assert staff_client.get(url).status_code == 403, url
    for url, data in ((f"/staff/admin/users/{other}/role", {"role": "admin"}),
                      (f"/staff/admin/users/{other}/deactivate", {}),
                      (f"/staff/admin/users/{other}/reactivate", {}),
                      (f"/staff/admin/users/{other}/password", {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
                      ("/staff/admin/users/new", {"name": "X", "email": "x@itp.example", "role": "admin",
                                                  "password": NEW_PASSWORD})):
        assert staff_client.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    with app.app_context():
        assert db.session.execute(select(StaffUser.role).where(StaffUser.id == other)).scalar_one() == "staff"
        assert db.session.execute(select(StaffUser).where(StaffUser.email == "x@itp.example")).first() is None
    assert b"Staff accounts" not in staff_client.get("/staff/").data


def test_admin_creates_an_account_that_can_sign_in(app, admin, login):
    form = admin.get("/staff/admin/users/new")
    assert form.status_code == 200 and b'<legend class="legend">Role</legend>' in form.data
    weak = admin.post("/staff/admin/users/new", data={
        "name": "New Person", "email": "new@itp.example", "role": "staff", "password": "short",
        "csrf_token": csrf_from(form.data)})
    assert weak.status_code == 400 and b'href="#password"' in weak.data and b"at least 12 characters" in weak.data
    created = admin.post("/staff/admin/users/new", data={
        "name": "New Person", "email": "New@ITP.example", "role": "staff", "password": NEW_PASSWORD,
        "csrf_token": csrf_from(form.data)})
    assert created.status_code == 302
    new_id = user_id(app, "new@itp.example")
    assert actions(app) == [("staff.created", {"staff_user_id": new_id, "role": "staff"})]
    login(app.test_client(), "new@itp.example", NEW_PASSWORD)
    listing = admin.get("/staff/admin/users")
    assert b"new@itp.example" in listing.data and b'<th scope="col">' in listing.data


def test_deactivation_ends_the_other_users_live_session(app, admin, make_staff, login):
    email = make_staff(email="leaver@itp.example")
    leaver = app.test_client()
    login(leaver, email)
    assert leaver.get("/staff/").status_code == 200
    target = user_id(app, email)
    page = admin.get(f"/staff/admin/users/{target}")
    assert admin.post(f"/staff/admin/users/{target}/deactivate",
                      data={"csrf_token": csrf_from(page.data)}).status_code == 302
    assert leaver.get("/staff/").headers["Location"].startswith("/staff/login")
    # Signing in again is refused too.
    relogin = app.test_client()
    form = relogin.get("/staff/login")
    assert relogin.post("/staff/login", data={"email": email, "password": STAFF_PASSWORD,
                                              "csrf_token": csrf_from(form.data)}).status_code == 200
    assert admin.post(f"/staff/admin/users/{target}/reactivate",
                      data={"csrf_token": csrf_from(page.data)}).status_code == 302
    login(app.test_client(), email)
    assert [a for a, _ in actions(app)] == ["staff.deactivated", "staff.reactivated"]


def test_role_change_and_password_reset(app, admin, make_staff, login):
    email = make_staff(email="helper@itp.example")
    helper = app.test_client()
    login(helper, email)
    target = user_id(app, email)
    page = admin.get(f"/staff/admin/users/{target}")
    assert admin.post(f"/staff/admin/users/{target}/role",
                      data={"role": "admin", "csrf_token": csrf_from(page.data)}).status_code == 302
    assert helper.get("/staff/admin/users").status_code == 200
    reset = admin.get(f"/staff/admin/users/{target}/password")
    mismatch = admin.post(f"/staff/admin/users/{target}/password", data={
        "new_password": NEW_PASSWORD, "confirm": "something-else-entirely", "csrf_token": csrf_from(reset.data)})
    assert mismatch.status_code == 400 and b"do not match" in mismatch.data
    done = admin.post(f"/staff/admin/users/{target}/password", data={
        "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf_from(reset.data)})
    assert done.status_code == 302
    assert helper.get("/staff/").headers["Location"].startswith("/staff/login")
    login(app.test_client(), email, NEW_PASSWORD)
    assert admin.get("/staff/admin/users").status_code == 200  # the admin's own session lives on
    assert [a for a, _ in actions(app)] == ["staff.role_changed", "staff.password_reset"]


def test_last_active_admin_cannot_be_demoted_or_deactivated(app, admin, make_staff, login):
    me = user_id(app, "boss@itp.example")
    page = admin.get(f"/staff/admin/users/{me}")
    token = csrf_from(page.data)
    demote = admin.post(f"/staff/admin/users/{me}/role", data={"role": "staff", "csrf_token": token})
    assert demote.status_code == 400 and b"last active admin" in demote.data and b'href="#role"' in demote.data
    admin.post(f"/staff/admin/users/{me}/deactivate", data={"csrf_token": token})
    with app.app_context():
        assert db.session.execute(select(StaffUser.role, StaffUser.active).where(StaffUser.id == me)).one() == (
            "admin", True)
    assert admin.get("/staff/admin/users").status_code == 200
    # With a second active admin the first may step down.
    second = user_id(app, make_staff(role="admin", email="deputy@itp.example"))
    assert admin.post(f"/staff/admin/users/{me}/role", data={"role": "staff", "csrf_token": token}).status_code == 302
    assert admin.get("/staff/admin/users").status_code == 403
    assert actions(app) == [("staff.role_changed", {"staff_user_id": me, "previous_role": "admin", "role": "staff"})]
    assert second
