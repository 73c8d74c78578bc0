"""Fieldwork progress: complete responses per day, with the invitation and each reminder round marked.

The dashboard leads with it beside the response rate. Days are UTC days of submission; the rounds
come from the mail batches (one press of Send or Remind each), the first batch of a round marking it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select

from ...extensions import db
from ...figures import Cell, Day, Figure, Mark, Table, Timeline
from ...i18n import RTL_LANGUAGES
from ...models import DeliveryKind, MailBatch, Response
from .disclosure import complete_condition
from .filters import ResultFilter


@dataclass(frozen=True)
class MailRound:
    """The invitation (round 0) or a reminder round, and the day its first batch was sent."""

    kind: str
    round: int
    day: date


def _utc_day(column: Any) -> ColumnElement[str]:
    """The UTC calendar day of a timestamp column, as each database writes it."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite keeps UTC timestamps as text


def completions_per_day(survey_id: int, filter_: ResultFilter | None = None) -> dict[date, int]:
    """Complete responses of the filtered group per UTC day of submission: one GROUP BY."""
    filter_ = filter_ or ResultFilter()
    day = _utc_day(Response.submitted_at)
    rows = db.session.execute(
        select(day, func.count()).where(complete_condition(survey_id), Response.submitted_at.is_not(None),
                                        *filter_.response_conditions())
        .group_by(day)
    ).all()
    return {date.fromisoformat(str(value)[:10]): count for value, count in rows if value is not None}


def mail_rounds(survey_id: int) -> list[MailRound]:
    """The invitation and each reminder round, on the day its first batch was made."""
    rows = db.session.execute(
        select(MailBatch.kind, MailBatch.round, func.min(MailBatch.created_at))
        .where(MailBatch.survey_id == survey_id).group_by(MailBatch.kind, MailBatch.round)
    ).all()
    rounds = [MailRound(kind, number, first.date()) for kind, number, first in rows if first is not None]
    return sorted(rounds, key=lambda r: (r.day, r.kind != DeliveryKind.INVITATION.value, r.round))


def _mark_label(mail_round: MailRound) -> str:
    if mail_round.kind == DeliveryKind.INVITATION.value:
        return _("Invitations sent")
    return _("Reminder %(num)d", num=mail_round.round)


def progress_figures(survey_id: int, filter_: ResultFilter | None, lang: str) -> list[Figure]:
    """The per-day chart with its table, in the language given; nothing before the first completion or mailing."""
    per_day = completions_per_day(survey_id, filter_)
    rounds = mail_rounds(survey_id)
    days_seen: Sequence[date] = [*per_day, *(r.day for r in rounds)]
    if not per_day:
        return []
    first, last = min(days_seen), max(days_seen)
    with force_locale(lang):
        def label(day: date) -> str:
            return format_date(day, "d MMM y", locale=lang)

        days = tuple(Day(first + timedelta(n), per_day.get(first + timedelta(n), 0), label(first + timedelta(n)))
                     for n in range((last - first).days + 1))
        marks = tuple(Mark(r.day, _mark_label(r), label(r.day)) for r in rounds)
        total = sum(per_day.values())
        title = _("Complete responses per day")
        chart = Timeline(title, days, marks, rtl=lang in RTL_LANGUAGES,
                         base_text=ngettext("%(num)d complete response in this view, by day of submission (UTC); "
                                            "dashed lines mark the invitation and each reminder.",
                                            "%(num)d complete responses in this view, by day of submission (UTC); "
                                            "dashed lines mark the invitation and each reminder.", total))
        events: dict[date, list[str]] = {}
        for mark in marks:
            events.setdefault(mark.day, []).append(mark.label)
        rows = tuple((Cell(d.label), Cell("; ".join(events.get(d.day, []))),
                      Cell(str(d.count), key=f"day:{d.day.isoformat()}"))
                     for d in days if d.count or d.day in events)
        table = Table(title, (_("Day"), _("Mailing"), _("Complete responses")), rows, numeric_from=2)
    return [chart, table]
