"""Running totals of complete responses, kept in the submitting transaction so results never scan answers.

Key columns cannot be NULL (an upsert would never find a row whose key holds NULL), so a
missing country or category is stored as '' and a missing cohort as -1.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime

NO_COHORT = -1


class ResponseTotal(Model):
    """Complete responses of one respondent group (country, cohort, language) and when they came in."""

    __tablename__ = "response_totals"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    cohort: Mapped[int] = mapped_column(Integer, primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    responses: Mapped[int] = mapped_column(Integer, default=0)
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AnswerTotal(Model):
    """Answers of complete responses in one question cell and country.

    The cell is (item_code, option_code, number, category) as stored on the answers, number 0
    when there is none: a histogram of numbers, so minimum and maximum survive subtraction.
    `respondents` (responses that answered the question at all) is kept on the question's
    blank cell ('', '', 0, '').
    """

    __tablename__ = "answer_totals"

    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    option_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(100), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    answers: Mapped[int] = mapped_column(Integer, default=0)
    numbers: Mapped[int] = mapped_column(Integer, default=0)
    texts: Mapped[int] = mapped_column(Integer, default=0)
    respondents: Mapped[int] = mapped_column(Integer, default=0)
