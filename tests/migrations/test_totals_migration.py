"""The running-totals migration counts the responses already complete, and goes back down cleanly."""
from __future__ import annotations

import random

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import insert, inspect

from survey_app.dev.generate import Answerer
from survey_app.extensions import db
from survey_app.models import Answer
from survey_app.models.base import utcnow
from survey_app.services import surveys as survey_service
from survey_app.services import totals
from tests.conftest import LEGACY_SURVEY, make_app
from tests.migrations.tables import insert_response_then
from tests.results.test_totals import snapshot

BEFORE_TOTALS = "ab8e1a7ae4ce"


def _check_fill(database_url: str, tmp_path) -> None:
    app = make_app(database_url, tmp_path)
    with app.app_context():
        upgrade(revision=BEFORE_TOTALS)
        survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
        answerer = Answerer(survey, random.Random(3))  # nosec B311 - test data
        for n in range(40):
            complete = n % 4 != 0
            response_id = insert_response_then(
                survey_id=survey.id, status="complete" if complete else "partial", country=["KE", "EG", None][n % 3],
                cohort=[2010, None][n % 2], language=["en", "ar"][n % 2], submitted_at=utcnow() if complete else None)
            db.session.execute(insert(Answer), [
                {"response_id": r, "question_id": q, "item_code": i, "option_code": o, "number": n, "text": t}
                for r, q, i, o, n, t in answerer.answers(response_id, "KE", 2010, "en")])
        db.session.commit()
        survey_id = survey.id
        db.session.remove()
        upgrade()
        filled = snapshot(survey_id)
        assert sum(row[3] for row in filled[0]) == 30
        totals.rebuild(survey_id)
        assert snapshot(survey_id) == filled
        db.session.rollback()
        db.session.remove()  # no open transaction may hold locks while tables are dropped
        downgrade(revision=BEFORE_TOTALS)
        assert not {"response_totals", "answer_totals"} & set(inspect(db.engine).get_table_names())
        assert "ix_answers_quote_approved" not in {i["name"] for i in inspect(db.engine).get_indexes("answers")}
        db.session.remove()
        db.engine.dispose()


def test_totals_migration_fills_from_complete_responses_on_sqlite(tmp_path):
    _check_fill(f"sqlite:///{tmp_path / 'fill.db'}", tmp_path)


@pytest.mark.postgres
def test_totals_migration_fills_from_complete_responses_on_postgres(tmp_path, pg_database_factory):
    _check_fill(pg_database_factory(), tmp_path)
