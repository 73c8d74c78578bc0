"""The respondent journey's writes: typed values, answers in order, lost races, guarded submits, exact totals."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from survey_app.extensions import db
from survey_app.models import Answer, AnswerTotal, Invitation, InvitationStatus, Response, ResponseTotal
from survey_app.questions import AnswerRow
from survey_app.services import responses
from survey_app.services.structure import survey_structure
from tests.conftest import ALL_TYPES_SURVEY
from tests.totals_check import assert_totals_match_a_rebuild


@pytest.fixture
def survey_id(make_survey) -> int:
    return make_survey(ALL_TYPES_SURVEY)


def _rows(section, **codes: str) -> list[AnswerRow]:
    by_code = {q.code: q for q in section.questions}
    return [AnswerRow(by_code[code].id, option_code=option) for code, option in codes.items()]


def test_the_first_save_that_loses_a_race_uses_the_winners_response(ctx, survey_id, make_invitation):
    """Two tabs' first saves: the second INSERT finds the invitation's response and saves into it, losing nothing."""
    token = make_invitation(survey_id)
    stale = responses.find_link("s", token)  # the second tab read the link before any response existed
    assert stale.response is None
    section = survey_structure(stale.survey).sections[0]
    winner = responses.save_section(responses.find_link("s", token), section, _rows(section, colour="red"), "en")
    loser = responses.save_section(stale, section, _rows(section, colour="blue", agree="agree"), "en")

    assert loser.id == winner.id
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    stored = db.session.execute(select(Answer.option_code).order_by(Answer.option_code)).scalars().all()
    assert stored == ["agree", "blue"]  # the later save replaced the section, as a resave does


def test_values_come_back_typed(ctx, survey_id, make_invitation):
    """Datetimes are timezone-aware and flags are booleans on SQLite as on PostgreSQL."""
    token = make_invitation(survey_id)
    link = responses.find_link("s", token)
    section = survey_structure(link.survey).sections[0]
    responses.save_section(link, section, _rows(section, colour="red"), "en")
    link = responses.find_link("s", token, with_answers=True)
    assert link.survey.anonymous is False
    assert link.survey.created_at.tzinfo is not None
    assert link.response.started_at.tzinfo is not None
    assert link.response.started_at == db.session.scalar(select(Response.started_at))
    assert [a.option_code for answers in link.answers.values() for a in answers] == ["red"]


def test_a_failed_save_stores_nothing(ctx, survey_id, make_invitation):
    """A constraint failure mid-save rolls the whole save back: no response, no answers, no started invitation."""
    token = make_invitation(survey_id)
    link = responses.find_link("s", token)
    section = survey_structure(link.survey).sections[0]
    twice = _rows(section, colour="red") * 2  # the answers' unique key refuses the second
    with pytest.raises(IntegrityError):
        responses.save_section(link, section, twice, "en")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    assert db.session.scalar(select(Invitation.status)) == InvitationStatus.CREATED.value


def test_a_first_save_writes_response_invitation_and_answers_in_order(ctx, survey_id, make_invitation):
    token = make_invitation(survey_id, country="KE", cohort=2015)
    link = responses.find_link("s", token)
    section = survey_structure(link.survey).sections[0]
    q = [question.id for question in section.questions]
    rows = [AnswerRow(q[1], option_code="mango"), AnswerRow(q[1], option_code="apple"),
            AnswerRow(q[0], option_code="other"), AnswerRow(q[0], text="Teal\nand\x00 more"),
            AnswerRow(q[2], item_code="row", option_code="agree", number=3)]
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
    # Read back with the link: grouped by question, in the order stored.
    read = responses.find_link("s", token, with_answers=True).answers
    assert {question: [tuple(answer) for answer in answers] for question, answers in read.items()} == {
        q[1]: [(q[1], "", "mango", None, None), (q[1], "", "apple", None, None)],
        q[0]: [(q[0], "", "other", None, None), (q[0], "", "", None, "Teal\nand more")],
        q[2]: [(q[2], "row", "agree", 3, None)]}
    assert list(read) == [q[1], q[0], q[2]]
    assert responses.find_link("s", make_invitation(survey_id), with_answers=True).answers == {}


def _submit_together(app, tokens_: list[str]) -> list[bool]:
    """Submit these links at the same moment, each thread a respondent request with its own session."""
    start = threading.Barrier(len(tokens_))

    def submit(token: str) -> bool:
        with app.test_request_context():
            link = responses.find_link("s", token, with_answers=True)
            start.wait()
            return responses.submit_response(link)

    with ThreadPoolExecutor(len(tokens_)) as pool:
        return list(pool.map(submit, tokens_))


def test_simultaneous_submits_count_each_response_once_without_deadlock(app, survey_id, make_invitation):
    """Double clicks on one response, and fellows of one country at once: one win each, totals exact."""
    tokens_ = [make_invitation(survey_id, country="KE") for _ in range(6)]
    with app.app_context():
        for token in tokens_:
            link = responses.find_link("s", token)
            section = survey_structure(link.survey).sections[0]
            responses.save_section(link, section, _rows(section, colour="red", agree="agree"), "en")

    assert _submit_together(app, [tokens_[0]] * 4).count(True) == 1
    assert _submit_together(app, tokens_[1:]) == [True] * 5  # the same totals rows, in one order

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)
                                 .where(Invitation.status == InvitationStatus.COMPLETED.value)) == 6
        counted = db.session.scalar(select(func.sum(ResponseTotal.responses)))
        colours = db.session.scalar(select(AnswerTotal.answers).where(AnswerTotal.option_code == "red"))
        assert (counted, colours) == (6, 6)
        assert_totals_match_a_rebuild(survey_id)


def test_a_later_save_replaces_only_its_section_and_never_a_submitted_one(ctx, survey_id, make_invitation):
    token = make_invitation(survey_id)
    link = responses.find_link("s", token)
    first, second = survey_structure(link.survey).sections[:2]
    responses.save_section(link, first, _rows(first, colour="red", agree="agree"), "en")
    other = AnswerRow(second.questions[0].id, item_code="mail", option_code="daily")
    responses.save_section(responses.find_link("s", token), second, [other], "en")
    again = responses.find_link("s", token)
    responses.save_section(again, first, _rows(first, colour="red", agree="disagree"), "en")

    stored = db.session.execute(select(Answer.question_id, Answer.option_code, Answer.text)
                                .order_by(Answer.id)).all()
    by_code = {q.code: q.id for q in first.questions}
    assert sorted(tuple(row) for row in stored) == sorted([
        (other.question_id, "daily", None), (by_code["colour"], "red", None), (by_code["agree"], "disagree", None)])
    assert db.session.scalar(select(Response.last_section)) == 2

    assert responses.submit_response(responses.find_link("s", token, with_answers=True))
    with pytest.raises(responses.AlreadySubmitted):
        responses.save_section(again, first, _rows(first, colour="blue"), "en")  # a tab left open
    assert db.session.scalar(select(func.count()).select_from(Answer).where(Answer.option_code == "blue")) == 0
