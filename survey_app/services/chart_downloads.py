"""One question's chart as a picture for a blog: in any of the survey's languages, with its title, n and source.

The chart is the one the dashboard and the PDF show (the question type's figures), summarised for
the same filtered group with the same disclosure rules, so a group too small to show on the dashboard
has no picture either. SVG is drawn by templates/results/chart.svg; PNG by survey_app/pdf/images.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from flask_babel import force_locale
from flask_babel import gettext as _

from ..figures import CHART_KINDS, Bars, Stacked, Timeline
from ..models import Survey
from ..pdf import images
from .results import ResultFilter, summarise

FORMATS = ("svg", "png")


class ChartUnavailable(LookupError):
    """No such chart for this group: an unknown question or figure, a language the survey lacks, or withheld."""


@dataclass(frozen=True)
class ChartDownload:
    figure: Bars | Stacked | Timeline
    caption: images.Caption
    language: str
    filename: str


def source_line(survey: Survey, lang: str, organisation: str | None, when: date, group: str = "") -> str:
    """Where the figures come from: the survey, its organisation when it has one, the date, the group shown."""
    title = survey.text(survey.title, lang)
    # The programme is British: English dates read "7 December 2026", as the PDF writes them.
    day = format_date(when, "long", locale="en_GB" if lang == "en" else lang)
    if organisation:
        line = _("Source: %(survey)s, %(organisation)s, %(date)s", survey=title, organisation=organisation, date=day)
    else:
        line = _("Source: %(survey)s, %(date)s", survey=title, date=day)
    return f"{line} · {group}" if group else line


def find_chart(survey: Survey, code: str, index: int, filter_: ResultFilter, lang: str,
               organisation: str | None = None, today: date | None = None) -> ChartDownload:
    """The chart `index` of question `code` for the filtered group, in the language asked, ready to draw."""
    if lang not in survey.languages:
        raise ChartUnavailable(lang)
    results = summarise(survey, filter_, lang)
    if results.withheld:
        raise ChartUnavailable("withheld")
    question = next((q for q in results.questions if q.code == code), None)
    if question is None or not 0 <= index < len(question.figures):
        raise ChartUnavailable(code)
    figure = question.figures[index]
    if figure.kind not in CHART_KINDS or not isinstance(figure, Bars | Stacked | Timeline):
        raise ChartUnavailable(code)
    with force_locale(lang):
        source = source_line(survey, lang, organisation, today or date.today(),
                             filter_.describe(lang) if filter_.active else "")
    caption = images.Caption(figure.title, figure.base_text, source)
    return ChartDownload(figure, caption, lang, f"{survey.slug}-{code}-{index + 1}-{lang}")


def png_bytes(chart: ChartDownload, size: images.ImageSize) -> bytes:
    """The chart as a PNG of the given size."""
    return images.png(images.picture(chart.figure, chart.caption, size))
