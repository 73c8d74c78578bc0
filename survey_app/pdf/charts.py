"""Results charts as reportlab Drawings, for the PDF and the PNG downloads.

Each figure kind of survey_app/figures.py has one function here that draws it across the width it
is given: bars, stacked bars (diverging or not, one shared scale) and a timeline. Fills and patterns
come from the figure, so print in black and white keeps categories apart; every bar and segment wide
enough carries its value as text. Labels go through survey_app/pdf/text.py (embedded fonts, Arabic
joined and in visual order), and a right-to-left figure is drawn mirrored.
"""
from __future__ import annotations

from collections.abc import Iterator

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors

from .. import figures
from .text import BASE_FONT, BASE_FONT_BOLD, chart_label, text_width

FONT_SIZE = 8
INK = colors.HexColor(figures.INK)
GRID = colors.Color(0.55, 0.55, 0.55)
BAR_HEIGHT = 11
GAP = 5
PATTERN_STEP = 3.2


class Canvas:
    """Drawing helpers that mirror every x for a right-to-left chart, so each chart is laid out once."""

    def __init__(self, width: float, rtl: bool) -> None:
        self.width = width
        self.rtl = rtl
        self.shapes: list = []

    def x(self, x: float, w: float = 0.0) -> float:
        """Where a box starting at x (in reading order) with width w starts on the page."""
        return self.width - x - w if self.rtl else x

    def anchor(self, anchor: str) -> str:
        """A text anchor given in reading order ("start" is the reading start)."""
        if not self.rtl or anchor == "middle":
            return anchor
        return "end" if anchor == "start" else "start"

    def rect(self, x: float, y: float, w: float, h: float, fill: str, pattern: str = "none",
             stroke: colors.Color | None = None) -> None:
        if w <= 0:
            return
        left = self.x(x, w)
        self.shapes.append(Rect(left, y, w, h, fillColor=colors.HexColor(fill), strokeColor=stroke,
                                strokeWidth=0.4 if stroke is not None else 0))
        self.shapes += pattern_shapes(pattern, left, y, w, h, colors.HexColor(figures.ink_on(fill)))

    def line(self, x1: float, y1: float, x2: float, y2: float, color: colors.Color = INK, width: float = 0.5,
             dash: tuple[float, float] | None = None) -> None:
        self.shapes.append(Line(self.x(x1), y1, self.x(x2), y2, strokeColor=color, strokeWidth=width,
                                strokeDashArray=dash))

    def text(self, x: float, y: float, text: str, size: float = FONT_SIZE, anchor: str = "start",
             max_width: float | None = None, bold: bool = False, fill: str = figures.INK) -> None:
        if not text:
            return
        font, shown = chart_label(text, max_width, size)
        if bold and font == BASE_FONT:
            font = BASE_FONT_BOLD
        self.shapes.append(String(self.x(x), y, shown, fontName=font, fontSize=size,
                                  textAnchor=self.anchor(anchor), fillColor=colors.HexColor(fill)))

    def drawing(self, height: float) -> Drawing:
        drawing = Drawing(self.width, height)
        for shape in self.shapes:
            drawing.add(shape)
        return drawing


def label_width(text: str, size: float = FONT_SIZE) -> float:
    return text_width(text, size)


# --- bars -------------------------------------------------------------------------------------

def bar_chart(figure: figures.Bars, width: float, size: float = FONT_SIZE) -> Drawing:
    """One bar per answer across the width: labels beside the bars when they fit, else above each bar."""
    bar_height = size * 1.4
    gap = size * 0.6
    labels = [bar.label for bar in figure.bars]
    values = [figure.value(bar) for bar in figure.bars]
    value_width = max((label_width(v, size) for v in values), default=0.0) + size
    widest = max((label_width(label, size) for label in labels), default=0.0)
    beside = widest <= width * 0.34
    label_room = widest + size if beside else 0.0
    plot = max(width * 0.3, width - label_room - value_width)
    row = bar_height + gap + (0 if beside else size * 1.3)
    height = len(figure.bars) * row + gap
    canvas = Canvas(width, figure.rtl)
    canvas.line(label_room, 0, label_room, height - gap / 2, width=0.5)
    for index, (bar, value) in enumerate(zip(figure.bars, values, strict=True)):
        y = height - (index + 1) * row
        length = figure.fraction(bar) * plot
        if beside:
            canvas.text(label_room - size / 2, y + bar_height * 0.3, bar.label, size, "end", label_room - size / 2)
        else:
            canvas.text(0, y + bar_height + size * 0.35, bar.label, size, "start", width)
        fill = figure.muted_fill if bar.muted else figure.fill
        canvas.rect(label_room, y, length, bar_height, fill, "diagonal" if bar.muted else "none", stroke=INK)
        canvas.text(label_room + length + size / 2, y + bar_height * 0.3, value, size, "start")
    return canvas.drawing(height)


# --- stacked bars -----------------------------------------------------------------------------

def legend(canvas: Canvas, figure: figures.Stacked, top: float, size: float = FONT_SIZE) -> float:
    """Draw the scale's categories as swatches with labels, in reading order; return the height used."""
    x = 0.0
    line = 0
    swatch = size * 1.1
    for label, fill, pattern in figure.legend():
        item = swatch + size * 0.4 + label_width(label, size) + size * 1.2
        if x and x + item > canvas.width:
            x, line = 0.0, line + 1
        y = top - (line + 1) * size * 1.6
        canvas.rect(x, y, swatch, swatch, fill, pattern, stroke=INK)
        canvas.text(x + swatch + size * 0.4, y + swatch * 0.15, label, size, "start", canvas.width - x - swatch)
        x += item
    return (line + 1) * size * 1.6 + size * 0.6


def stacked_chart(figure: figures.Stacked, width: float, size: float = FONT_SIZE) -> Drawing:
    """Stacked bars on one shared scale under a legend; a diverging chart has its centre line and totals."""
    bar_height = size * 1.9
    has_labels = any(row.label for row in figure.rows)
    row_height = bar_height + size * 0.8 + (size * 1.4 if has_labels else 0)
    margin = size * 4 if figure.diverging else 0.0  # room for the totals either side
    plot = width - 2 * margin
    probe = Canvas(width, figure.rtl)
    legend_height = legend(probe, figure, 0, size)
    height = legend_height + len(figure.rows) * row_height + size * 0.5
    canvas = Canvas(width, figure.rtl)
    legend(canvas, figure, height, size)
    top = height - legend_height
    centre = figure.centre
    if centre is not None:  # drawn first: the bars cover it, so it shows between them and never over a value
        canvas.line(margin + centre * plot, 0, margin + centre * plot, top, width=0.8, dash=(2, 1.5))
    for index, row in enumerate(figure.rows):
        y = top - (index + 1) * row_height + size * 0.5
        if row.label:
            canvas.text(margin, y + bar_height + size * 0.45, row.label, size, "start", plot)
        for span in figure.spans(row, min_label=size * 3.2 / plot):
            x = margin + span.start * plot
            canvas.rect(x, y, span.width * plot, bar_height, span.fill, span.pattern, stroke=INK)
            if span.label:
                middle = x + span.width * plot / 2
                if span.pattern != "none":  # a plain patch under the value, so hatching never crosses it
                    room = label_width(span.label, size) + size * 0.5
                    canvas.rect(middle - room / 2, y + bar_height / 2 - size * 0.6, room, size * 1.2, span.fill)
                canvas.text(middle, y + bar_height / 2 - size * 0.35, span.label, size, "middle", fill=span.ink)
        totals = figure.totals(row)
        if totals is not None:
            spans = figure.spans(row)
            left_end = margin + (spans[0].start if spans else 0) * plot
            right_end = margin + ((spans[-1].start + spans[-1].width) if spans else 0) * plot
            canvas.text(left_end - size * 0.4, y + bar_height / 2 - size * 0.35,
                        figures.percent_text(totals[0]), size, "end", bold=True)
            canvas.text(right_end + size * 0.4, y + bar_height / 2 - size * 0.35,
                        figures.percent_text(totals[1]), size, "start", bold=True)
    return canvas.drawing(height)


# --- timeline ---------------------------------------------------------------------------------

def timeline_chart(figure: figures.Timeline, width: float, size: float = FONT_SIZE,
                   plot_height: float = 90) -> Drawing:
    """Columns per day under the largest day's count, with each marked event as a dashed line and a label."""
    axis = size * 2.2
    marks_height = (size * 1.3) * max(1, min(len(figure.marks), 3))
    height = axis + plot_height + marks_height + size
    canvas = Canvas(width, figure.rtl)
    left = label_width(str(figure.top), size) + size
    plot = width - left
    top = figure.top or 1
    canvas.line(left, axis, width, axis, width=0.6)
    canvas.line(left, axis + plot_height, width, axis + plot_height, color=GRID, width=0.3, dash=(1, 2))
    canvas.text(left - size * 0.4, axis + plot_height - size * 0.35, str(figure.top), size, "end")
    canvas.text(left - size * 0.4, axis - size * 0.35, "0", size, "end")
    column = figure.column * plot
    for day in figure.days:
        if day.count:
            canvas.rect(left + figure.position(day.day) * plot + column * 0.1, axis, column * 0.8,
                        day.count / top * plot_height, figures.BAR_FILL)
    if figure.days:
        canvas.text(left, axis - size * 1.4, figure.days[0].label, size, "start")
        canvas.text(width, axis - size * 1.4, figure.days[-1].label, size, "end")
    for index, mark in enumerate(figure.marks):
        x = left + (figure.position(mark.day) + figure.column / 2) * plot
        level = axis + plot_height + size * 0.4 + (index % 3) * size * 1.3
        canvas.line(x, axis, x, level + size, width=0.7, dash=(2, 1.5))
        anchor = "end" if x > left + plot * 0.7 else "start"
        canvas.text(x + (-size * 0.3 if anchor == "end" else size * 0.3), level, mark.label, size, anchor)
    return canvas.drawing(height)


def draw(figure: figures.Bars | figures.Stacked | figures.Timeline, width: float, size: float = FONT_SIZE) -> Drawing:
    """The drawing of any chart kind across the width."""
    if isinstance(figure, figures.Bars):
        return bar_chart(figure, width, size)
    if isinstance(figure, figures.Stacked):
        return stacked_chart(figure, width, size)
    return timeline_chart(figure, width, size, plot_height=max(90.0, size * 11))


# --- patterns ---------------------------------------------------------------------------------

def pattern_shapes(pattern: str, x: float, y: float, w: float, h: float, ink: colors.Color) -> list:
    """The lines or dots of a pattern inside a box, so that it reads without colour (reportlab has no hatch fill)."""
    if pattern == "none" or w <= 0 or h <= 0:
        return []
    shapes: list = []
    if pattern == "dots":
        for cx, cy in _grid(x, y, w, h):
            shapes.append(Circle(cx, cy, 0.55, fillColor=ink, strokeColor=None))
        return shapes
    directions = {"diagonal": [(1.0, 1.0)], "reverse": [(1.0, -1.0)], "cross": [(1.0, 1.0), (1.0, -1.0)],
                  "horizontal": [(1.0, 0.0)]}.get(pattern, [])
    for dx, dy in directions:
        for segment in _hatch(x, y, w, h, dx, dy):
            shapes.append(Line(*segment, strokeColor=ink, strokeWidth=0.45))
    return shapes


def _grid(x: float, y: float, w: float, h: float) -> Iterator[tuple[float, float]]:
    step = PATTERN_STEP
    row = 0
    cy = y + step / 2
    while cy < y + h:
        cx = x + step / 2 + (step / 2 if row % 2 else 0)
        while cx < x + w:
            yield cx, cy
            cx += step
        cy += step
        row += 1


def _hatch(x: float, y: float, w: float, h: float, dx: float, dy: float) -> Iterator[tuple[float, float, float, float]]:
    """Parallel lines in direction (dx, dy), PATTERN_STEP apart, clipped to the box."""
    if dy == 0:
        line_y = y + PATTERN_STEP / 2
        while line_y < y + h:
            yield x, line_y, x + w, line_y
            line_y += PATTERN_STEP
        return
    # Lines y - y0 = slope * (x - x0) where slope = dy/dx = ±1; walk their intercepts across the box.
    slope = dy / dx
    step = PATTERN_STEP * 1.414
    low = y - slope * (x + w) if slope > 0 else y - slope * x
    high = y + h - slope * x if slope > 0 else y + h - slope * (x + w)
    c = low + step / 2
    while c < high:
        points = []
        for px in (x, x + w):  # crossings with the left and right sides
            py = slope * px + c
            if y <= py <= y + h:
                points.append((px, py))
        for py in (y, y + h):  # crossings with the bottom and top
            px = (py - c) / slope
            if x < px < x + w:
                points.append((px, py))
        if len(points) >= 2:
            (x1, y1), (x2, y2) = sorted(points)[0], sorted(points)[-1]
            yield x1, y1, x2, y2
        c += step


__all__ = ["Canvas", "bar_chart", "draw", "legend", "pattern_shapes", "stacked_chart", "timeline_chart"]
