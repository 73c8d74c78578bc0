"""Real Huey worker processes: killed mid-batch and restarted, and two workers sharing Redis."""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Delivery, Participant, Survey
from survey_app.services import invitations as invitation_service
from survey_app.services import participants as participant_service
from survey_app.services import surveys as survey_service
from tests.conftest import LEGACY_SURVEY, REDIS_TEST_URL, make_app, postgres_available, redis_available, service_missing

from .conftest import fellows_csv
from .workers import start_worker, stop_worker, worker_env


def _wait_until(predicate, limit: float, what: str, procs=()) -> None:
    """Bounded wait for the workers to reach a state (a safety net, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not predicate():
        for proc in procs:
            assert proc.poll() is None, f"worker exited with {proc.returncode}"
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


def _active(app) -> int:
    with app.app_context():
        count = db.session.execute(select(func.count(Delivery.id))
                                   .where(Delivery.state.in_(invitation_service.ACTIVE_STATES))).scalar_one()
        db.session.remove()
        return count


def _restart_and_collect(app, smtp, log: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Start a fresh worker (stale claims recovered at once), let it finish; return ledger states and arrivals."""
    second = start_worker(worker_env(app, smtp, MAIL_CLAIM_LEASE_SECONDS="0"), log)
    try:
        _wait_until(lambda: _active(app) == 0, 120, "the batch to finish after the restart", [second])
    finally:
        stop_worker(second)
    with app.app_context():
        states = dict(db.session.execute(select(Participant.email, Delivery.state).join(Delivery)).all())
    return states, smtp.handler.per_recipient()


@pytest.mark.slow
def test_a_worker_killed_mid_batch_and_restarted_loses_and_duplicates_nothing(app, smtp, survey_id, import_fellows,
                                                                               tmp_path):
    import_fellows(80)
    with app.app_context():
        batch = invitation_service.create_batch(db.session.get(Survey, survey_id), "invitation")
        assert batch.total == 80
    log = tmp_path / "worker.log"
    # Slowed to 20 messages a second so the kill lands mid-batch; the restart runs flat out. With a
    # rate cap the worker marks one message at a time in flight, so at most one can be uncertain.
    first = start_worker(worker_env(app, smtp, MAIL_MAX_PER_MINUTE="1200"), log)
    try:
        _wait_until(lambda: len(smtp.handler.received) >= 10, 60, "the first messages", [first])
    finally:
        first.kill()
        first.wait()
    sent_before_kill = len(smtp.handler.received)
    assert sent_before_kill < 80, "the worker finished before it could be killed"

    states, received = _restart_and_collect(app, smtp, log)
    uncertain = [email for email, state in states.items() if state == "uncertain"]
    assert len(states) == 80 and set(states.values()) <= {"sent", "uncertain"}
    assert len(uncertain) <= 1  # at most the one message in flight when the worker died (paced: groups of one)
    for email, state in states.items():
        if state == "sent":
            assert received[email] == 1, (email, received[email])
        else:
            assert received[email] <= 1
    assert max(received.values()) == 1


@pytest.mark.slow
def test_a_worker_killed_after_the_server_accepted_unrecorded_messages_leaves_them_uncertain_not_resent(
        app, smtp, survey_id, import_fellows, tmp_path):
    import_fellows(80)
    with app.app_context():
        batch = invitation_service.create_batch(db.session.get(Survey, survey_id), "invitation")
        assert batch.total == 80
    # No rate cap: messages go in flight MAIL_SEND_GROUP at a time. The server accepts the first
    # group and part of the second, then takes one more message's data and does not answer:
    # the worker is killed there, with accepted messages of the second group not yet recorded.
    group = app.config["MAIL_SEND_GROUP"]
    held = group + 6
    smtp.handler.hold_from = held
    log = tmp_path / "worker.log"
    first = start_worker(worker_env(app, smtp, MAIL_SEND_GROUP=str(group)), log)
    try:
        _wait_until(lambda: len(smtp.handler.received) >= held, 60, "the held message", [first])
    finally:
        first.kill()
        first.wait()
        smtp.handler.hold_from = None
        smtp.handler.release.set()
    before_kill = [item.recipients[0] for item in smtp.handler.received]
    assert len(before_kill) == held

    states, received = _restart_and_collect(app, smtp, log)
    assert len(states) == 80 and set(states.values()) <= {"sent", "uncertain"}
    assert max(received.values()) == 1
    uncertain = {email for email, state in states.items() if state == "uncertain"}
    assert 0 < len(uncertain) <= group  # the group in flight when killed
    # Accepted by the server but not yet in the ledger when the worker died: uncertain, not resent.
    accepted_unrecorded = [email for email in before_kill if states[email] == "uncertain"]
    assert len(accepted_unrecorded) >= held - group - 1
    assert all(received[email] == 1 for email in accepted_unrecorded)
    assert all(received[email] == 1 for email, state in states.items() if state == "sent")


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_two_workers_on_redis_deliver_1000_invitations_exactly_once(smtp, pg_database_factory, tmp_path):
    for reason in (redis_available(), postgres_available()):
        if reason:
            service_missing(reason)
    database_url = pg_database_factory()
    app = make_app(database_url, tmp_path, REDIS_URL=REDIS_TEST_URL, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                   MAIL_SEND_TASKS=2, MAIL_DEFAULT_SENDER="ITP Surveys <itp-surveys@museum.example>")
    with app.app_context():
        db.create_all()
        from survey_app.extensions import huey

        huey.storage.flush_all()  # only this app's queue keys, not the whole Redis database
        survey = survey_service.apply_definition(
            survey_service.parse_definition(survey_service.read_definition(LEGACY_SURVEY))).survey
        participant_service.import_file(survey, fellows_csv(1000))
        survey_id = survey.id
    log = tmp_path / "workers.log"
    env = worker_env(app, smtp, REDIS_URL=REDIS_TEST_URL)
    workers = [start_worker(env, log) for _ in range(2)]
    try:
        with app.app_context():
            batch = invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
            assert batch.total == 1000
        _wait_until(lambda: _active(app) == 0, 300, "1,000 invitations", workers)
    finally:
        for worker in workers:
            stop_worker(worker)
        with app.app_context():
            huey.storage.flush_all()
            db.session.remove()
            db.engine.dispose()
    received = smtp.handler.per_recipient()
    assert len(received) == 1000 and set(received.values()) == {1}
    assert Counter(r.recipients[0] for r in smtp.handler.received) == received
