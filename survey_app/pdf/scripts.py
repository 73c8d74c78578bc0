"""Text as it must be drawn: cleaned, Arabic reshaped and put in visual order, split into runs of one font each."""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

import arabic_reshaper

# The pure-Python implementation of the same package: unlike the compiled get_display of python-bidi 0.6,
# it mirrors brackets in right-to-left runs (rule L4), so "(n = 245)" does not print as ")n = 245(".
from bidi.algorithm import get_display

from .fonts import (
    ARABIC_FONT,
    BASE_FONT,
    BOLD_FONTS,
    CMAPS,
    DEVANAGARI_FONT,
    FALLBACK_ORDER,
    Direction,
    register_fonts,
)

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


def clean_text(text: str) -> str:
    """Normalise user text: NFC, newlines as \\n, tabs as spaces, no control characters."""
    text = unicodedata.normalize("NFC", _NEWLINES.sub("\n", str(text))).replace("\t", " ")
    return "".join(c for c in text if c == "\n" or unicodedata.category(c) != "Cc")


def has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def base_direction(text: str, direction: Direction | None) -> Literal["L", "R"]:
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


def reshape(text: str) -> str:
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


def visual_order(reshaped: str, base: Literal["L", "R"]) -> str:
    """Reorder one reshaped line into visual (left-to-right drawing) order."""
    if not reshaped.strip() or (base == "L" and not has_rtl(reshaped)):
        return reshaped
    return get_display(reshaped, base_dir=base).translate(_BIDI_CONTROLS)


# --- script runs --------------------------------------------------------------------

_INHERIT = "inherit"  # combining marks stay in their base letter's font


def covers(font: str, char: str) -> bool:
    return ord(char) in CMAPS[font]


def script_font(char: str) -> str | None:
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
    for font in FALLBACK_ORDER:
        if covers(font, char):
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
    wanted = [script_font(c) for c in token]
    scripts = {f for f in wanted if f not in (None, _INHERIT)}
    if not scripts:
        return [None] * len(token)
    if len(scripts) == 1:
        return [scripts.pop()] * len(token)
    # reportlab shapes a whole word with the font of its first fragment, and HarfBuzz
    # shapes it as the script of its first letter: a word that starts in Devanagari
    # can stay in the Devanagari font when that font has all its letters (Kurinto Sans
    # has Latin, Greek and Cyrillic).  Other mixes are split by separate_scripts.
    first_script = next(f for f in wanted if f not in (None, _INHERIT))
    if (first_script == DEVANAGARI_FONT and ARABIC_FONT not in scripts
            and all(covers(DEVANAGARI_FONT, c) for c in token)):
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
        if not covers(chosen, char):
            chosen = next((f for f in FALLBACK_ORDER if covers(f, char)), chosen)
        if runs and runs[-1][0] == chosen:
            runs[-1] = (chosen, runs[-1][1] + char)
        else:
            runs.append((chosen, char))
    return runs


def drop_invisible(font: str, text: str) -> str:
    """Drop format characters the font cannot draw, which would show as boxes."""
    # HarfBuzz consumes ZWJ/ZWNJ in Devanagari; elsewhere they only matter before shaping.
    if font == DEVANAGARI_FONT:
        return text
    return "".join(c for c in text if unicodedata.category(c) != "Cf" or covers(font, c))


def drawn_runs(visual: str) -> list[tuple[str, str]]:
    """Return the runs to draw for one visual-order line, exactly as the markup will hold them."""
    runs: list[tuple[str, str]] = []
    for font, text in split_runs(visual):
        text = drop_invisible(font, text)
        if not text:
            continue
        if (runs and DEVANAGARI_FONT in (font, runs[-1][0])
                and not runs[-1][1][-1].isspace() and not text[0].isspace()):
            # Last resort where bidi reordering made Devanagari touch another font (see
            # separate_scripts): shaping such a word with the Devanagari font would draw
            # the other font's characters with the wrong glyphs.
            text = " " + text
        runs.append((font, text))
    return runs


def runs_markup(runs: list[tuple[str, str]], bold: bool = False) -> str:
    """Turn drawn runs into escaped Paragraph markup with one <font> per run."""
    # <font face> resets bold in reportlab, so a bold run names the bold font.
    return "".join(
        f'<font face="{BOLD_FONTS[font] if bold else font}">{html.escape(text, quote=False)}</font>'
        for font, text in runs
    )


def separate_scripts(text: str) -> str:
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
    cleaned = separate_scripts(clean_text(text))
    base = base_direction(cleaned, direction)
    return "<br/>".join(
        runs_markup(drawn_runs(visual_order(reshape(line), base)), bold) for line in cleaned.split("\n")
    )


