"""flask privacy erase-expired / export-participant / erase-participant."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Participant, Survey
from survey_app.models.base import utcnow


def test_export_and_erase_participant(app, runner, tmp_path, make_survey, make_invitation):
    survey_id = make_survey()
    make_invitation(survey_id, name="Kofi Annan", email="kofi@example.org")
    out = tmp_path / "kofi.json"
    result = runner.invoke(args=["privacy", "export-participant", "legacy-projects", "KOFI@example.org",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["participant"]["name"] == "Kofi Annan"
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    refused = runner.invoke(args=["privacy", "erase-participant", "legacy-projects", "kofi@example.org"], input="n\n")
    assert refused.exit_code != 0
    with app.app_context():
        assert db.session.execute(select(Participant)).scalar_one()
    result = runner.invoke(args=["privacy", "erase-participant", "legacy-projects", "kofi@example.org", "--yes"])
    assert result.exit_code == 0 and "erased participant" in result.output
    with app.app_context():
        assert db.session.execute(select(Participant)).first() is None
        events = db.session.execute(select(AuditEvent.action, AuditEvent.actor_email)).all()
        assert events == [("participant.exported", "cli"), ("participant.erased", "cli")]
    missing = runner.invoke(args=["privacy", "erase-participant", "legacy-projects", "kofi@example.org", "--yes"])
    assert missing.exit_code != 0 and "no participant" in missing.output


def test_erase_expired_dry_run_changes_nothing(app, runner, make_survey, make_invitation):
    survey_id = make_survey(retention_days=7)
    make_invitation(survey_id)
    with app.app_context():
        db.session.get(Survey, survey_id).closes_at = utcnow() - timedelta(days=8)
        db.session.commit()
    dry = runner.invoke(args=["privacy", "erase-expired", "--dry-run"])
    assert dry.exit_code == 0 and "legacy-projects: would erase" in dry.output and "participants 1" in dry.output
    with app.app_context():
        assert db.session.execute(select(Participant)).scalar_one()
    real = runner.invoke(args=["privacy", "erase-expired"])
    assert "legacy-projects: erased" in real.output
    with app.app_context():
        assert db.session.execute(select(Participant)).first() is None
    assert runner.invoke(args=["privacy", "erase-expired"]).output.strip() == "nothing to erase"
