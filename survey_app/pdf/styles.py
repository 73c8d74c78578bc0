"""The report's paragraph styles, in the embedded fonts of survey_app/pdf/text.py, for either text direction."""
from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT

from . import text as pdf_text

INK = colors.Color(0.1, 0.1, 0.1)
GREY = colors.Color(0.2, 0.2, 0.2)


class Styles:
    """One set of styles per report, made after the fonts are registered.

    rtl: the report's language runs right to left; every paragraph is then laid out right to left
    (direction), so alignment to the left means "to the start", and tables put their first column
    on the right. accent: a colour for headings and rules, or None for the report's greys.
    """

    def __init__(self, rtl: bool = False, accent: colors.Color | None = None) -> None:
        ps = pdf_text.paragraph_style
        self.rtl = rtl
        self.direction: pdf_text.Direction | None = "RTL" if rtl else None
        self.accent = accent
        heading = accent or INK
        # splitLongWords=0: a word is never cut between letters; layouts make room for the longest one.
        self.body = ps("Body", fontSize=9.5, leading=13.5, spaceAfter=5, splitLongWords=0)
        self.small = ps("Small", fontSize=8, leading=10.5, textColor=GREY, splitLongWords=0)
        self.cell = ps("Cell", fontSize=8, leading=10, splitLongWords=0)
        self.cell_num = ps("CellNum", fontSize=8, leading=10, alignment=TA_LEFT if rtl else TA_RIGHT, splitLongWords=0)
        self.cell_head = ps("CellHead", bold=True, fontSize=8, leading=10, splitLongWords=0)
        self.title = ps("Title", bold=True, fontSize=24, leading=30, spaceAfter=6, textColor=INK, splitLongWords=0)
        self.subtitle = ps("Subtitle", fontSize=14, leading=18, spaceAfter=18, textColor=GREY, splitLongWords=0)
        self.organisation = ps("Organisation", bold=True, fontSize=12, leading=16, spaceAfter=4, textColor=heading,
                               splitLongWords=0)
        self.h1 = ps("H1", bold=True, fontSize=16, leading=20, spaceBefore=4, spaceAfter=10, textColor=heading,
                     splitLongWords=0)
        self.h2 = ps("H2", bold=True, fontSize=11.5, leading=15, spaceBefore=12, spaceAfter=2, textColor=INK,
                     splitLongWords=0)
        self.h3 = ps("H3", bold=True, fontSize=9.5, leading=12.5, spaceBefore=8, spaceAfter=3, textColor=INK,
                     splitLongWords=0)
        self.finding = ps("Finding", fontSize=11, leading=15.5, spaceAfter=9, leftIndent=0 if rtl else 14,
                          rightIndent=14 if rtl else 0, splitLongWords=0)
        self.quote = ps("Quote", fontSize=10, leading=14, spaceAfter=2, splitLongWords=0)
        self.cover_value = ps("CoverValue", bold=True, fontSize=13, leading=17, splitLongWords=0)
        self.centre = ps("Centre", fontSize=9, leading=12, alignment=TA_CENTER, splitLongWords=0)
        self.link = ps("Link", fontSize=9, leading=12.5, textColor=heading, splitLongWords=0)
