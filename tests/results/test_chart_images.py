"""Charts for the blog: SVG and PNG, wide and square, in each of the six languages, with title, n and source."""
from __future__ import annotations

import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from PIL import Image
from pypdf import PdfReader
from reportlab.graphics import renderPDF

from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.pdf import images
from survey_app.services import chart_downloads
from survey_app.services.results import ResultFilter

from .conftest import TINY_COUNTRY

URL = "/staff/surveys/legacy-projects/results/charts/"
SVG = "{http://www.w3.org/2000/svg}"
LANGUAGES = ["en", "fr", "es", "ar", "zh", "ru"]
# The matrix, the Likert question and the years: one chart kind each (stacked, diverging stacked, bars).
CHARTS = ["work_frequency", "connected", "cohort_year"]


def _svg_text(body: bytes) -> str:
    root = ET.fromstring(body)
    assert root.tag == f"{SVG}svg"
    return " ".join("".join(node.itertext()) for node in root.iter(f"{SVG}text"))


def _letters(text: str) -> set[str]:
    return {c for c in unicodedata.normalize("NFKC", text) if c.isalpha()}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_chart_pictures_in_every_language(ctx, legacy, lang):
    """Each language's picture holds its title, n and source: the SVG as text, the PNG through its drawing."""
    survey = db.session.get(Survey, legacy.survey_id)
    title = survey.text(survey.title, lang)
    for code in CHARTS:
        chart = chart_downloads.find_chart(survey, code, 0, ResultFilter(), lang, "British Museum",
                                           today=date(2026, 12, 7))
        question = next(q for q in survey.questions if q.code == code)
        assert chart.caption.title == survey.text(question.label, lang)
        assert chart.caption.source.count(title) == 1 and "British Museum" in chart.caption.source
        assert re.search(r"= \d+", chart.caption.base_text)
        for size in images.SIZES.values():
            png = Image.open(io.BytesIO(chart_downloads.png_bytes(chart, size)))
            assert png.format == "PNG" and png.width == size.width
            assert png.height == size.height if size.height else png.height > 300
            assert len(png.convert("L").getcolors(maxcolors=100_000)) > 20  # drawn, not blank
            # What the PNG shows is this drawing, rendered: its text is read back from the same drawing as PDF.
            drawn = PdfReader(io.BytesIO(renderPDF.drawToString(images.picture(chart.figure, chart.caption, size))))
            text = unicodedata.normalize("NFKC", drawn.pages[0].extract_text())
            number = re.search(r"\d+", chart.caption.base_text).group()
            assert number in text
            if lang == "ar":  # drawn joined and in visual order: compare the letters
                assert len(_letters(chart.caption.title) & _letters(text)) >= 0.8 * len(_letters(chart.caption.title))
            else:
                squeezed = re.sub(r"\s+", "", text)
                assert re.sub(r"\s+", "", chart.caption.title)[:12] in squeezed
                assert "2026" in text  # the source line's date


def test_downloads_in_every_language_and_size(staff_client, legacy):
    for lang, (size, dims) in ((lang, size) for lang in LANGUAGES
                               for size in (("wide", (1200, None)), ("square", (1080, 1080)))):
        png = staff_client.get(URL + f"connected/0?format=png&size={size}&chart_lang={lang}")
        assert png.status_code == 200 and png.mimetype == "image/png"
        assert f"legacy-projects-connected-1-{lang}-{size}.png" in png.headers["Content-Disposition"]
        image = Image.open(io.BytesIO(png.data))
        assert image.width == dims[0] and (dims[1] is None or image.height == dims[1])
        svg = staff_client.get(URL + f"connected/0?format=svg&size={size}&chart_lang={lang}")
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        root = ET.fromstring(svg.data)
        assert root.get("width") == str(dims[0]) and (dims[1] is None or root.get("height") == str(dims[1]))
        text = _svg_text(svg.data)
        with staff_client.application.app_context():
            survey = db.session.execute(db.select(Survey)).scalar_one()
            label = survey.text(next(q for q in survey.questions if q.code == "connected").label, lang)
            title = survey.text(survey.title, lang)
        assert label[:10] in text and title[:10] in text  # logical order: the browser shapes Arabic
        assert re.search(r"= \d+", text)
        assert ("direction" in root.attrib) == (lang == "ar")


def test_a_downloaded_svg_shows_the_same_figures_as_the_dashboard(staff_client, legacy):
    svg = staff_client.get(URL + "work_frequency/0?format=svg&chart_lang=en")
    text = _svg_text(svg.data)
    for platform in ("Facebook", "Instagram", "Twitter/X", "WeChat", "WhatsApp", "LinkedIn"):
        assert f"{platform} (n = " in text
    for label in ("Daily", "Weekly", "Monthly", "Rarely", "Never"):
        assert label in text  # the legend is drawn in
    assert "Source: ITP legacy projects survey: staying connected online" in text
    assert "<script" not in svg.get_data(as_text=True)


def test_small_groups_and_unknown_charts_have_no_picture(staff_client, client, legacy):
    assert staff_client.get(URL + f"connected/0?format=png&country={TINY_COUNTRY}").status_code == 404
    assert staff_client.get(URL + "connected/0?format=png&region=mena&language=ar").status_code == 200
    assert staff_client.get(URL + "connected/0?format=png&chart_lang=de").status_code == 404
    assert staff_client.get(URL + "connected/1?format=png").status_code == 404  # its table, not a chart
    assert staff_client.get(URL + "suggestions/0?format=png").status_code == 404  # a note
    assert staff_client.get(URL + "nothing/0?format=png").status_code == 404
    assert staff_client.get(URL + "connected/0?format=gif").status_code == 404
    assert staff_client.get(URL + "connected/0?size=huge").status_code == 404
    response = client.get(URL + "connected/0?format=png")
    assert response.status_code == 302 and "/staff/login" in response.location


def test_the_dashboard_offers_each_chart_for_download(staff_client, legacy):
    page = staff_client.get("/staff/surveys/legacy-projects/results/?region=mena").get_data(as_text=True)
    forms = re.findall(r'<form method="get" action="([^"]+/charts/[^"]+)"', page)
    assert any(action.endswith("/charts/connected/0") for action in forms)
    assert len(forms) >= 10
    assert '<input type="hidden" name="region" value="mena">' in page  # the download keeps the filter
    for lang in ("en", "fr", "es", "ar", "zh", "ru"):
        assert f'<option value="{lang}"' in page
