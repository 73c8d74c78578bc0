"""The worker's loop: claim a batch's due rows, hand each message to the transport, record what it said."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from ... import jobs
from ...extensions import db
from ...models import DeliveryKind, MailBatch, Survey
from ..mail import Transport, make_transport
from ..mail.messages import build_message
from ..mail.outbox import invitation_reference
from . import ledger
from .batches import run_scheduled_reminders
from .links import optout_link, personal_link
from .texts import renderer


@dataclass
class BatchRun:
    handled: int = 0
    next_due: datetime | None = None


def process_batch(batch_id: int, max_messages: int | None = None,
                  on_progress: Callable[[int], None] | None = None, transport: Transport | None = None) -> BatchRun:
    """Send the due messages of a batch until none is left (or max_messages were handled).

    Per group of MAIL_SEND_GROUP messages (one under a rate cap), one transaction records the
    previous group's outcomes and marks this group in flight; a worker killed mid-group leaves at
    most that many rows "sending" with a Message-ID, which recovery turns "uncertain" (never resent).
    transport defaults to the configured one (make_transport()); it is closed at the end.
    """
    run = BatchRun()
    batch = db.session.get(MailBatch, batch_id)
    if batch is None:
        return run
    survey = db.session.get_one(Survey, batch.survey_id)
    survey_id = survey.id
    renderers = {kind.value: renderer(survey, kind.value) for kind in DeliveryKind}
    config = current_app.config
    per_minute = int(config.get("MAIL_MAX_PER_MINUTE") or 0)
    interval = 60.0 / per_minute if per_minute > 0 else 0.0
    max_attempts = int(config.get("MAIL_MAX_ATTEMPTS") or 5)
    retry_base = float(config.get("MAIL_RETRY_BASE_SECONDS", 60))
    # Messages marked in flight together, the most a killed worker can leave "uncertain";
    # one when a rate cap paces sends anyway.
    group_size = 1 if per_minute > 0 else max(1, int(config["MAIL_SEND_GROUP"]))
    transport = transport or make_transport()
    claimed_at: datetime | None = None
    unrecorded: list[ledger.Attempt] = []  # answered by the transport, not yet in the ledger
    untried: dict[int, str] = {}  # in flight in the ledger, not yet handed to the transport
    last_sent = 0.0
    completed = False
    try:
        while max_messages is None or run.handled < max_messages:
            limit = ledger.sends_allowed(per_minute)
            if max_messages is not None:
                limit = min(limit, max_messages - run.handled)
            claimed_at, claimed, rows = ledger.claim(batch_id, limit)
            if not claimed:
                break
            for start in range(0, len(rows), group_size):
                group = rows[start:start + group_size]
                ledger.record_all(unrecorded, max_attempts, retry_base)
                in_flight, cancelled = ledger.start_group(group, claimed_at)
                db.session.commit()  # the Message-IDs are durable before any of them reaches the transport
                unrecorded = []
                untried = dict(in_flight)
                run.handled += cancelled
                for row in group:
                    if row.id not in in_flight:  # cancelled, or reclaimed by recovery: someone else owns it
                        continue
                    message_id, attempt = in_flight[row.id], row.attempts + 1  # as start_group counted it
                    if interval:
                        pause = last_sent + interval - time.monotonic()
                        if pause > 0:
                            time.sleep(pause)
                        last_sent = time.monotonic()
                    message = build_message(renderers[row.kind](row.language), row.name, row.email,
                                            personal_link(row.token_seed), optout_link(row.token_seed), message_id)
                    del untried[row.id]
                    # Appended only once the transport answered: "sent" means the server said 250.
                    result = transport.send(message, row.email, invitation_reference(survey_id, row.id, attempt))
                    unrecorded.append(ledger.Attempt(row.id, message_id, attempt, result))
                    run.handled += 1
            ledger.record_all(unrecorded, max_attempts, retry_base)
            db.session.commit()
            unrecorded = []
            if on_progress is not None:
                on_progress(run.handled)
        completed = True
    finally:
        transport.close()
        if not completed:
            ledger.settle_after_error(claimed_at, unrecorded, untried, max_attempts, retry_base)
    run.next_due = ledger.finish_batch_if_done(batch_id)
    return run


def send_pending(survey: Survey | None = None, on_progress: Callable[[int], None] | None = None) -> int:
    """Send everything due in-process (the CLI with --wait, and tests); return messages handled."""
    handled = 0
    while True:
        ids = ledger.pending_batch_ids()
        if survey is not None:
            ids = [i for i in ids if db.session.get_one(MailBatch, i).survey_id == survey.id]
        if not ids:
            return handled
        for batch_id in ids:
            handled += process_batch(batch_id, on_progress=_offset(on_progress, handled)).handled


def _offset(on_progress: Callable[[int], None] | None, base: int) -> Callable[[int], None] | None:
    """Report a batch's progress as part of a running total."""
    if on_progress is None:
        return None
    return lambda handled: on_progress(base + handled)


def sweep() -> list[int]:
    """Periodic duty: release stale claims, queue scheduled reminders, wake batches with work due. Commit."""
    ledger.recover_stale()
    run_scheduled_reminders()
    return _wake(ledger.pending_batch_ids())


def resume_pending() -> list[int]:
    """At a worker's start: release what a stopped worker left and wake every batch with work left. Commit."""
    ledger.recover_stale()
    return _wake(ledger.pending_batch_ids(due_only=False))


def _wake(batch_ids: list[int]) -> list[int]:
    """One send_batch job per batch once this transaction commits; return the batches."""
    for batch_id in batch_ids:
        jobs.after_commit("send_batch", batch_id)
    db.session.commit()
    return batch_ids
