"""Messages that reach no fellow: the editor's preview, and the test a staff member sends to themselves.

A test goes through the configured transport like any message, but never through the delivery
ledger: it has no ledger row, so it counts in no batch, status or reminder.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import current_app

from ... import jobs
from ...extensions import db
from ...models import StaffUser, Survey
from .. import audit
from ..mail import Outcome, make_transport
from ..mail.messages import address, build_message, new_message_id, sender_display
from ..mail.outbox import staff_test_reference
from .texts import renderer

log = logging.getLogger(__name__)

SAMPLE_NAME = "Ada Example"
SAMPLE_EMAIL = "ada.example@example.org"


@dataclass(frozen=True)
class Preview:
    """A message as the fellow will see it: headers, both parts, and the language they are in."""

    subject: str
    sender: str
    to: str
    text: str
    html: str
    language: str
    direction: str


def preview(survey: Survey, kind: str, language: str, name: str = SAMPLE_NAME) -> Preview:
    """The message of this kind in this language, with a sample name and sample links."""
    rendered = renderer(survey, kind)(language)
    base = current_app.config["BASE_URL"]
    subject, text, html = rendered.personalise(name, f"{base}/s/EXAMPLE-PERSONAL-LINK", f"{base}/optout/EXAMPLE")
    display, email = address(name, SAMPLE_EMAIL)
    return Preview(subject, sender_display(), f"{display} <{email}>", text, html, rendered.language, rendered.direction)


def send_test(survey: Survey, kind: str, language: str, link: str, *, actor: StaffUser) -> None:
    """Have the worker send this message to the staff member's own address, once this is committed. Commit.

    link stands in for the personal and opt-out links (a test has neither): a page the staff
    member can open.
    """
    audit.record("invitations.test", survey.id, actor, kind=kind, language=language)
    jobs.after_commit("send_test_message", survey.id, actor.id, kind, language, link)
    db.session.commit()


def deliver_test(survey_id: int, user_id: int, kind: str, language: str, link: str) -> None:
    """Send a staff member's test message now; raise when the server asks to try again later."""
    survey = db.session.get(Survey, survey_id)
    user = db.session.get(StaffUser, user_id)
    if survey is None or user is None or not user.active:
        return
    message = build_message(renderer(survey, kind)(language), user.name, user.email, link, link,
                            new_message_id(), test=True)
    transport = make_transport()
    try:
        result = transport.send(message, user.email, staff_test_reference(survey_id, user_id, time.time_ns()))
    finally:
        transport.close()
    if result.outcome is Outcome.RETRY:
        raise RuntimeError(f"test message for staff account {user_id} not sent yet: {result.detail}")
    if result.outcome is not Outcome.SENT:
        log.warning("test message for staff account %s: %s (%s)", user_id, result.outcome.value, result.detail)
