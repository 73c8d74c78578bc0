"""What results show, independent of the medium: bar charts, stacked bars, a timeline, tables and notes.

A question type turns its result into these (survey_app/questions); the dashboard
(templates/results/_charts.html and _svg.html), the chart downloads and the PDF
(survey_app/pdf/figures.py) each draw every kind, so no page or report needs to know which type of
question a figure came from. The geometry both renderers share (where each segment of a stacked bar
starts, which fill and pattern each category gets) is worked out here, once.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

# Fills and patterns, chosen so that a chart printed in black and white still tells its categories
# apart: every category differs from its neighbour in lightness and most also carry a pattern, and
# every bar or segment wide enough carries its value as text. Colours from ColorBrewer (BrBG, Blues)
# and Okabe-Ito, which colour-blind readers tell apart.
BAR_FILL = "#1d5a85"
MUTED_FILL = "#b8c7d3"  # "Other" categories: lighter, and hatched
INK = "#0b0c0c"
PAPER = "#ffffff"
NEGATIVE_FILLS = ("#8c510a", "#bf812d", "#dfc27d", "#f0dfb4")  # strongest first
POSITIVE_FILLS = ("#01665e", "#35978f", "#80cdc1", "#c7eae5")  # strongest first
NEUTRAL_FILL = "#d9d9d9"
SEQUENTIAL_FILLS = ("#08306b", "#2171b5", "#6baed6", "#c6dbef", "#eff3ff")
CATEGORICAL_FILLS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
# Pattern names every renderer draws: none, diagonal (/), reverse (\), cross (x), dots, horizontal.
PATTERNS = ("none", "diagonal", "dots", "reverse", "horizontal", "cross")


class Drawn:
    """What the chart kinds share for pages: pattern ids, and labels wrapped to fit a phone."""

    def pattern_id(self, prefix: str, pattern: str, ink: str) -> str:
        return pattern_id(prefix, pattern, ink)

    def lines(self, label: str, value: str = "", ems: float = 21) -> list[tuple[str, str]]:
        return caption_lines(label, value, ems)

    def em(self, text: str) -> float:
        return text_em(text)


@dataclass(frozen=True)
class Bar:
    """One bar: its label, count and percentage of the chart's base; muted for an "Other" share.

    detail is a second figure printed after the value (a ranking's mean rank).
    """

    label: str
    count: int
    percent: float | None
    muted: bool = False
    detail: str = ""


@dataclass(frozen=True)
class Bars(Drawn):
    """A horizontal bar chart, bars in the order given (by frequency, or in scale order when ordered)."""

    title: str
    bars: tuple[Bar, ...]
    base: int | None = None
    base_text: str = ""  # "n = 214 respondents who answered this question"
    ordered: bool = False  # the bars follow a scale (years, a frequency), not their size
    rtl: bool = False  # labels in a right-to-left language: the chart is mirrored
    kind: str = field(default="bars", init=False)

    @property
    def top(self) -> float:
        """The largest percentage, which the longest bar reaches."""
        return max((bar.percent or 0.0 for bar in self.bars), default=0.0)

    def fraction(self, bar: Bar) -> float:
        """How much of the plot's width this bar takes (0 to 1), the largest bar taking it all."""
        return (bar.percent or 0.0) / self.top if self.top else 0.0

    @property
    def fill(self) -> str:
        return BAR_FILL

    @property
    def muted_fill(self) -> str:
        return MUTED_FILL

    def value(self, bar: Bar) -> str:
        """The figure printed with a bar: "160 (53.0 %)", and its detail when it has one."""
        text = f"{bar.count} ({percent_text(bar.percent)})"
        return f"{text} · {bar.detail}" if bar.detail else text

    def patterns(self) -> list[tuple[str, str]]:
        """The (pattern, ink) pairs this chart draws, for pages that define each pattern once."""
        return [("diagonal", ink_on(MUTED_FILL))] if any(bar.muted for bar in self.bars) else []

    def describe(self, most: int = 3) -> str:
        """The largest bars in words, for a text alternative."""
        return "; ".join(f"{bar.label}: {percent_text(bar.percent)}"
                         for bar in sorted(self.bars, key=lambda b: -(b.percent or 0))[:most])


@dataclass(frozen=True)
class Segment:
    """One category's share of a stacked bar."""

    count: int
    percent: float | None


@dataclass(frozen=True)
class StackRow:
    """One stacked bar: a matrix row, or the one bar of an agreement question."""

    label: str
    base: int
    segments: tuple[Segment, ...]  # one per category of the scale, in scale order


@dataclass(frozen=True)
class Span:
    """Where a segment lies on the shared scale, as fractions of the plot's width, and how it is drawn."""

    start: float
    width: float
    fill: str
    pattern: str
    ink: str  # the colour of text drawn on the fill
    label: str  # its value as printed on it ("34 %"), or "" when it is too narrow for text


@dataclass(frozen=True)
class Stacked(Drawn):
    """Stacked bars, one per row, on one shared 0-100 % scale; diverging ones centre on the scale's midpoint.

    A diverging chart (agree-disagree) puts the categories before the midpoint to its left and
    those after it to its right; a neutral middle category straddles the centre line.
    """

    title: str
    scale: tuple[str, ...]  # the categories, in scale order
    rows: tuple[StackRow, ...]
    base: int | None = None
    base_text: str = ""
    diverging: bool = False
    ordinal: bool = True  # an ordered scale: shades run light to dark; else distinct hues
    rtl: bool = False
    kind: str = field(default="stacked", init=False)

    # -- which side of the centre each category is on --

    @property
    def neutral(self) -> int | None:
        """The middle category of an odd-length diverging scale, which straddles the centre."""
        n = len(self.scale)
        return n // 2 if self.diverging and n % 2 else None

    def side(self, index: int) -> int:
        """-1 left of the centre, 0 on it, +1 right of it (always +1 when not diverging)."""
        if not self.diverging:
            return 1
        half = len(self.scale) / 2
        return 0 if index == self.neutral else -1 if index < half else 1

    # -- how each category is drawn --

    def style(self, index: int) -> tuple[str, str]:
        """The fill and pattern of a category, the same wherever the chart is drawn."""
        n = len(self.scale)
        if self.diverging:
            side = self.side(index)
            if side == 0:
                return NEUTRAL_FILL, "none"
            per_side = n // 2
            if side < 0:  # strongest at the far end; hatched, so that print tells the two sides apart
                return NEGATIVE_FILLS[_shade(index, per_side)], "diagonal"
            return POSITIVE_FILLS[_shade(n - 1 - index, per_side)], "none"
        if self.ordinal:  # darkest first, lighter along the scale; dots tell apart shades that repeat
            return SEQUENTIAL_FILLS[_shade(index, n, 5)], ("dots" if n > 5 and index % 2 else "none")
        return CATEGORICAL_FILLS[index % len(CATEGORICAL_FILLS)], PATTERNS[index % len(PATTERNS)]

    def legend(self) -> list[tuple[str, str, str]]:
        """(label, fill, pattern) per category, in scale order."""
        return [(label, *self.style(i)) for i, label in enumerate(self.scale)]

    def keys(self) -> list[tuple[str, str, str, str]]:
        """(label, fill, pattern, ink of the pattern) per category, in scale order."""
        return [(label, fill, pattern, ink_on(fill)) for label, fill, pattern in self.legend()]

    def patterns(self) -> list[tuple[str, str]]:
        """The (pattern, ink) pairs this chart draws, for pages that define each pattern once."""
        return sorted({(pattern, ink) for _label, _fill, pattern, ink in self.keys() if pattern != "none"})

    def describe(self) -> str:
        """Each row's distribution in words, for a text alternative."""
        rows = []
        for row in self.rows:
            shares = ", ".join(f"{label} {percent_text(segment.percent)}"
                               for label, segment in zip(self.scale, row.segments, strict=True))
            rows.append(f"{row.label}: {shares}" if row.label else shares)
        return "; ".join(rows)

    # -- the shared scale --

    def _sides(self, row: StackRow) -> tuple[float, float]:
        """A row's percentage left and right of the centre."""
        left = right = 0.0
        for i, segment in enumerate(row.segments):
            p = segment.percent or 0.0
            side = self.side(i)
            if side < 0:
                left += p
            elif side > 0:
                right += p
            else:
                left += p / 2
                right += p / 2
        return left, right

    @property
    def extent(self) -> tuple[float, float]:
        """The percentages the shared scale reaches left and right of the centre (0 and 100 when not diverging)."""
        if not self.diverging:
            return 0.0, 100.0
        sides = [self._sides(row) for row in self.rows] or [(50.0, 50.0)]
        return max(max(s[0] for s in sides), 1.0), max(max(s[1] for s in sides), 1.0)

    @property
    def centre(self) -> float | None:
        """Where the centre line falls, as a fraction of the plot's width (None when not diverging)."""
        if not self.diverging:
            return None
        left, right = self.extent
        return left / (left + right)

    def spans(self, row: StackRow, min_label: float = 0.07) -> list[Span]:
        """The row's segments on the shared scale; segments narrower than min_label carry no text."""
        left, right = self.extent
        total = left + right
        start = (left - self._sides(row)[0]) / total if self.diverging else 0.0
        spans = []
        for i, segment in enumerate(row.segments):
            width = (segment.percent or 0.0) / total
            fill, pattern = self.style(i)
            label = f"{segment.percent:.0f} %" if segment.percent is not None and width >= min_label else ""
            spans.append(Span(start, width, fill, pattern, ink_on(fill), label))
            start += width
        return spans

    def totals(self, row: StackRow) -> tuple[float, float] | None:
        """A diverging row's share left of the centre and right of it, the neutral middle left out."""
        if not self.diverging:
            return None
        left = sum(s.percent or 0.0 for i, s in enumerate(row.segments) if self.side(i) < 0)
        right = sum(s.percent or 0.0 for i, s in enumerate(row.segments) if self.side(i) > 0)
        return round(left, 1), round(right, 1)


@dataclass(frozen=True)
class Day:
    """One day's count, with the day as the page's language writes it."""

    day: date
    count: int
    label: str = ""


@dataclass(frozen=True)
class Mark:
    """An event on a timeline: the invitation, a reminder round."""

    day: date
    label: str
    day_label: str = ""


@dataclass(frozen=True)
class Timeline(Drawn):
    """Counts per day as columns, every day from the first to the last, with events marked."""

    title: str
    days: tuple[Day, ...]
    marks: tuple[Mark, ...] = ()
    base_text: str = ""
    rtl: bool = False
    kind: str = field(default="timeline", init=False)

    @property
    def top(self) -> int:
        return max((d.count for d in self.days), default=0)

    def position(self, day: date) -> float:
        """Where a day's column starts, as a fraction of the plot's width."""
        if not self.days:
            return 0.0
        return (day - self.days[0].day).days / len(self.days)

    @property
    def column(self) -> float:
        """The width of one day's column, as a fraction of the plot's width."""
        return 1.0 / len(self.days) if self.days else 0.0

    def patterns(self) -> list[tuple[str, str]]:
        return []

    def describe(self) -> str:
        """The busiest day and the total, for a text alternative."""
        if not self.days:
            return ""
        busiest = max(self.days, key=lambda d: d.count)
        return f"{busiest.label}: {busiest.count}; {self.days[0].label} – {self.days[-1].label}"


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, and a key pages may use to find the figure (data-count)."""

    text: str
    key: str = ""


@dataclass(frozen=True)
class Table:
    """A data table with a caption, column headings and rows led by a row heading."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric_from: int = 1  # columns from this one on hold numbers (right-aligned)
    kind: str = field(default="table", init=False)


@dataclass(frozen=True)
class Note:
    """A sentence of text in place of, or introducing, a chart."""

    text: str
    kind: str = field(default="note", init=False)


Figure = Bars | Stacked | Timeline | Table | Note
# The kinds that are charts: what staff may download as images, each with its title and n.
CHART_KINDS = frozenset({"bars", "stacked", "timeline"})


def percent_text(value: float | None) -> str:
    """A percentage as the pages and the PDF print it ("–" when there is no base)."""
    return "–" if value is None else f"{value:.1f} %"


def ink_on(fill: str) -> str:
    """Black or white text, whichever contrasts more with the fill (WCAG relative luminance)."""
    channels = [int(fill[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return INK if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else PAPER


def _shade(distance: int, count: int, shades: int = 4) -> int:
    """Which shade of a ramp (0 the strongest) the category `distance` from the strong end takes.

    Two categories take the strongest and a clearly lighter one; more spread over the ramp.
    """
    if count <= 1:
        return 0
    if count == 2:
        return 0 if distance == 0 else min(2, shades - 1)
    return round(distance * (shades - 1) / (count - 1))


def pattern_id(prefix: str, pattern: str, ink: str) -> str:
    """The id a page gives a pattern definition: one per chart, pattern and ink."""
    return f"{prefix}-{pattern}-{'k' if ink == INK else 'w'}"


def caption_lines(label: str, value: str, ems: float) -> list[tuple[str, str]]:
    """A bar's label wrapped to `ems`, with its value after the last line or on a line of its own.

    Returns (label part, value part) per line, so that pages draw the value in bold.
    """
    lines = [(line, "") for line in wrap(label, ems)] if label else []
    if not value:
        return lines
    if lines and text_em(lines[-1][0] + "  " + value) <= ems:
        lines[-1] = (lines[-1][0], value)
    else:
        lines.append(("", value))
    return lines


def text_em(text: str) -> float:
    """The width of a text in ems, estimated: wide (CJK) characters one em, others a little over half."""
    width = 0.0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) == "Cf":
            continue
        width += 1.0 if unicodedata.east_asian_width(char) in ("W", "F") else 0.56
    return width


def wrap(text: str, ems: float, most: int = 3, measure: Callable[[str], float] = text_em) -> list[str]:
    """Break a label into lines no wider than `ems`, between words (or between wide characters).

    At most `most` lines; the last one cut short with "…". Pages use it to fit labels on a phone,
    with widths estimated in ems; the PDF passes its own measure (points in its fonts).
    """
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        candidate = line + token
        if line and measure(candidate.rstrip()) > ems:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line = candidate
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1].rstrip() + "…"
    return lines or [""]


def _tokens(text: str) -> list[str]:
    """Words with their trailing space; each wide character is a token of its own."""
    tokens: list[str] = []
    word = ""
    for char in " ".join(text.split()):
        if unicodedata.east_asian_width(char) in ("W", "F"):
            if word:
                tokens.append(word)
            tokens.append(char)
            word = ""
        elif char == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += char
    if word:
        tokens.append(word)
    return tokens
