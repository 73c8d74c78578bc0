"""Survey definitions: a survey, its sections, questions and options, all loaded from data files."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow

# A translatable text is a mapping of language code to text, e.g. {"en": "Yes", "fr": "Oui"}.
Texts = dict[str, str]

# The longest retention a survey may set (ten years): checked by the form and by the privacy service.
MAX_RETENTION_DAYS = 3650


class SurveyStatus(enum.StrEnum):
    """Stored status; the effective state also depends on the opening and closing dates."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class SurveyState(enum.StrEnum):
    """What a respondent experiences right now."""

    DRAFT = "draft"
    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    CLOSED = "closed"


class OptionRole(enum.StrEnum):
    """Options are answer choices; matrix questions also have rows."""

    CHOICE = "choice"
    ROW = "row"


class Survey(Model):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    format_version: Mapped[int] = mapped_column(Integer, default=1)
    definition_version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped on every load, so cached snapshots of the structure know they are stale.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    base_language: Mapped[str] = mapped_column(String(8), default="en")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    title: Mapped[Texts] = mapped_column(JSON, default=dict)
    intro: Mapped[Texts] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=SurveyStatus.DRAFT.value)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    open_link: Mapped[bool] = mapped_column(Boolean, default=False)
    min_group_size: Mapped[int] = mapped_column(Integer, default=5)
    retention_days: Mapped[int | None] = mapped_column(Integer)
    # Staff-editable invitation text, per language: {"en": {"subject": ..., "opening": ...}}.
    invitation_texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reminder_min_days: Mapped[int] = mapped_column(Integer, default=7)
    reminder_max_count: Mapped[int] = mapped_column(Integer, default=2)
    reminders_scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sections: Mapped[list[Section]] = relationship(
        back_populates="survey", order_by="Section.position", cascade="all, delete-orphan"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="survey", order_by="Question.position", cascade="all, delete-orphan",
        overlaps="section,questions",
    )

    def state(self, now: datetime | None = None) -> SurveyState:
        return survey_state(self.status, self.opens_at, self.closes_at, now)

    def text(self, texts: Texts, lang: str) -> str:
        return pick_text(texts, lang, self.base_language)

    @property
    def language_codes(self) -> list[str]:
        """The survey's languages, its base language first, each once (editors and previews list them so)."""
        return list(dict.fromkeys([self.base_language, *(self.languages or [])]))


def survey_state(status: str, opens_at: datetime | None, closes_at: datetime | None,
                 now: datetime | None = None) -> SurveyState:
    """Compute what respondents see from the stored status and the dates."""
    now = now or utcnow()
    if status == SurveyStatus.DRAFT.value:
        return SurveyState.DRAFT
    if status == SurveyStatus.CLOSED.value:
        return SurveyState.CLOSED
    if opens_at and now < opens_at:
        return SurveyState.NOT_YET_OPEN
    if closes_at and now >= closes_at:
        return SurveyState.CLOSED
    return SurveyState.OPEN


def pick_text(texts: Texts, lang: str, base_language: str) -> str:
    """Pick a text in the language asked, falling back to the survey's base language."""
    return texts.get(lang) or texts.get(base_language) or next(iter(texts.values()), "")


class Section(Model):
    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("survey_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[Texts] = mapped_column(JSON, default=dict)
    intro: Mapped[Texts] = mapped_column(JSON, default=dict)

    survey: Mapped[Survey] = relationship(back_populates="sections")
    questions: Mapped[list[Question]] = relationship(
        back_populates="section", order_by="Question.position", overlaps="questions,survey"
    )


class Question(Model):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("survey_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    # The name of its type in the registry (survey_app/questions), e.g. "single" or "matrix".
    type: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    label: Mapped[Texts] = mapped_column(JSON, default=dict)
    hint: Mapped[Texts] = mapped_column(JSON, default=dict)
    # Type-specific settings: min_choices, max_choices, max_length, min_value, max_value,
    # quotable (free text that may be quoted), quote_consent (the yes/no that allows quoting).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    survey: Mapped[Survey] = relationship(back_populates="questions", overlaps="questions")
    section: Mapped[Section] = relationship(back_populates="questions", overlaps="questions,survey")
    options: Mapped[list[Option]] = relationship(
        back_populates="question", order_by="Option.position", cascade="all, delete-orphan"
    )

    @property
    def choices(self) -> list[Option]:
        return [o for o in self.options if o.role == OptionRole.CHOICE.value]

    @property
    def rows(self) -> list[Option]:
        return [o for o in self.options if o.role == OptionRole.ROW.value]


class Option(Model):
    __tablename__ = "options"
    __table_args__ = (UniqueConstraint("question_id", "role", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(8), default=OptionRole.CHOICE.value)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[Texts] = mapped_column(JSON, default=dict)
    is_other: Mapped[bool] = mapped_column(Boolean, default=False)
    is_exclusive: Mapped[bool] = mapped_column(Boolean, default=False)

    question: Mapped[Question] = relationship(back_populates="options")
