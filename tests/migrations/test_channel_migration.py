"""The channel migration tells open-link from personal responses already stored, and goes back down cleanly."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from survey_app.extensions import db
from survey_app.models import Invitation, Participant, Response
from survey_app.services import surveys as survey_service
from survey_app.services import tokens
from tests.conftest import LEGACY_SURVEY, make_app
from tests.migrations.tables import insert_response_then

BEFORE_CHANNEL = "c3f1d2a94b7e"


def _check_channels(database_url: str, tmp_path) -> None:
    app = make_app(database_url, tmp_path)
    with app.app_context():
        upgrade(revision=BEFORE_CHANNEL)
        survey = survey_service.load_survey_file(LEGACY_SURVEY).survey
        participant = Participant(survey_id=survey.id, name="P", email="p@example.org", attributes={})
        seed = tokens.new_seed()
        participant.invitation = Invitation(survey_id=survey.id, token_seed=seed,
                                            token_hash=tokens.hash_token(tokens.token_from_seed(seed)))
        db.session.add(participant)
        db.session.flush()
        personal = insert_response_then(survey_id=survey.id, invitation_id=participant.invitation.id)
        open_link = insert_response_then(survey_id=survey.id, resume_token_hash="a" * 64, status="complete")
        untold = insert_response_then(survey_id=survey.id, status="complete")  # anonymous once submitted
        db.session.commit()
        db.session.remove()
        upgrade()
        channels = dict(db.session.execute(select(Response.id, Response.channel)).all())
        assert channels == {personal: "personal", open_link: "open", untold: "unknown"}
        assert db.session.execute(select(Response.client_hash)).scalars().all() == [None, None, None]
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("responses")}
        assert {"ix_responses_client_hash", "ix_responses_survey_status_test_channel"} <= indexes  # is_test joined later
        db.session.remove()
        downgrade(revision=BEFORE_CHANNEL)
        columns = {c["name"] for c in inspect(db.engine).get_columns("responses")}
        assert not {"channel", "client_hash"} & columns
        assert "ix_responses_client_hash" not in {i["name"] for i in inspect(db.engine).get_indexes("responses")}
        db.session.remove()
        db.engine.dispose()


def test_channel_migration_on_sqlite(tmp_path):
    _check_channels(f"sqlite:///{tmp_path / 'channel.db'}", tmp_path)


@pytest.mark.postgres
def test_channel_migration_on_postgres(tmp_path, pg_database_factory):
    _check_channels(pg_database_factory(), tmp_path)
