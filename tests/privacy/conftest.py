"""Fixtures for the privacy tests: a fellow who answers through the real respondent pages."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Delivery, Invitation, Participant, Survey
from survey_app.questions import QuestionView
from survey_app.questions.matrix import cell_field_name
from survey_app.services.structure import survey_structure
from tests.conftest import csrf_from

FREE_TEXT = "My cousin Amina at the Lagos museum helped"


def question_fields(q: QuestionView) -> dict[str, str | list[str]]:
    """Form fields that answer one question validly."""
    plain = [o for o in q.choices if not o.is_other and not o.is_exclusive] or list(q.choices)
    if q.type in {"single", "likert"}:
        return {q.code: plain[0].code}
    if q.type == "multiple":
        wanted = max(1, int(q.settings.get("min_choices") or 1))
        return {q.code: [o.code for o in plain[:wanted]]}
    if q.type in {"text", "textarea"}:
        return {q.code: FREE_TEXT}
    if q.type == "number":
        low = q.settings.get("min_value")
        return {q.code: str(low if low is not None else 1)}
    if q.type == "matrix":
        return {cell_field_name(q, row.code): q.choices[0].code for row in q.rows}
    if q.type == "ranking":
        return {cell_field_name(q, item.code): str(n) for n, item in enumerate(q.choices, 1)}
    raise AssertionError(q.type)


@pytest.fixture
def answer_survey(app) -> Callable[..., None]:
    """Answer every question of a personal link's survey through the pages, then submit."""

    def answer(token: str, survey_id: int, submit: bool = True) -> None:
        with app.app_context():
            structure = survey_structure(db.session.get(Survey, survey_id))
        fellow = app.test_client()
        base = f"/s/{token}"
        for section in structure.sections:
            page = fellow.get(f"{base}/{section.number}")
            assert page.status_code == 200, page.data[:300]
            data: dict = {"csrf_token": csrf_from(page.data), "action": "continue"}
            for question in section.questions:
                data.update(question_fields(question))
            saved = fellow.post(f"{base}/{section.number}", data=data)
            assert saved.status_code == 302, saved.data.decode()[:2000]
        if submit:
            check = fellow.get(f"{base}/check")
            assert check.status_code == 200
            done = fellow.post(f"{base}/submit", data={"csrf_token": csrf_from(check.data)})
            assert done.headers["Location"].endswith(f"{base}/done")

    return answer


@pytest.fixture
def participant_id(app) -> Callable[[str], int]:
    """Find the participant id of an invitee by e-mail."""

    def find(email: str) -> int:
        with app.app_context():
            return db.session.execute(select(Participant.id).where(Participant.email == email)).scalar_one()

    return find


@pytest.fixture
def add_delivery(app) -> Callable[..., None]:
    """Write a ledger row for a participant, as the mailer would after sending."""

    def add(participant_id: int, kind: str = "invitation", round_: int = 0, message_id: str | None = None) -> None:
        from survey_app.models.base import utcnow

        with app.app_context():
            person = db.session.get(Participant, participant_id)
            db.session.add(Delivery(survey_id=person.survey_id, participant_id=person.id, kind=kind, round=round_,
                                    state="sent", attempts=1, sent_at=utcnow(),
                                    message_id=message_id or f"<{kind}-{round_}-{person.id}@itp.example>"))
            db.session.commit()

    return add


def invitation_of(participant_id: int) -> Invitation | None:
    return db.session.execute(
        select(Invitation).where(Invitation.participant_id == participant_id)).scalar_one_or_none()
