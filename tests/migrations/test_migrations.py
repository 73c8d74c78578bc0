"""Migrations upgrade an empty SQLite and an empty PostgreSQL database to exactly the models' schema."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from survey_app.extensions import db
from tests.conftest import make_app


def _upgrade_and_compare(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"surveys", "questions", "options", "participants", "invitations", "deliveries", "responses",
                "answers", "staff_users", "staff_sessions", "audit_events"} <= tables
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
    with app.app_context():
        db.engine.dispose()


def test_migrations_build_the_models_schema_on_sqlite(tmp_path):
    _upgrade_and_compare(f"sqlite:///{tmp_path / 'migrate.db'}", tmp_path)


@pytest.mark.postgres
def test_migrations_build_the_models_schema_on_postgres(tmp_path, pg_database_factory):
    _upgrade_and_compare(pg_database_factory(), tmp_path)


def test_one_response_per_invitation_is_enforced_by_the_database(ctx, make_survey, make_invitation):
    from sqlalchemy.exc import IntegrityError

    from survey_app.models import Invitation, Response

    survey_id = make_survey()
    make_invitation(survey_id)
    invitation = db.session.query(Invitation).one()
    db.session.add(Response(survey_id=survey_id, invitation_id=invitation.id))
    db.session.commit()
    db.session.add(Response(survey_id=survey_id, invitation_id=invitation.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
