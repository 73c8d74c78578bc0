"""Staff forms for results: free-text review (one answer or many), quote translations, the report's settings."""
from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, Form, FormField, HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from survey_app.models.report import ORGANISATION_MAX, REVIEW_ACTIONS, TRANSLATION_MAX
from survey_app.models.response import CATEGORY_MAX


class QuoteForm(FlaskForm):
    approve = HiddenField(validators=[AnyOf(["1", "0"])])


class CategoryForm(FlaskForm):
    category = StringField(_l("Category"), validators=[Length(max=CATEGORY_MAX)],
                           render_kw={"autocomplete": "off", "list": "known-categories"})


class BulkReviewForm(FlaskForm):
    """One action for every ticked answer; the answer ids come from the check boxes (name "answer")."""

    # Drawn as a <select> from these pairs by the template (WTForms 3.3 warns about tuple choices).
    actions: ClassVar[list[tuple[str, str]]] = [
        ("approve", _l("Approve as quotes")),
        ("reject", _l("Reject (do not quote)")),
        ("unreview", _l("Mark as not reviewed")),
        ("categorise", _l("Put in the category below")),
        ("suggested", _l("Put each in its suggested category")),
        ("needs_translation", _l("Mark as needing a translation")),
        ("translated", _l("Mark as not needing a translation")),
    ]
    action = StringField(_l("With the selected answers"), validators=[AnyOf(REVIEW_ACTIONS)])
    category = StringField(_l("Category"), validators=[Optional(), Length(max=CATEGORY_MAX)],
                           render_kw={"autocomplete": "off", "list": "known-categories"})


class TranslationForm(FlaskForm):
    """A quote's translations, one box per report language (fields added per survey by the view)."""


def translation_form(languages: list[tuple[str, str]], current: dict[str, str]) -> FlaskForm:
    """A TranslationForm with a text box for each (code, name) language, filled with what is stored."""

    class LanguageTranslations(TranslationForm):
        pass

    for code, name in languages:
        setattr(LanguageTranslations, f"text_{code}", TextAreaField(name, validators=[Length(max=TRANSLATION_MAX)],
                                                     default=current.get(code, ""),
                                                     render_kw={"lang": code, "dir": "auto", "rows": 3}))
    return LanguageTranslations()


class CoverForm(FlaskForm):
    organisation = StringField(_l("Organisation’s name"), validators=[Length(max=ORGANISATION_MAX)])
    accent_colour = StringField(_l("Accent colour (optional)"), validators=[Optional(), Length(max=7)],
                                render_kw={"autocomplete": "off", "spellcheck": "false", "placeholder": "#1d4f91"})
    logo = FileField(_l("Logo (optional)"), render_kw={"accept": "image/png,image/jpeg"})
    remove_logo = BooleanField(_l("Remove the current logo"))


class PublishForm(FlaskForm):
    publish = HiddenField(validators=[AnyOf(["1", "0"])])


class FindingEntry(Form):
    key = HiddenField()
    text = TextAreaField(_l("Sentence"), validators=[Length(max=600)], render_kw={"rows": 3})
    remove = BooleanField(_l("Leave this sentence out of the report"))


class FindingsForm(FlaskForm):
    language = HiddenField()
    findings = FieldList(FormField(FindingEntry))
