"""The published results summary: one content object rendered as an A4 PDF and as an HTML preview.

The PDF holds aggregates only: no names, e-mail addresses, tokens or response ids, and no group
below the survey's minimum size.  All text goes through survey_app.pdf.text, whose fonts are
embedded, so Chinese, Arabic, Greek, Cyrillic and Devanagari print wherever the file is opened.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ..models import Survey
from ..pdf import figures as pdf_figures
from ..pdf import text as pdf_text
from ..pdf.styles import Styles
from .results import QuestionResult, Quote, ResultFilter, SurveyResults, approved_quotes, summarise

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN


@dataclass
class ReportContent:
    survey_slug: str
    results: SurveyResults
    quotes: list[Quote]
    generated_at: datetime
    method: list[str] = field(default_factory=list)

    @property
    def period(self) -> str:
        start, end = self.results.period_start, self.results.period_end
        if not start and not end:
            return "No responses yet"
        return " – ".join(d.strftime("%-d %B %Y") for d in (start, end) if d)


def format_pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def build_content(survey: Survey, lang: str = "en") -> ReportContent:
    """Gather everything the summary shows, for the whole survey, with small groups withheld."""
    results = summarise(survey, ResultFilter(), lang)
    quotes = [] if results.withheld else approved_quotes(survey, lang)
    status = results.status
    how = "a personal e-mail invitation"
    if survey.open_link:
        how += " (the survey was also open to fellows through a shared link)"
    method = [
        f"{status.invited} ITP fellows were invited by {how}. Reminders went to those who had not "
        "answered.",
        f"The figures count the {results.completed_all} complete responses. {status.partial} partial "
        "responses (started but not submitted) are not included. The response rate is the share of "
        "invited fellows who completed the survey.",
        "Each percentage is of the respondents who answered that question; this base is shown as "
        "“n = …” beside each chart. Where several answers could be chosen, the percentages add up "
        "to more than 100 %.",
        f"To protect anonymity, no result is shown for any group (a country, a world region) of fewer "
        f"than {survey.min_group_size} respondents; where one withheld group could be worked out by "
        "subtraction, a second group is withheld too. Countries are grouped into world regions as "
        "explained in the survey documentation.",
        "Quotations come only from fellows who agreed to be quoted anonymously, and were chosen by "
        "ITP staff. They are not attributed.",
    ]
    return ReportContent(survey.slug, results, quotes, datetime.now(UTC), method)


def _p(text: str, style: ParagraphStyle) -> Flowable:
    return pdf_text.paragraph(text, style)


def _question_flowables(question: QuestionResult, number: int, st: Styles) -> list[Flowable]:
    head = [_p(f"{number}. {question.label}", st.h2), _p(f"n = {question.base} answered", st.small)]
    body: list[Flowable] = []
    for figure in question.figures:
        body += pdf_figures.flowables(figure, st, BODY_WIDTH)
    body += [_p(note, st.small) for note in question.notes]
    return [CondPageBreak(60 * mm), KeepTogether(head + body[:2]), *body[2:], Spacer(1, 6)]


def _crosstab_flowables(content: ReportContent, st: Styles) -> list[Flowable]:
    crosstab = content.results.crosstab
    if crosstab is None:
        return []
    columns = crosstab.columns
    col_width = (BODY_WIDTH - 32 * mm) / (len(columns) + 1)
    header = [_p("Answer", st.cell_head)] + [_p(c.label, st.cell_head) for c in columns] + [_p("All", st.cell_head)]
    # A withheld column's base is hidden too: it says "withheld", never the number.
    bases = [_p("Respondents (n)", st.cell_head)] + [
        _p(str(c.base) if c.shown else "withheld", st.cell) for c in columns] + [_p(str(crosstab.total_base), st.cell)]
    rows = [header, bases]
    for _code, label, cells in crosstab.rows:
        rows.append([_p(label, st.cell)] + [
            _p("–", st.cell) if n is None else [_p(str(n), st.cell), _p(format_pct(p), st.cell)]
            for n, p in cells])
    table = pdf_figures.data_table(rows, [32 * mm] + [col_width] * (len(columns) + 1), header_rows=2)
    return [PageBreak(), _p(f"{crosstab.question_label}, by world region", st.h1), table, Spacer(1, 4),
            _p(crosstab.note + " “–” marks a withheld figure.", st.small)]


def _footer(content: ReportContent) -> Callable[[Any, Any], None]:
    generated = content.generated_at.strftime("%-d %B %Y %H:%M UTC")
    version = content.results.data_version

    def draw(canvas: Any, doc: Any) -> None:  # reportlab's canvas and document
        canvas.saveState()
        canvas.setFont(pdf_text.BASE_FONT, 7.5)
        canvas.setFillColor(colors.Color(0.25, 0.25, 0.25))
        canvas.drawString(MARGIN, 10 * mm, f"Generated {generated} · Data version {version}")
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    return draw


def build_story(content: ReportContent) -> list:
    st = Styles()
    results = content.results
    status = results.status
    story: list = [Spacer(1, 30 * mm), _p(results.title, st.title), _p("Results summary", st.subtitle)]
    facts = [
        ("Survey period", content.period),
        ("Fellows invited", str(status.invited)),
        ("Complete responses", str(results.completed_all)),
        ("Response rate", format_pct(status.response_rate)),
        ("Data as of", results.latest_submission.strftime("%-d %B %Y") if results.latest_submission else "–"),
    ]
    cover = Table([[_p(k, st.body), _p(v, st.cover_value)] for k, v in facts], colWidths=[55 * mm, 100 * mm],
                  hAlign="LEFT")
    cover.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), pdf_text.BASE_FONT),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.Color(0.6, 0.6, 0.6)),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                               ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
    story += [cover, Spacer(1, 12 * mm), _p("How to read this summary", st.h1)]
    story += [_p(paragraph, st.body) for paragraph in content.method]
    story.append(PageBreak())
    if results.withheld:
        story += [_p("Results withheld", st.h1), _p(results.withheld_reason, st.body)]
        return story
    story.append(_p("Answers, question by question", st.h1))
    for number, question in enumerate(results.questions, 1):
        story += _question_flowables(question, number, st)
    story += _crosstab_flowables(content, st)
    if content.quotes:
        story += [PageBreak(), _p("What fellows said", st.h1),
                  _p("A selection of comments from fellows who agreed to be quoted anonymously.", st.small),
                  Spacer(1, 4)]
        for quote in content.quotes:
            story.append(KeepTogether([pdf_text.paragraph(f"“{quote.text}”", st.quote),
                                       _p(f"— on: {quote.question_label}", st.small), Spacer(1, 6)]))
    return story


def write_pdf(survey: Survey, output: BinaryIO, lang: str = "en") -> ReportContent:
    """Render the results summary as an A4 PDF into a binary file object."""
    pdf_text.register_fonts()
    content = build_content(survey, lang)
    doc = SimpleDocTemplate(
        output, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=20 * mm,
        title=f"{content.results.title}: results summary", author="British Museum International Training Programme",
        subject=f"Data version {content.results.data_version}", creator="survey_app",
    )
    footer = _footer(content)
    doc.build(build_story(content), onFirstPage=footer, onLaterPages=footer)
    return content


def render_pdf_bytes(survey: Survey, lang: str = "en") -> bytes:
    buffer = io.BytesIO()
    write_pdf(survey, buffer, lang)
    return buffer.getvalue()
