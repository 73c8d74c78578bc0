"""The e-mail to an account holder after many failed sign-ins: once a day, no secret in it, real SMTP."""
from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent
from tests.conftest import STAFF_PASSWORD
from tests.invitations.smtp_server import FaultyHandler, SmtpServer
from tests.security.helpers import post_login

WRONG = ["guess-number-one-1", "guess-number-two-2", "guess-number-three-3", "guess-number-four-4",
         "guess-number-five-5", "guess-number-six-6"]
THROTTLE = {"LOGIN_ALERT_AFTER": 3, "LOGIN_DELAY_AFTER": 1000, "RATELIMIT_STORAGE_URI": "memory://",
            "HUEY_IMMEDIATE": True}


@pytest.fixture
def smtp():
    with SmtpServer(FaultyHandler()) as server:
        yield server


@pytest.fixture
def app_overrides(smtp):
    return {**smtp.config(), **THROTTLE, "MAIL_DEFAULT_SENDER": "ITP Surveys <itp-surveys@museum.example>"}


def _fail(app, email_address: str, passwords: list[str], prefix: str = "10.7.0") -> None:
    for n, password in enumerate(passwords):
        assert post_login(app.test_client(), email_address, password, address=f"{prefix}.{n + 1}").status_code == 200


def _texts(message) -> str:
    return "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")


def test_many_failures_e_mail_the_holder_once_with_no_secret(app, smtp, make_staff):
    holder = make_staff(name="Amina Holder")
    _fail(app, holder, WRONG[:2])
    assert smtp.handler.received == []  # two failures: nothing yet
    _fail(app, holder, WRONG[2:3], prefix="10.7.1")
    [received] = smtp.handler.received
    assert received.recipients == [holder]
    message = received.message
    assert message["Subject"] == "Unsuccessful sign-ins to your ITP Surveys staff account"
    assert message["Auto-Submitted"] == "auto-generated"
    body = _texts(message)
    assert "Dear Amina Holder," in body
    assert f"There have been 3 unsuccessful attempts to sign in to your ITP Surveys staff account ({holder})" in body
    assert "http://127.0.0.1:5000/staff/login" in body
    for typed in WRONG + [STAFF_PASSWORD]:
        assert typed not in received.data.decode("utf-8", "replace")
    # No link carries a token: the only address in it is the plain sign-in page.
    assert set(re.findall(r"https?://[^\s<>\"]+", body)) == {"http://127.0.0.1:5000/staff/login"}
    # Three more failures the same day: still the one message.
    _fail(app, holder, WRONG[3:], prefix="10.7.2")
    assert len(smtp.handler.received) == 1
    with app.app_context():
        [event] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "staff.sign_in_alert")).scalars()
        assert event.actor_email == "system" and event.detail["failures"] == 3
        assert "10.7." not in str(event.detail)  # counts and ids only, no address


def test_the_holder_signing_in_meanwhile_changes_nothing_and_strangers_get_no_mail(app, smtp, make_staff):
    holder = make_staff()
    _fail(app, "nobody-at-all@itp.example", WRONG[:4])  # an unknown e-mail: nobody to tell
    _fail(app, holder, WRONG[:1], prefix="10.8.0")
    assert post_login(app.test_client(), holder, STAFF_PASSWORD, address="10.8.1.1").status_code == 302
    assert smtp.handler.received == []
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "staff.sign_in_alert")).first() is None


@pytest.mark.parametrize("app_overrides", [{**THROTTLE, "MAIL_SERVER": None, "BABEL_DEFAULT_LOCALE": "fr"}])
def test_without_a_mail_server_the_alert_is_an_eml_in_the_outbox_in_the_services_language(app, make_staff,
                                                                                         app_overrides):
    holder = make_staff()
    _fail(app, holder, WRONG[:3])
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    [path] = list(outbox.glob("staff-alert-*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == holder
    assert message["Subject"] == "Échecs de connexion à votre compte du personnel ITP Surveys"
    assert "3 tentatives de connexion" in _texts(message)


def test_the_alert_is_written_in_the_language_the_holder_chose_for_the_staff_pages(app, smtp, make_staff):
    from survey_app.models import StaffUser

    holder = make_staff(name="Amina Holder")
    with app.app_context():
        db.session.execute(select(StaffUser).where(StaffUser.email == holder)).scalar_one().language = "ar"
        db.session.commit()
    _fail(app, holder, WRONG[:3], prefix="10.9.0")
    [received] = smtp.handler.received
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("ar"):
        arabic = gettext("Unsuccessful sign-ins to your ITP Surveys staff account")
    assert arabic != "Unsuccessful sign-ins to your ITP Surveys staff account"
    assert received.message["Subject"] == arabic
    html = next(part for part in received.message.walk() if part.get_content_type() == "text/html").get_content()
    assert 'lang="ar"' in html and 'dir="rtl"' in html
