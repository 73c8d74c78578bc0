"""One participant at a time: add, edit, remove, look up, and the row lock every staff action on a person takes."""
from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Delivery, Invitation, Participant, StaffUser, Survey
from .. import audit, tokens
from ..mail import outbox
from ..statements import rows_changed
from .validation import ParticipantData, ParticipantError


class ParticipantGone(LookupError):
    """The participant was removed or erased by someone else meanwhile; nothing was changed."""


def invitation_rows(survey_id: int, participant_ids: list[int]) -> list[dict[str, Any]]:
    """Rows for fresh personal invitations (a new random seed each), ready for a bulk insert."""
    rows = []
    for participant_id in participant_ids:
        seed = tokens.new_seed()
        rows.append({
            "survey_id": survey_id, "participant_id": participant_id, "token_seed": seed,
            "token_hash": tokens.hash_token(tokens.token_from_seed(seed)),
            "optout_token_hash": tokens.hash_token(tokens.token_from_seed(seed, purpose="optout")),
            "status": "created",
        })
    return rows


def lock_participant(participant_id: int) -> bool:
    """Hold this person's row until the commit, and say whether they still exist.

    Every staff action on one person (edit, remove, resend, delete invitation data, erase) starts
    here, so two of them on the same person run one after the other and the second sees what the
    first did. A no-op UPDATE rather than SELECT ... FOR UPDATE: it locks the row on PostgreSQL
    and takes the write lock on SQLite, which has no row locks.
    """
    return rows_changed(
        update(Participant).where(Participant.id == participant_id)
        .values(updated_at=Participant.updated_at).execution_options(synchronize_session=False)) == 1


def lock_participant_or_raise(participant: Participant) -> None:
    """Lock the participant and reload what others may have changed, or roll back and raise ParticipantGone."""
    participant_id = participant.id
    if not lock_participant(participant_id):
        db.session.rollback()
        raise ParticipantGone(participant_id)
    db.session.refresh(participant)


EMAIL_TAKEN = "someone with this e-mail address is already a participant"


def _email_taken(survey_id: int, email: str, except_id: int | None = None) -> bool:
    query = select(func.count(Participant.id)).where(Participant.survey_id == survey_id,
                                                     Participant.email == email)
    if except_id is not None:
        query = query.where(Participant.id != except_id)
    return db.session.execute(query).scalar_one() > 0


def add_participant(survey: Survey, person: ParticipantData, *, actor: StaffUser | None) -> Participant:
    """Add one fellow with a personal invitation. Commit."""
    if _email_taken(survey.id, person.email):
        raise ParticipantError({"email": EMAIL_TAKEN})
    participant = Participant(survey_id=survey.id, email=person.email, **person.values())
    try:
        db.session.add(participant)
        db.session.flush()
        db.session.execute(insert(Invitation), invitation_rows(survey.id, [participant.id]))
        audit.record("participants.add", survey.id, actor, participant_id=participant.id)
        db.session.commit()
    except IntegrityError:  # the same address added by someone else at the same moment
        db.session.rollback()
        raise ParticipantError({"email": EMAIL_TAKEN}) from None
    return participant


def update_participant(participant: Participant, person: ParticipantData, *, actor: StaffUser | None) -> Participant:
    """Change one fellow's details; attributes from imports are kept. Commit. ParticipantGone if removed meanwhile."""
    lock_participant_or_raise(participant)
    if _email_taken(participant.survey_id, person.email, except_id=participant.id):
        db.session.rollback()
        raise ParticipantError({"email": EMAIL_TAKEN})
    participant.name = person.name
    participant.email = person.email
    participant.country = person.country
    participant.cohort = person.cohort
    participant.language = person.language
    audit.record("participants.edit", participant.survey_id, actor, participant_id=participant.id)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ParticipantError({"email": EMAIL_TAKEN}) from None
    return participant


def remove_participant(participant: Participant, *, actor: StaffUser | None) -> None:
    """Remove a fellow with their invitation, ledger rows and outbox copies (their response, if any, stays). Commit.

    ParticipantGone if someone removed or erased them meanwhile.
    """
    survey_id, participant_id = participant.survey_id, participant.id
    if not lock_participant(participant_id):
        db.session.rollback()
        raise ParticipantGone(participant_id)
    delivery_ids = set(db.session.execute(
        select(Delivery.id).where(Delivery.participant_id == participant_id)).scalars())
    db.session.execute(delete(Delivery).where(Delivery.participant_id == participant_id)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(Invitation).where(Invitation.participant_id == participant_id)
                       .execution_options(synchronize_session=False))
    db.session.expunge(participant)
    db.session.execute(delete(Participant).where(Participant.id == participant_id)
                       .execution_options(synchronize_session=False))
    audit.record("participants.remove", survey_id, actor, participant_id=participant_id)
    outbox.remove_outbox_files(survey_id, delivery_ids)
    db.session.commit()


def get_participant(survey_id: int, participant_id: int) -> Participant | None:
    return db.session.execute(
        select(Participant).where(Participant.survey_id == survey_id, Participant.id == participant_id)
    ).scalar_one_or_none()


def participant_survey_id(participant_id: int) -> int | None:
    """The survey a participant belongs to, or None if there is no such participant (any more)."""
    return db.session.execute(
        select(Participant.survey_id).where(Participant.id == participant_id)).scalar_one_or_none()
