"""Multilingual PDF text: real reportlab output checked with poppler's pdffonts, pdftotext, pdftoppm."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

from survey_app.pdf import text as pdf_text

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
BASE_14 = re.compile(r"^(Helvetica|Times|Courier|Symbol|ZapfDingbats)", re.IGNORECASE)
# pdftotext wraps right-to-left text in embedding marks; they are not part of the text.
BIDI_MARKS = dict.fromkeys(range(0x202A, 0x202F))

ENGLISH = "Visitor feedback"
CHINESE = "中文调查问卷"
ARABIC = "العربية"
GREEK = "Ελληνικά"
RUSSIAN = "Русский"
HINDI = "हिन्दी"
MIXED = f"{ENGLISH}: {CHINESE} {ARABIC} {GREEK} {RUSSIAN} {HINDI}"
HOSTILE = '<script>alert(1)</script> & <font face="x">'
LONG_ARABIC = (
    "في البداية أود أن أشكر فريق المتحف البريطاني على تنظيم هذا البرنامج التدريبي الدولي "
    "الذي جمع بين متخصصين من بلدان كثيرة، وقد تعلمت الكثير عن حفظ المقتنيات وعرضها "
    "وعن التواصل مع الجمهور، وأتمنى أن تستمر هذه التجربة في السنوات القادمة مع زملاء جدد "
    "من المتاحف العربية والآسيوية والأفريقية حتى نهاية البرنامج"
)
CHART_LABELS = ["English", "中文", "العربية", "Ελληνικά", "Русский", "हिन्दी"]


def poppler(tool: str) -> str:
    """Find a poppler-utils tool, skipping (or failing under REQUIRE_SERVICES=1) when absent."""
    found = shutil.which(tool)
    if found is None:
        reason = f"{tool} not installed (Debian package poppler-utils)"
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    return found


def run(*args: str) -> str:
    """Run a poppler tool and return its standard output."""
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def bar_chart() -> Drawing:
    """Draw a horizontal bar chart whose category labels are in every script."""
    drawing = Drawing(160 * mm, 70 * mm)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 30 * mm, 5 * mm, 120 * mm, 60 * mm
    chart.data = [[12, 7, 9, 4, 6, 8]]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = pdf_text.BASE_FONT
    names = []
    for index, label in enumerate(CHART_LABELS):
        font, shown = pdf_text.chart_label(label)
        chart.categoryAxis.labels[index].fontName = font
        names.append(shown)
    chart.categoryAxis.categoryNames = names
    drawing.add(chart)
    return drawing


def build_sample_pdf(path: Path) -> None:
    """Build the A4 sample: mixed scripts, a wrapping Arabic answer, hostile text and a chart.

    The long Arabic answer sits on page 2: pdftotext treats a page with mostly Arabic
    as right-to-left and moves the neutral characters of the other lines around.
    """
    pdf_text.register_fonts()
    body = pdf_text.paragraph_style(fontSize=12, leading=18, spaceAfter=6)
    story = [
        Paragraph(pdf_text.paragraph_markup(f"{ENGLISH} {HINDI} {ARABIC}", bold=True), body),
        Paragraph(pdf_text.paragraph_markup(MIXED), body),
        Paragraph(pdf_text.paragraph_markup(HOSTILE), body),
        Table(
            [[pdf_text.paragraph(label, body) for label in CHART_LABELS[:3]]],
            style=pdf_text.table_style([("GRID", (0, 0), (-1, -1), 0.5, "grey")]),
        ),
        Spacer(1, 4 * mm),
        bar_chart(),
        PageBreak(),
        pdf_text.paragraph(LONG_ARABIC, body),
    ]
    SimpleDocTemplate(str(path), pagesize=A4, title="Multilingual check").build(story)


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the sample PDF once for the module's checks."""
    path = tmp_path_factory.mktemp("pdf") / "multilingual.pdf"
    build_sample_pdf(path)
    return path


def pdf_text_of(path: Path, page: int, *options: str) -> str:
    """Extract one page's text with pdftotext, without its bidi embedding marks."""
    page_text = run(poppler("pdftotext"), "-f", str(page), "-l", str(page), *options, str(path), "-")
    return page_text.translate(BIDI_MARKS)


def arabic_letters(text: str) -> set[str]:
    """Return the Arabic base letters in text, presentation forms folded back by NFKC."""
    return {c for c in unicodedata.normalize("NFKC", text) if "\u0621" <= c <= "\u064a"}


def test_every_font_is_embedded_truetype_and_none_is_base14(sample_pdf: Path) -> None:
    rows = run(poppler("pdffonts"), str(sample_pdf)).splitlines()[2:]
    assert rows, "pdffonts listed no fonts"
    names = set()
    for row in rows:
        # Columns: name, type, encoding, emb, sub, uni, object ID (two numbers).
        name, font_type, embedded = row.split()[0], row.split()[1], row.split()[-5]
        name = name.split("+", 1)[-1]  # drop the subset tag
        names.add(name)
        assert embedded == "yes", row
        assert font_type == "TrueType", row  # a UnicodeCIDFont would show as CID Type 0
        assert not BASE_14.match(name), row
    assert names == {
        "KurintoSansSC-Rg", "KurintoSansSC-Bd", "KurintoSans-Rg", "KurintoSans-Bd",
        "NotoSansArabic-Regular",
    }


def test_scripts_and_hostile_text_come_back_exactly(sample_pdf: Path) -> None:
    extracted = pdf_text_of(sample_pdf, 1)
    for expected in (ENGLISH, CHINESE, GREEK, RUSSIAN, HOSTILE):
        assert expected in extracted
    assert "alert(1)" in extracted and "<font" in extracted


def test_arabic_letters_are_real_glyphs_not_boxes(sample_pdf: Path) -> None:
    both_pages = pdf_text_of(sample_pdf, 1) + pdf_text_of(sample_pdf, 2)
    extracted = unicodedata.normalize("NFKC", both_pages)
    # Boxes or dropped glyphs would lose letters here.
    assert arabic_letters(ARABIC + LONG_ARABIC) <= arabic_letters(extracted)
    # Drawn in visual order, so a word may come back reversed; either way it is whole.
    for word in set(LONG_ARABIC.split()) | {ARABIC}:
        word = unicodedata.normalize("NFKC", word).rstrip("،")
        assert word in extracted or word[::-1] in extracted, word


def test_long_arabic_wraps_from_its_first_words(sample_pdf: Path) -> None:
    lines = [
        unicodedata.normalize("NFKC", line).strip()
        for line in pdf_text_of(sample_pdf, 2, "-layout").splitlines()
        if line.strip()
    ]
    assert len(lines) >= 3, lines  # the answer wrapped onto several lines
    words = LONG_ARABIC.split()
    opening, ending = " ".join(words[:2]), " ".join(words[-2:])

    def has(line: str, phrase: str) -> bool:
        return phrase in line or phrase[::-1] in line

    # Reordering before wrapping would put the end of the answer on its first line.
    assert has(lines[0], opening) and not has(lines[0], ending), lines[0]
    assert has(lines[-1], ending), lines[-1]


def test_first_page_renders(sample_pdf: Path, tmp_path: Path) -> None:
    run(poppler("pdftoppm"), "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
        str(sample_pdf), str(tmp_path / "page"))
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_pdf_stays_small_because_fonts_are_subset(sample_pdf: Path) -> None:
    assert sample_pdf.stat().st_size < 300_000


def test_register_fonts_is_idempotent() -> None:
    pdf_text.register_fonts()
    font = pdfmetrics.getFont(pdf_text.BASE_FONT)
    pdf_text.register_fonts()
    assert pdfmetrics.getFont(pdf_text.BASE_FONT) is font


def test_split_runs_gives_each_script_a_covering_font() -> None:
    runs = pdf_text.split_runs(MIXED)
    assert "".join(text for _, text in runs) == MIXED
    fonts_by_text = {text.strip(" :"): font for font, text in runs}
    assert fonts_by_text[f"{ENGLISH}: {CHINESE}"] == pdf_text.BASE_FONT
    assert fonts_by_text[ARABIC] == pdf_text.ARABIC_FONT
    assert fonts_by_text[f"{GREEK} {RUSSIAN}"] == pdf_text.BASE_FONT
    assert fonts_by_text[HINDI] == pdf_text.DEVANAGARI_FONT


def test_split_runs_attaches_neutrals_to_neighbours() -> None:
    assert pdf_text.split_runs("(العربية) 2024") == [(pdf_text.ARABIC_FONT, "(العربية) 2024")]
    assert pdf_text.split_runs("2024 中文") == [(pdf_text.BASE_FONT, "2024 中文")]
    # A word that starts in Devanagari stays in the one font reportlab will shape it with.
    assert pdf_text.split_runs("हिन्दीPDF") == [(pdf_text.DEVANAGARI_FONT, "हिन्दीPDF")]


def test_words_starting_in_another_script_are_split_before_devanagari() -> None:
    # HarfBuzz shapes a word as the script of its first letter, so "PDFहिन्दी" gets a space.
    assert pdf_text.paragraph_markup("PDFहिन्दी") == (
        '<font face="SurveySans">PDF </font><font face="SurveyDevanagari">हिन्दी</font>'
    )


def test_markup_escapes_hostile_text() -> None:
    markup = pdf_text.paragraph_markup(HOSTILE)
    assert "<script" not in markup and '<font face="x">' not in markup
    assert "&lt;script&gt;" in markup and "&amp;" in markup
    assert Paragraph(markup, pdf_text.paragraph_style()).getPlainText() == HOSTILE


def test_markup_puts_arabic_in_display_order() -> None:
    markup = pdf_text.paragraph_markup(f"{ENGLISH} {ARABIC}")
    shown = re.search(r'face="SurveyArabic">([^<]*)<', markup).group(1)
    assert unicodedata.normalize("NFKC", shown) == ARABIC[::-1]


def test_a_joiner_before_a_lam_alef_ligature_still_lays_out() -> None:
    """arabic-reshaper 3.1 raised IndexError on this answer (found by the property test below)."""
    answer = "\u200dلآ"
    assert "ﻵ" in pdf_text.paragraph_markup(answer)  # the lam-alef-madda ligature, still joined
    pdf_text.BidiParagraph(answer, pdf_text.paragraph_style()).wrap(120, 10_000)
    pdf_text.chart_label(answer, max_width=60, size=8)


def test_chart_label_uses_one_font_per_script() -> None:
    assert pdf_text.chart_label(CHINESE) == (pdf_text.BASE_FONT, CHINESE)
    font, shown = pdf_text.chart_label(ARABIC)
    assert font == pdf_text.ARABIC_FONT and unicodedata.normalize("NFKC", shown) == ARABIC[::-1]
    font, shown = pdf_text.chart_label(HINDI)
    assert font == pdf_text.DEVANAGARI_FONT and shown != HINDI  # pre-shaped glyph sequence


def test_text_width_measures_shaped_text() -> None:
    assert pdf_text.text_width(ENGLISH, 10) > 0
    assert pdf_text.text_width(ENGLISH, 10, bold=True) > pdf_text.text_width(ENGLISH, 10)
    # Joined Arabic forms are narrower than isolated letters would be.
    isolated = sum(pdf_text.text_width(c, 10) for c in ARABIC)
    assert 0 < pdf_text.text_width(ARABIC, 10) < isolated


def test_long_arabic_answer_continues_on_the_next_page(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    answer = " ".join([LONG_ARABIC] * 12)
    body = pdf_text.paragraph_style(fontSize=12, leading=18)
    SimpleDocTemplate(str(path), pagesize=A4).build([pdf_text.paragraph(answer, body)])
    pages = [unicodedata.normalize("NFKC", pdf_text_of(path, page)) for page in (1, 2)]
    assert arabic_letters(pages[0]) and arabic_letters(pages[1])
    # pdftotext may attach an Arabic comma to either neighbouring word.
    extracted_words = set(" ".join(pages).replace("،", " ").split())
    for word in {unicodedata.normalize("NFKC", w).strip("،") for w in LONG_ARABIC.split()}:
        assert word in extracted_words or word[::-1] in extracted_words, word


def test_chart_label_shortens_in_reading_order() -> None:
    long_arabic = "المتحف البريطاني في لندن"
    font, shown = pdf_text.chart_label(long_arabic, max_width=40, size=8)
    assert pdfmetrics.stringWidth(shown, font, 8) <= 40
    logical = unicodedata.normalize("NFKC", shown)[::-1]  # back to reading order
    assert logical.startswith("المتحف") and logical.endswith("..."), logical  # NFKC of "…"
    assert pdf_text.chart_label("English", max_width=200, size=8) == (pdf_text.BASE_FONT, "English")


def test_pre_shaped_devanagari_label_keeps_its_shaped_width() -> None:
    font, shown = pdf_text.chart_label(HINDI)
    assert pdfmetrics.stringWidth(shown, font, 10) == pytest.approx(pdf_text.text_width(HINDI, 10))


# Letters from every supported script plus markup characters, marks, joiners and digits.
ANSWER_CHARS = st.sampled_from(list(
    "aZé 中文调查，。ΕλληνικάРусский हिन्दीक्षत्रि ्ंँ العربيةأإآلاًُّ،؟٢٠ 0123 <>&\"'/;\n\t\u200c\u200d\u200f"
))
# Whole words as respondents write them, with the punctuation that sticks to words.
ANSWER_WORDS = st.sampled_from(
    MIXED.split() + LONG_ARABIC.split()[:12] + HOSTILE.split()
    + ["हिन्दी।", "(हिन्दी)", "PDFहिन्दी", "中文，", "«المتحف»", "٢٠٢٤", "2024.", "user@example.org"]
)


@settings(max_examples=60, deadline=None, database=None)
@given(st.text(ANSWER_CHARS, max_size=80))
def test_any_answer_lays_out_without_injecting_markup(answer: str) -> None:
    style = pdf_text.paragraph_style()
    plain = Paragraph(pdf_text.paragraph_markup(answer), style).getPlainText()
    # Nothing is lost or turned into markup; in a right-to-left run "<" is drawn mirrored (Unicode rule L4).
    assert plain.count("<") + plain.count(">") == answer.count("<") + answer.count(">")
    assert plain.count("&") == answer.count("&")
    width, height = pdf_text.BidiParagraph(answer, style).wrap(120, 10_000)
    assert width == 120 and height >= style.leading
    font, shown = pdf_text.chart_label(answer, max_width=60, size=8)
    assert font in (pdf_text.BASE_FONT, pdf_text.ARABIC_FONT, pdf_text.DEVANAGARI_FONT)
    assert "\n" not in shown and pdfmetrics.stringWidth(shown, font, 8) <= 60


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(ANSWER_WORDS, min_size=1, max_size=40))
def test_every_wrapped_line_fits_its_width(words: list[str]) -> None:
    style = pdf_text.paragraph_style()
    flowable = pdf_text.BidiParagraph(" ".join(words), style)
    flowable.wrap(150, 10_000)
    for line in flowable._lines:
        assert line.wrap(150, 10_000)[1] <= style.leading + 1e-6, line.text


def test_brackets_in_arabic_are_mirrored_so_they_enclose_their_text() -> None:
    """Drawn left to right, "(n = 245)" in an Arabic line must still read as an opening and a closing bracket."""
    _font, shown = pdf_text.chart_label("عدد المشاركين (n = 245) في الاستبيان", max_width=1000, size=8)
    assert "(n = 245)" in shown and ")n = 245(" not in shown
