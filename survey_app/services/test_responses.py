"""Staff previews: test responses walked through the respondent pages, never counted, deleted on request.

A preview is a response flagged is_test, started from the staff preview page and answered through
the same pages, question types and saves as an open-link response (its resume link, /r/<token>).
Only the preview entry marks a response as a test: a staff member who answers through the open
link or a personal link, signed in or not, gives a real response, since nothing else can tell a
colleague trying the survey from a fellow who is also on the staff. Every count leaves tests out:
the running totals (services/totals.py), the results (services/results/disclosure.py
complete_condition), the overview counts, the exports, the report and the fellows' statuses (a
test has no invitation).
"""
from __future__ import annotations

from sqlalchemy import delete, func, select, update

from ..extensions import db
from ..models import Answer, Response, ResponseChannel, StaffUser, Survey
from . import audit, tokens
from .statements import rows_changed


def start_test_response(survey: Survey, language: str, actor: StaffUser | None) -> str:
    """Create a staff test response in this language and return its resume token. Commit.

    It has no invitation, no address hash, no country or cohort: nothing that could reach a
    fellow's status or a count. Required questions may be skipped in it (respond/preview.py).
    """
    token = tokens.new_resume_token()
    db.session.add(Response(survey_id=survey.id, resume_token_hash=tokens.hash_token(token), language=language,
                            channel=ResponseChannel.PREVIEW.value, is_test=True))
    audit.record("test_response.started", survey.id, actor, language=language)
    db.session.commit()
    return token


def set_language(response_id: int, language: str) -> None:
    """Switch a test response to another language (the preview's language switcher). Commit."""
    db.session.execute(update(Response).where(Response.id == response_id, Response.is_test.is_(True))
                       .values(language=language).execution_options(synchronize_session=False))
    db.session.commit()


def count_test_responses(survey_id: int) -> int:
    """How many test responses a survey holds, complete or not."""
    return int(db.session.execute(
        select(func.count(Response.id)).where(Response.survey_id == survey_id, Response.is_test.is_(True))
    ).scalar_one())


def delete_test_responses(survey: Survey, actor: StaffUser | None) -> int:
    """Delete every test response of a survey with its answers, and only those; return how many. Commit.

    Tests never entered the running totals, so nothing is subtracted from them.
    """
    tests = select(Response.id).where(Response.survey_id == survey.id, Response.is_test.is_(True))
    db.session.execute(delete(Answer).where(Answer.response_id.in_(tests)).execution_options(
        synchronize_session=False))
    deleted = rows_changed(delete(Response).where(Response.survey_id == survey.id, Response.is_test.is_(True))
                           .execution_options(synchronize_session=False))
    audit.record("test_responses.deleted", survey.id, actor, responses=deleted)
    db.session.commit()
    return deleted
