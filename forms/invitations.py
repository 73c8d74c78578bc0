"""Staff forms for invitations: texts, sending confirmations, reminder schedule."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

TEXT_FIELDS = ("subject", "opening", "reminder_subject", "reminder_opening")


class InvitationTextsForm(FlaskForm):
    """One language's four texts; an emptied field goes back to that language's built-in text."""

    subject = StringField(_l("Invitation subject"), validators=[Optional(), Length(max=200)])
    opening = TextAreaField(_l("Invitation opening paragraph"), validators=[Optional(), Length(max=4000)])
    reminder_subject = StringField(_l("Reminder subject"), validators=[Optional(), Length(max=200)])
    reminder_opening = TextAreaField(_l("Reminder opening paragraph"), validators=[Optional(), Length(max=4000)])
    # Texts whose translation staff confirm still fits the changed base-language text.
    reviewed = SelectMultipleField(choices=[SelectChoice(key) for key in TEXT_FIELDS], validators=[Optional()])


class SendTestForm(FlaskForm):
    """Send the message in one of the survey's languages to the signed-in staff member."""

    kind = RadioField(_l("Message"), choices=[SelectChoice("invitation", _l("The invitation")),
                                                SelectChoice("reminder", _l("The reminder"))],
                      default="invitation", validators=[InputRequired()])
    language = SelectField(_l("Language"), validators=[InputRequired()], choices=[])


class SendForm(FlaskForm):
    """Confirms a send; `round` is the idempotency key so a second click queues nothing new."""

    round = HiddenField(validators=[DataRequired()])


class ScheduleForm(FlaskForm):
    enabled = BooleanField(_l("Send reminders automatically"))
    min_days = IntegerField(_l("Days between messages"), validators=[DataRequired(), NumberRange(1, 365)])
    max_count = IntegerField(_l("Maximum number of reminders"), validators=[NumberRange(0, 10)])
