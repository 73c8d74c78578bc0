"""Staff forms for invitations: texts, sending confirmations, reminder schedule."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class InvitationTextsForm(FlaskForm):
    subject = StringField(_l("Invitation subject"), validators=[Optional(), Length(max=200)])
    opening = TextAreaField(_l("Invitation opening paragraph"), validators=[Optional(), Length(max=4000)])
    reminder_subject = StringField(_l("Reminder subject"), validators=[Optional(), Length(max=200)])
    reminder_opening = TextAreaField(_l("Reminder opening paragraph"), validators=[Optional(), Length(max=4000)])


class SendForm(FlaskForm):
    """Confirms a send; `round` is the idempotency key so a second click queues nothing new."""

    round = HiddenField(validators=[DataRequired()])


class ScheduleForm(FlaskForm):
    enabled = BooleanField(_l("Send reminders automatically"))
    min_days = IntegerField(_l("Days between messages"), validators=[DataRequired(), NumberRange(1, 365)])
    max_count = IntegerField(_l("Maximum number of reminders"), validators=[NumberRange(0, 10)])
