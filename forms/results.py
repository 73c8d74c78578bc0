"""Staff forms for free-text review: approving quotes and categorising "Other" answers."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, Length


class QuoteForm(FlaskForm):
    approve = HiddenField(validators=[AnyOf(["1", "0"])])


class CategoryForm(FlaskForm):
    category = StringField(_l("Category"), validators=[Length(max=100)],
                           render_kw={"autocomplete": "off", "list": "known-categories"})
