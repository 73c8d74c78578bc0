"""Running totals checked against a rebuild from the answers: shared by the totals and race tests."""
from __future__ import annotations

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AnswerTotal, ResponseTotal
from survey_app.services import totals


def snapshot(survey_id: int) -> tuple[set, set]:
    """The survey's non-empty totals rows, comparable across a rebuild."""
    groups = set(db.session.execute(
        select(ResponseTotal.country, ResponseTotal.cohort, ResponseTotal.language, ResponseTotal.responses,
               ResponseTotal.first_submitted_at, ResponseTotal.last_submitted_at)
        .where(ResponseTotal.survey_id == survey_id, ResponseTotal.responses != 0)).all())
    cells = set(db.session.execute(
        select(AnswerTotal.question_id, AnswerTotal.item_code, AnswerTotal.option_code, AnswerTotal.number,
               AnswerTotal.category, AnswerTotal.country, AnswerTotal.answers, AnswerTotal.numbers,
               AnswerTotal.texts, AnswerTotal.respondents)
        .where(AnswerTotal.survey_id == survey_id,
               (AnswerTotal.answers != 0) | (AnswerTotal.respondents != 0))).all())
    return groups, cells


def assert_totals_match_a_rebuild(survey_id: int) -> None:
    kept = snapshot(survey_id)
    assert kept[1], "no totals at all"
    totals.rebuild(survey_id)
    assert snapshot(survey_id) == kept
    db.session.rollback()
