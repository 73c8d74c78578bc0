"""Staff forms for participants: CSV upload, confirming an import, one participant."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import EmailField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp


class ImportUploadForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[
        FileRequired(_l("Choose a CSV file to upload")),
        FileAllowed(["csv", "txt"], _l("The file must be a CSV file (.csv)")),
    ])


class ImportConfirmForm(FlaskForm):
    import_id = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])


class ParticipantForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the fellow's name")), Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(_l("Enter an e-mail address")),
                                                         Length(max=320)])
    country = StringField(_l("Country (ISO code, for example KE)"), validators=[Optional(), Length(max=60)])
    # Checked by the import's rules (services/participants.parse_cohort), whose message states the range.
    cohort = StringField(_l("Cohort year"), validators=[Optional()])
    language = SelectField(_l("Language for e-mails"), validators=[Optional()], choices=[])


class ConfirmForm(FlaskForm):
    """A bare POST form for confirmation pages (delete, opt-out): only the CSRF token."""
