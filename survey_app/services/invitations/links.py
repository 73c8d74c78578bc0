"""Each fellow's personal and opt-out links: building them, the opt-out behind one, and replacing them."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import delete, insert, select, update

from ...extensions import db
from ...models import Delivery, DeliveryState, Invitation, Participant, StaffUser
from ...models.base import utcnow
from .. import audit, participants, tokens
from ..mail.outbox import remove_outbox_files


def personal_link(seed: bytes) -> str:
    return f"{current_app.config['BASE_URL']}/s/{tokens.token_from_seed(seed)}"


def optout_link(seed: bytes) -> str:
    return f"{current_app.config['BASE_URL']}/optout/{tokens.token_from_seed(seed, purpose='optout')}"


def find_by_optout_token(token: str) -> Invitation | None:
    if not tokens.looks_like_token(token):
        return None
    return db.session.execute(
        select(Invitation).where(Invitation.optout_token_hash == tokens.hash_token(token))
    ).scalar_one_or_none()


def opt_out(invitation: Invitation) -> bool:
    """Record the fellow's opt-out and cancel every message still waiting for them. Commit."""
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
    audit.record("participants.opt_out", participant.survey_id, None, actor_label="fellow",
                 participant_id=participant.id)
    db.session.commit()
    return True


def delete_invitation_data(participant: Participant, *, actor: StaffUser | None) -> None:
    """Erase one fellow's delivery history, outbox copies and personal link; a fresh link replaces it. Commit.

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
    audit.record("invitations.delete_data", survey_id, actor, participant_id=participant_id,
                 deliveries=len(delivery_ids))
    remove_outbox_files(survey_id, delivery_ids)
    db.session.commit()
