"""Helpers for the browser tests: interface texts, the survey's own labels, and answering by label."""
from __future__ import annotations

import re

from flask_babel import force_locale, gettext, ngettext

from survey_app.extensions import db
from survey_app.questions import QuestionView
from survey_app.services import surveys as survey_service
from survey_app.services.structure import SurveyStructure, survey_structure

LANGUAGES = ("en", "fr", "es", "ar", "zh", "ru")
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
               "resultTypes": ["violations"]}


def ui(server, lang: str, message: str, **values) -> str:
    """An interface text as the app shows it in `lang` (translated when a catalogue has it)."""
    with server.app.test_request_context(), force_locale(lang):
        return gettext(message, **values)


def ui_plural(server, lang: str, singular: str, plural: str, num: int) -> str:
    with server.app.test_request_context(), force_locale(lang):
        return ngettext(singular, plural, num)


def structure(server, slug: str) -> SurveyStructure:
    with server.app.app_context():
        result = survey_structure(survey_service.get_survey(slug))
        db.session.remove()
        return result


def exact(text: str) -> re.Pattern:
    """Match a whole accessible name, ignoring the "(optional)" suffix of optional questions.

    The suffix is translated too, with full-width brackets in Chinese: （选填）.
    """
    return re.compile(r"^\s*" + re.escape(text) + r"(\s*[(（].*[)）])?\s*$")


class Answerer:
    """Fill in questions through their visible labels, as a fellow would."""

    def __init__(self, page, server, structure: SurveyStructure, lang: str) -> None:
        self.page, self.server, self.structure, self.lang = page, server, structure, lang

    def t(self, texts: dict) -> str:
        return self.structure.text(texts, self.lang)

    def question(self, code: str) -> QuestionView:
        return self.structure.questions[code]

    def group(self, code: str):
        label = self.t(self.question(code).label)
        return self.page.get_by_role("group", name=exact(label))

    def option_label(self, q: QuestionView, code: str) -> str:
        return self.t(q.choice(code).label)

    def please_specify(self) -> str:
        return ui(self.server, self.lang, "Please specify")

    def choose(self, code: str, option: str, other_text: str | None = None) -> None:
        """Pick one option of a single-choice or likert question (radios or a list)."""
        q = self.question(code)
        label = self.t(q.label)
        if q.type == "single" and (len(q.choices) > 15 or q.settings.get("display") == "select"):
            self.page.get_by_label(exact(label)).select_option(label=self.option_label(q, option))
            scope = self.page
        else:
            scope = self.group(code)
            scope.get_by_role("radio", name=self.option_label(q, option), exact=True).check()
        if other_text is not None:
            scope.get_by_label(self.please_specify(), exact=True).fill(other_text)

    def tick(self, code: str, options: list[str], untick: list[str] = (), other_text: str | None = None) -> None:
        q = self.question(code)
        group = self.group(code)
        for option in untick:
            group.get_by_role("checkbox", name=self.option_label(q, option), exact=True).uncheck()
        for option in options:
            group.get_by_role("checkbox", name=self.option_label(q, option), exact=True).check()
        if other_text is not None:
            group.get_by_label(self.please_specify(), exact=True).fill(other_text)

    def write(self, code: str, text: str) -> None:
        self.page.get_by_label(exact(self.t(self.question(code).label))).fill(text)

    def grid(self, code: str, cells: dict[str, str]) -> None:
        q = self.question(code)
        group = self.group(code)
        for row_code, option in cells.items():
            row = next(r for r in q.rows if r.code == row_code)
            group.get_by_role("group", name=self.t(row.label), exact=True).get_by_role(
                "radio", name=self.option_label(q, option), exact=True).check()

    def rank(self, code: str, ranks: dict[str, int]) -> None:
        q = self.question(code)
        group = self.group(code)
        for item, number in ranks.items():
            group.get_by_label(self.option_label(q, item), exact=True).select_option(str(number))
