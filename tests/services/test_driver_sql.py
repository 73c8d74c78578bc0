"""Statements run on the driver's cursor behave as through the session: types, errors, transactions.

Each test runs twice: on the session's connection (services called from staff code, scripts and
tests) and on a respondent request's own autocommit connection (respond/views.py).
"""
from __future__ import annotations

import contextlib
import fcntl
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from survey_app.extensions import db
from survey_app.models import Answer, AnswerTotal, Invitation, InvitationStatus, Response, ResponseTotal, Survey
from survey_app.services import driver_sql, responses
from survey_app.services.driver_sql import insert_rows
from survey_app.services.structure import survey_structure
from tests.conftest import ALL_TYPES_SURVEY, csrf_from
from tests.totals_check import assert_totals_match_a_rebuild


@pytest.fixture
def survey_id(make_survey) -> int:
    return make_survey(ALL_TYPES_SURVEY)


@pytest.fixture(params=["session", "respondent connection"])
def db_context(request, app):
    """An app context whose respondent statements run on the session, or on their own connection."""
    @contextlib.contextmanager
    def enter():
        if request.param == "session":
            with app.app_context():
                yield
        else:
            with app.test_request_context():
                driver_sql.use_respondent_connection()
                yield
    return enter


def _rows(section, **codes: str) -> list[responses.AnswerRow]:
    by_code = {q.code: q for q in section.questions}
    return [responses.AnswerRow(by_code[code].id, option_code=option) for code, option in codes.items()]


def test_the_first_save_that_loses_a_race_uses_the_winners_response(db_context, survey_id, make_invitation):
    """Two tabs' first saves: the second INSERT hits the unique invitation and falls back, losing nothing."""
    token = make_invitation(survey_id)
    with db_context():
        stale = responses.find_link("s", token)  # the second tab read the link before any response existed
        assert stale.response is None
        section = survey_structure(stale.survey).sections[0]
        winner = responses.save_section(responses.find_link("s", token), section, _rows(section, colour="red"), "en")
        loser = responses.save_section(stale, section, _rows(section, colour="blue", agree="agree"), "en")

        assert loser.id == winner.id
        assert db.session.scalar(select(func.count()).select_from(Response)) == 1
        stored = db.session.execute(select(Answer.option_code).order_by(Answer.option_code)).scalars().all()
        assert stored == ["agree", "blue"]  # the later save replaced the section, as a resave does


def test_values_come_back_typed_as_through_the_orm(db_context, survey_id, make_invitation):
    """Datetimes are timezone-aware and flags are booleans on SQLite as on PostgreSQL."""
    token = make_invitation(survey_id)
    with db_context():
        link = responses.find_link("s", token)
        section = survey_structure(link.survey).sections[0]
        responses.save_section(link, section, _rows(section, colour="red"), "en")
        link = responses.find_link("s", token, with_answers=True)
        assert link.survey.anonymous is False
        assert link.survey.created_at.tzinfo is not None
        assert link.response.started_at.tzinfo is not None
        assert link.response.started_at == db.session.scalar(select(Response.started_at))
        assert [a.option_code for answers in link.answers.values() for a in answers] == ["red"]


def test_driver_errors_are_sqlalchemy_errors_that_hide_the_values(db_context, survey_id, make_invitation):
    """A constraint failure is an IntegrityError whose message carries no answer text into a log."""
    token = make_invitation(survey_id)
    with db_context():
        link = responses.find_link("s", token)
        section = survey_structure(link.survey).sections[0]
        response = responses.save_section(link, section, [], "en")
        question = section.questions[0].id
        row = (response.id, question, "", "", None, "a private answer", False)
        columns = ("response_id", "question_id", "item_code", "option_code", "number", "text", "quote_approved")
        with pytest.raises(IntegrityError) as caught:
            insert_rows(Answer.__table__, columns, [row, row])
        assert "a private answer" not in str(caught.value)
        driver_sql.rollback()
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 0  # the statement wrote nothing
        with pytest.raises(KeyError):
            insert_rows(Answer.__table__, ("response_id", "no_such_column"), [(response.id, 1)])


def test_a_first_save_writes_response_invitation_and_answers_in_order(db_context, survey_id, make_invitation):
    """One statement on PostgreSQL, three on SQLite: the same rows either way, answers in the order given."""
    token = make_invitation(survey_id, country="KE", cohort=2015)
    with db_context():
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
        # Read back with the link (one query on PostgreSQL): grouped by question, in the order stored.
        read = responses.find_link("s", token, with_answers=True).answers
        assert {question: [tuple(answer) for answer in answers] for question, answers in read.items()} == {
            q[1]: [(q[1], "", "mango", None, None), (q[1], "", "apple", None, None)],
            q[0]: [(q[0], "", "other", None, None), (q[0], "", "", None, "Teal\nand more")],
            q[2]: [(q[2], "row", "agree", 3, None)]}
        assert list(read) == [q[1], q[0], q[2]]
        assert responses.find_link("s", make_invitation(survey_id), with_answers=True).answers == {}


@pytest.mark.parametrize("app_overrides", [{"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 0}}])
def test_a_respondent_request_gives_its_connection_back_transactional(app, client, survey_id, make_invitation):
    """Autocommit ends with the request: every connection in the pool afterwards is transactional again."""
    token = make_invitation(survey_id)
    assert client.get(f"/s/{token}/1").status_code == 200
    with app.app_context():
        title = db.session.scalar(select(Survey.title).where(Survey.id == survey_id))
        db.session.remove()
        pooled = [db.engine.raw_connection() for _ in range(2)]  # the whole pool
        try:
            for connection in pooled:
                driver = connection.driver_connection
                if db.engine.dialect.name == "sqlite":
                    assert driver.isolation_level is not None and not driver.in_transaction
                else:
                    assert driver.autocommit is False
        finally:
            for connection in pooled:
                connection.close()
        # And a staff change on them still rolls back.
        db.session.execute(update(Survey).where(Survey.id == survey_id).values(title={"en": "Changed"}))
        db.session.rollback()
        assert db.session.scalar(select(Survey.title).where(Survey.id == survey_id)) == title


def _queue_is_free(app) -> bool:
    """Whether another process could take the SQLite writers' queue right now."""
    with app.app_context():
        path = db.engine.url.database + "-writers.lock"
    with open(path, "a+b") as other:  # a second open file: flock sees it as another holder
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


def test_sqlite_respondent_writers_queue_and_always_leave_the_queue(app, client, survey_id, make_invitation):
    """The writers' queue is held for a write transaction only, and let go on commit, rollback or error."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the writers' queue orders SQLite writers only")
    token = make_invitation(survey_id)
    page = client.get(f"/s/{token}/1")
    saved = client.post(f"/s/{token}/1", data={"csrf_token": csrf_from(page.data), "colour": "red", "fruits": ["apple"], "agree": "agree"})
    assert saved.status_code == 302
    assert _queue_is_free(app)

    with app.test_request_context():
        driver_sql.use_respondent_connection()
        driver_sql.begin()
        assert not _queue_is_free(app)  # held while the transaction is open
        driver_sql.rollback()
        assert _queue_is_free(app)
        driver_sql.begin()
        # A request that fails mid-transaction: the teardown rolls back and leaves the queue.
    assert _queue_is_free(app)


def _submit_together(app, tokens_: list[str]) -> list[bool]:
    """Submit these links at the same moment, each thread a respondent request with its own connection."""
    start = threading.Barrier(len(tokens_))

    def submit(token: str) -> bool:
        with app.test_request_context():
            driver_sql.use_respondent_connection()
            link = responses.find_link("s", token, with_answers=True)
            start.wait()
            return responses.submit_response(link)

    with ThreadPoolExecutor(len(tokens_)) as pool:
        return list(pool.map(submit, tokens_))


def test_simultaneous_submits_count_each_response_once_without_deadlock(app, survey_id, make_invitation):
    """Double clicks on one response, and fellows of one country at once: one win each, totals exact."""
    tokens_ = [make_invitation(survey_id, country="KE") for _ in range(6)]
    with app.test_request_context():
        driver_sql.use_respondent_connection()
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


def test_a_later_save_replaces_only_its_section_and_never_a_submitted_one(db_context, survey_id, make_invitation):
    """One statement on PostgreSQL: the same answers kept (a repeated unique key), others replaced."""
    token = make_invitation(survey_id)
    with db_context():
        link = responses.find_link("s", token)
        first, second = survey_structure(link.survey).sections[:2]
        responses.save_section(link, first, _rows(first, colour="red", agree="agree"), "en")
        other = responses.AnswerRow(second.questions[0].id, item_code="mail", option_code="daily")
        responses.save_section(responses.find_link("s", token), second, [other], "en")
        again = responses.find_link("s", token)
        responses.save_section(again, first, _rows(first, colour="red", agree="disagree"), "en")

        stored = db.session.execute(select(Answer.question_id, Answer.option_code, Answer.text)
                                    .order_by(Answer.id)).all()
        by_code = {q.code: q.id for q in first.questions}
        assert [tuple(row) for row in stored] == [(other.question_id, "daily", None), (by_code["colour"], "red", None),
                                                  (by_code["agree"], "disagree", None)]
        assert db.session.scalar(select(Response.last_section)) == 2

        assert responses.submit_response(responses.find_link("s", token, with_answers=True))
        with pytest.raises(responses.AlreadySubmitted):
            responses.save_section(again, first, _rows(first, colour="blue"), "en")  # a tab left open
        assert db.session.scalar(select(func.count()).select_from(Answer).where(Answer.option_code == "blue")) == 0
