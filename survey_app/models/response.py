"""Responses and their answers; answers hold option codes, never labels."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow

# The longest category staff may give an "Other" answer (forms check it; the column holds it).
CATEGORY_MAX = 100

class ResponseStatus(enum.StrEnum):
    PARTIAL = "partial"
    COMPLETE = "complete"


class ResponseChannel(enum.StrEnum):
    """How a response came in, recorded when it is created."""

    PERSONAL = "personal"  # a personal invitation link (/s/)
    OPEN = "open"  # the survey's open link (/survey/<slug>)
    PREVIEW = "preview"  # a staff preview, always a test (is_test): never counted
    UNKNOWN = "unknown"  # stored before channels were recorded, with nothing left to tell which


class Response(Model):
    __tablename__ = "responses"
    __table_args__ = (
        # Open-link responses per address and time, for the dashboard's burst notice; only the few
        # rows that hold a hash are indexed.
        Index("ix_responses_client_hash", "survey_id", "client_hash", "started_at",
              sqlite_where=sql_text("client_hash IS NOT NULL"), postgresql_where=sql_text("client_hash IS NOT NULL")),
        # Complete real responses per channel, counted on every results view for the channel filter
        # (is_test before channel, so the count of real ones stays index-only).
        Index("ix_responses_survey_status_test_channel", "survey_id", "status", "is_test", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    # Unique: at most one response per invitation, enforced by the database. NULL for open-link
    # responses and for anonymous surveys once submitted (the link is cut at submission).
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), unique=True
    )
    # SHA-256 of the resume token handed to open-link respondents.
    resume_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ResponseStatus.PARTIAL.value, index=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # Respondent attributes copied at start for filtering results without joining people.
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    cohort: Mapped[int | None] = mapped_column(Integer)
    last_section: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(16), default=ResponseChannel.PERSONAL.value,
                                         server_default=ResponseChannel.PERSONAL.value)
    # Open-link responses only: a keyed hash of the client's address (never the address), to flag
    # many responses from one connection; cleared after a while (services/privacy.py).
    client_hash: Mapped[str | None] = mapped_column(String(32))
    # A staff member's preview (services/test_responses.py): walked like an open-link response but
    # never counted in totals, results, exports, the report or any fellow's status; staff delete them.
    is_test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_text("false"))
    # What a fellow typed on a page but could not save yet, because it was not valid when they went
    # back a page: {question id: [[field name, value], ...]}, shown again as typed on that page. Never
    # an answer: results, exports and the PDF read only `answers`; cleared once saved or submitted.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class Answer(Model):
    """One stored value: a chosen option, a matrix cell, a rank, a number or a text.

    item_code is the matrix row or the ranked option ('' otherwise); option_code is the chosen
    option ('' for text and number answers); number holds numbers and ranks.
    """

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("response_id", "question_id", "item_code", "option_code"),
        # Partial: only the few approved quotes are indexed, so the PDF finds them without
        # reading every answer, and ordinary saves pay nothing for it.
        Index("ix_answers_quote_approved", "question_id", "id", sqlite_where=sql_text("quote_approved = 1"),
              postgresql_where=sql_text("quote_approved")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    item_code: Mapped[str] = mapped_column(String(64), default="")
    option_code: Mapped[str] = mapped_column(String(64), default="")
    number: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    # Free-text review by staff: approved for quoting, and a category for "Other" texts.
    quote_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str | None] = mapped_column(String(CATEGORY_MAX))

    response: Mapped[Response] = relationship(back_populates="answers")
