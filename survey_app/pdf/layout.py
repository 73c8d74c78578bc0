"""Text and tables for the report that never break a word between letters, in either text direction.

reportlab wraps at spaces, but a word wider than its column is cut between letters (or, with
splitLongWords off, runs over the next cell). So tables here are sized from their longest word
first, shrinking the type a step when a page is too narrow; Chinese, which has no spaces, may
break between characters as Chinese typesetting does (reportlab's CJK wrapping, which keeps Latin
words whole and follows its line-start rules for punctuation).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Table, TableStyle

from . import text as pdf_text
from .styles import Styles

_SPACES = re.compile(r"[ \t\r\n]+")  # where lines may break: not at a no-break space
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
PADDING = 4  # points either side of a cell's text
FONT_SIZES = (8.0, 7.0, 6.5)
_cjk_styles: dict[int, ParagraphStyle] = {}


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def style_for(text: str, style: ParagraphStyle) -> ParagraphStyle:
    """The style itself, or its CJK-wrapping twin for text with Chinese (or other CJK) characters."""
    if not has_cjk(text):
        return style
    twin = _cjk_styles.get(id(style))
    if twin is None or twin.parent is not style:
        twin = _cjk_styles[id(style)] = ParagraphStyle(f"{style.name}-cjk", parent=style, wordWrap="CJK")
    return twin


def para(text: str, style: ParagraphStyle, st: Styles) -> Flowable:
    """A paragraph of any text in the report's direction, wrapped without cutting words."""
    return pdf_text.paragraph(text, style_for(text, style), st.direction)


def longest_word(text: str, size: float, bold: bool = False) -> float:
    """The width of the widest piece a line may not break inside: a word, or two CJK characters."""
    widest = 0.0
    for word in _SPACES.split(text):
        if has_cjk(word):
            pieces = [word[i:i + 2] for i in range(0, len(word), 2)]
            widest = max([widest, *(pdf_text.text_width(piece, size, bold) for piece in pieces)])
        else:
            widest = max(widest, pdf_text.text_width(word, size, bold))
    return widest


@dataclass(frozen=True)
class Column:
    """A table column's narrowest (its longest word) and natural (its longest text on one line) widths."""

    least: float
    natural: float


def _columns(rows: Sequence[Sequence[str]], header_rows: int, size: float) -> list[Column]:
    count = max(len(row) for row in rows)
    least, natural = [0.0] * count, [0.0] * count
    for r, row in enumerate(rows):
        bold = r < header_rows
        for c, text in enumerate(row):
            for line in text.split("\n"):
                least[c] = max(least[c], longest_word(line, size, bold))
                natural[c] = max(natural[c], pdf_text.text_width(line, size, bold))
    pad = 2 * PADDING + 1
    return [Column(lo + pad, max(lo, hi) + pad) for lo, hi in zip(least, natural, strict=True)]


def fit_widths(columns: Sequence[Column], width: float) -> list[float] | None:
    """Column widths within the width, none narrower than its longest word; None when that cannot be."""
    least = sum(c.least for c in columns)
    if least > width + 0.01:
        return None
    natural = sum(c.natural for c in columns)
    if natural <= width:
        widths = [c.natural for c in columns]
        widths[0] += width - natural  # the row headings take the rest, so the table spans the page
        return widths
    spare, wanted = width - least, natural - least
    return [c.least + (c.natural - c.least) * spare / wanted for c in columns]


def table(rows: Sequence[Sequence[str]], width: float, st: Styles, header_rows: int = 1,
          numeric_from: int | None = 1, repeat: bool = True) -> Table | None:
    """A ruled data table of texts that fits the width without breaking a word, or None if none fits.

    The first column holds row headings; columns from numeric_from on hold numbers (aligned to
    the end). Right to left, the columns run from the right.
    """
    for size in FONT_SIZES:
        widths = fit_widths(_columns(rows, header_rows, size), width)
        if widths is not None:
            break
    else:
        return None
    scale = size / 8.0
    cell = ParagraphStyle(f"cell-{size}", parent=st.cell, fontSize=size, leading=10 * scale)
    number = ParagraphStyle(f"num-{size}", parent=st.cell_num, fontSize=size, leading=10 * scale)
    head = ParagraphStyle(f"head-{size}", parent=st.cell_head, fontSize=size, leading=10 * scale)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for c, text in enumerate(row):
            text = text.replace(" %", "\u00a0%")  # a percentage stays on one line
            numeric = numeric_from is not None and c >= numeric_from
            style = head if r < header_rows else number if numeric else cell
            lines = text.split("\n")
            cells.append([para(line, style, st) for line in lines] if len(lines) > 1 else para(text, style, st))
        body.append(cells[::-1] if st.rtl else cells)
    if st.rtl:
        widths = widths[::-1]
    result = Table(body, colWidths=widths, repeatRows=header_rows if repeat else 0,
                   hAlign="RIGHT" if st.rtl else "LEFT")
    result.setStyle(ruled(header_rows, st))
    return result


def ruled(header_rows: int, st: Styles) -> TableStyle:
    """A ruled header and light rules between rows, in the report's font."""
    rule = st.accent or colors.black
    return pdf_text.table_style([
        ("LINEBELOW", (0, 0), (-1, header_rows - 1), 0.8, rule),
        ("LINEBELOW", (0, header_rows), (-1, -1), 0.25, colors.Color(0.6, 0.6, 0.6)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ])
