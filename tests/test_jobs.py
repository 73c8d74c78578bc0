"""Jobs a service asks for reach the queue only when its transaction commits (survey_app/jobs.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from survey_app import jobs
from survey_app.extensions import db, huey
from survey_app.models import Delivery, Survey
from survey_app.services import invitations as invitation_service
from tests.invitations.conftest import fellows_csv


def _queued() -> list[tuple[str, tuple]]:
    return [(task.name, task.args) for task in huey.pending()]


def test_a_job_is_queued_when_its_transaction_commits_and_not_before(app):
    with app.app_context():
        jobs.after_commit("send_batch", 7)
        assert _queued() == []
        db.session.commit()
        assert _queued() == [("send_batch", (7,))]


def test_a_job_is_not_queued_when_its_transaction_rolls_back(app):
    with app.app_context():
        jobs.after_commit("send_batch", 7)
        db.session.rollback()
        db.session.commit()  # a later transaction commits: the dropped job stays dropped
        assert _queued() == []
        jobs.after_commit("send_batch", 8)
        db.session.close()  # a request's end without a commit (Flask-SQLAlchemy's teardown)
        db.session.commit()
        assert _queued() == []


def test_a_job_asked_for_in_a_savepoint_waits_for_the_outer_commit_or_goes_with_the_savepoint(app):
    with app.app_context():
        with db.session.begin_nested():
            jobs.after_commit("send_batch", 1)
        savepoint = db.session.begin_nested()
        jobs.after_commit("send_batch", 2)
        savepoint.rollback()
        assert _queued() == []  # the savepoint's release is not the commit
        db.session.commit()
        assert _queued() == [("send_batch", (1,))]


def test_an_unknown_task_is_refused_when_asked_for(app):
    with app.app_context(), pytest.raises(LookupError):
        jobs.after_commit("send_everything", 1)


def test_a_batch_whose_commit_fails_wakes_no_worker_and_queues_no_message(app, make_survey):
    survey_id = make_survey()
    app.config["MAIL_SEND_TASKS"] = 2
    with app.app_context():
        from survey_app.services import participants as participant_service

        participant_service.import_file(db.session.get(Survey, survey_id), fellows_csv(3))

        def commit_fails(session) -> None:
            raise RuntimeError("the database went away")

        event.listen(db.session, "before_commit", commit_fails)
        try:
            with pytest.raises(RuntimeError):
                invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
        finally:
            event.remove(db.session, "before_commit", commit_fails)
        db.session.rollback()  # as the request's error handler does
        db.session.commit()
        assert _queued() == []
        assert db.session.scalar(select(func.count(Delivery.id))) == 0
        # The same batch once the database answers again: committed, then the workers are woken.
        batch = invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
        assert batch is not None and batch.total == 3
        assert _queued() == [("send_batch", (batch.id,))] * 2
