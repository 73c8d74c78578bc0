"""Background jobs (Huey). Jobs take ids, never ORM objects, and run inside an app context."""
from __future__ import annotations

import logging

from huey import crontab

from .extensions import huey

log = logging.getLogger(__name__)


def _app():
    if huey.app is None:  # pragma: no cover - the worker entry point binds it
        raise RuntimeError("huey is not bound to an app; start the worker with survey_app.worker.huey")
    return huey.app


@huey.task()
def send_batch(batch_id: int) -> int:
    """Send a batch's due messages; reschedule itself for retries that are due later."""
    from .services import invitations

    with _app().app_context():
        run = invitations.process_batch(batch_id)
    if run.next_due is not None:
        send_batch.schedule(args=(batch_id,), eta=run.next_due)
    return run.handled


@huey.task()
def alert_failed_sign_ins(account: str, failures: int) -> None:
    """Find the staff account behind a sign-in alert (if any), note it, then queue its e-mail."""
    from .services import sign_in_alerts

    with _app().app_context():
        user_id = sign_in_alerts.record_alert(account, failures)
    if user_id is not None:
        send_sign_in_alert(user_id, failures)


@huey.task(retries=3, retry_delay=60)
def send_sign_in_alert(user_id: int, failures: int) -> None:
    """E-mail the account holder; a temporary mail failure raises, so Huey tries again later."""
    from .services import sign_in_alerts

    with _app().app_context():
        sign_in_alerts.send_alert(user_id, failures)


@huey.periodic_task(crontab(minute="*"))
def sweep_deliveries() -> None:
    """Every minute: recover stale claims, queue scheduled reminders, wake batches with work due."""
    from .services import invitations

    with _app().app_context():
        batch_ids = invitations.sweep()
    for batch_id in batch_ids:
        send_batch(batch_id)


@huey.periodic_task(crontab(minute="*"))
def expire_import_uploads() -> None:
    """Every minute: delete uploaded import files a day old, so abandoned ones never linger."""
    from .services import participants

    with _app().app_context():
        participants.expire_uploads()


@huey.on_startup()
def resume_after_restart() -> None:
    """On worker start, pick up whatever a stopped worker left behind, so nothing is lost."""
    from .services import invitations

    try:
        with _app().app_context():
            invitations.recover_stale()
            batch_ids = invitations.pending_batch_ids(due_only=False)
    except Exception:  # a database outage must not stop the consumer from starting
        log.exception("could not resume pending batches at start-up")
        return
    for batch_id in batch_ids:
        send_batch(batch_id)
