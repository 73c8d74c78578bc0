"""Privacy by design: what we hold about a fellow, erasure on request, and retention.

What each function keeps and removes is documented in docs/privacy.md; keep the two in step.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, text, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Answer,
    Delivery,
    Invitation,
    Participant,
    Question,
    Response,
    StaffUser,
    Survey,
    SurveyState,
)
from ..models.base import utcnow
from ..models.survey import MAX_RETENTION_DAYS
from ..questions import get_type
from . import audit, bursts, totals
from . import participants as participant_service
from .mail import outbox
from .statements import rows_changed

# Fields exported from each row: an allow-list, so a column added later (a token hash, a seed)
# never leaks into a download by default.
_PARTICIPANT_FIELDS = ("id", "name", "email", "country", "cohort", "language", "attributes",
                       "opted_out_at", "created_at", "updated_at")
_INVITATION_FIELDS = ("status", "created_at", "opened_at", "started_at", "completed_at")
_DELIVERY_FIELDS = ("kind", "round", "state", "attempts", "queued_at", "sent_at", "updated_at",
                    "message_id", "last_error")
_RESPONSE_FIELDS = ("status", "language", "country", "cohort", "started_at", "updated_at", "submitted_at")

ANONYMOUS_NOTICE = (
    "This survey is anonymous. When a response is submitted, the link between it and the invitation "
    "is removed and its times are rounded to the day, so submitted answers cannot be linked to this "
    "person and are not part of this record."
)


class PrivacyError(ValueError):
    """A privacy request that cannot be carried out, with a message for the user."""


class ParticipantGone(PrivacyError):
    """The person was erased or removed by someone else meanwhile; nothing was changed."""


@dataclass(frozen=True)
class ErasureReport:
    """What erase_participant() deleted: counts only, safe to log and show."""

    participant_id: int
    survey_id: int
    responses: int
    answers: int
    deliveries: int
    invitations: int
    participants: int
    outbox_messages: int = 0
    uploads: int = 0


@dataclass(frozen=True)
class RetentionReport:
    """What erase_expired() removed (or would remove, on a dry run) from one survey."""

    survey_id: int
    slug: str
    expired_since: datetime
    participants: int
    invitations: int
    deliveries: int
    responses_unlinked: int
    resume_links_removed: int
    texts_removed: int
    outbox_messages: int
    dry_run: bool

    def counts(self) -> dict[str, int]:
        data = asdict(self)
        return {k: v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)
                and k != "survey_id"}


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _iso(getattr(obj, name)) for name in fields}


def find_participants(survey_id: int, query: str, limit: int = 25) -> list[Participant]:
    """Find people in a survey by e-mail address or part of the name (for access and erasure requests)."""
    query = query.strip()
    if not query:
        return []
    pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(db.session.execute(
        select(Participant)
        .where(Participant.survey_id == survey_id,
               or_(Participant.email == query.lower(),
                   func.lower(Participant.name).like(pattern, escape="\\"),
                   Participant.email.like(pattern, escape="\\")))
        .order_by(Participant.name, Participant.id)
        .limit(limit)
    ).scalars())


def _linked_response(invitation: Invitation | None) -> Response | None:
    if invitation is None:
        return None
    return db.session.execute(
        select(Response).where(Response.invitation_id == invitation.id)
    ).scalar_one_or_none()


def _answers_with_labels(survey: Survey, response: Response) -> list[dict[str, Any]]:
    """Answers of a response with question and option labels in the survey's base language."""
    answers = db.session.execute(
        select(Answer).where(Answer.response_id == response.id).order_by(Answer.id)
    ).scalars().all()
    questions = {
        q.id: q for q in db.session.execute(
            select(Question).where(Question.survey_id == survey.id)
            .options(selectinload(Question.options), selectinload(Question.section))
        ).scalars()
    }
    lang = survey.base_language
    rows = []
    for answer in sorted(answers, key=lambda a: (questions[a.question_id].section.position,
                                                 questions[a.question_id].position, a.id)):
        question = questions[answer.question_id]
        choices = {o.code: o for o in question.choices}
        items = {o.code: o for o in (question.rows if get_type(question.type).item_role == "row" else question.choices)}
        option = choices.get(answer.option_code)
        item = items.get(answer.item_code)
        rows.append({
            "section": question.section.code,
            "question_code": question.code,
            "question": survey.text(question.label, lang),
            "item_code": answer.item_code or None,
            "item": survey.text(item.label, lang) if item is not None else None,
            "option_code": answer.option_code or None,
            "option": survey.text(option.label, lang) if option is not None else None,
            "number": answer.number,
            "text": answer.text,
        })
    return rows


def participant_data(participant_id: int) -> dict[str, Any]:
    """Everything held about one participant, for a subject access request (no tokens or hashes)."""
    participant = db.session.get(Participant, participant_id)
    if participant is None:
        raise PrivacyError("no such participant")
    survey = db.session.get_one(Survey, participant.survey_id)
    invitation = db.session.execute(
        select(Invitation).where(Invitation.participant_id == participant.id)
    ).scalar_one_or_none()
    deliveries = db.session.execute(
        select(Delivery).where(Delivery.participant_id == participant.id)
        .order_by(Delivery.queued_at, Delivery.id)
    ).scalars().all()
    response = _linked_response(invitation)
    data: dict[str, Any] = {
        "generated_at": utcnow().isoformat(),
        "survey": {"slug": survey.slug, "title": survey.text(survey.title, survey.base_language),
                   "anonymous": survey.anonymous, "retention_days": survey.retention_days},
        "participant": _row(participant, _PARTICIPANT_FIELDS),
        "invitation": _row(invitation, _INVITATION_FIELDS) if invitation else None,
        "deliveries": [_row(d, _DELIVERY_FIELDS) for d in deliveries],
        "response": None,
    }
    if survey.anonymous:
        data["anonymous_notice"] = ANONYMOUS_NOTICE
        if response is not None:
            # An unfinished anonymous response is still linked; staff must not read it.
            data["response"] = {"status": response.status, "answers_withheld": True,
                                "note": "An unfinished response to an anonymous survey is not shown to staff."}
    elif response is not None:
        data["response"] = _row(response, _RESPONSE_FIELDS) | {"answers": _answers_with_labels(survey, response)}
        if response.draft:
            # Typed but not saved as answers yet (not valid when the fellow went back a page).
            codes = dict(db.session.execute(select(Question.id, Question.code)
                                            .where(Question.survey_id == survey.id)).tuples().all())
            data["response"]["unsaved_as_typed"] = {codes.get(int(key), key): fields
                                                    for key, fields in response.draft.items()}
    return data


def participant_summary(participant: Participant) -> dict[str, int]:
    """Count the rows erase_participant() would delete, for the confirmation page."""
    invitation = db.session.execute(
        select(Invitation).where(Invitation.participant_id == participant.id)
    ).scalar_one_or_none()
    response = _linked_response(invitation)
    answers = 0
    if response is not None:
        answers = db.session.execute(
            select(func.count(Answer.id)).where(Answer.response_id == response.id)
        ).scalar_one()
    deliveries = db.session.execute(
        select(func.count(Delivery.id)).where(Delivery.participant_id == participant.id)
    ).scalar_one()
    return {"responses": int(response is not None), "answers": answers, "deliveries": deliveries,
            "invitations": int(invitation is not None)}


def record_export(participant: Participant, actor: StaffUser | None, fmt: str = "json") -> None:
    """Log that someone downloaded a participant's data. Commit."""
    audit.record("participant.exported", participant.survey_id, actor=actor,
                 participant_id=participant.id, format=fmt)
    db.session.commit()


def erase_participant(participant_id: int, actor: StaffUser | None) -> ErasureReport:
    """Delete a participant with everything linked to them in the survey, database and files. Commit.

    Their invitation, ledger rows and any response linked to them; the outbox copies of their
    messages (by ledger row, and by address for copies whose row went earlier); and any pending
    import upload that lists them. Files go before the commit, so a failure leaves the person
    findable and the erasure can be run again. Submitted responses to anonymous surveys are not
    linked to anyone, so they stay. PrivacyError if the person is already gone.
    """
    participant = db.session.get(Participant, participant_id)
    if participant is None or not participant_service.lock_participant(participant_id):
        db.session.rollback()
        raise ParticipantGone("this person has already been erased or removed")
    db.session.refresh(participant)
    survey_id, email = participant.survey_id, participant.email
    invitation_ids = list(db.session.execute(
        select(Invitation.id).where(Invitation.participant_id == participant_id)
    ).scalars())
    response_ids = list(db.session.execute(
        select(Response.id).where(Response.invitation_id.in_(invitation_ids))
    ).scalars()) if invitation_ids else []
    delivery_ids = set(db.session.execute(
        select(Delivery.id).where(Delivery.participant_id == participant_id)).scalars())
    totals.subtract_responses(response_ids)
    answers = rows_changed(
        delete(Answer).where(Answer.response_id.in_(response_ids)).execution_options(synchronize_session=False)
    ) if response_ids else 0
    responses = rows_changed(
        delete(Response).where(Response.id.in_(response_ids)).execution_options(synchronize_session=False)
    ) if response_ids else 0
    deliveries = rows_changed(
        delete(Delivery).where(Delivery.participant_id == participant_id)
        .execution_options(synchronize_session=False)
    )
    invitations = rows_changed(
        delete(Invitation).where(Invitation.participant_id == participant_id)
        .execution_options(synchronize_session=False)
    )
    db.session.expunge(participant)
    participants = rows_changed(
        delete(Participant).where(Participant.id == participant_id).execution_options(synchronize_session=False)
    )
    try:
        outbox_files = outbox.remove_outbox_files(survey_id, delivery_ids, addresses={email})
        uploads = participant_service.discard_uploads_holding(email)
    except OSError as exc:
        db.session.rollback()
        raise PrivacyError(f"a file holding this person could not be deleted ({exc.strerror}); "
                           "nothing was erased") from None
    report = ErasureReport(participant_id, survey_id, responses, answers, deliveries, invitations, participants,
                           outbox_files, uploads)
    audit.record("participant.erased", survey_id, actor=actor, participant_id=participant_id,
                 responses=responses, answers=answers, deliveries=deliveries, invitations=invitations)
    db.session.commit()
    # A message the mail worker was writing at that very moment lands after the first pass.
    outbox.remove_outbox_files(survey_id, delivery_ids)
    _truncate_sqlite_log()
    return report


def _truncate_sqlite_log() -> None:
    """On SQLite, fold the write-ahead log into the database and empty it: its older frames still
    hold erased rows (the database file itself overwrites them: PRAGMA secure_delete). Best effort:
    a reader holding an old snapshot keeps the log until the next checkpoint."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()


def set_retention(survey: Survey, days: int | None, actor: StaffUser | None) -> None:
    """Change how long personal data of a closed survey is kept (None: until erased by hand). Commit."""
    if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
        raise PrivacyError(f"retention must be between 1 and {MAX_RETENTION_DAYS} days")
    previous = survey.retention_days
    if previous == days:
        return
    survey.retention_days = days
    audit.record("survey.retention_changed", survey.id, actor=actor, previous_days=previous, days=days)
    db.session.commit()


def retention_reference(survey: Survey) -> datetime:
    """The moment the retention period counts from: the closing date, else the last activity.

    A survey closed by hand has no closing date, so the clock starts at the last time anything
    happened to its personal data: a response saved, an e-mail updated, an invitation created.
    """
    if survey.closes_at is not None:
        return survey.closes_at
    candidates = [
        # A staff preview is not a fellow's data: it never moves the retention clock.
        db.session.execute(select(func.max(Response.updated_at)).where(
            Response.survey_id == survey.id, Response.is_test.is_(False))).scalar(),
        db.session.execute(select(func.max(Delivery.updated_at)).where(Delivery.survey_id == survey.id)).scalar(),
        db.session.execute(select(func.max(Invitation.created_at)).where(Invitation.survey_id == survey.id)).scalar(),
    ]
    found = [c for c in candidates if c is not None]
    return max(found) if found else survey.created_at


def retention_due(survey: Survey, now: datetime | None = None) -> datetime | None:
    """When the survey's personal data becomes due for erasure, or None if it is kept until erased by hand.

    Only closed surveys expire; while a survey is open (or a draft) there is no due date yet.
    """
    now = now or utcnow()
    if survey.retention_days is None or survey.state(now) is not SurveyState.CLOSED:
        return None
    return retention_reference(survey) + timedelta(days=survey.retention_days)


def _unapproved_text_filter(survey_id: int) -> ColumnElement[bool]:
    return (Answer.response_id.in_(select(Response.id).where(Response.survey_id == survey_id))
            & Answer.text.is_not(None) & Answer.quote_approved.is_(False))


def _retention_counts(survey: Survey) -> dict[str, int]:
    def count(stmt: Select[tuple[int]]) -> int:
        return int(db.session.execute(stmt).scalar_one())

    return {
        "participants": count(select(func.count(Participant.id)).where(Participant.survey_id == survey.id)),
        "invitations": count(select(func.count(Invitation.id)).where(Invitation.survey_id == survey.id)),
        "deliveries": count(select(func.count(Delivery.id)).where(Delivery.survey_id == survey.id)),
        "responses_unlinked": count(select(func.count(Response.id)).where(
            Response.survey_id == survey.id, Response.invitation_id.is_not(None))),
        "resume_links_removed": count(select(func.count(Response.id)).where(
            Response.survey_id == survey.id, Response.resume_token_hash.is_not(None))),
        "texts_removed": count(select(func.count(Answer.id)).where(_unapproved_text_filter(survey.id))),
        "outbox_messages": len(outbox.list_outbox(survey.id)),
    }


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _erase_survey_personal_data(survey: Survey) -> None:
    """Anonymise a survey's responses and delete its people, invitations and ledger rows."""
    responses = db.session.execute(select(Response).where(Response.survey_id == survey.id)).scalars().all()
    for response in responses:
        response.invitation_id = None
        response.resume_token_hash = None
        response.draft = None  # what was typed but never saved may hold free text too
        response.started_at = _day(response.started_at)
        response.updated_at = _day(response.updated_at)
        if response.submitted_at is not None:
            response.submitted_at = _day(response.submitted_at)
    db.session.flush()
    text_filter = _unapproved_text_filter(survey.id)
    # Text-only answers are deleted; an "Other" choice keeps its code but loses the words.
    db.session.execute(delete(Answer).where(text_filter, Answer.option_code == "")
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Answer).where(text_filter).values(text=None)
                       .execution_options(synchronize_session=False))
    for model in (Delivery, Invitation, Participant):
        db.session.execute(delete(model).where(model.survey_id == survey.id)
                           .execution_options(synchronize_session=False))
    # Texts and submission times of every response changed: recount rather than patch.
    totals.rebuild(survey.id)


def clear_address_hashes(now: datetime | None = None, dry_run: bool = False) -> int:
    """Clear the address hash of open-link responses once it has served; return how many. Commit.

    A dry run only counts.

    A hash is kept bursts.HASH_KEPT_FOR after its response was submitted (or started, if never
    submitted), and not beyond the survey's retention: once that is due, every hash of the survey goes.
    """
    now = now or utcnow()
    with_retention = db.session.execute(select(Survey).where(Survey.retention_days.is_not(None))).scalars()
    expired = [survey.id for survey in with_retention if (due := retention_due(survey, now)) is not None and due <= now]
    condition = Response.client_hash.is_not(None) & (
        (func.coalesce(Response.submitted_at, Response.started_at) < now - bursts.HASH_KEPT_FOR)
        | Response.survey_id.in_(expired))
    if dry_run:
        return int(db.session.execute(select(func.count(Response.id)).where(condition)).scalar_one())
    cleared = rows_changed(update(Response).where(condition).values(client_hash=None)
                                 .execution_options(synchronize_session=False))
    db.session.commit()
    return cleared


def erase_expired(now: datetime | None = None, dry_run: bool = False) -> list[RetentionReport]:
    """Erase the personal data of every closed survey whose retention period has passed.

    One commit per survey, each with its "retention.erased" audit event; a dry run only counts.
    Surveys with nothing left to erase are skipped. The survey's outbox copies go with it.
    Uploaded import files expire separately: participants.expire_uploads().
    """
    now = now or utcnow()
    reports: list[RetentionReport] = []
    surveys = db.session.execute(
        select(Survey).where(Survey.retention_days.is_not(None)).order_by(Survey.id)
    ).scalars().all()
    for survey in surveys:
        due = retention_due(survey, now)
        if due is None or due > now:
            continue
        counts = _retention_counts(survey)
        if not any(counts.values()):
            continue
        report = RetentionReport(survey_id=survey.id, slug=survey.slug, expired_since=due, dry_run=dry_run,
                                 **counts)
        if not dry_run:
            _erase_survey_personal_data(survey)
            outbox.remove_outbox_files(survey.id, everything=True)  # before the commit, as in erase_participant
            audit.record("retention.erased", survey.id, None, actor_label="cli",
                         retention_days=survey.retention_days, **counts)
            db.session.commit()
        reports.append(report)
    if reports and not dry_run:
        _truncate_sqlite_log()
    return reports
