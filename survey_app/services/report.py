"""The published results summary: one content object, rendered as an A4 PDF (survey_app/pdf/document.py)
and as a web page.

The report holds aggregates only: no names, e-mail addresses, tokens or response ids, no internal
identifiers, and no group below the survey's minimum size. Every sentence of it is in the report's
language (Flask-Babel, forced to that language), and all text goes through survey_app.pdf.text,
whose fonts are embedded, so any of the survey's languages prints wherever the file is opened;
Arabic runs right to left, page furniture and tables included.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _

from ..figures import Figure, percent_text
from ..i18n import text_direction
from ..models import Survey
from ..pdf import document
from ..pdf import text as pdf_text
from . import findings as findings_service
from . import report_settings
from .results import Quote, ResultFilter, SurveyResults, approved_quotes, summarise
from .results.disclosure import UNKNOWN_COUNTRY


@dataclass
class AppendixTable:
    """A data table moved to the appendix, numbered, with the question it belongs to."""

    number: int
    question: str
    figure: Figure


@dataclass
class RegionTop:
    """A shown region's most common answer to the cross-tabulated question."""

    region: str
    answers: list[str]
    percent: float | None
    base: int


@dataclass
class ReportContent:
    """Everything the report shows, in its language; the PDF and the web page both draw this."""

    survey_slug: str
    results: SurveyResults
    quotes: list[Quote]
    generated_at: datetime
    language: str = "en"
    method: list[str] = field(default_factory=list)
    findings: list[findings_service.Finding] = field(default_factory=list)
    organisation: str = ""
    accent_colour: str | None = None
    logo_png: bytes | None = None
    logo_size: tuple[int, int] | None = None
    public_url: str | None = None
    period: str = ""
    generated_on: str = ""
    data_as_of: str = ""
    region_tops: list[RegionTop] = field(default_factory=list)
    appendix: list[AppendixTable] = field(default_factory=list)
    table_numbers: dict[str, list[int]] = field(default_factory=dict)

    @property
    def direction(self) -> str:
        return text_direction(self.language)

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"

    @property
    def logo_data_uri(self) -> str | None:
        """The logo inline, so the web version loads nothing from anywhere else."""
        return "data:image/png;base64," + base64.b64encode(self.logo_png).decode() if self.logo_png else None


def format_pct(value: float | None) -> str:
    return percent_text(value)


def report_languages(survey: Survey) -> list[str]:
    """The languages a report can be built in: the survey's own."""
    return list(survey.languages or [survey.base_language])


def _day(moment: datetime | None) -> str:
    return format_date(moment, "long") if moment else "–"


def _method(survey: Survey, results: SurveyResults) -> list[str]:
    status = results.status
    invited = ngettext("%(num)d ITP fellow was invited by a personal e-mail invitation.",
                       "%(num)d ITP fellows were invited by a personal e-mail invitation.", status.invited)
    if survey.open_link:
        invited += " " + _("The survey was also open to fellows through a shared link.")
    return [
        invited + " " + _("Reminders went to those who had not answered."),
        ngettext("The figures count %(num)d complete response.", "The figures count %(num)d complete responses.",
                 results.completed_all) + " "
        + ngettext("%(num)d partial response (started but not submitted) is not included.",
                   "%(num)d partial responses (started but not submitted) are not included.", status.partial) + " "
        + _("The response rate is the share of invited fellows who completed the survey."),
        _("Each percentage is of the respondents who answered that question; this base is shown as “n = …” "
          "beside each chart. Where several answers could be chosen, the percentages add up to more than 100 %."),
        ngettext("To protect anonymity, no result is shown for any group (a country, a world region) of fewer "
                 "than %(num)d respondent; where one withheld group could be worked out by subtraction, a second "
                 "group is withheld too.",
                 "To protect anonymity, no result is shown for any group (a country, a world region) of fewer "
                 "than %(num)d respondents; where one withheld group could be worked out by subtraction, a second "
                 "group is withheld too.", survey.min_group_size),
        _("Quotations come only from fellows who agreed to be quoted anonymously, and were chosen by ITP staff. "
          "They are not attributed. Where staff translated a quotation, the translation is printed beside it."),
        _("The data tables behind every chart are in the appendix."),
    ]


def _region_tops(results: SurveyResults) -> list[RegionTop]:
    """For each region shown, its most common answer; withheld regions and unknown countries are left out."""
    crosstab = results.crosstab
    if crosstab is None:
        return []
    tops = []
    for index, column in enumerate(crosstab.columns):
        if not column.shown or column.code == UNKNOWN_COUNTRY:
            continue
        best = max((cells[index][0] or 0 for _code, _label, cells in crosstab.answers), default=0)
        if not best:
            continue
        winners = [(label, cells[index][1]) for _code, label, cells in crosstab.answers if cells[index][0] == best]
        tops.append(RegionTop(column.label, [label for label, _p in winners], winners[0][1], column.base))
    return tops


def _appendix(results: SurveyResults) -> tuple[list[AppendixTable], dict[str, list[int]]]:
    tables: list[AppendixTable] = []
    numbers: dict[str, list[int]] = {}
    for question in results.questions:
        for figure in question.figures:
            if figure.kind == "table":
                tables.append(AppendixTable(len(tables) + 1, question.label, figure))
                numbers.setdefault(question.code, []).append(len(tables))
    return tables, numbers


def build_content(survey: Survey, lang: str | None = None) -> ReportContent:
    """Gather everything the summary shows, in one language, for the whole survey, small groups withheld."""
    lang = lang if lang in report_languages(survey) else survey.base_language
    settings = report_settings.settings_for(survey)
    with force_locale(lang):
        results = summarise(survey, ResultFilter(), lang)
        quotes = [] if results.withheld else approved_quotes(survey, lang)
        appendix, numbers = _appendix(results)
        generated_at = datetime.now(UTC)
        start, end = results.period_start, results.period_end
        period = " – ".join(_day(d) for d in (start, end) if d) if (start or end) else _("No responses yet")
        return ReportContent(
            survey.slug, results, quotes, generated_at, language=lang, method=_method(survey, results),
            findings=findings_service.printed(findings_service.findings(survey, results)),
            organisation=settings.organisation or _("British Museum International Training Programme"),
            accent_colour=settings.accent_colour, logo_png=settings.logo_png,
            logo_size=(settings.logo_width, settings.logo_height) if settings.logo_png and settings.logo_width
            and settings.logo_height else None,
            public_url=report_settings.public_url(settings), period=period, generated_on=_day(generated_at),
            data_as_of=_day(results.latest_submission), region_tops=_region_tops(results), appendix=appendix,
            table_numbers=numbers,
        )


def write_pdf(survey: Survey, output: BinaryIO, lang: str | None = None) -> ReportContent:
    """Render the results summary as an A4 PDF into a binary file object."""
    pdf_text.register_fonts()
    content = build_content(survey, lang)
    document.render(content, output)
    return content


def render_pdf_bytes(survey: Survey, lang: str | None = None) -> bytes:
    buffer = io.BytesIO()
    write_pdf(survey, buffer, lang)
    return buffer.getvalue()

