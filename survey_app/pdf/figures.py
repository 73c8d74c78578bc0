"""Results figures (survey_app/figures.py) as reportlab flowables: charts as drawings, tables, notes.

flowables(figure, styles, width) draws any kind across the width it is given; the report decides
where each goes (charts with their question, tables in the appendix).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from .. import figures
from . import charts
from . import text as pdf_text
from .styles import Styles


def data_table(rows: list[list], widths: list[float], header_rows: int = 1) -> Table:
    """A table in the report's fonts: ruled header, light rules between rows, numbers to the right."""
    table = Table(rows, colWidths=widths, repeatRows=header_rows, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), pdf_text.BASE_FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("LINEBELOW", (0, 0), (-1, header_rows - 1), 0.8, colors.black),
        ("LINEBELOW", (0, header_rows), (-1, -1), 0.25, colors.Color(0.6, 0.6, 0.6)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def _column_widths(count: int, width: float) -> list[float]:
    """The row headings take what the figures leave: 25 mm a figure column, at most the width allows."""
    others = count - 1
    figure = min(25 * mm, (width - 30 * mm) / max(1, others))
    return [width - figure * others] + [figure] * others


def _chart(figure: figures.Bars | figures.Stacked | figures.Timeline, st: Styles, width: float) -> list[Flowable]:
    """The chart across the full width, its n and base beneath it.

    Not wrapped in a KeepTogether: the report keeps each question's heading with its first chart,
    and a KeepTogether inside another reads as endless, which would start every question on a new page.
    """
    parts: list[Flowable] = [Spacer(1, 3), charts.draw(figure, width)]
    if figure.base_text:
        parts += [Spacer(1, 2), pdf_text.paragraph(figure.base_text, st.small, "RTL" if figure.rtl else None)]
    return [*parts, Spacer(1, 4)]


def _table(figure: figures.Table, st: Styles, width: float) -> list[Flowable]:
    rows = [[pdf_text.paragraph(heading, st.cell_head) for heading in figure.columns]]
    rows += [[pdf_text.paragraph(cell.text, st.cell) for cell in row] for row in figure.rows]
    return [data_table(rows, _column_widths(len(figure.columns), width)), Spacer(1, 4)]


def _note(figure: figures.Note, st: Styles, width: float) -> list[Flowable]:
    return [pdf_text.paragraph(figure.text, st.small)]


_DRAW: dict[str, Callable[[Any, Styles, float], list[Flowable]]] = {
    "bars": _chart, "stacked": _chart, "timeline": _chart, "table": _table, "note": _note,
}


def flowables(figure: figures.Figure, st: Styles, width: float) -> list[Flowable]:
    """The flowables that draw one figure across the given width."""
    return _DRAW[figure.kind](figure, st, width)
