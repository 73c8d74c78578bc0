"""`flask staff set-password EMAIL`: a forgotten demo password reset from the command line, by the web's rules."""
from __future__ import annotations

import re

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, StaffUser
from tests.conftest import STAFF_PASSWORD, csrf_from

NEW_PASSWORD = "amber-lantern-harbour-71"


def _sign_in(client, email: str, password: str) -> int:
    page = client.get("/staff/login")
    return client.post("/staff/login", data={"email": email, "password": password,
                                              "csrf_token": csrf_from(page.data)}).status_code


def test_set_password_lets_the_account_sign_in_with_the_new_password_only(app, runner, make_staff):
    email = make_staff(role="admin", email="demo@itp.example")
    result = runner.invoke(args=["staff", "set-password", "Demo@ITP.example"],
                           input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "password set for demo@itp.example" in result.output and NEW_PASSWORD not in result.output
    assert _sign_in(app.test_client(), email, STAFF_PASSWORD) == 200  # the old one is refused: the form again
    client = app.test_client()
    assert _sign_in(client, email, NEW_PASSWORD) == 302
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "staff.password_reset")).scalar_one()
        user = db.session.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one()
        assert event.actor_email == "cli" and event.detail == {"staff_user_id": user.id}


def test_set_password_signs_out_every_session_of_the_account(app, runner, make_staff, login):
    email = make_staff(email="forgetful@itp.example")
    other = make_staff(email="bystander@itp.example")
    laptop, phone, colleague = app.test_client(), app.test_client(), app.test_client()
    login(laptop, email)
    login(phone, email)
    login(colleague, other)
    assert laptop.get("/staff/").status_code == 200 and phone.get("/staff/").status_code == 200
    result = runner.invoke(args=["staff", "set-password", email], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    for client in (laptop, phone):
        response = client.get("/staff/")
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert colleague.get("/staff/").status_code == 200  # nobody else is signed out


def test_generate_prints_a_strong_password_that_works(app, runner, make_staff):
    email = make_staff(email="gen@itp.example")
    result = runner.invoke(args=["staff", "set-password", email, "--generate"])
    assert result.exit_code == 0, result.output
    password = re.search(r"shown once; keep it\):\s+(\S+)", result.output).group(1)
    assert len(password) >= 20 and password != STAFF_PASSWORD
    assert _sign_in(app.test_client(), email, password) == 302


def test_an_unknown_email_fails_with_a_clear_message(runner, make_staff):
    make_staff(email="someone@itp.example")
    result = runner.invoke(args=["staff", "set-password", "nobody@itp.example"], input="x\nx\n")
    assert result.exit_code != 0
    assert "there is no staff account for 'nobody@itp.example'" in result.output
    assert "flask staff create" in result.output


def test_weak_passwords_are_refused_and_the_old_one_still_works(app, runner, make_staff):
    email = make_staff(email="careful@itp.example")
    for weak, reason in (("short1", "at least 12 characters"), ("password1234", "too common"),
                         ("careful-careful-99", "must not contain your e-mail address")):
        result = runner.invoke(args=["staff", "set-password", email], input=f"{weak}\n{weak}\n")
        assert result.exit_code != 0 and "password not changed" in result.output and reason in result.output, weak
    mismatch = runner.invoke(args=["staff", "set-password", email], input=f"{NEW_PASSWORD}\nsomething-else-entirely\n")
    assert mismatch.exit_code != 0
    assert _sign_in(app.test_client(), email, STAFF_PASSWORD) == 302
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "staff.password_reset")).first() is None
