"""Forms of a survey's overview page: opening and closing it, now or at a date and time (UTC)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

T = TypeVar("T")


class _MomentForm(FlaskForm):
    """Now, or a date and a time in UTC, as typed (kept as text, so a wrong value comes back as typed).

    The overview holds two of these, told apart by a prefix on their fields. Their CSRF token is the
    page's usual csrf_token field, which CSRFProtect checks on every POST before the view runs; a
    prefixed copy of it inside the form would only be a second name for the same check.
    """

    class Meta:
        csrf = False

    when = RadioField(choices=[SelectChoice("now", _l("Now")), SelectChoice("at", _l("At a date and time"))],
                      validators=[InputRequired(_l("Choose now, or a date and time"))])
    date = StringField(_l("Date"), validators=[Length(max=20)])
    time = StringField(_l("Time (UTC, 24-hour clock)"), validators=[Length(max=16)])
    # Set on the confirmation page: the second press makes the change.
    confirmed = HiddenField()

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.when.data != "at":
            return True
        day = _parse(dt.date.fromisoformat, self.date.data)
        hour = _parse(dt.time.fromisoformat, self.time.data)
        if day is None:
            self.date.errors = [_l("Enter the date as year-month-day, for example 2027-01-12")]
        if hour is None:
            self.time.errors = [_l("Enter the time as hours and minutes on a 24-hour clock, for example 17:00")]
        return day is not None and hour is not None

    def moment(self) -> dt.datetime | None:
        """The moment chosen, in UTC (a time typed with its own offset is converted); None for now."""
        if self.when.data != "at":
            return None
        day, hour = dt.date.fromisoformat(self.date.data.strip()), dt.time.fromisoformat(self.time.data.strip())
        moment = dt.datetime.combine(day, hour.replace(second=0, microsecond=0))
        return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _parse(parse: Callable[[str], T], text: str | None) -> T | None:
    try:
        return parse((text or "").strip())
    except ValueError:
        return None


class OpenForm(_MomentForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="open", **kwargs)
        self.when.label.text = _l("Open the survey")


class CloseForm(_MomentForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, prefix="close", **kwargs)
        self.when.label.text = _l("Close the survey")
