"""Tell a staff member by e-mail that their account has had many unsuccessful sign-ins.

The sign-in page only queues the account's keyed hash (never the e-mail typed), for every e-mail
that reaches the threshold, known or not: the page does the same work either way, so it reveals
nothing. The worker finds the account, records the alert in the audit log, commits, then sends.
"""
from __future__ import annotations

import hmac
import logging
import time

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import select

from .. import jobs
from ..extensions import db
from ..i18n import text_direction
from ..models import StaffUser
from . import audit
from .mail import Outcome, make_transport
from .mail.messages import address, header_safe, new_message_id
from .staff import account_key

log = logging.getLogger(__name__)


def queue_alert(email: str, failures: int) -> None:
    """Hand the alert to the worker, by the account's keyed hash: a sign-in request never waits for mail. Commit."""
    jobs.after_commit("alert_failed_sign_ins", account_key(email), failures)
    db.session.commit()


def record_alert(account: str, failures: int) -> int | None:
    """Find the active account with this key, record the alert in the audit log and queue its e-mail. Commit.

    Return the account's id, or None when the e-mail typed was no active account's.
    """
    users = db.session.execute(select(StaffUser.id, StaffUser.email).where(StaffUser.active.is_(True))).all()
    user_id = next((uid for uid, email in users if hmac.compare_digest(account_key(email), account)), None)
    if user_id is None:
        return None
    audit.record("staff.sign_in_alert", None, actor=None, actor_label="system", staff_user_id=user_id,
                 failures=failures)
    jobs.after_commit("send_sign_in_alert", user_id, failures)
    db.session.commit()
    return user_id


def alert_language(user: StaffUser) -> str:
    """The language the account holder chose for the staff pages, else the service's."""
    if user.language is not None and user.language in current_app.config["LANGUAGES"]:
        return user.language
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def build_alert(user: StaffUser, failures: int) -> Message:
    """The alert message: no link that signs in, no token, nothing the person typed."""
    language = alert_language(user)
    context = {"name": header_safe(user.name), "email": user.email, "failures": failures,
               "sign_in_page": current_app.config["BASE_URL"] + "/staff/login", "lang": language,
               "dir": text_direction(language)}
    with force_locale(language):
        subject = _("Unsuccessful sign-ins to your ITP Surveys staff account")
        text = render_template("email/sign_in_alert.txt", **context)
        html = render_template("email/sign_in_alert.html", subject=subject, **context)
    message = Message(subject=subject, recipients=[address(user.name, user.email)], body=text, html=html,
                      sender=current_app.config["MAIL_DEFAULT_SENDER"],
                      extra_headers={"Auto-Submitted": "auto-generated"})
    message.msgId = new_message_id()
    return message


def send_alert(user_id: int, failures: int) -> None:
    """Send the alert through SMTP, or to the outbox without MAIL_SERVER; raise to be retried."""
    user = db.session.get(StaffUser, user_id)
    if user is None or not user.active:
        return
    message = build_alert(user, failures)
    transport = make_transport()
    try:
        result = transport.send(message, user.email, f"staff-alert-u{user.id}-{time.time_ns()}")
    finally:
        transport.close()
    if result.outcome is Outcome.RETRY:
        raise RuntimeError(f"sign-in alert for staff account {user.id} not sent yet: {result.detail}")
    if result.outcome is not Outcome.SENT:
        log.warning("sign-in alert for staff account %s: %s (%s)", user.id, result.outcome.value, result.detail)
