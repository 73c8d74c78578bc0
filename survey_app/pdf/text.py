"""Multilingual text for reportlab: embedded fonts, per-script runs, Arabic bidi, Devanagari shaping.

Every font is a TrueType file from a pinned PyPI package, embedded as a subset, so the PDF
reads the same on any machine.  See docs/pdf-fonts.md for the choices and their limits.
"""
from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib.resources import as_file, files
from typing import Literal, NoReturn

import arabic_reshaper

# The pure-Python implementation of the same package: unlike the compiled get_display of python-bidi 0.6,
# it mirrors brackets in right-to-left runs (rule L4), so "(n = 245)" does not print as ")n = 245(".
from bidi.algorithm import get_display
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, TTFont, shapeStr
from reportlab.platypus import Flowable, Paragraph, TableStyle

Direction = Literal["LTR", "RTL"]

# Font names as registered with reportlab; pass them to styles and chart labels.
BASE_FONT = "SurveySans"  # Kurinto Sans SC: Latin, Greek, Cyrillic, Chinese, punctuation
BASE_FONT_BOLD = "SurveySans-Bold"
DEVANAGARI_FONT = "SurveyDevanagari"  # Kurinto Sans: Devanagari (shaped by HarfBuzz)
DEVANAGARI_FONT_BOLD = "SurveyDevanagari-Bold"
ARABIC_FONT = "SurveyArabic"  # Noto Sans Arabic; a variable font with no bold cut


class _UnshapedTTFont(TTFont):
    """Opt this font out of reportlab's HarfBuzz pass, which would undo our Arabic ordering."""

    # reportlab shapes each word of a shaping=1 paragraph with the font of the word's
    # first fragment, and leaves the word as it is when that font's hbFont raises
    # AttributeError (reportlab 5.1 ttfonts.shapeFragWord).  Arabic arrives already
    # joined and in visual order, so HarfBuzz would reverse it again; Latin, Greek,
    # Cyrillic and Chinese need no shaping, and skipping them keeps a word that mixes
    # them with Arabic from being shaped with a font that lacks its letters.
    def hbFont(self, fontSize: float = 10) -> NoReturn:  # noqa: N802 - reportlab's name
        raise AttributeError(f"{self.fontName} is drawn without HarfBuzz shaping")


class _ShapedTTFont(TTFont):
    """Record HarfBuzz-only glyphs at the width reportlab's other code paths expect."""

    # Glyphs with no code point of their own (Devanagari conjuncts, half forms, matra
    # variants) get a private-use code point from reportlab, stored with HarfBuzz's
    # advance in font units; reportlab's widths are in thousandths of an em, so for a
    # font whose em is not 1000 units (Kurinto's is 2048) plain strings holding those
    # glyphs, such as pre-shaped chart labels, would be spaced out.
    hbAddPrivate: Callable[[str, int, float], object]  # reportlab's, wrapped in hbFont below

    def hbFont(self, fontSize: float = 10) -> object:  # noqa: N802 - reportlab's name
        font = super().hbFont(fontSize)
        add_private = self.hbAddPrivate
        self.hbAddPrivate = lambda name, gid, advance: add_private(name, gid, self.pdfScale(advance))
        return font


_KURINTO = "static/weblate_fonts/kurinto/ttf/"
# (registered name, package holding the file, path inside the package, font class)
_FONT_FILES: tuple[tuple[str, str, str, type[TTFont]], ...] = (
    (BASE_FONT, "weblate_fonts", _KURINTO + "KurintoSansSC-Rg.ttf", _UnshapedTTFont),
    (BASE_FONT_BOLD, "weblate_fonts", _KURINTO + "KurintoSansSC-Bd.ttf", _UnshapedTTFont),
    (DEVANAGARI_FONT, "weblate_fonts", _KURINTO + "KurintoSans-Rg.ttf", _ShapedTTFont),
    (DEVANAGARI_FONT_BOLD, "weblate_fonts", _KURINTO + "KurintoSans-Bd.ttf", _ShapedTTFont),
    (ARABIC_FONT, "fontpkg_noto_sans_arabic", "files/NotoSansArabic[wdth,wght].ttf", _UnshapedTTFont),
)
_BOLD = {BASE_FONT: BASE_FONT_BOLD, DEVANAGARI_FONT: DEVANAGARI_FONT_BOLD, ARABIC_FONT: ARABIC_FONT}
# Where a character has no script of its own, try the fonts in this order.
_FALLBACK_ORDER = (BASE_FONT, ARABIC_FONT, DEVANAGARI_FONT)

_registered = False
_register_lock = threading.Lock()
_cmaps: dict[str, dict[int, int]] = {}


def register_fonts() -> None:
    """Register the embedded fonts and their bold families once per process, thread-safely."""
    global _registered
    if _registered:
        return
    with _register_lock:
        if _registered:
            return
        for name, package, path, font_class in _FONT_FILES:
            try:
                resource = files(package).joinpath(path)
            except ModuleNotFoundError as exc:
                distribution = package.replace("_", "-")
                raise RuntimeError(f"PDF fonts missing: pip install the pinned {distribution}") from exc
            # as_file copes with a zipped install; TTFont reads the whole file now.
            with as_file(resource) as font_path:
                font = font_class(name, str(font_path))
            pdfmetrics.registerFont(font)
            _cmaps[name] = font.face.charToGlyph
        # Italic falls back to upright: none of the fonts has an italic cut.
        pdfmetrics.registerFontFamily(
            BASE_FONT, normal=BASE_FONT, bold=BASE_FONT_BOLD, italic=BASE_FONT,
            boldItalic=BASE_FONT_BOLD,
            # Canvases and graphics then start in our font instead of base-14 Helvetica.
            baseFontFor="canvas graphics",
        )
        pdfmetrics.registerFontFamily(
            DEVANAGARI_FONT, normal=DEVANAGARI_FONT, bold=DEVANAGARI_FONT_BOLD,
            italic=DEVANAGARI_FONT, boldItalic=DEVANAGARI_FONT_BOLD,
        )
        pdfmetrics.registerFontFamily(ARABIC_FONT, normal=ARABIC_FONT, bold=ARABIC_FONT)
        _registered = True


def paragraph_style(
    name: str = "SurveyBody", *, bold: bool = False, **overrides: object
) -> ParagraphStyle:
    """Make a ParagraphStyle in our fonts with shaping on, which Devanagari needs."""
    register_fonts()
    fields: dict[str, object] = {
        "fontName": BASE_FONT_BOLD if bold else BASE_FONT,
        "bulletFontName": BASE_FONT,
        "fontSize": 10,
        "leading": 14,
        "shaping": 1,
    }
    fields.update(overrides)
    return ParagraphStyle(name, **fields)


def table_style(commands: Iterable[tuple[object, ...]] = ()) -> TableStyle:
    """Make a TableStyle whose cells start in our font: reportlab's Table sets Helvetica otherwise."""
    register_fonts()
    return TableStyle([("FONT", (0, 0), (-1, -1), BASE_FONT), *commands])


# --- cleaning and bidi -------------------------------------------------------------

_ARABIC_RANGES = (
    (0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF),
)
_DEVANAGARI_RANGES = ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF))
_NEWLINES = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# Bidi embedding/override/isolate marks: python-bidi has applied them by the time we draw.
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)

ZWJ = "\u200d"
# Harakat are kept: dropping them would change what a respondent wrote.
_RESHAPER = arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": False})


def _in_ranges(code: int, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(low <= code <= high for low, high in ranges)


def _clean(text: str) -> str:
    """Normalise user text: NFC, newlines as \\n, tabs as spaces, no control characters."""
    text = unicodedata.normalize("NFC", _NEWLINES.sub("\n", str(text))).replace("\t", " ")
    return "".join(c for c in text if c == "\n" or unicodedata.category(c) != "Cc")


def _has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def _base_dir(text: str, direction: Direction | None) -> Literal["L", "R"]:
    """Pick the paragraph direction: as asked, else from the first strong character."""
    if direction is not None:
        return "R" if direction.upper() == "RTL" else "L"
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "L"
        if kind in ("R", "AL"):
            return "R"
    return "L"


def _reshape(text: str) -> str:
    """Replace Arabic letters by their joined presentation forms, still in logical order."""
    if not any(_in_ranges(ord(c), _ARABIC_RANGES) for c in text):
        return text
    try:
        return _RESHAPER.reshape(text)
    except IndexError:
        # arabic-reshaper 3.1 drops a zero-width joiner it cannot use and then looks up ligatures
        # by the old positions ("\u200dلآ" fails). The joiner only asks for a joining form: without
        # it the letters are the same, and nothing the fellow wrote is lost.
        return _RESHAPER.reshape(text.replace(ZWJ, ""))


def _display(reshaped: str, base: Literal["L", "R"]) -> str:
    """Reorder one reshaped line into visual (left-to-right drawing) order."""
    if not reshaped.strip() or (base == "L" and not _has_rtl(reshaped)):
        return reshaped
    return get_display(reshaped, base_dir=base).translate(_BIDI_CONTROLS)


# --- script runs --------------------------------------------------------------------

_INHERIT = "inherit"  # combining marks stay in their base letter's font


def _covers(font: str, char: str) -> bool:
    return ord(char) in _cmaps[font]


def _script_font(char: str) -> str | None:
    """Return the font a letter needs, None for neutral characters, _INHERIT for marks."""
    code = ord(char)
    category = unicodedata.category(char)
    if _in_ranges(code, _ARABIC_RANGES):
        # Arabic punctuation and digits are neutral, so "हिन्दी؟" stays one font.
        return ARABIC_FONT if category[0] in "LM" else None
    if _in_ranges(code, _DEVANAGARI_RANGES):
        return DEVANAGARI_FONT
    if category[0] == "M":
        return _INHERIT
    if category[0] != "L":
        return None  # digits, punctuation, symbols, spaces, format characters
    for font in _FALLBACK_ORDER:
        if _covers(font, char):
            return font
    return BASE_FONT  # not covered anywhere: shows the missing-glyph box


def _fill(fonts: list[str | None]) -> None:
    """Give neutral slots the font before them, or after them at the start, in place."""
    previous: str | None = None
    for i, font in enumerate(fonts):
        if font is None:
            fonts[i] = previous
        else:
            previous = font
    following: str | None = None
    for i in range(len(fonts) - 1, -1, -1):
        if fonts[i] is None:
            fonts[i] = following
        else:
            following = fonts[i]


def _token_fonts(token: str) -> list[str | None]:
    """Choose fonts for one whitespace-free token; None means "neutral, decide later"."""
    wanted = [_script_font(c) for c in token]
    scripts = {f for f in wanted if f not in (None, _INHERIT)}
    if not scripts:
        return [None] * len(token)
    if len(scripts) == 1:
        return [scripts.pop()] * len(token)
    # reportlab shapes a whole word with the font of its first fragment, and HarfBuzz
    # shapes it as the script of its first letter: a word that starts in Devanagari
    # can stay in the Devanagari font when that font has all its letters (Kurinto Sans
    # has Latin, Greek and Cyrillic).  Other mixes are split by _separate_scripts.
    first_script = next(f for f in wanted if f not in (None, _INHERIT))
    if (first_script == DEVANAGARI_FONT and ARABIC_FONT not in scripts
            and all(_covers(DEVANAGARI_FONT, c) for c in token)):
        return [DEVANAGARI_FONT] * len(token)
    fonts: list[str | None] = [None if f == _INHERIT else f for f in wanted]
    for i, f in enumerate(wanted):
        if f == _INHERIT and i:
            fonts[i] = fonts[i - 1]
    _fill(fonts)
    return fonts


def split_runs(text: str) -> list[tuple[str, str]]:
    """Split text into (font name, text) runs so each script is drawn with a font that has it.

    Neutral characters (spaces, digits, punctuation) join the run before them, or the one
    after them at the start of the text; a word that starts in Devanagari keeps its
    Latin, Greek or Cyrillic letters in the Devanagari font, because reportlab shapes a
    word with a single font.
    """
    register_fonts()
    fonts: list[str | None] = []
    for token in re.findall(r"\s+|\S+", text):
        fonts.extend([None] * len(token) if token[0].isspace() else _token_fonts(token))
    _fill(fonts)
    runs: list[tuple[str, str]] = []
    for char, font in zip(text, fonts, strict=True):
        chosen = font or BASE_FONT
        if not _covers(chosen, char):
            chosen = next((f for f in _FALLBACK_ORDER if _covers(f, char)), chosen)
        if runs and runs[-1][0] == chosen:
            runs[-1] = (chosen, runs[-1][1] + char)
        else:
            runs.append((chosen, char))
    return runs


def _drop_invisible(font: str, text: str) -> str:
    """Drop format characters the font cannot draw, which would show as boxes."""
    # HarfBuzz consumes ZWJ/ZWNJ in Devanagari; elsewhere they only matter before shaping.
    if font == DEVANAGARI_FONT:
        return text
    return "".join(c for c in text if unicodedata.category(c) != "Cf" or _covers(font, c))


def _drawn_runs(visual: str) -> list[tuple[str, str]]:
    """Return the runs to draw for one visual-order line, exactly as the markup will hold them."""
    runs: list[tuple[str, str]] = []
    for font, text in split_runs(visual):
        text = _drop_invisible(font, text)
        if not text:
            continue
        if (runs and DEVANAGARI_FONT in (font, runs[-1][0])
                and not runs[-1][1][-1].isspace() and not text[0].isspace()):
            # Last resort where bidi reordering made Devanagari touch another font (see
            # _separate_scripts): shaping such a word with the Devanagari font would draw
            # the other font's characters with the wrong glyphs.
            text = " " + text
        runs.append((font, text))
    return runs


def _runs_markup(runs: list[tuple[str, str]], bold: bool = False) -> str:
    """Turn drawn runs into escaped Paragraph markup with one <font> per run."""
    # <font face> resets bold in reportlab, so a bold run names the bold font.
    return "".join(
        f'<font face="{_BOLD[font] if bold else font}">{html.escape(text, quote=False)}</font>'
        for font, text in runs
    )


def _separate_scripts(text: str) -> str:
    """Put a space where a word would otherwise mix Devanagari with a font HarfBuzz cannot shape with it.

    reportlab shapes each space-separated word as one HarfBuzz run in one font and one
    script, so in "PDFहिन्दी" or "中文हिन्दी" the Devanagari would come out unshaped
    or as boxes.  Such words are rare; a visible space is the lesser harm.
    """
    if not any(_in_ranges(ord(c), _DEVANAGARI_RANGES) for c in text):
        return text
    out: list[str] = []
    for token in re.findall(r"\s+|\S+", text):
        if token[0].isspace():
            out.append(token)
            continue
        fonts = _token_fonts(token)
        for i, char in enumerate(token):
            if (i and fonts[i] != fonts[i - 1] and None not in (fonts[i], fonts[i - 1])
                    and DEVANAGARI_FONT in (fonts[i], fonts[i - 1])):
                out.append(" ")
            out.append(char)
    return "".join(out)


def paragraph_markup(text: str, direction: Direction | None = None, bold: bool = False) -> str:
    """Return escaped Paragraph markup for user text, each script in its font, Arabic in display order.

    Use it for text that fits on one line (table cells, headings) or has no Arabic; a long
    paragraph with Arabic wraps correctly only through paragraph() / BidiParagraph,
    because reordering must happen after the line breaks are chosen.  The style must have
    shaping=1 (see paragraph_style) for Devanagari to be shaped.  Wrapping the result in
    <b> has no effect, because each run names its font: pass bold=True instead.
    """
    register_fonts()
    return _markup(text, direction, bold)


@lru_cache(maxsize=8192)
def _markup(text: str, direction: Direction | None, bold: bool) -> str:
    """paragraph_markup's work, kept per text: a report lays out the same labels and cells many times."""
    cleaned = _separate_scripts(_clean(text))
    base = _base_dir(cleaned, direction)
    return "<br/>".join(
        _runs_markup(_drawn_runs(_display(_reshape(line), base)), bold) for line in cleaned.split("\n")
    )


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
    return sum(_run_width(_BOLD[font] if bold else font, run, size) for font, run in runs)


def _width(reshaped: str, size: float, bold: bool) -> float:
    return _runs_width(split_runs(reshaped), size, bold)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Measure text as it will be drawn (Arabic joined, Devanagari shaped), in points."""
    register_fonts()
    return _text_width(text, size, bold)


@lru_cache(maxsize=8192)
def _text_width(text: str, size: float, bold: bool) -> float:
    return _width(_reshape(_separate_scripts(_clean(text))), size, bold)


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
    space = max(pdfmetrics.stringWidth(" ", font, size) for font in _cmaps)
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
        cleaned = _separate_scripts(_clean(text))
        self._base = _base_dir(cleaned, direction)
        self._hard_lines = [_reshape(line) for line in cleaned.split("\n")]
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
                # (_drawn_runs); move the last word on when that overfills the line.
                line, glue = broken[i]
                limit = first_width if not sources and i == 0 else width
                drawn = _drawn_runs(_display(line, self._base))
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
            markup = _runs_markup(_drawn_runs(_display(line, self._base)), _is_bold(self.style))
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
    if direction is None and not _has_rtl(text):
        return Paragraph(paragraph_markup(text, bold=_is_bold(style)), style)
    return BidiParagraph(text, style, direction)


# --- chart labels -------------------------------------------------------------------

def _label_font(text: str) -> str:
    """Pick one font for a label: the main script's, unless another font has every character."""
    counts = {font: 0 for font in _FALLBACK_ORDER}
    for char in text:
        font = _script_font(char)
        if font in counts:
            counts[font] += 1
    ranked = sorted(_FALLBACK_ORDER, key=lambda f: -counts[f])  # stable: ties keep the order
    visible = [c for c in text if unicodedata.category(c) != "Cf"]
    for font in ranked:
        if all(_covers(font, c) for c in visible):
            return font
    return ranked[0]


def _label(line: str) -> tuple[str, str]:
    visual = _display(_reshape(line), _base_dir(line, None))
    font = _label_font(visual)
    if font == DEVANAGARI_FONT:
        visual = "".join(str(part) for part in _shape_words(visual, font))
    return font, _drop_invisible(font, visual)


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
    line = " ".join(_separate_scripts(_clean(text)).split())
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
