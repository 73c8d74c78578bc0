"""Invitations and reminders through the delivery ledger: each message sent at most once.

Ledger rows are inserted queued (one per participant, kind and round, guarded by a unique
constraint); workers claim them atomically (queued -> sending), mark them in flight a group at
a time by setting their Message-IDs in a committed transaction before any of them reaches SMTP,
and record the group's outcomes in the transaction that marks the next group. A row left
"sending" with a Message-ID after a crash becomes "uncertain" and is never resent automatically;
a row left "sending" without one goes back to "queued".
"""
from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, delete, exists, func, insert, literal, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import (
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
from ..models.base import utcnow
from . import audit, mailer, paging, participants, tokens

log = logging.getLogger(__name__)

CLAIM_SIZE = 100
ACTIVE_STATES = (DeliveryState.QUEUED.value, DeliveryState.SENDING.value, DeliveryState.RETRY.value)
TEXT_KEYS = ("subject", "opening", "reminder_subject", "reminder_opening")


class ParticipantStatus(str, enum.Enum):
    """What staff see per fellow, derived from opt-out, the latest ledger row and the link."""

    NOT_INVITED = "not_invited"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    OPENED = "opened"
    STARTED = "started"
    COMPLETED = "completed"
    OPTED_OUT = "opted_out"


STATUS_ORDER = [s.value for s in ParticipantStatus]


def personal_link(seed: bytes) -> str:
    return f"{current_app.config['BASE_URL']}/s/{tokens.token_from_seed(seed)}"


def optout_link(seed: bytes) -> str:
    return f"{current_app.config['BASE_URL']}/optout/{tokens.token_from_seed(seed, purpose='optout')}"


# --- texts -------------------------------------------------------------------------------------

def texts_for(survey: Survey, language: str, kind: str) -> dict[str, str]:
    """Staff-edited subject and opening in this language, else English, else the built-in text."""
    prefix = "reminder_" if kind == DeliveryKind.REMINDER.value else ""
    chosen: dict[str, str] = {}
    for lang in (language, "en"):
        entry = (survey.invitation_texts or {}).get(lang) or {}
        for key in ("subject", "opening"):
            if not chosen.get(key) and entry.get(prefix + key):
                chosen[key] = entry[prefix + key]
    return chosen


def save_texts(survey: Survey, language: str, values: dict[str, str]) -> None:
    """Store the staff-edited texts of one language (empty means the built-in default)."""
    texts = dict(survey.invitation_texts or {})
    texts[language] = {key: mailer.header_safe(values[key]) if key.endswith("subject") else values[key].strip()
                       for key in TEXT_KEYS if (values.get(key) or "").strip()}
    survey.invitation_texts = texts
    audit.record("invitations.texts", survey.id, language=language)
    db.session.commit()


def _renderer(survey: Survey, kind: str) -> Callable[[str], mailer.RenderedTemplate]:
    cache: dict[str, mailer.RenderedTemplate] = {}
    base = survey.base_language  # read once: the survey is expired by every commit while a batch is sent
    languages = set(survey.languages or [base])

    def get(language: str | None) -> mailer.RenderedTemplate:
        lang = language if language in languages else base
        if lang not in cache:
            closes = survey.closes_at.strftime("%d %B %Y") if survey.closes_at else ""
            cache[lang] = mailer.render_template_for(kind, lang, survey.text(survey.title, lang),
                                                     texts_for(survey, lang, kind), closes)
        return cache[lang]

    return get


def preview(survey: Survey, kind: str, language: str, name: str = "Ada Example") -> tuple[str, str, str]:
    """Subject, text and HTML of a message as a fellow would get it (with a sample link)."""
    rendered = _renderer(survey, kind)(language)
    base = current_app.config["BASE_URL"]
    return rendered.personalise(name, f"{base}/s/EXAMPLE-PERSONAL-LINK", f"{base}/optout/EXAMPLE")


# --- batches -----------------------------------------------------------------------------------

def _eligible(survey: Survey, kind: str, round_: int, scheduled: bool = False, now: datetime | None = None):
    """Participants who should get this (kind, round) and have no ledger row for it yet."""
    has_row = exists().where(Delivery.participant_id == Participant.id, Delivery.survey_id == survey.id,
                             Delivery.kind == kind, Delivery.round == round_)
    query = (select(Participant.id).join(Invitation, Invitation.participant_id == Participant.id)
             .where(Participant.survey_id == survey.id, Participant.opted_out_at.is_(None), ~has_row))
    if kind == DeliveryKind.REMINDER.value:
        invited = exists().where(Delivery.participant_id == Participant.id,
                                 Delivery.kind == DeliveryKind.INVITATION.value,
                                 Delivery.state == DeliveryState.SENT.value)
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
            recent = exists().where(Delivery.participant_id == Participant.id,
                                    or_(Delivery.sent_at > now - timedelta(days=survey.reminder_min_days),
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


def _insert_ignore(table_model):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert(table_model)
    if dialect == "sqlite":
        return sqlite_insert(table_model)
    return insert(table_model)


def create_batch(survey: Survey, kind: str, round_: int | None = None, actor: StaffUser | None = None,
                 scheduled: bool = False) -> MailBatch | None:
    """Queue one message per eligible participant in one transaction; None when nobody is due.

    The insert skips rows that already exist, so a double click, two staff members or a
    concurrent scheduler produce no second ledger row for anyone.
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
    statement = _insert_ignore(Delivery).from_select(
        ["survey_id", "participant_id", "batch_id", "kind", "round", "state", "attempts", "queued_at",
         "updated_at"], source)
    if hasattr(statement, "on_conflict_do_nothing"):
        statement = statement.on_conflict_do_nothing()
    # Count via RETURNING: drivers do not all report a rowcount for INSERT ... SELECT.
    inserted = len(db.session.execute(statement.returning(Delivery.id)).all())
    if not inserted:
        db.session.rollback()
        return None
    batch.total = inserted
    audit.record(f"invitations.{'remind' if kind == DeliveryKind.REMINDER.value else 'send'}", survey.id,
                 actor=actor, batch_id=batch.id, round=round_, queued=inserted, scheduled=scheduled)
    db.session.commit()
    return batch


def enqueue_batch(batch_id: int) -> None:
    """Hand a committed batch to the workers (several tasks, so several workers share it)."""
    from .. import tasks

    for _ in range(max(1, int(current_app.config.get("MAIL_SEND_TASKS", 2)))):
        tasks.send_batch(batch_id)


def send_invitations(survey: Survey, actor: StaffUser | None = None) -> MailBatch | None:
    """Queue the invitation to everyone not yet invited, then wake the workers."""
    batch = create_batch(survey, DeliveryKind.INVITATION.value, 0, actor=actor)
    if batch is not None:
        enqueue_batch(batch.id)
    return batch


def send_reminders(survey: Survey, round_: int | None = None, actor: StaffUser | None = None) -> MailBatch | None:
    """Queue a reminder round to those invited who have not completed; round makes it idempotent."""
    batch = create_batch(survey, DeliveryKind.REMINDER.value, round_, actor=actor)
    if batch is not None:
        enqueue_batch(batch.id)
    return batch


# --- sending -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Claimed:
    """A claimed ledger row with what its message needs, read in the claiming transaction."""

    id: int
    kind: str
    attempts: int
    name: str
    email: str
    language: str | None
    token_seed: bytes


@dataclass(frozen=True)
class _Attempt:
    """A message handed to the transport, with the answer still to be recorded in the ledger."""

    delivery_id: int
    message_id: str
    attempt: int
    result: mailer.SendResult


def _claim(batch_id: int, limit: int) -> tuple[datetime, int, list[_Claimed]]:
    """Move up to `limit` due rows to "sending" and read their recipients in one transaction.

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
    rows = [_Claimed(*row) for row in db.session.execute(
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


def _start_group(group: list[_Claimed], claimed_at: datetime) -> tuple[dict[int, str], int]:
    """Mark a group in flight (its Message-IDs) in one UPDATE that re-checks opt-outs and completion.

    Returns id -> Message-ID for the rows now in flight, and how many were cancelled.
    The caller commits before the first of them reaches SMTP.
    """
    now = utcnow()
    message_ids = {row.id: mailer.new_message_id() for row in group}
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
        cancelled = db.session.execute(
            update(Delivery).where(ours, needless)
            .values(state=DeliveryState.CANCELLED.value, updated_at=now,
                    last_error=case((opted_out, "opted out"), else_="completed before the reminder went out"))
            .execution_options(synchronize_session=False)
        ).rowcount
    return {delivery_id: message_ids[delivery_id] for delivery_id in started}, cancelled


def _wait_for_rate(limit: int) -> int:
    """Return how many messages may go now under MAIL_MAX_PER_MINUTE, shared through the ledger."""
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


@dataclass
class BatchRun:
    handled: int = 0
    next_due: datetime | None = None


def process_batch(batch_id: int, max_messages: int | None = None,
                  on_progress: Callable[[int], None] | None = None) -> BatchRun:
    """Send the due messages of a batch until none is left (or max_messages were handled).

    Per group of MAIL_SEND_GROUP messages (one under a rate cap), one transaction records the
    previous group's outcomes and marks this group in flight; a worker killed mid-group leaves at
    most that many rows "sending" with a Message-ID, which recovery turns "uncertain" (never resent).
    """
    run = BatchRun()
    batch = db.session.get(MailBatch, batch_id)
    if batch is None:
        return run
    survey = db.session.get(Survey, batch.survey_id)
    survey_id = survey.id
    renderers = {kind.value: _renderer(survey, kind.value) for kind in DeliveryKind}
    config = current_app.config
    per_minute = int(config.get("MAIL_MAX_PER_MINUTE") or 0)
    interval = 60.0 / per_minute if per_minute > 0 else 0.0
    max_attempts = int(config.get("MAIL_MAX_ATTEMPTS") or 5)
    retry_base = float(config.get("MAIL_RETRY_BASE_SECONDS", 60))
    # Messages marked in flight together, the most a killed worker can leave "uncertain";
    # one when a rate cap paces sends anyway.
    group_size = 1 if per_minute > 0 else max(1, int(config["MAIL_SEND_GROUP"]))
    transport = mailer.make_transport()
    claimed_at: datetime | None = None
    unrecorded: list[_Attempt] = []  # answered by the server, not yet in the ledger
    untried: dict[int, str] = {}  # in flight in the ledger, not yet handed to the transport
    last_sent = 0.0
    completed = False
    try:
        while max_messages is None or run.handled < max_messages:
            limit = _wait_for_rate(per_minute)
            if max_messages is not None:
                limit = min(limit, max_messages - run.handled)
            claimed_at, claimed, rows = _claim(batch_id, limit)
            if not claimed:
                break
            for start in range(0, len(rows), group_size):
                group = rows[start:start + group_size]
                _record_all(unrecorded, max_attempts, retry_base)
                in_flight, cancelled = _start_group(group, claimed_at)
                db.session.commit()  # the Message-IDs are durable before any of them reaches SMTP
                unrecorded = []
                untried = dict(in_flight)
                run.handled += cancelled
                for row in group:
                    if row.id not in in_flight:  # cancelled, or reclaimed by recovery: someone else owns it
                        continue
                    message_id, attempt = in_flight[row.id], row.attempts + 1  # as _start_group counted it
                    if interval:
                        pause = last_sent + interval - time.monotonic()
                        if pause > 0:
                            time.sleep(pause)
                        last_sent = time.monotonic()
                    message = mailer.build_message(renderers[row.kind](row.language), row.name, row.email,
                                                   personal_link(row.token_seed), optout_link(row.token_seed),
                                                   message_id)
                    if isinstance(transport, mailer.OutboxTransport):
                        transport.current_name = mailer.outbox_filename(survey_id, row.id, attempt)
                    del untried[row.id]
                    # Appended only once the transport answered: "sent" means the server said 250.
                    unrecorded.append(_Attempt(row.id, message_id, attempt, transport.send(message, row.email)))
                    run.handled += 1
            _record_all(unrecorded, max_attempts, retry_base)
            db.session.commit()
            unrecorded = []
            if on_progress is not None:
                on_progress(run.handled)
        completed = True
    finally:
        transport.close()
        if not completed:
            _settle_after_error(claimed_at, unrecorded, untried, max_attempts, retry_base)
    run.next_due = _finish_batch_if_done(batch_id)
    return run


def _settle_after_error(claimed_at: datetime | None, unrecorded: list[_Attempt], untried: dict[int, str],
                        max_attempts: int, retry_base: float) -> None:
    """Record what the server answered and requeue what never reached it, so an error costs no resend."""
    # Uncommitted at an error is at most these outcomes and the marking of a group that never
    # reached SMTP: roll back and redo. If the database is unreachable, the rows stay "sending"
    # and recovery turns them uncertain (in flight) or queued (never marked).
    try:
        db.session.rollback()
        _record_all(unrecorded, max_attempts, retry_base)
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


def _record_all(attempts: list[_Attempt], max_attempts: int, retry_base: float) -> None:
    """Store a group's SMTP outcomes without committing: every "sent" in one UPDATE, the rest one by one."""
    if not attempts:
        return
    sent = [(item.delivery_id, item.message_id) for item in attempts if item.result.outcome is mailer.Outcome.SENT]
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
        if item.result.outcome is not mailer.Outcome.SENT:
            _record(item.delivery_id, item.message_id, item.result, item.attempt, max_attempts, retry_base)


def _record(delivery_id: int, message_id: str, result: mailer.SendResult, attempt: int, max_attempts: int,
            retry_base: float) -> None:
    """Store one unsent SMTP outcome, uncommitted; only the row's own in-flight Message-ID may be overwritten."""
    now = utcnow()
    values: dict = {"updated_at": now}
    if result.outcome is mailer.Outcome.RETRY and attempt < max_attempts:
        values.update(state=DeliveryState.RETRY.value, last_error=result.detail, message_id=None,
                      next_attempt_at=now + timedelta(seconds=retry_base * (2 ** (attempt - 1))))
    elif result.outcome is mailer.Outcome.UNCERTAIN:
        values.update(state=DeliveryState.UNCERTAIN.value, last_error=result.detail)
    else:
        detail = result.detail if result.outcome is mailer.Outcome.FAILED else (
            f"gave up after {attempt} attempts; last answer: {result.detail}")
        values.update(state=DeliveryState.FAILED.value, last_error=detail[:1000])
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.message_id == message_id,
               Delivery.state.in_((DeliveryState.SENDING.value, DeliveryState.UNCERTAIN.value)))
        .values(**values).execution_options(synchronize_session=False)
    )


def _finish_batch_if_done(batch_id: int) -> datetime | None:
    """Close a batch with nothing left to do; else return when its next retry is due."""
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
    """Release rows a stopped worker left "sending": unattempted ones to queued, in-flight ones to uncertain."""
    if lease_seconds is None:
        lease_seconds = float(current_app.config.get("MAIL_CLAIM_LEASE_SECONDS", 300))
    cutoff = utcnow() - timedelta(seconds=lease_seconds)
    stale = and_(Delivery.state == DeliveryState.SENDING.value, Delivery.claimed_at <= cutoff)
    uncertain = db.session.execute(
        update(Delivery).where(stale, Delivery.message_id.is_not(None))
        .values(state=DeliveryState.UNCERTAIN.value, updated_at=utcnow(),
                last_error="the sending worker stopped while handing this message to the mail server; "
                           "it may or may not have been delivered")
        .execution_options(synchronize_session=False)
    ).rowcount
    requeued = db.session.execute(
        update(Delivery).where(stale, Delivery.message_id.is_(None))
        .values(state=DeliveryState.QUEUED.value, claimed_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
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
    return sorted(ids)


def run_scheduled_reminders() -> list[int]:
    """Queue the scheduled reminder round of every survey that has one due; return batch ids."""
    batches = []
    surveys = db.session.execute(select(Survey).where(Survey.reminders_scheduled.is_(True))).scalars().all()
    for survey in surveys:
        if survey.reminder_max_count <= 0:
            continue
        batch = create_batch(survey, DeliveryKind.REMINDER.value, next_reminder_round(survey), scheduled=True)
        if batch is not None:
            batches.append(batch.id)
    return batches


def save_schedule(survey: Survey, enabled: bool, min_days: int, max_count: int) -> None:
    survey.reminders_scheduled = enabled
    survey.reminder_min_days = min_days
    survey.reminder_max_count = max_count
    audit.record("invitations.schedule", survey.id, enabled=enabled, min_days=min_days, max_count=max_count)
    db.session.commit()


def sweep() -> list[int]:
    """Periodic duty: release stale claims, queue scheduled reminders, list batches needing a worker."""
    recover_stale()
    run_scheduled_reminders()
    return pending_batch_ids()


def send_pending(survey: Survey | None = None, on_progress: Callable[[int], None] | None = None) -> int:
    """Send everything due in-process (the CLI with --wait, and tests); return messages handled."""
    handled = 0
    while True:
        ids = pending_batch_ids()
        if survey is not None:
            ids = [i for i in ids if db.session.get(MailBatch, i).survey_id == survey.id]
        if not ids:
            return handled
        for batch_id in ids:
            handled += process_batch(batch_id, on_progress=(
                (lambda n, base=handled: on_progress(base + n)) if on_progress else None)).handled


# --- status ------------------------------------------------------------------------------------

def _status_subquery(survey_id: int):
    latest = (select(Delivery.state).where(Delivery.participant_id == Participant.id)
              .order_by(Delivery.id.desc()).limit(1).correlate(Participant).scalar_subquery())
    base = (select(Participant.id, Participant.name, Participant.email, Participant.country, Participant.cohort,
                   Participant.language, Participant.opted_out_at, Invitation.status.label("link_status"),
                   latest.label("delivery_state"))
            .outerjoin(Invitation, Invitation.participant_id == Participant.id)
            .where(Participant.survey_id == survey_id)).subquery()
    status = case(
        (base.c.opted_out_at.is_not(None), ParticipantStatus.OPTED_OUT.value),
        (base.c.link_status == InvitationStatus.COMPLETED.value, ParticipantStatus.COMPLETED.value),
        (base.c.link_status == InvitationStatus.STARTED.value, ParticipantStatus.STARTED.value),
        (base.c.link_status == InvitationStatus.OPENED.value, ParticipantStatus.OPENED.value),
        (base.c.delivery_state.in_(ACTIVE_STATES), ParticipantStatus.QUEUED.value),
        (base.c.delivery_state == DeliveryState.SENT.value, ParticipantStatus.SENT.value),
        (base.c.delivery_state == DeliveryState.FAILED.value, ParticipantStatus.FAILED.value),
        (base.c.delivery_state == DeliveryState.UNCERTAIN.value, ParticipantStatus.UNCERTAIN.value),
        else_=ParticipantStatus.NOT_INVITED.value,
    )
    return base, status


def status_counts(survey_id: int) -> dict[str, int]:
    """Participants per status, every status present (zero when none)."""
    base, status = _status_subquery(survey_id)
    counts = dict(db.session.execute(select(status, func.count()).select_from(base).group_by(status)).all())
    return {s: counts.get(s, 0) for s in STATUS_ORDER}


def delivery_counts(survey_id: int) -> dict[str, dict[str, int]]:
    """Ledger rows per kind and state (what `flask invitations status` prints)."""
    rows = db.session.execute(
        select(Delivery.kind, Delivery.state, func.count(Delivery.id)).where(Delivery.survey_id == survey_id)
        .group_by(Delivery.kind, Delivery.state)
    ).all()
    result: dict[str, dict[str, int]] = {}
    for kind, state, count in rows:
        result.setdefault(kind, {s.value: 0 for s in DeliveryState})[state] = count
    return result


@dataclass(frozen=True)
class ParticipantRow:
    id: int
    name: str
    email: str
    country: str | None
    cohort: int | None
    language: str | None
    status: str


@dataclass(frozen=True)
class ParticipantPage:
    rows: list[ParticipantRow]
    total: int
    page: int
    pages: int


def list_participants(survey_id: int, status: str | None = None, search: str | None = None,
                      country: str | None = None, page: int = 1, per_page: int = 50) -> ParticipantPage:
    """One page of the participants table, filtered by status, country and a name/e-mail search."""
    base, status_expr = _status_subquery(survey_id)
    query = select(base.c.id, base.c.name, base.c.email, base.c.country, base.c.cohort, base.c.language,
                   status_expr.label("status")).select_from(base)
    if status in STATUS_ORDER:
        query = query.where(status_expr == status)
    if country:
        query = query.where(base.c.country == country.upper())
    if search:
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(base.c.name).like(pattern, escape="\\"),
                                base.c.email.like(pattern, escape="\\")))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page, pages, offset = paging.window(total, page, per_page)
    rows = db.session.execute(query.order_by(func.lower(base.c.name), base.c.id)
                              .limit(per_page).offset(offset)).all()
    return ParticipantPage([ParticipantRow(*row) for row in rows], total, page, pages)


def participant_deliveries(participant_id: int) -> list[Delivery]:
    return list(db.session.execute(select(Delivery).where(Delivery.participant_id == participant_id)
                                   .order_by(Delivery.id)).scalars())


@dataclass(frozen=True)
class BatchProgress:
    batch: MailBatch
    total: int
    sent: int
    failed: int
    uncertain: int
    cancelled: int
    pending: int

    @property
    def done(self) -> bool:
        return self.pending == 0

    @property
    def percent(self) -> int:
        return int(100 * (self.total - self.pending) / self.total) if self.total else 100


def batch_progress(batch: MailBatch) -> BatchProgress:
    counts = dict(db.session.execute(
        select(Delivery.state, func.count(Delivery.id)).where(Delivery.batch_id == batch.id).group_by(Delivery.state)
    ).all())
    pending = sum(counts.get(s, 0) for s in ACTIVE_STATES)
    total = sum(counts.values())
    return BatchProgress(batch, total, counts.get("sent", 0), counts.get("failed", 0), counts.get("uncertain", 0),
                         counts.get("cancelled", 0), pending)


def recent_batches(survey_id: int, limit: int = 10) -> list[BatchProgress]:
    batches = db.session.execute(select(MailBatch).where(MailBatch.survey_id == survey_id)
                                 .order_by(MailBatch.id.desc()).limit(limit)).scalars().all()
    return [batch_progress(b) for b in batches]


def get_batch(survey_id: int, batch_id: int) -> MailBatch | None:
    batch = db.session.get(MailBatch, batch_id)
    return batch if batch is not None and batch.survey_id == survey_id else None


# --- one person ----------------------------------------------------------------------------------

def resend(participant: Participant, actor: StaffUser | None = None) -> MailBatch | None:
    """Send a failed or uncertain message again, or the invitation to someone never invited.

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
    audit.record("invitations.resend", participant.survey_id, actor=actor, participant_id=participant.id,
                 batch_id=batch.id)
    db.session.commit()
    enqueue_batch(batch.id)
    return batch


def delete_invitation_data(participant: Participant) -> None:
    """Erase one fellow's delivery history, outbox copies and personal link; a fresh link replaces it.

    ParticipantGone if the person was removed or erased meanwhile (then nothing changes).
    """
    participants.lock_participant_or_raise(participant)
    survey_id, participant_id = participant.survey_id, participant.id
    delivery_ids = set(db.session.execute(select(Delivery.id).where(Delivery.participant_id == participant_id))
                       .scalars())
    db.session.execute(delete(Delivery).where(Delivery.participant_id == participant_id)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(Invitation).where(Invitation.participant_id == participant_id)
                       .execution_options(synchronize_session=False))
    db.session.execute(insert(Invitation), participants.invitation_rows(survey_id, [participant_id]))
    audit.record("invitations.delete_data", survey_id, participant_id=participant_id,
                 deliveries=len(delivery_ids))
    mailer.remove_outbox_files(survey_id, delivery_ids)
    db.session.commit()


def find_by_optout_token(token: str) -> Invitation | None:
    if not tokens.looks_like_token(token):
        return None
    return db.session.execute(
        select(Invitation).where(Invitation.optout_token_hash == tokens.hash_token(token))
    ).scalar_one_or_none()


def opt_out(invitation: Invitation) -> bool:
    """Record the fellow's opt-out and cancel every message still waiting for them."""
    participant = invitation.participant
    if participant.opted_out_at is not None:
        return False
    participant.opted_out_at = utcnow()
    db.session.execute(
        update(Delivery).where(Delivery.participant_id == participant.id,
                               Delivery.state.in_((DeliveryState.QUEUED.value, DeliveryState.RETRY.value)))
        .values(state=DeliveryState.CANCELLED.value, last_error="opted out", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    audit.record("participants.opt_out", participant.survey_id, participant_id=participant.id)
    db.session.commit()
    return True
