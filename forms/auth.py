"""Staff sign-in and password forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)],
                       render_kw={"autocomplete": "username", "spellcheck": "false"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=512)],
                             render_kw={"autocomplete": "current-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=512)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=512)],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Confirm new password"),
                            validators=[DataRequired(), EqualTo("new_password", _l("The passwords do not match"))],
                            render_kw={"autocomplete": "new-password"})


class InterfaceLanguageForm(FlaskForm):
    """The staff header's language switcher; the view gives the choices (the configured LANGUAGES)."""

    language = SelectField(_l("Language"), validators=[DataRequired()])
    next = HiddenField()
