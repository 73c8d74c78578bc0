"""Background jobs (Huey). Jobs take ids, never ORM objects, and run inside an app context.

Services ask for the tasks in QUEUED_AFTER_COMMIT through survey_app/jobs.py, which queues them
once the transaction that asked commits; the periodic ones run on the worker's clock.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask
from huey import crontab

from .extensions import huey
from .services import invitations, participants, sign_in_alerts

log = logging.getLogger(__name__)


def _app() -> Flask:
    if huey.app is None:  # pragma: no cover - the worker entry point binds it
        raise RuntimeError("huey is not bound to an app; start the worker with survey_app.worker.huey")
    return huey.app


@huey.task()
def send_batch(batch_id: int) -> int:
    """Send a batch's due messages; reschedule itself for retries that are due later."""
    with _app().app_context():
        run = invitations.process_batch(batch_id)
    if run.next_due is not None:
        send_batch.schedule(args=(batch_id,), eta=run.next_due)
    return run.handled


@huey.task()
def alert_failed_sign_ins(account: str, failures: int) -> None:
    """Find the staff account behind a sign-in alert (if any) and note it; its e-mail follows as a job."""
    with _app().app_context():
        sign_in_alerts.record_alert(account, failures)


@huey.task(retries=3, retry_delay=60)
def send_sign_in_alert(user_id: int, failures: int) -> None:
    """E-mail the account holder; a temporary mail failure raises, so Huey tries again later."""
    with _app().app_context():
        sign_in_alerts.send_alert(user_id, failures)


@huey.task(retries=3, retry_delay=60)
def send_test_message(survey_id: int, user_id: int, kind: str, language: str, link: str) -> None:
    """E-mail a staff member the test they asked for; a temporary mail failure raises, so Huey tries again."""
    with _app().app_context():
        invitations.deliver_test(survey_id, user_id, kind, language, link)


# What survey_app.jobs.after_commit() may ask for, by name.
QUEUED_AFTER_COMMIT: dict[str, Callable[..., Any]] = {
    "send_batch": send_batch,
    "send_test_message": send_test_message,
    "alert_failed_sign_ins": alert_failed_sign_ins,
    "send_sign_in_alert": send_sign_in_alert,
}


@huey.periodic_task(crontab(minute="*"))
def sweep_deliveries() -> None:
    """Every minute: recover stale claims, queue scheduled reminders, wake batches with work due."""
    with _app().app_context():
        invitations.sweep()


@huey.periodic_task(crontab(minute="*"))
def expire_import_uploads() -> None:
    """Every minute: delete uploaded import files a day old, so abandoned ones never linger."""
    with _app().app_context():
        participants.expire_uploads()


@huey.on_startup()
def resume_after_restart() -> None:
    """On worker start, pick up whatever a stopped worker left behind, so nothing is lost."""
    try:
        with _app().app_context():
            invitations.resume_pending()
    except Exception:  # a database outage must not stop the consumer from starting
        log.exception("could not resume pending batches at start-up")
