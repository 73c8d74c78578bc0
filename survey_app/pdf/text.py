"""Multilingual text for reportlab: paragraphs and labels that measure, wrap and draw any script.

Fonts are in fonts.py, the work on scripts (Arabic bidi and shaping, per-script runs) in scripts.py;
this module lays text out and is what the report and the charts use. Every font is a TrueType file
from a pinned PyPI package, embedded as a subset, so the PDF reads the same on any machine.
See docs/pdf-fonts.md for the choices and their limits.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, shapeStr
from reportlab.platypus import Flowable, Paragraph

# Callers put text on a page through this module alone: the font names and styles, and the script
# helpers they need, are re-exported here.
from .fonts import (
    ARABIC_FONT,
    BASE_FONT,
    BASE_FONT_BOLD,
    BOLD_FONTS,
    CMAPS,
    DEVANAGARI_FONT,
    DEVANAGARI_FONT_BOLD,
    FALLBACK_ORDER,
    Direction,
    paragraph_style,
    register_fonts,
    table_style,
)
from .scripts import (
    base_direction,
    clean_text,
    covers,
    drawn_runs,
    drop_invisible,
    has_rtl,
    paragraph_markup,
    reshape,
    runs_markup,
    script_font,
    separate_scripts,
    split_runs,
    visual_order,
)

__all__ = [
    "ARABIC_FONT", "BASE_FONT", "BASE_FONT_BOLD", "DEVANAGARI_FONT", "DEVANAGARI_FONT_BOLD", "BidiParagraph",
    "Direction", "chart_label", "paragraph", "paragraph_markup", "paragraph_style", "register_fonts", "split_runs",
    "table_style", "text_width",
]

# --- measuring and wrapping ---------------------------------------------------------

def _is_bold(style: ParagraphStyle) -> bool:
    return style.fontName in (BASE_FONT_BOLD, DEVANAGARI_FONT_BOLD)


def _shape_words(text: str, font: str) -> list[str]:
    """Shape each word on its own, as a Paragraph does, keeping the spaces between words."""
    parts = re.findall(r"\s+|\S+", text)
    return [part if part.isspace() else shapeStr(part, font, 10) for part in parts]


def _run_width(font: str, text: str, size: float) -> float:
    if font not in (DEVANAGARI_FONT, DEVANAGARI_FONT_BOLD):
        return pdfmetrics.stringWidth(text, font, size)
    width = 0.0
    for part in _shape_words(text, font):
        if isinstance(part, ShapedStr):
            # x_advance is in thousandths of the font size, as reportlab draws it.
            width += sum(sd.x_advance for sd in part.__shapeData__) * size / 1000
        else:
            width += pdfmetrics.stringWidth(part, font, size)
    return width


def _runs_width(runs: list[tuple[str, str]], size: float, bold: bool) -> float:
    return sum(_run_width(BOLD_FONTS[font] if bold else font, run, size) for font, run in runs)


def _width(reshaped: str, size: float, bold: bool) -> float:
    return _runs_width(split_runs(reshaped), size, bold)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Measure text as it will be drawn (Arabic joined, Devanagari shaped), in points."""
    register_fonts()
    return _text_width(text, size, bold)


@lru_cache(maxsize=8192)
def _text_width(text: str, size: float, bold: bool) -> float:
    return _width(reshape(separate_scripts(clean_text(text))), size, bold)


def _clusters(token: str) -> list[str]:
    """Split a token where a line may break inside it: never before a mark or joiner."""
    clusters: list[str] = []
    for char in token:
        joins = unicodedata.category(char)[0] == "M" or char in "\u200c\u200d"
        if clusters and (joins or clusters[-1][-1] in "\u200c\u200d\u094d"):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _break_lines(reshaped: str, first_width: float, width: float, size: float,
                 bold: bool) -> list[tuple[str, str]]:
    """Greedily break one logical line of reshaped text; return (line, glue to the next) pairs.

    The glue is " " where the break replaced a space and "" where it fell inside a word,
    so the lines can be joined back into the text they came from.
    """
    # Paragraph joins words with the space of the neighbouring font; take the widest.
    space = max(pdfmetrics.stringWidth(" ", font, size) for font in CMAPS)
    lines: list[tuple[str, str]] = []
    current, used = "", 0.0

    def limit() -> float:
        return first_width if not lines else width

    for token in reshaped.split():
        token_width = _width(token, size, bold)
        gap = space if current else 0.0
        if used + gap + token_width <= limit():
            current, used = current + (" " if current else "") + token, used + gap + token_width
            continue
        if token_width <= width:
            if current:
                lines.append((current, " "))
            current, used = token, token_width
            continue
        # Longer than a whole line (Chinese has no spaces): fill lines cluster by cluster.
        glue = " "
        for cluster in _clusters(token):
            cluster_width = _width(cluster, size, bold)
            gap = space if glue and current else 0.0
            if current and used + gap + cluster_width > limit():
                lines.append((current, glue))
                current, used, gap = "", 0.0, 0.0
            current, used = current + (" " if gap else "") + cluster, used + gap + cluster_width
            glue = ""
    lines.append((current, ""))
    return lines


_MIRROR_ALIGNMENT = {TA_LEFT: TA_RIGHT, TA_RIGHT: TA_LEFT, TA_CENTER: TA_CENTER, TA_JUSTIFY: TA_JUSTIFY}


class BidiParagraph(Flowable):
    """Draw user text with right-to-left parts: break lines in logical order, then reorder each.

    Reordering a whole paragraph before wrapping would put the end of an Arabic sentence
    on its first line.  Each line becomes a one-line Paragraph in the given style, so
    fonts, size, leading, colour and Devanagari shaping behave as in a Paragraph.  For an
    RTL paragraph the style's alignment is mirrored (left means "start").
    """

    def __init__(self, text: str, style: ParagraphStyle, direction: Direction | None = None) -> None:
        super().__init__()
        register_fonts()
        self.style = style
        cleaned = separate_scripts(clean_text(text))
        self._base = base_direction(cleaned, direction)
        self._hard_lines = [reshape(line) for line in cleaned.split("\n")]
        self._is_first_part = True
        self._is_last_part = True
        self._layout_width: float | None = None
        self._lines: list[Paragraph] = []
        self._heights: list[float] = []
        self._line_sources: list[tuple[str, str]] = []  # (reshaped line, glue to the next)

    def getSpaceBefore(self) -> float:  # noqa: N802 - reportlab's name
        """Keep the style's space before only on the first part of a split paragraph."""
        return self.style.spaceBefore if self._is_first_part else 0

    def getSpaceAfter(self) -> float:  # noqa: N802 - reportlab's name
        """Keep the style's space after only on the last part of a split paragraph."""
        return self.style.spaceAfter if self._is_last_part else 0

    def _line_style(self, first: bool, last: bool) -> ParagraphStyle:
        style = self.style
        alignment = style.alignment
        if self._base == "R":
            alignment = _MIRROR_ALIGNMENT.get(alignment, TA_RIGHT)
        justify_last = 0
        if alignment == TA_JUSTIFY:
            if last:
                alignment = TA_RIGHT if self._base == "R" else TA_LEFT
            else:
                justify_last = 1  # each line is a paragraph's last line; justify it anyway
        return ParagraphStyle(
            f"{style.name}-line", parent=style, alignment=alignment, justifyLastLine=justify_last,
            spaceBefore=0, spaceAfter=0, firstLineIndent=style.firstLineIndent if first else 0,
        )

    def _layout(self, avail_width: float) -> None:
        if self._layout_width == avail_width:
            return
        style = self.style
        bold = _is_bold(style)
        # A hair of slack absorbs rounding between our measure and Paragraph's.
        width = avail_width - style.leftIndent - style.rightIndent - 0.5
        first_width = width - (style.firstLineIndent if self._is_first_part else 0)
        sources: list[tuple[str, str]] = []
        for hard_line in self._hard_lines:
            broken = _break_lines(hard_line, first_width if not sources else width, width,
                                  style.fontSize, bold)
            i = 0
            while i < len(broken):
                # Reordering can make Devanagari touch another font, which costs a space
                # (drawn_runs); move the last word on when that overfills the line.
                line, glue = broken[i]
                limit = first_width if not sources and i == 0 else width
                drawn = drawn_runs(visual_order(line, self._base))
                if " " in line and _runs_width(drawn, style.fontSize, bold) > limit:
                    head, moved = line.rsplit(" ", 1)
                    broken[i:i + 1] = [(head, " "), (moved, glue)]
                    continue
                i += 1
            if sources:
                sources[-1] = (sources[-1][0], "\n")
            sources.extend(broken)
        self._set_lines(sources, avail_width)

    def _set_lines(self, sources: list[tuple[str, str]], avail_width: float) -> None:
        self._line_sources = sources
        self._lines, self._heights = [], []
        for i, (line, _) in enumerate(sources):
            first = self._is_first_part and i == 0
            last = self._is_last_part and i == len(sources) - 1
            markup = runs_markup(drawn_runs(visual_order(line, self._base)), _is_bold(self.style))
            markup = markup or "&nbsp;"  # keeps an empty line's height
            paragraph = Paragraph(markup, self._line_style(first, last))
            self._heights.append(paragraph.wrap(avail_width, 1e9)[1])
            self._lines.append(paragraph)
        self._layout_width = avail_width

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Lay the text out for this width; the height is that of all its lines."""
        self._layout(availWidth)
        self.width, self.height = availWidth, sum(self._heights)
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        """Split between lines so a long answer can continue on the next page."""
        self._layout(availWidth)
        used, fit = 0.0, 0
        for height in self._heights:
            if used + height > availHeight + 1e-6:
                break
            used, fit = used + height, fit + 1
        lines = len(self._heights)
        # Like Paragraph: no lone first line at the foot of a page unless the style allows it.
        if fit == 0 or (fit == 1 < lines and not getattr(self.style, "allowOrphans", 0)):
            return []
        if fit == lines:
            return [self]
        return [self._part(0, fit, availWidth), self._part(fit, lines, availWidth)]

    def _part(self, start: int, stop: int, avail_width: float) -> BidiParagraph:
        part = BidiParagraph.__new__(BidiParagraph)
        Flowable.__init__(part)
        part.style, part._base = self.style, self._base
        part._is_first_part = self._is_first_part and start == 0
        part._is_last_part = self._is_last_part and stop == len(self._line_sources)
        sources = self._line_sources[start:stop]
        # Should the next frame have another width, re-wrap from the text these lines hold.
        text = "".join(line + glue for line, glue in sources[:-1]) + sources[-1][0]
        part._hard_lines = text.split("\n")
        part._layout_width = None
        part._set_lines(sources, avail_width)
        return part

    def draw(self) -> None:
        """Draw the prepared lines from the top down."""
        y = self.height
        for paragraph, height in zip(self._lines, self._heights, strict=True):
            y -= height
            paragraph.drawOn(self.canv, 0, y)


def paragraph(text: str, style: ParagraphStyle, direction: Direction | None = None) -> Flowable:
    """Make the flowable for user text: a Paragraph, or a BidiParagraph when it has right-to-left text."""
    if direction is None and not has_rtl(text):
        return Paragraph(paragraph_markup(text, bold=_is_bold(style)), style)
    return BidiParagraph(text, style, direction)


# --- chart labels -------------------------------------------------------------------

def _label_font(text: str) -> str:
    """Pick one font for a label: the main script's, unless another font has every character."""
    counts = {font: 0 for font in FALLBACK_ORDER}
    for char in text:
        font = script_font(char)
        if font in counts:
            counts[font] += 1
    ranked = sorted(FALLBACK_ORDER, key=lambda f: -counts[f])  # stable: ties keep the order
    visible = [c for c in text if unicodedata.category(c) != "Cf"]
    for font in ranked:
        if all(covers(font, c) for c in visible):
            return font
    return ranked[0]


def _label(line: str) -> tuple[str, str]:
    visual = visual_order(reshape(line), base_direction(line, None))
    font = _label_font(visual)
    if font == DEVANAGARI_FONT:
        visual = "".join(str(part) for part in _shape_words(visual, font))
    return font, drop_invisible(font, visual)


def chart_label(text: str, max_width: float | None = None, size: float = 10) -> tuple[str, str]:
    """Return (font name, text to draw) for a reportlab.graphics label, in a single font.

    Arabic comes back joined and in visual order.  Devanagari comes back pre-shaped: the
    characters are the font's shaped glyphs (reportlab maps unencoded glyphs to private
    use code points), because graphics labels are drawn without HarfBuzz; mark offsets
    are lost, which reads well at label sizes.  A label mixing Chinese with Arabic or
    Devanagari has no single font and shows boxes for the minority script.  With
    max_width, a label wider than that at this size loses its end and gains "…": cut here,
    in reading order, because cutting the returned string would drop the start of Arabic
    or split a Devanagari cluster.
    """
    register_fonts()
    line = " ".join(separate_scripts(clean_text(text)).split())
    font, shown = _label(line)
    if max_width is None or pdfmetrics.stringWidth(shown, font, size) <= max_width:
        return font, shown
    clusters = _clusters(line)
    best = _label("…")
    low, high = 0, len(clusters) - 1  # find the most clusters that still fit
    while low <= high:
        middle = (low + high) // 2
        candidate = _label("".join(clusters[:middle]).rstrip() + "…")
        if pdfmetrics.stringWidth(candidate[1], candidate[0], size) <= max_width:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best
