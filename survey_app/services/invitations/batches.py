"""Batches: who is due a message, queueing one ledger row per person in one statement, waking the workers."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, and_, exists, func, literal, or_, select, update

from ... import jobs
from ...extensions import db
from ...models import (
    Delivery,
    DeliveryKind,
    DeliveryState,
    Invitation,
    InvitationStatus,
    MailBatch,
    Participant,
    StaffUser,
    Survey,
)
from ...models.base import utcnow
from .. import audit, participants, tokens
from ..statements import insert_with_conflicts
from .ledger import ACTIVE_STATES


def _eligible(survey: Survey, kind: str, round_: int, scheduled: bool = False,
              now: datetime | None = None) -> Select[tuple[int]]:
    """Participants who should get this (kind, round) and have no ledger row for it yet."""
    has_row = exists().where(Delivery.participant_id == Participant.id, Delivery.survey_id == survey.id,
                             Delivery.kind == kind, Delivery.round == round_)
    query = (select(Participant.id).join(Invitation, Invitation.participant_id == Participant.id)
             .where(Participant.survey_id == survey.id, Participant.opted_out_at.is_(None), ~has_row))
    if kind == DeliveryKind.REMINDER.value:
        # "Uncertain" (the connection dropped after the hand-over) may well have arrived, or not: a
        # reminder is a new message, perhaps their only link, so they are reminded like the rest.
        invited = exists().where(Delivery.participant_id == Participant.id,
                                 Delivery.kind == DeliveryKind.INVITATION.value,
                                 Delivery.state.in_((DeliveryState.SENT.value, DeliveryState.UNCERTAIN.value)))
        failed = exists().where(Delivery.participant_id == Participant.id,
                                Delivery.state == DeliveryState.FAILED.value)
        query = query.where(invited, ~failed, Invitation.completed_at.is_(None),
                            Invitation.status != InvitationStatus.COMPLETED.value)
        if scheduled:
            now = now or utcnow()
            reminders = (select(func.count(Delivery.id))
                         .where(Delivery.participant_id == Participant.id,
                                Delivery.kind == DeliveryKind.REMINDER.value,
                                Delivery.state != DeliveryState.CANCELLED.value)
                         .correlate(Participant).scalar_subquery())
            since = now - timedelta(days=survey.reminder_min_days)
            # An uncertain message has no sent_at: it counts from when it was handed over.
            recent = exists().where(Delivery.participant_id == Participant.id,
                                    or_(Delivery.sent_at > since,
                                        and_(Delivery.state == DeliveryState.UNCERTAIN.value,
                                             Delivery.updated_at > since),
                                        Delivery.state.in_(ACTIVE_STATES)))
            query = query.where(reminders < survey.reminder_max_count, ~recent)
    return query


def count_recipients(survey: Survey, kind: str, round_: int | None = None) -> int:
    """How many messages pressing Send (or Remind) would send now, for the confirmation page."""
    if round_ is None:
        round_ = 0 if kind == DeliveryKind.INVITATION.value else next_reminder_round(survey)
    return db.session.execute(
        select(func.count()).select_from(_eligible(survey, kind, round_).subquery())
    ).scalar_one()


def next_reminder_round(survey: Survey) -> int:
    last = db.session.execute(
        select(func.max(Delivery.round)).where(Delivery.survey_id == survey.id,
                                               Delivery.kind == DeliveryKind.REMINDER.value)
    ).scalar_one()
    return (last or 0) + 1


def _fill_optout_hashes(survey_id: int) -> None:
    """Give older invitations (made before opt-out links existed) their opt-out token hash."""
    rows = db.session.execute(
        select(Invitation.id, Invitation.token_seed)
        .where(Invitation.survey_id == survey_id, Invitation.optout_token_hash.is_(None))
    ).all()
    if rows:
        db.session.execute(update(Invitation), [
            {"id": row.id, "optout_token_hash": tokens.hash_token(tokens.token_from_seed(row.token_seed, "optout"))}
            for row in rows
        ])


def create_batch(survey: Survey, kind: str, round_: int | None = None, actor: StaffUser | None = None,
                 scheduled: bool = False, actor_label: str = "cli", wake: bool = False) -> MailBatch | None:
    """Queue one message per eligible participant in one transaction; None when nobody is due. Commit.

    The insert skips rows that already exist, so a double click, two staff members or a
    concurrent scheduler produce no second ledger row for anyone. wake: have the workers start on
    it once it is committed (the sweep wakes every batch with work due within a minute anyway).
    actor None is a command or the scheduler, logged as actor_label.
    """
    if round_ is None:
        round_ = 0 if kind == DeliveryKind.INVITATION.value else next_reminder_round(survey)
    now = utcnow()
    _fill_optout_hashes(survey.id)
    batch = MailBatch(survey_id=survey.id, kind=kind, round=round_, total=0,
                      created_by_id=actor.id if actor is not None else None, created_at=now)
    db.session.add(batch)
    db.session.flush()
    eligible = _eligible(survey, kind, round_, scheduled=scheduled, now=now).subquery()
    source = select(
        literal(survey.id), eligible.c.id, literal(batch.id), literal(kind), literal(round_),
        literal(DeliveryState.QUEUED.value), literal(0), literal(now, Delivery.queued_at.type),
        literal(now, Delivery.updated_at.type),
    ).where(eligible.c.id.is_not(None))
    statement = insert_with_conflicts(Delivery).from_select(
        ["survey_id", "participant_id", "batch_id", "kind", "round", "state", "attempts", "queued_at",
         "updated_at"], source).on_conflict_do_nothing()
    # Count via RETURNING: drivers do not all report a rowcount for INSERT ... SELECT.
    inserted = len(db.session.execute(statement.returning(Delivery.id)).all())
    if not inserted:
        db.session.rollback()
        return None
    batch.total = inserted
    audit.record(f"invitations.{'remind' if kind == DeliveryKind.REMINDER.value else 'send'}", survey.id,
                 actor, actor_label=actor_label, batch_id=batch.id, round=round_, queued=inserted,
                 scheduled=scheduled)
    if wake:
        wake_workers(batch.id)
    db.session.commit()
    return batch


def wake_workers(batch_id: int) -> None:
    """Have the workers send a batch once the current transaction commits (several tasks, so several share it)."""
    for _ in range(max(1, int(current_app.config.get("MAIL_SEND_TASKS", 2)))):
        jobs.after_commit("send_batch", batch_id)


def send_invitations(survey: Survey, *, actor: StaffUser | None) -> MailBatch | None:
    """Queue the invitation to everyone not yet invited and wake the workers. Commit."""
    return create_batch(survey, DeliveryKind.INVITATION.value, 0, actor=actor, wake=True)


def send_reminders(survey: Survey, round_: int | None = None, *, actor: StaffUser | None) -> MailBatch | None:
    """Queue a reminder round to those invited who have not completed and wake the workers. Commit.

    The round makes it idempotent: a second click with the same round queues nothing.
    """
    return create_batch(survey, DeliveryKind.REMINDER.value, round_, actor=actor, wake=True)


def run_scheduled_reminders() -> list[int]:
    """Queue the scheduled reminder round of every survey that has one due; return batch ids."""
    batches = []
    surveys = db.session.execute(select(Survey).where(Survey.reminders_scheduled.is_(True))).scalars().all()
    for survey in surveys:
        if survey.reminder_max_count <= 0:
            continue
        batch = create_batch(survey, DeliveryKind.REMINDER.value, next_reminder_round(survey), scheduled=True,
                             actor_label="system")
        if batch is not None:
            batches.append(batch.id)
    return batches


def save_schedule(survey: Survey, enabled: bool, min_days: int, max_count: int, *,
                  actor: StaffUser | None) -> None:
    """Store the survey's reminder schedule. Commit."""
    survey.reminders_scheduled = enabled
    survey.reminder_min_days = min_days
    survey.reminder_max_count = max_count
    audit.record("invitations.schedule", survey.id, actor, enabled=enabled, min_days=min_days,
                 max_count=max_count)
    db.session.commit()


def resend(participant: Participant, *, actor: StaffUser | None) -> MailBatch | None:
    """Send a failed or uncertain message again, or the invitation to someone never invited. Commit.

    ParticipantGone if the person was removed or erased meanwhile.
    """
    participants.lock_participant_or_raise(participant)
    invitation = db.session.execute(select(Invitation.id).where(Invitation.participant_id == participant.id)).first()
    if participant.opted_out_at is not None or invitation is None:
        db.session.rollback()
        return None
    last = db.session.execute(select(Delivery).where(Delivery.participant_id == participant.id)
                              .order_by(Delivery.id.desc()).limit(1)
                              .execution_options(populate_existing=True)).scalar_one_or_none()
    if last is not None and last.state in ACTIVE_STATES:
        db.session.rollback()
        return None
    kind = last.kind if last is not None else DeliveryKind.INVITATION.value
    batch = MailBatch(survey_id=participant.survey_id, kind=kind, round=last.round if last else 0, total=1,
                      created_by_id=actor.id if actor is not None else None)
    db.session.add(batch)
    db.session.flush()
    if last is None:
        db.session.add(Delivery(survey_id=participant.survey_id, participant_id=participant.id, batch_id=batch.id,
                                kind=kind, round=0, state=DeliveryState.QUEUED.value))
    else:
        last.batch_id = batch.id
        last.state = DeliveryState.QUEUED.value
        last.message_id = None
        last.attempts = 0
        last.next_attempt_at = None
        last.claimed_at = None
    audit.record("invitations.resend", participant.survey_id, actor, participant_id=participant.id,
                 batch_id=batch.id)
    wake_workers(batch.id)
    db.session.commit()
    return batch
