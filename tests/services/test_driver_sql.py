"""Statements run on the driver's cursor behave as through the session: types, errors, transactions."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, InvitationStatus, Response
from survey_app.services import responses
from survey_app.services.driver_sql import insert_rows
from survey_app.services.structure import survey_structure
from tests.conftest import ALL_TYPES_SURVEY


@pytest.fixture
def survey_id(make_survey) -> int:
    return make_survey(ALL_TYPES_SURVEY)


def _rows(section, **codes: str) -> list[responses.AnswerRow]:
    by_code = {q.code: q for q in section.questions}
    return [responses.AnswerRow(by_code[code].id, option_code=option) for code, option in codes.items()]


def test_the_first_save_that_loses_a_race_uses_the_winners_response(app, survey_id, make_invitation):
    """Two tabs' first saves: the second INSERT hits the unique invitation and falls back, losing nothing."""
    token = make_invitation(survey_id)
    with app.app_context():
        stale = responses.find_link("s", token)  # the second tab read the link before any response existed
        assert stale.response is None
        section = survey_structure(stale.survey).sections[0]
        winner = responses.save_section(responses.find_link("s", token), section, _rows(section, colour="red"), "en")
        loser = responses.save_section(stale, section, _rows(section, colour="blue", agree="agree"), "en")

        assert loser.id == winner.id
        assert db.session.scalar(select(func.count()).select_from(Response)) == 1
        stored = db.session.execute(select(Answer.option_code).order_by(Answer.option_code)).scalars().all()
        assert stored == ["agree", "blue"]  # the later save replaced the section, as a resave does


def test_values_come_back_typed_as_through_the_orm(app, survey_id, make_invitation):
    """Datetimes are timezone-aware and flags are booleans on SQLite as on PostgreSQL."""
    token = make_invitation(survey_id)
    with app.app_context():
        link = responses.find_link("s", token)
        section = survey_structure(link.survey).sections[0]
        responses.save_section(link, section, _rows(section, colour="red"), "en")
        link = responses.find_link("s", token, with_answers=True)
        assert link.survey.anonymous is False
        assert link.survey.created_at.tzinfo is not None
        assert link.response.started_at.tzinfo is not None
        assert link.response.started_at == db.session.scalar(select(Response.started_at))
        assert [a.option_code for answers in link.answers.values() for a in answers] == ["red"]


def test_driver_errors_are_sqlalchemy_errors_that_hide_the_values(app, survey_id, make_invitation):
    """A constraint failure is an IntegrityError whose message carries no answer text into a log."""
    token = make_invitation(survey_id)
    with app.app_context():
        link = responses.find_link("s", token)
        section = survey_structure(link.survey).sections[0]
        response = responses.save_section(link, section, [], "en")
        question = section.questions[0].id
        row = (response.id, question, "", "", None, "a private answer", False)
        columns = ("response_id", "question_id", "item_code", "option_code", "number", "text", "quote_approved")
        with pytest.raises(IntegrityError) as caught:
            insert_rows(Answer.__table__, columns, [row, row])
        assert "a private answer" not in str(caught.value)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 0  # the statement wrote nothing
        with pytest.raises(KeyError):
            insert_rows(Answer.__table__, ("response_id", "no_such_column"), [(response.id, 1)])


def test_a_first_save_writes_response_invitation_and_answers_in_order(app, survey_id, make_invitation):
    """One statement on PostgreSQL, three on SQLite: the same rows either way, answers in the order given."""
    token = make_invitation(survey_id, country="KE", cohort=2015)
    with app.app_context():
        link = responses.find_link("s", token)
        section = survey_structure(link.survey).sections[0]
        q = [question.id for question in section.questions]
        rows = [responses.AnswerRow(q[1], option_code="mango"), responses.AnswerRow(q[1], option_code="apple"),
                responses.AnswerRow(q[0], option_code="other"), responses.AnswerRow(q[0], text="Teal\nand\x00 more"),
                responses.AnswerRow(q[2], item_code="row", option_code="agree", number=3)]
        saved = responses.save_section(link, section, rows, "fr")

        response = db.session.get(Response, saved.id)
        assert (response.language, response.country, response.cohort, response.last_section) == ("fr", "KE", 2015, 1)
        invitation = db.session.get(Invitation, response.invitation_id)
        assert invitation.status == InvitationStatus.STARTED.value
        assert invitation.started_at == response.started_at
        stored = db.session.execute(
            select(Answer.question_id, Answer.item_code, Answer.option_code, Answer.number, Answer.text,
                   Answer.quote_approved).where(Answer.response_id == saved.id).order_by(Answer.id)).all()
        assert [tuple(row) for row in stored] == [
            (q[1], "", "mango", None, None, False), (q[1], "", "apple", None, None, False),
            (q[0], "", "other", None, None, False), (q[0], "", "", None, "Teal\nand more", False),
            (q[2], "row", "agree", 3, None, False)]
