"""The report's paragraph styles, in the embedded fonts of survey_app/pdf/text.py."""
from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER

from . import text as pdf_text


class Styles:
    """One set of styles per report, made after the fonts are registered."""

    def __init__(self) -> None:
        ps = pdf_text.paragraph_style
        self.body = ps("Body", fontSize=9.5, leading=13)
        self.small = ps("Small", fontSize=8, leading=10.5, textColor=colors.Color(0.2, 0.2, 0.2))
        self.cell = ps("Cell", fontSize=8, leading=10)
        self.cell_head = ps("CellHead", bold=True, fontSize=8, leading=10)
        self.title = ps("Title", bold=True, fontSize=22, leading=28, spaceAfter=8)
        self.subtitle = ps("Subtitle", fontSize=14, leading=18, spaceAfter=18)
        self.h1 = ps("H1", bold=True, fontSize=15, leading=19, spaceBefore=6, spaceAfter=8)
        self.h2 = ps("H2", bold=True, fontSize=11, leading=14, spaceBefore=10, spaceAfter=3)
        self.quote = ps("Quote", fontSize=10, leading=14, leftIndent=10, rightIndent=10, spaceAfter=2)
        self.cover_value = ps("CoverValue", bold=True, fontSize=13, leading=17)
        self.centre = ps("Centre", fontSize=9, leading=12, alignment=TA_CENTER)
