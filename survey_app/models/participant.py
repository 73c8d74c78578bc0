"""People invited to a survey, their personal invitations and the delivery ledger."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow


class Participant(Model):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("survey_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Stored normalised (lower-cased domain and local part) so re-imports merge people.
    email: Mapped[str] = mapped_column(String(320))
    country: Mapped[str | None] = mapped_column(String(2))
    cohort: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(8))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    invitation: Mapped[Invitation | None] = relationship(
        back_populates="participant", cascade="all, delete-orphan", uselist=False
    )


class InvitationStatus(enum.StrEnum):
    """How far the fellow got with their personal link (delivery state lives in the ledger)."""

    CREATED = "created"
    OPENED = "opened"
    STARTED = "started"
    COMPLETED = "completed"


class Invitation(Model):
    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("survey_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    # Only a SHA-256 of the token is stored; the token is HMAC(SECRET_KEY, token_seed) and
    # can be rebuilt for reminders by whoever holds the key, never read from the database alone.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_seed: Mapped[bytes] = mapped_column(LargeBinary(32))
    # SHA-256 of the opt-out token (same seed, purpose "optout"): the unsubscribe link in mail
    # headers must not double as the answering link.
    optout_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.CREATED.value)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Coarsened to the day for anonymous surveys; set when the response is submitted.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="invitation")


class DeliveryKind(enum.StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"


class DeliveryState(enum.StrEnum):
    """Ledger states: queued -> sending -> sent, or retry / failed / uncertain / cancelled."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


class MailBatch(Model):
    """One press of Send or Remind: the unit whose progress staff follow."""

    __tablename__ = "mail_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Model):
    """One e-mail to one participant: the ledger row that makes sending exactly-once."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("participant_id", "survey_id", "kind", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("mail_batches.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.QUEUED.value, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
