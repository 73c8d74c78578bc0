"""Horizontal bar charts for the results PDF: greys and printed values, readable in black and white."""
from __future__ import annotations

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics

from .text import BASE_FONT, chart_label

BAR_FILL = colors.Color(0.35, 0.35, 0.35)
OTHER_FILL = colors.Color(0.75, 0.75, 0.75)
FONT_SIZE = 8
BAR_HEIGHT = 11
GAP = 5


def _fit(text: str, font: str, size: float, width: float) -> str:
    """Cut a label to fit the width, ending it with an ellipsis."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def bar_chart(bars: list[tuple[str, int, float | None, bool]], width: float, label_width: float | None = None,
              value_format: str = "{n} ({p} %)") -> Drawing:
    """Draw one bar per (label, count, percent, lighter) in the given order, value printed at each bar."""
    label_width = label_width if label_width is not None else width * 0.38
    value_width = 62
    plot_width = max(40.0, width - label_width - value_width)
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    drawing = Drawing(width, height)
    top = max((p or 0.0) for _label, _n, p, _light in bars) if bars else 0.0
    scale = plot_width / top if top else 0.0
    drawing.add(Line(label_width, 0, label_width, height, strokeColor=colors.black, strokeWidth=0.5))
    for index, (label, count, pct, lighter) in enumerate(bars):
        y = height - (index + 1) * (BAR_HEIGHT + GAP)
        font, display = chart_label(label)
        drawing.add(String(label_width - 4, y + 3, _fit(display, font, FONT_SIZE, label_width - 6),
                           fontName=font, fontSize=FONT_SIZE, textAnchor="end"))
        bar = (pct or 0.0) * scale
        if bar > 0:
            drawing.add(Rect(label_width, y, bar, BAR_HEIGHT, fillColor=OTHER_FILL if lighter else BAR_FILL,
                             strokeColor=colors.black, strokeWidth=0.4))
        text = value_format.format(n=count, p=_pct(pct))
        drawing.add(String(label_width + bar + 3, y + 3, text, fontName=BASE_FONT, fontSize=FONT_SIZE))
    return drawing


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
