"""The open-link address hash is cleared by `flask privacy erase-expired`: after 30 days, or when retention runs."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from survey_app.extensions import db
from survey_app.models import Response, Survey
from survey_app.models.base import utcnow
from tests.conftest import ALL_TYPES_SURVEY, csrf_from


def _start(app, slug: str, address: str) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get(f"/survey/{slug}")
    assert client.post(f"/survey/{slug}", data={"csrf_token": csrf_from(page.data)}).status_code == 302


def _hashes(app) -> dict[int, str | None]:
    with app.app_context():
        return dict(db.session.execute(select(Response.id, Response.client_hash).order_by(Response.id)).all())


def test_hashes_go_thirty_days_after_submission_without_retention(app, runner, make_survey):
    survey_id = make_survey()  # no retention setting: kept until erased by hand, but not the hashes
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        _start(app, "legacy-projects", address)
    old, submitted_old, recent = sorted(_hashes(app))
    with app.app_context():
        now = utcnow()
        db.session.execute(update(Response).where(Response.id == old).values(started_at=now - timedelta(days=31)))
        # Started long ago but submitted 29 days ago: the 30 days count from submission.
        db.session.execute(update(Response).where(Response.id == submitted_old).values(
            started_at=now - timedelta(days=90), submitted_at=now - timedelta(days=29), status="complete"))
        db.session.commit()
        assert db.session.get(Survey, survey_id).retention_days is None
    dry = runner.invoke(args=["privacy", "erase-expired", "--dry-run"])
    assert dry.exit_code == 0 and "open-link responses: would erase the address hash of 1" in dry.output
    assert all(_hashes(app).values())
    real = runner.invoke(args=["privacy", "erase-expired"])
    assert real.exit_code == 0 and "open-link responses: erased the address hash of 1" in real.output
    hashes = _hashes(app)
    assert hashes[old] is None and hashes[submitted_old] and hashes[recent]
    assert runner.invoke(args=["privacy", "erase-expired"]).output.strip() == "nothing to erase"


def test_hashes_go_when_the_survey_retention_runs(app, runner, make_survey):
    kept = make_survey(ALL_TYPES_SURVEY)
    expiring = make_survey(retention_days=7)
    _start(app, "legacy-projects", "192.0.2.7")
    _start(app, "all-types", "192.0.2.7")
    with app.app_context():
        db.session.get(Survey, expiring).closes_at = utcnow() - timedelta(days=8)
        db.session.execute(update(Response).values(updated_at=utcnow() - timedelta(days=9)))
        db.session.commit()
    result = runner.invoke(args=["privacy", "erase-expired"])
    assert result.exit_code == 0 and "legacy-projects: erased" in result.output
    assert "the address hash of 1" in result.output
    with app.app_context():
        left = dict(db.session.execute(select(Response.survey_id, Response.client_hash)).all())
    assert left[expiring] is None and left[kept] is not None
