"""Forms of the survey privacy pages: the retention setting and erasure confirmation."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from survey_app.models.survey import MAX_RETENTION_DAYS


class RetentionForm(FlaskForm):
    days = IntegerField(
        _l("Erase personal data this many days after the survey closes"),
        validators=[Optional(), NumberRange(
            1, MAX_RETENTION_DAYS, _l("Enter a number of days between 1 and %(max)d", max=MAX_RETENTION_DAYS))],
        description=_l("Leave empty to keep the data until someone erases it by hand."),
    )


class EraseForm(FlaskForm):
    """Only the CSRF token: the confirmation page itself is the second step."""
