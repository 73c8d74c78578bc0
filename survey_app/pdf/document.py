"""The results summary as an A4 PDF: cover, key findings, questions, quotes, the appendix, page furniture.

services/report.py gathers the content (ReportContent); this module only lays it out. Text goes through
survey_app.pdf.text (embedded fonts, Arabic right to left), figures through survey_app.pdf.figures.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    Image,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Spacer,
    Table,
)

from ..figures import percent_text
from ..questions import QuestionResult
from . import figures as pdf_figures
from . import layout
from . import text as pdf_text
from .styles import Styles

if TYPE_CHECKING:
    from ..services.report import ReportContent

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
BOTTOM_MARGIN = 20 * mm
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN
WIDE_WIDTH = PAGE_HEIGHT - 2 * MARGIN
LOGO_BOX = (60 * mm, 28 * mm)


# --- the PDF ----------------------------------------------------------------------------------------


class Heading(Flowable):
    """A heading that is also a PDF bookmark: an outline entry at the place it is drawn."""

    def __init__(self, inner: Flowable, title: str, level: int, key: str) -> None:
        super().__init__()
        self.inner, self.title, self.level, self.key = inner, title, level, key

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        self.width, self.height = self.inner.wrap(availWidth, availHeight)
        return self.width, self.height

    def getSpaceBefore(self) -> float:  # noqa: N802 - reportlab's name
        return self.inner.getSpaceBefore()

    def getSpaceAfter(self) -> float:  # noqa: N802 - reportlab's name
        return self.inner.getSpaceAfter()

    def draw(self) -> None:
        self.canv.bookmarkPage(self.key)
        # Outline titles are Unicode text that the reader lays out itself: the logical order, not reshaped.
        self.canv.addOutlineEntry(self.title, self.key, level=self.level, closed=False)
        self.inner.drawOn(self.canv, 0, 0)


class _Builder:
    """Turns a ReportContent into flowables, in the report's language and direction."""

    def __init__(self, content: ReportContent) -> None:
        self.content = content
        accent = colors.HexColor(content.accent_colour) if content.accent_colour else None
        self.st = Styles(rtl=content.rtl, accent=accent)
        self.keys = 0

    def p(self, text: str, style: Any) -> Flowable:
        return layout.para(text, style, self.st)

    def heading(self, text: str, style: Any, level: int, outline: str | None = None) -> Flowable:
        self.keys += 1
        return Heading(self.p(text, style), outline or text, level, f"h{self.keys}")

    def story(self) -> list[Flowable]:
        content, st = self.content, self.st
        story: list[Flowable] = self.cover()
        results = content.results
        if results.withheld:
            story += [PageBreak(), self.heading(_("Results withheld"), st.h1, 0),
                      self.p(results.withheld_reason, st.body)]
            return story
        story += self.findings()
        story += [self.heading(_("How to read this summary"), st.h1, 0)]
        story += [self.p(paragraph, st.body) for paragraph in content.method]
        section: list[Flowable] = [self.heading(_("Answers, question by question"), st.h1, 0)]
        story.append(PageBreak())
        for number, question in enumerate(results.questions, 1):
            # The section's heading goes with its first question: never alone at the foot of a page.
            story += self.question(question, number, lead=section if number == 1 else [])
        story += self.regions()
        story += self.quotes()
        story += self.appendix()
        return story

    def cover(self) -> list[Flowable]:
        content, st, results = self.content, self.st, self.content.results
        story: list[Flowable] = [Spacer(1, 10 * mm)]
        if content.logo_png and content.logo_size:
            width, height = content.logo_size
            scale = min(LOGO_BOX[0] / width, LOGO_BOX[1] / height, 1.0)  # never enlarged past one point a pixel
            logo = Image(io.BytesIO(content.logo_png), width=width * scale, height=height * scale)
            logo.hAlign = "RIGHT" if st.rtl else "LEFT"
            story += [logo, Spacer(1, 8 * mm)]
        story += [self.p(content.organisation, st.organisation), Spacer(1, 14 * mm),
                  self.heading(results.title, st.title, 0), self.p(_("Results summary"), st.subtitle)]
        facts = [
            (_("Survey period"), content.period),
            (_("Fellows invited"), str(results.status.invited)),
            (_("Complete responses"), str(results.completed_all)),
            (_("Response rate"), percent_text(results.status.response_rate)),
            (_("Data as of"), content.data_as_of),
        ]
        rows = [[self.p(k, st.body), self.p(v, st.cover_value)] for k, v in facts]
        widths = [60 * mm, BODY_WIDTH - 60 * mm]
        if st.rtl:
            rows, widths = [row[::-1] for row in rows], widths[::-1]
        table = Table(rows, colWidths=widths, hAlign="RIGHT" if st.rtl else "LEFT")
        table.setStyle(pdf_text.table_style([
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.Color(0.6, 0.6, 0.6)), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        story += [table, Spacer(1, 12 * mm)]
        if content.public_url:
            story += [self.p(_("An accessible web version of this report, with every chart described in text:"),
                             st.body), LinkParagraph(content.public_url, st)]
        return story

    def findings(self) -> list[Flowable]:
        if not self.content.findings:
            return [PageBreak()]
        st = self.st
        story: list[Flowable] = [PageBreak(), self.heading(_("Key findings"), st.h1, 0)]
        for finding in self.content.findings:
            story.append(layout.para("• " + finding.text, st.finding, st))
        return [*story, Spacer(1, 8 * mm)]

    def question(self, question: QuestionResult, number: int, lead: list[Flowable] | None = None) -> list[Flowable]:
        """The question's heading kept with its first chart (or note), then its other figures and notes."""
        st = self.st
        head: list[Flowable] = [
            *(lead or []),
            self.heading(f"{number}. {question.label}", st.h2, 1),
            self.p(_("n = %(n)s answered", n=question.base), st.small),
        ]
        drawn = [pdf_figures.flowables(figure, st, BODY_WIDTH) for figure in question.figures if figure.kind != "table"]
        first = drawn[0] if drawn else []
        body: list[Flowable] = [flowable for group in drawn[1:] for flowable in group]
        body += [self.p(note, st.small) for note in question.notes]
        tables = self.content.table_numbers.get(question.code)
        if tables:
            body.append(self.p(ngettext("Data: table %(tables)s in the appendix.", "Data: tables %(tables)s in the "
                                        "appendix.", len(tables), tables=", ".join(map(str, tables))), st.small))
        return [CondPageBreak(60 * mm), KeepTogether(head + first), *body, Spacer(1, 6)]

    def regions(self) -> list[Flowable]:
        crosstab, st = self.content.results.crosstab, self.st
        if crosstab is None or not self.content.region_tops:
            return []
        rows = [[_("World region"), _("Most common answer"), _("Share"), _("Respondents (n)")]]
        rows += [[top.region, "\n".join(top.answers), percent_text(top.percent), str(top.base)]
                 for top in self.content.region_tops]
        table = layout.table(rows, BODY_WIDTH, st, numeric_from=2)
        story: list[Flowable] = [CondPageBreak(80 * mm), self.heading(
            _("%(q)s, by world region", q=crosstab.question_label), st.h1, 0),
            self.p(_("The answer given most often in each world region with enough respondents to be shown. "
                     "The full table is in the appendix."), st.small), Spacer(1, 4)]
        return story + ([table] if table is not None else [])

    def quotes(self) -> list[Flowable]:
        content, st = self.content, self.st
        if not content.quotes:
            return []
        story: list[Flowable] = [PageBreak(), self.heading(_("What fellows said"), st.h1, 0),
                                 self.p(_("A selection of comments from fellows who agreed to be quoted anonymously."),
                                        st.small), Spacer(1, 6)]
        for quote in content.quotes:
            original = pdf_text.paragraph(_("“%(text)s”", text=quote.text), layout.style_for(quote.text, st.quote))
            about = self.p(_("On: %(question)s", question=quote.question_label), st.small)
            if quote.translation:
                translated = self.p(_("“%(text)s”", text=quote.translation), st.quote)
                label = self.p(_("Translation"), st.small)
                cells = [[original, [translated, label]]]
                widths = [BODY_WIDTH / 2, BODY_WIDTH / 2]
                if st.rtl:
                    cells = [row[::-1] for row in cells]
                block = Table(cells, colWidths=widths, hAlign="RIGHT" if st.rtl else "LEFT")
                block.setStyle(pdf_text.table_style([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                                     ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                                     ("RIGHTPADDING", (0, 0), (-1, -1), 8)]))
                story.append(KeepTogether([block, about, Spacer(1, 8)]))
            else:
                story.append(KeepTogether([original, about, Spacer(1, 8)]))
        return story

    def appendix(self) -> list[Flowable]:
        content, st = self.content, self.st
        if not content.appendix and content.results.crosstab is None:
            return []
        story: list[Flowable] = [PageBreak(), self.heading(_("Appendix: data tables"), st.h1, 0)]
        for item in content.appendix:
            figure = item.figure
            title = _("Table %(n)s. %(question)s", n=item.number, question=item.question)
            rows = [list(figure.columns)] + [[cell.text for cell in row] for row in figure.rows]  # type: ignore[union-attr]
            table = layout.table(rows, BODY_WIDTH, st, numeric_from=figure.numeric_from)  # type: ignore[union-attr]
            flow: list[Flowable] = [self.heading(title, st.h3, 1)]
            flow += [table] if table is not None else pdf_figures.flowables(figure, st, BODY_WIDTH)
            story += [CondPageBreak(40 * mm), KeepTogether(flow[:2]), *flow[2:], Spacer(1, 6)]
        story += self.crosstab_table()
        return story

    def crosstab_table(self) -> list[Flowable]:
        crosstab, st = self.content.results.crosstab, self.st
        if crosstab is None:
            return []
        header = [_("Answer"), *(c.label for c in crosstab.columns), _("All")]
        bases = [_("Respondents (n)").replace(" (", "\u00a0("),
                 *(str(c.base) if c.shown else _("withheld") for c in crosstab.columns), str(crosstab.total_base)]
        rows = [header, bases]
        for _code, label, cells in crosstab.rows:
            rows.append([label, *("–" if n is None else f"{n}\n{percent_text(p)}" for n, p in cells)])
        title = _("%(q)s, by world region", q=crosstab.question_label)
        note = self.p(crosstab.note + " " + _("“–” marks a withheld figure."), st.small)
        table = layout.table(rows, BODY_WIDTH, st, header_rows=2)
        if table is not None:
            return [PageBreak(), self.heading(title, st.h3, 1), table, Spacer(1, 4), note]
        wide = layout.table(rows, WIDE_WIDTH, st, header_rows=2)
        # Too many regions for a portrait page at a readable size: turn the page.
        return [NextPageTemplate("wide"), PageBreak(), self.heading(title, st.h3, 1),
                wide or pdf_text.paragraph(title, st.small), Spacer(1, 4), note, NextPageTemplate("page")]


class LinkParagraph(Flowable):
    """The web version's address as one clickable line (an address has no spaces to wrap at)."""

    def __init__(self, url: str, st: Styles) -> None:
        super().__init__()
        self.url, self.st = url, st
        self.size = 9.0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        self.width = availWidth
        while self.size > 6 and pdf_text.text_width(self.url, self.size) > availWidth:
            self.size -= 0.5
        return availWidth, self.size * 1.6

    def draw(self) -> None:
        canvas = self.canv
        width = pdf_text.text_width(self.url, self.size)
        x = self.width - width if self.st.rtl else 0.0
        canvas.setFont(pdf_text.BASE_FONT, self.size)
        canvas.setFillColor(self.st.accent or colors.Color(0.05, 0.25, 0.55))
        canvas.drawString(x, self.size * 0.4, self.url)
        canvas.linkURL(self.url, (x, 0, x + width, self.size * 1.4), relative=1)


def _page_furniture(content: ReportContent, total: list[int], page_width: float) -> Callable[[Canvas, Any], None]:
    """The footer: the human date and n on one side, "Page N of M" on the other (mirrored right to left)."""
    with force_locale(content.language):
        left_text = _("%(date)s · n = %(n)s complete responses", date=content.generated_on,
                      n=content.results.completed_all)
        page_text = _("Page %(page)s of %(pages)s", page="{page}", pages="{pages}")
    accent = colors.HexColor(content.accent_colour) if content.accent_colour else None

    def draw(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(colors.Color(0.25, 0.25, 0.25))
        start_font, start = pdf_text.chart_label(left_text)
        end_font, end = pdf_text.chart_label(page_text.format(page=doc.page, pages=total[0] or "?"))
        if content.rtl:
            start_font, start, end_font, end = end_font, end, start_font, start
        canvas.setFont(start_font, 7.5)
        canvas.drawString(MARGIN, 10 * mm, start)
        canvas.setFont(end_font, 7.5)
        canvas.drawRightString(page_width - MARGIN, 10 * mm, end)
        if accent is not None and doc.page == 1:
            canvas.setFillColor(accent)
            canvas.rect(0, PAGE_HEIGHT - 8 * mm, page_width, 8 * mm, stroke=0, fill=1)
        canvas.restoreState()

    return draw


class _Document(BaseDocTemplate):
    """A4 portrait pages, and landscape ones for a table too wide to stand upright."""

    def __init__(self, output: BinaryIO, content: ReportContent, total: list[int], **metadata: Any) -> None:
        super().__init__(output, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                         bottomMargin=BOTTOM_MARGIN, **metadata)
        portrait = Frame(MARGIN, BOTTOM_MARGIN, BODY_WIDTH, PAGE_HEIGHT - MARGIN - BOTTOM_MARGIN, id="body",
                         leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        wide = Frame(MARGIN, BOTTOM_MARGIN, WIDE_WIDTH, PAGE_WIDTH - MARGIN - BOTTOM_MARGIN, id="wide",
                     leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([
            PageTemplate("page", [portrait], onPage=_page_furniture(content, total, PAGE_WIDTH), pagesize=A4),
            PageTemplate("wide", [wide], onPage=_page_furniture(content, total, PAGE_HEIGHT),
                         pagesize=landscape(A4)),
        ])

    def beforeDocument(self) -> None:  # noqa: N802 - reportlab's name
        self.canv.showOutline()


def _build(content: ReportContent, output: BinaryIO, total: list[int]) -> int:
    with force_locale(content.language):
        doc = _Document(
            output, content, total, title=_("%(title)s: results summary", title=content.results.title),
            author=content.organisation, subject=_("Results summary"), creator="survey_app",
            lang=content.language,
        )
        doc.build(_Builder(content).story())
    return doc.page


def render(content: ReportContent, output: BinaryIO) -> None:
    """Lay the report out twice: once to count its pages, then for real with "Page N of M"."""
    pdf_text.register_fonts()
    total = [0]
    total[0] = _build(content, io.BytesIO(), total)
    _build(content, output, total)


