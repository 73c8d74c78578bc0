"""The delivery ledger: one row per message, moved queued -> sending -> sent (or retry, failed, uncertain).

Workers claim rows atomically (queued -> sending), mark them in flight a group at a time by setting
their Message-IDs in a committed transaction before any of them reaches the transport, and record
the group's outcomes in the transaction that marks the next group. A row left "sending" with a
Message-ID after a crash becomes "uncertain" and is never resent automatically; a row left
"sending" without one goes back to "queued". See docs/invitations.md.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, exists, func, or_, select, tuple_, update
from sqlalchemy.exc import SQLAlchemyError

from ...extensions import db
from ...models import Delivery, DeliveryKind, DeliveryState, Invitation, InvitationStatus, MailBatch, Participant
from ...models.base import utcnow
from ..mail import Outcome, SendResult
from ..mail.messages import new_message_id
from ..statements import rows_changed

log = logging.getLogger(__name__)

CLAIM_SIZE = 100
ACTIVE_STATES = (DeliveryState.QUEUED.value, DeliveryState.SENDING.value, DeliveryState.RETRY.value)


@dataclass(frozen=True)
class Claimed:
    """A claimed ledger row with what its message needs, read in the claiming transaction."""

    id: int
    kind: str
    attempts: int
    name: str
    email: str
    language: str | None
    token_seed: bytes


@dataclass(frozen=True)
class Attempt:
    """A message handed to the transport, with the answer still to be recorded in the ledger."""

    delivery_id: int
    message_id: str
    attempt: int
    result: SendResult


def claim(batch_id: int, limit: int) -> tuple[datetime, int, list[Claimed]]:
    """Move up to `limit` due rows to "sending" and read their recipients in one transaction. Commit.

    Returns the claim's time (its identity), how many rows were claimed and the sendable ones.
    """
    now = utcnow()
    due = or_(Delivery.state == DeliveryState.QUEUED.value,
              and_(Delivery.state == DeliveryState.RETRY.value, Delivery.next_attempt_at <= now))
    candidates = (select(Delivery.id).where(Delivery.batch_id == batch_id, due)
                  .order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True))
    statement = (update(Delivery)
                 .where(Delivery.id.in_(candidates.scalar_subquery()),
                        Delivery.state.in_((DeliveryState.QUEUED.value, DeliveryState.RETRY.value)))
                 .values(state=DeliveryState.SENDING.value, claimed_at=now, updated_at=now)
                 .returning(Delivery.id)
                 .execution_options(synchronize_session=False))
    ids = sorted(db.session.execute(statement).scalars().all())
    rows = [Claimed(*row) for row in db.session.execute(
        select(Delivery.id, Delivery.kind, Delivery.attempts, Participant.name, Participant.email,
               Participant.language, Invitation.token_seed)
        .join(Participant, Participant.id == Delivery.participant_id)
        .join(Invitation, Invitation.participant_id == Participant.id)
        .where(Delivery.id.in_(ids)).order_by(Delivery.id)
    ).all()] if ids else []
    orphans = sorted(set(ids) - {row.id for row in rows})
    if orphans:  # the participant lost its invitation meanwhile
        db.session.execute(
            update(Delivery).where(Delivery.id.in_(orphans), Delivery.state == DeliveryState.SENDING.value,
                                   Delivery.claimed_at == now)
            .values(state=DeliveryState.CANCELLED.value, last_error="participant has no invitation", updated_at=now)
            .execution_options(synchronize_session=False))
    db.session.commit()
    return now, len(ids), rows


def start_group(group: list[Claimed], claimed_at: datetime) -> tuple[dict[int, str], int]:
    """Mark a group in flight (its Message-IDs) in one UPDATE that re-checks opt-outs and completion.

    Returns id -> Message-ID for the rows now in flight, and how many were cancelled.
    The caller commits before the first of them reaches the transport.
    """
    now = utcnow()
    message_ids = {row.id: new_message_id() for row in group}
    opted_out = exists().where(Participant.id == Delivery.participant_id, Participant.opted_out_at.is_not(None))
    completed = exists().where(Invitation.participant_id == Delivery.participant_id,
                               or_(Invitation.completed_at.is_not(None),
                                   Invitation.status == InvitationStatus.COMPLETED.value))
    needless = or_(opted_out, and_(Delivery.kind == DeliveryKind.REMINDER.value, completed))
    ours = and_(Delivery.id.in_(list(message_ids)), Delivery.state == DeliveryState.SENDING.value,
                Delivery.claimed_at == claimed_at, Delivery.message_id.is_(None))
    started = db.session.execute(
        update(Delivery).where(ours, ~needless)
        .values(message_id=case(message_ids, value=Delivery.id), attempts=Delivery.attempts + 1, claimed_at=now)
        .returning(Delivery.id).execution_options(synchronize_session=False)
    ).scalars().all()
    cancelled = 0
    if len(started) < len(group):  # rows not started were cancelled here or reclaimed by recovery meanwhile
        cancelled = rows_changed(
            update(Delivery).where(ours, needless)
            .values(state=DeliveryState.CANCELLED.value, updated_at=now,
                    last_error=case((opted_out, "opted out"), else_="completed before the reminder went out"))
            .execution_options(synchronize_session=False)
        )
    return {delivery_id: message_ids[delivery_id] for delivery_id in started}, cancelled


def sends_allowed(limit: int) -> int:
    """Return how many messages may go now under MAIL_MAX_PER_MINUTE, shared through the ledger; wait if none."""
    if limit <= 0:
        return CLAIM_SIZE
    while True:
        window_start = utcnow() - timedelta(seconds=60)
        recent = db.session.execute(
            select(func.count(Delivery.id), func.min(Delivery.sent_at)).where(Delivery.sent_at > window_start)
        ).one()
        db.session.commit()
        allowed = limit - recent[0]
        if allowed > 0:
            return min(CLAIM_SIZE, allowed, max(1, limit // 6))
        wait = (recent[1] - window_start).total_seconds() if recent[1] else 1.0
        time.sleep(min(max(wait, 0.5), 60))


def record_all(attempts: list[Attempt], max_attempts: int, retry_base: float) -> None:
    """Store a group's outcomes without committing: every "sent" in one UPDATE, the rest one by one."""
    if not attempts:
        return
    sent = [(item.delivery_id, item.message_id) for item in attempts if item.result.outcome is Outcome.SENT]
    if sent:
        now = utcnow()
        db.session.execute(
            update(Delivery)
            .where(Delivery.id.in_([delivery_id for delivery_id, _ in sent]),  # lets SQLite use the key
                   tuple_(Delivery.id, Delivery.message_id).in_(sent),
                   Delivery.state.in_((DeliveryState.SENDING.value, DeliveryState.UNCERTAIN.value)))
            .values(state=DeliveryState.SENT.value, sent_at=now, last_error=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    for item in attempts:
        if item.result.outcome is not Outcome.SENT:
            _record(item.delivery_id, item.message_id, item.result, item.attempt, max_attempts, retry_base)


def _record(delivery_id: int, message_id: str, result: SendResult, attempt: int, max_attempts: int,
            retry_base: float) -> None:
    """Store one unsent outcome, uncommitted; only the row's own in-flight Message-ID may be overwritten."""
    now = utcnow()
    values: dict[str, Any] = {"updated_at": now}
    if result.outcome is Outcome.RETRY and attempt < max_attempts:
        values.update(state=DeliveryState.RETRY.value, last_error=result.detail, message_id=None,
                      next_attempt_at=now + timedelta(seconds=retry_base * (2 ** (attempt - 1))))
    elif result.outcome is Outcome.UNCERTAIN:
        values.update(state=DeliveryState.UNCERTAIN.value, last_error=result.detail)
    else:
        detail = result.detail if result.outcome is Outcome.FAILED else (
            f"gave up after {attempt} attempts; last answer: {result.detail}")
        values.update(state=DeliveryState.FAILED.value, last_error=detail[:1000])
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.message_id == message_id,
               Delivery.state.in_((DeliveryState.SENDING.value, DeliveryState.UNCERTAIN.value)))
        .values(**values).execution_options(synchronize_session=False)
    )


def settle_after_error(claimed_at: datetime | None, unrecorded: list[Attempt], untried: dict[int, str],
                       max_attempts: int, retry_base: float) -> None:
    """Record what the transport answered and requeue what never reached it, so an error costs no resend. Commit."""
    # Uncommitted at an error is at most these outcomes and the marking of a group that never
    # reached the transport: roll back and redo. If the database is unreachable, the rows stay
    # "sending" and recovery turns them uncertain (in flight) or queued (never marked).
    try:
        db.session.rollback()
        record_all(unrecorded, max_attempts, retry_base)
        if claimed_at is not None:
            _release(claimed_at, untried)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record the outcomes of a batch interrupted by an error")


def _release(claimed_at: datetime, untried: dict[int, str]) -> None:
    """Requeue rows of this claim that never reached the transport (not yet marked, or marked unsent)."""
    never_marked = and_(Delivery.claimed_at == claimed_at, Delivery.message_id.is_(None))
    marked_unsent = tuple_(Delivery.id, Delivery.message_id).in_(list(untried.items()))
    db.session.execute(
        update(Delivery).where(Delivery.state == DeliveryState.SENDING.value, or_(never_marked, marked_unsent))
        .values(state=DeliveryState.QUEUED.value, claimed_at=None, message_id=None, updated_at=utcnow(),
                attempts=case((Delivery.message_id.is_(None), Delivery.attempts), else_=Delivery.attempts - 1))
        .execution_options(synchronize_session=False)
    )


def finish_batch_if_done(batch_id: int) -> datetime | None:
    """Close a batch with nothing left to do; else return when its next retry is due. Commit."""
    pending = db.session.execute(
        select(Delivery.state, func.min(Delivery.next_attempt_at), func.count(Delivery.id))
        .where(Delivery.batch_id == batch_id, Delivery.state.in_(ACTIVE_STATES)).group_by(Delivery.state)
    ).all()
    if not pending:
        db.session.execute(update(MailBatch).where(MailBatch.id == batch_id, MailBatch.finished_at.is_(None))
                           .values(finished_at=utcnow()))
        db.session.commit()
        return None
    db.session.commit()
    retry = [row[1] for row in pending if row[0] == DeliveryState.RETRY.value and row[1] is not None]
    queued = any(row[0] == DeliveryState.QUEUED.value for row in pending)
    if queued:
        return utcnow()
    return min(retry) if retry else None


def recover_stale(lease_seconds: float | None = None) -> tuple[int, int]:
    """Release rows a stopped worker left "sending": unattempted ones to queued, in-flight ones to uncertain. Commit."""
    if lease_seconds is None:
        lease_seconds = float(current_app.config.get("MAIL_CLAIM_LEASE_SECONDS", 300))
    cutoff = utcnow() - timedelta(seconds=lease_seconds)
    stale = and_(Delivery.state == DeliveryState.SENDING.value, Delivery.claimed_at <= cutoff)
    uncertain = rows_changed(
        update(Delivery).where(stale, Delivery.message_id.is_not(None))
        .values(state=DeliveryState.UNCERTAIN.value, updated_at=utcnow(),
                last_error="the sending worker stopped while handing this message to the mail server; "
                           "it may or may not have been delivered")
        .execution_options(synchronize_session=False)
    )
    requeued = rows_changed(
        update(Delivery).where(stale, Delivery.message_id.is_(None))
        .values(state=DeliveryState.QUEUED.value, claimed_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return requeued, uncertain


def pending_batch_ids(due_only: bool = True) -> list[int]:
    """Batches with queued rows or retries that are due (what a sweep must hand to workers)."""
    now = utcnow()
    due = or_(Delivery.state == DeliveryState.QUEUED.value,
              and_(Delivery.state == DeliveryState.RETRY.value, Delivery.next_attempt_at <= now))
    if not due_only:
        due = Delivery.state.in_(ACTIVE_STATES)
    ids = db.session.execute(select(Delivery.batch_id).where(due, Delivery.batch_id.is_not(None))
                             .distinct()).scalars().all()
    db.session.commit()
    return sorted(batch_id for batch_id in ids if batch_id is not None)
