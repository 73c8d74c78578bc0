"""The report's fonts: TrueType files from pinned PyPI packages, registered once and embedded as subsets."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from importlib.resources import as_file, files
from typing import Literal, NoReturn

# The pure-Python implementation of the same package: unlike the compiled get_display of python-bidi 0.6,
# it mirrors brackets in right-to-left runs (rule L4), so "(n = 245)" does not print as ")n = 245(".
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import TableStyle

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
BOLD_FONTS = {BASE_FONT: BASE_FONT_BOLD, DEVANAGARI_FONT: DEVANAGARI_FONT_BOLD, ARABIC_FONT: ARABIC_FONT}
# Where a character has no script of its own, try the fonts in this order.
FALLBACK_ORDER = (BASE_FONT, ARABIC_FONT, DEVANAGARI_FONT)

_registered = False
_register_lock = threading.Lock()
CMAPS: dict[str, dict[int, int]] = {}


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
            CMAPS[name] = font.face.charToGlyph
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


