"""The test-response migration keeps every response and answer, marks none a test, and goes back down cleanly."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, insert, select

from survey_app.extensions import db
from survey_app.models import Answer, Response
from survey_app.services import surveys as survey_service
from tests.conftest import LEGACY_SURVEY, make_app
from tests.migrations.tables import insert_response_then

BEFORE_TESTS = "e5b8c2f71a3d"


def _check(database_url: str, tmp_path) -> None:
    app = make_app(database_url, tmp_path)
    with app.app_context():
        upgrade(revision=BEFORE_TESTS)
        survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
        question_id = survey.questions[0].id
        ids = [insert_response_then(survey_id=survey.id, status=status) for status in ("complete", "partial")]
        db.session.execute(insert(Answer), [{"response_id": r, "question_id": question_id, "item_code": "",
                                             "option_code": "", "text": "kept", "quote_approved": False} for r in ids])
        db.session.commit()
        db.session.remove()
        upgrade()
        # On SQLite a table copy would have dropped the answers through their cascade: none may go.
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 2
        assert db.session.execute(select(Response.id, Response.is_test).order_by(Response.id)).all() == [
            (ids[0], False), (ids[1], False)]
        db.session.remove()
        downgrade(revision=BEFORE_TESTS)
        assert "is_test" not in {c["name"] for c in inspect(db.engine).get_columns("responses")}
        assert "ix_responses_survey_status_channel" in {i["name"] for i in inspect(db.engine).get_indexes("responses")}
        assert db.session.scalar(select(func.count()).select_from(Answer)) == 2
        db.session.remove()
        db.engine.dispose()


def test_test_responses_migration_on_sqlite(tmp_path):
    _check(f"sqlite:///{tmp_path / 'tests.db'}", tmp_path)


@pytest.mark.postgres
def test_test_responses_migration_on_postgres(tmp_path, pg_database_factory):
    _check(pg_database_factory(), tmp_path)
