"""Charts as images for a blog or social media: title, chart, n and source line in one picture.

The picture is a reportlab Drawing laid out like the PDF's charts (survey_app/pdf/charts.py) with
the same embedded fonts and Arabic shaping; PNG comes from rendering that drawing as a one-page PDF
with PDFium (pypdfium2), which draws its embedded fonts exactly as a PDF reader would.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Group, Rect
from reportlab.lib import colors

from .. import figures
from . import charts
from .text import register_fonts, text_width

# Pixels per point: pictures are laid out in points and rendered at twice that.
SCALE = 2.0


@dataclass(frozen=True)
class ImageSize:
    """A picture size: its width in pixels, and its height when fixed (a square for Instagram)."""

    name: str
    width: int
    height: int | None


SIZES = {"wide": ImageSize("wide", 1200, None), "square": ImageSize("square", 1080, 1080)}


@dataclass(frozen=True)
class Caption:
    """What a published chart says about itself: its title, its n and base, and where it comes from."""

    title: str
    base_text: str
    source: str


def _lines(canvas: charts.Canvas, lines: list[str], top: float, size: float, bold: bool = False,
           fill: str = figures.INK) -> float:
    """Draw lines of text from the top down in reading order; return where they end."""
    for line in lines:
        top -= size * 1.3
        canvas.text(0, top + size * 0.25, line, size, "start", bold=bold, fill=fill)
    return top


def _wrapped(text: str, width: float, size: float, bold: bool = False, most: int = 4) -> list[str]:
    return figures.wrap(text, width, most, measure=lambda t: text_width(t, size, bold)) if text else []


def picture(figure: figures.Bars | figures.Stacked | figures.Timeline, caption: Caption, size: ImageSize) -> Drawing:
    """The chart with its title above and its n and source below, on white, at the given size (in points)."""
    register_fonts()
    width = size.width / SCALE
    margin = width * 0.05
    inner = width - 2 * margin
    title_size, text_size, chart_size = width / 34, width / 56, width / 52
    title = _wrapped(caption.title, inner, title_size, bold=True)
    notes = _wrapped(caption.base_text, inner, text_size) + _wrapped(caption.source, inner, text_size)
    head = len(title) * title_size * 1.3 + title_size * 0.8
    foot = len(notes) * text_size * 1.3 + text_size * 1.2
    chart = charts.draw(figure, inner, chart_size)
    height = size.height / SCALE if size.height else head + chart.height + foot + 2 * margin
    room = height - head - foot - 2 * margin
    shrink = min(1.0, room / chart.height) if chart.height else 1.0
    drawing = Drawing(width, height)
    drawing.add(Rect(0, 0, width, height, fillColor=colors.white, strokeColor=None))
    words = charts.Canvas(inner, figure.rtl)
    # A short chart in a square sits in its middle rather than under an empty top.
    slack = max(0.0, room - chart.height * shrink) / 2 if size.height else 0.0
    end = _lines(words, title, height - margin - slack, title_size, bold=True)
    body = Group(*chart.contents)
    # Centre a shrunk chart across the width; a square keeps its text where a reader expects it.
    body.translate(margin + inner * (1 - shrink) / 2, end - title_size * 0.8 - chart.height * shrink)
    body.scale(shrink, shrink)
    drawing.add(body)
    notes_top = end - title_size * 0.8 - chart.height * shrink - text_size * 0.6
    _lines(words, notes, notes_top, text_size, fill="#484949")
    text = Group(*words.shapes)
    text.translate(margin, 0)
    drawing.add(text)
    return drawing


def png(drawing: Drawing) -> bytes:
    """Render a picture to PNG at SCALE pixels per point, through a one-page PDF and PDFium."""
    import pypdfium2  # imported here: only the chart downloads need it

    document = pypdfium2.PdfDocument(renderPDF.drawToString(drawing))
    try:
        image = document[0].render(scale=SCALE).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
