"""Opening and closing a survey by hand, now or at a moment staff choose; times are UTC.

Each change is worked out first (`opening`, `closing`: nothing stored, so the confirmation page can
say what fellows will see), then made and audited in one commit (`open_survey`, `close_survey`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import format_date, format_time
from flask_babel import gettext as _

from ..extensions import db
from ..models import StaffUser, Survey, SurveyState, SurveyStatus
from ..models.base import utcnow
from . import audit


class ScheduleError(ValueError):
    """A change staff cannot make, with a message for them; field names the form field it is about."""

    def __init__(self, message: str, field: str = "when") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Schedule:
    """A survey's opening and closing after a change, and how it got there."""

    now: bool  # the change takes effect at once (else at `at`)
    at: datetime  # when it takes effect
    opens_at: datetime | None
    closes_at: datetime | None
    # A closing time that had already passed, dropped when the survey is opened again.
    dropped_closing: datetime | None = None


def moment_text(moment: datetime) -> str:
    """A moment as staff read it, always naming the zone: "12 January 2027 at 17:00 (UTC)"."""
    utc = moment.astimezone(UTC)  # as it is, whatever BABEL_DEFAULT_TIMEZONE says: the text names UTC
    return _("%(date)s at %(time)s (UTC)", date=format_date(utc, "long", rebase=False),
             time=format_time(utc, "HH:mm", rebase=False))


def opening(survey: Survey, at: datetime | None, now: datetime | None = None) -> Schedule:
    """Work out opening the survey now (at=None) or at a future moment; raise ScheduleError if it cannot."""
    now = now or utcnow()
    state = survey.state(now)
    if state is SurveyState.OPEN:
        raise ScheduleError(_("The survey is already open."))
    if at is not None and at <= now:
        raise ScheduleError(_("The opening time must be in the future. It is now %(now)s.", now=moment_text(now)),
                            "date")
    start = at or now
    closes_at, dropped = survey.closes_at, None
    if closes_at is not None and closes_at <= now:
        closes_at, dropped = None, closes_at  # reopening: the closing that has passed no longer applies
    elif closes_at is not None and closes_at <= start:
        raise ScheduleError(_("The survey is set to close on %(closes)s, before this opening time. Choose an "
                              "earlier time, or change the closing time first.", closes=moment_text(closes_at)),
                            "date")
    return Schedule(now=at is None, at=start, opens_at=start, closes_at=closes_at, dropped_closing=dropped)


def closing(survey: Survey, at: datetime | None, now: datetime | None = None) -> Schedule:
    """Work out closing the survey now (at=None) or at a future moment; raise ScheduleError if it cannot."""
    now = now or utcnow()
    state = survey.state(now)
    if state is SurveyState.DRAFT:
        raise ScheduleError(_("This survey is a draft: it has never been open, so there is nothing to close."))
    if state is SurveyState.CLOSED:
        raise ScheduleError(_("The survey is already closed."))
    if at is not None and at <= now:
        raise ScheduleError(_("The closing time must be in the future. It is now %(now)s.", now=moment_text(now)),
                            "date")
    if at is not None and survey.opens_at is not None and at <= survey.opens_at:
        raise ScheduleError(_("The closing time must be after the survey opens, on %(opens)s.",
                              opens=moment_text(survey.opens_at)), "date")
    return Schedule(now=at is None, at=at or now, opens_at=survey.opens_at, closes_at=at or now)


def open_survey(survey: Survey, at: datetime | None, actor: StaffUser | None,
                now: datetime | None = None) -> Schedule:
    """Open the survey now or at a future moment (checked again: time has passed since the confirmation). Commit."""
    now = now or utcnow()
    previous = survey.state(now)
    change = opening(survey, at, now)
    survey.status = SurveyStatus.OPEN.value
    survey.opens_at, survey.closes_at = change.opens_at, change.closes_at
    audit.record("survey.opened" if change.now else "survey.opening_scheduled", survey.id, actor,
                 previous_state=previous.value, opens_at=_iso(change.opens_at), closes_at=_iso(change.closes_at))
    db.session.commit()
    return change


def close_survey(survey: Survey, at: datetime | None, actor: StaffUser | None,
                 now: datetime | None = None) -> Schedule:
    """Close the survey now or at a future moment; closed now, it stays closed until opened again. Commit."""
    now = now or utcnow()
    previous = survey.state(now)
    change = closing(survey, at, now)
    if change.now:
        survey.status = SurveyStatus.CLOSED.value  # also for a survey that had not opened yet
    survey.closes_at = change.closes_at
    audit.record("survey.closed" if change.now else "survey.closing_scheduled", survey.id, actor,
                 previous_state=previous.value, closes_at=_iso(change.closes_at))
    db.session.commit()
    return change


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="minutes") if moment is not None else None
