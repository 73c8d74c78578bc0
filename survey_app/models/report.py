"""What staff set for a survey's published report: its cover, edited key findings, public link, quote review."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime, utcnow

# Limits and vocabularies the forms check and the services keep.
ORGANISATION_MAX = 200
TRANSLATION_MAX = 4000
REVIEW_STATES = ("unreviewed", "approved", "rejected", "categorised", "needs_translation")
REVIEW_ACTIONS = ("approve", "reject", "unreview", "categorise", "suggested", "needs_translation", "translated")


class ReportSettings(Model):
    """One row per survey: the cover (organisation, logo, accent colour) and the public web version."""

    __tablename__ = "report_settings"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(200), default="")
    # "#RRGGBB", or None for the report's greys.
    accent_colour: Mapped[str | None] = mapped_column(String(7))
    # The logo as a PNG re-encoded from the upload by Pillow (never the uploaded bytes), and its size.
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_width: Mapped[int | None] = mapped_column(Integer)
    logo_height: Mapped[int | None] = mapped_column(Integer)
    # The public web version: a random seed from which the link is derived with the secret key
    # (services/tokens.py), and the link's hash for lookups; both None while unpublished.
    public_seed: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    public_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReportFinding(Model):
    """A staff edit of one generated key finding, per survey and report language.

    text is the sentence staff wrote (None when they removed it); generated is the sentence the
    data gave when they edited it, so the report can say when the figures have changed since.
    """

    __tablename__ = "report_findings"
    __table_args__ = (UniqueConstraint("survey_id", "language", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(160))
    text: Mapped[str | None] = mapped_column(Text)
    generated: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))


class TextReview(Model):
    """Review state of a free-text answer beyond approval and category: rejected, needs a translation."""

    __tablename__ = "text_reviews"

    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True)
    rejected: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_translation: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class QuoteTranslation(Model):
    """A staff translation of an approved quote into one report language, printed beside the original."""

    __tablename__ = "quote_translations"

    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
