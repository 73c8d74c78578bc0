"""The PDF's chart drawings: every figure kind drawn across its width, read back with pdftotext, mirrored in Arabic."""
from __future__ import annotations

import subprocess
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import pytest
from reportlab.graphics.shapes import Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate

from survey_app import figures
from survey_app.pdf import charts
from survey_app.pdf import figures as pdf_figures
from survey_app.pdf import text as pdf_text
from survey_app.pdf.styles import Styles

from .test_text import BIDI_MARKS, poppler

WIDTH = A4[0] - 36 * mm
SCALE = ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")


def likert(rtl: bool = False, labels: tuple[str, ...] = SCALE) -> figures.Stacked:
    counts = (12, 30, 20, 50, 38)
    row = figures.StackRow("", 150, tuple(figures.Segment(n, round(100 * n / 150, 1)) for n in counts))
    return figures.Stacked("Connected", labels, (row,), base=150, base_text="n = 150 respondents who answered",
                           diverging=True, rtl=rtl)


def matrix() -> figures.Stacked:
    rows = tuple(figures.StackRow(f"Platform {i} (n = 100)", 100,
                                  tuple(figures.Segment(n, float(n)) for n in (10 + i, 20, 30, 25, 15 - i)))
                 for i in range(6))
    return figures.Stacked("Use at work", ("Daily", "Weekly", "Monthly", "Rarely", "Never"), rows, base=100,
                           base_text="n = 100 respondents who answered at least one row")


def bars(rtl: bool = False) -> figures.Bars:
    items = (("WhatsApp", 100, 33.3), ("WeChat", 40, 13.3), ("Other, not coded", 15, 5.0))
    return figures.Bars("Preferred platform", tuple(figures.Bar(label, n, p, muted=label.startswith("Other"))
                                                    for label, n, p in items),
                        base=300, base_text="n = 300 respondents who answered this question", rtl=rtl)


def timeline() -> figures.Timeline:
    start = date(2026, 10, 1)
    days = tuple(figures.Day(start + timedelta(n), n % 7, (start + timedelta(n)).strftime("%-d %b")) for n in range(30))
    marks = (figures.Mark(start, "Invitations sent"), figures.Mark(start + timedelta(14), "Reminder 1"))
    return figures.Timeline("Complete responses per day", days, marks, base_text="87 complete responses")


def _pdf(story: list, path: Path) -> str:
    SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm).build(story)
    out = subprocess.run([poppler("pdftotext"), "-layout", str(path), "-"], capture_output=True, check=True)
    return unicodedata.normalize("NFKC", out.stdout.decode()).translate(BIDI_MARKS)


def test_every_kind_prints_its_values_legend_and_n(tmp_path):
    st = Styles()
    story = []
    for figure in (likert(), matrix(), bars(), timeline()):
        story += pdf_figures.flowables(figure, st, WIDTH)
    text = _pdf(story, tmp_path / "charts.pdf")
    for label in (*SCALE, "Daily", "Never", "Platform 0 (n = 100)", "Platform 5 (n = 100)"):
        assert label in text
    assert "20 %" in text and "33 %" in text  # segment values printed on the bars
    assert "28.0 %" in text and "58.6 %" in text  # a diverging bar's share either side of its centre
    assert "100 (33.3 %)" in text and "15 (5.0 %)" in text
    assert "Invitations sent" in text and "Reminder 1" in text and "1 Oct" in text and "30 Oct" in text
    for base in ("n = 150 respondents", "n = 100 respondents", "n = 300 respondents", "87 complete responses"):
        assert base in text


def test_charts_use_the_full_width_they_are_given():
    for figure in (likert(), matrix(), bars(), timeline()):
        drawing = charts.draw(figure, WIDTH)
        right = max(shape.x + shape.width for shape in drawing.contents if isinstance(shape, Rect))
        assert drawing.width == WIDTH and right > WIDTH * 0.75, figure.kind


def test_a_diverging_bar_centres_on_its_midpoint():
    figure = likert()
    drawing = charts.stacked_chart(figure, WIDTH)
    centre = next(s for s in drawing.contents if isinstance(s, Line) and s.strokeDashArray)
    boxes = sorted((s for s in drawing.contents if isinstance(s, Rect) and s.height > 10), key=lambda r: r.x)
    neutral = next(b for b in boxes if b.fillColor.hexval().lower() == "0x" + figures.NEUTRAL_FILL[1:])
    assert neutral.x < centre.x1 < neutral.x + neutral.width
    assert abs((neutral.x + neutral.width / 2) - centre.x1) < 0.5


def test_arabic_charts_are_mirrored_and_shaped(tmp_path):
    labels = ("أرفض بشدة", "أرفض", "محايد", "أوافق", "أوافق بشدة")
    ltr, rtl = charts.stacked_chart(likert(labels=labels), WIDTH), charts.stacked_chart(likert(True, labels), WIDTH)

    def first_segment(drawing):
        boxes = [s for s in drawing.contents if isinstance(s, Rect) and s.height > 10]
        return next(b for b in boxes if b.fillColor.hexval().lower() == "0x" + figures.NEGATIVE_FILLS[0][1:])

    assert first_segment(ltr).x < WIDTH / 2 < first_segment(rtl).x  # "strongly disagree" at the reading start
    arabic = [s for s in rtl.contents if isinstance(s, String) and s.fontName == pdf_text.ARABIC_FONT]
    assert len(arabic) == len(labels)
    text = _pdf(pdf_figures.flowables(likert(True, labels), Styles(), WIDTH), tmp_path / "ar.pdf")
    letters = {c for label in labels for c in label}
    assert len(letters & set(text)) >= 0.8 * len(letters)


def test_bars_mirror_in_arabic_and_mute_other():
    ltr, rtl = charts.bar_chart(bars(), WIDTH), charts.bar_chart(bars(True), WIDTH)
    widest = [max((s for s in d.contents if isinstance(s, Rect)), key=lambda r: r.width) for d in (ltr, rtl)]
    assert widest[0].x < WIDTH / 3 and widest[1].x + widest[1].width > WIDTH * 2 / 3
    muted_fill = "0x" + figures.MUTED_FILL[1:]
    muted = [s for s in ltr.contents if isinstance(s, Rect) and s.fillColor.hexval().lower() == muted_fill]
    assert len(muted) == 1
    hatch = [s for s in ltr.contents if isinstance(s, Line) and s.strokeWidth < 0.5]
    assert hatch  # "Other" is hatched, so it reads apart in black and white


@pytest.mark.parametrize("pattern", ["diagonal", "reverse", "cross", "horizontal", "dots"])
def test_patterns_stay_inside_their_box(pattern):
    x, y, w, h = 10.0, 20.0, 37.0, 11.0
    shapes = charts.pattern_shapes(pattern, x, y, w, h, colors.black)
    assert shapes
    for shape in shapes:
        points = [(shape.cx, shape.cy)] if not isinstance(shape, Line) else [(shape.x1, shape.y1), (shape.x2, shape.y2)]
        for px, py in points:
            assert x - 0.01 <= px <= x + w + 0.01 and y - 0.01 <= py <= y + h + 0.01


def test_every_category_differs_in_lightness_or_pattern():
    """Colour is never the only cue: in grey, neighbouring categories differ in lightness or carry a pattern."""
    def grey(fill: str) -> float:
        r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
        return 0.299 * r + 0.587 * g + 0.114 * b

    for figure in (likert(), matrix(), figures.Stacked("x", tuple("abcdefg"), (), ordinal=False)):
        keys = figure.legend()
        for (_a, fill_a, pattern_a), (_b, fill_b, pattern_b) in zip(keys, keys[1:], strict=False):
            assert abs(grey(fill_a) - grey(fill_b)) > 25 or pattern_a != pattern_b
