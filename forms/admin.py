"""Forms of the admin pages: staff accounts."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from survey_app.models import Role

ROLE_CHOICES = [
    SelectChoice(Role.STAFF.value, _l("Staff: works with surveys, participants and results")),
    SelectChoice(Role.ADMIN.value, _l("Admin: also manages staff accounts")),
]


class CreateStaffForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the person’s name")), Length(max=200)])
    email = EmailField(_l("E-mail address"), validators=[
        DataRequired(_l("Enter an e-mail address")), Email(_l("Enter an e-mail address like name@example.org"),
                                                          check_deliverability=False), Length(max=320)])
    role = RadioField(_l("Role"), choices=ROLE_CHOICES, default=Role.STAFF.value,
                      validators=[DataRequired(_l("Choose a role"))])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(_l("Enter an initial password")),
                                                                 Length(max=512)])


class RoleForm(FlaskForm):
    role = RadioField(_l("Role"), choices=ROLE_CHOICES, validators=[DataRequired(_l("Choose a role"))])


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password")),
                                                                 Length(max=512)])
    confirm = PasswordField(_l("Confirm new password"), validators=[
        DataRequired(_l("Enter the new password again")),
        EqualTo("new_password", _l("The passwords do not match"))])
