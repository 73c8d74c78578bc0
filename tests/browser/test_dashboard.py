"""The results dashboard with real figures in a browser: axe at 320 and 1280 px, contents, folded tables, downloads."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from survey_app.dev.generate import generate
from survey_app.extensions import db
from survey_app.models import MailBatch, Survey
from tests.browser.conftest import _load
from tests.browser.test_accessibility import check_page, check_page_at_both_widths
from tests.conftest import LEGACY_SURVEY

pytestmark = pytest.mark.browser
SLUG = "legacy-charts"


@pytest.fixture(scope="module")
def charted(live_server) -> str:
    """A copy of the legacy survey with 120 synthetic responses and its mailings, so every chart is drawn."""
    with live_server.app.app_context():
        if db.session.execute(db.select(Survey).where(Survey.slug == SLUG)).scalar() is None:
            survey_id = _load(LEGACY_SURVEY, slug=SLUG)
            survey = db.session.get(Survey, survey_id)
            generate(survey, 120, seed=11, days=20)
            start = datetime.now(UTC) - timedelta(days=21)
            for kind, number, when in (("invitation", 0, start), ("reminder", 1, start + timedelta(days=8))):
                db.session.add(MailBatch(survey_id=survey_id, kind=kind, round=number, total=120, created_at=when))
            db.session.commit()
        db.session.remove()
    return f"{live_server.url}/staff/surveys/{SLUG}/results/"


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_dashboard_with_charts_has_no_axe_violations(open_page, staff_state, charted, lang):
    page = open_page(lang, width=320, staff_state=staff_state)
    page.goto(f"{charted}?lang={lang}")
    assert page.locator("figure.chart svg[role=img]").count() >= 12
    # Open every folded table and download form, so axe checks what they hold too.
    page.locator("details").evaluate_all("nodes => nodes.forEach(n => n.open = true)")
    check_page_at_both_widths(page, f"staff-results-charts-{lang}", lang)


def test_dashboard_in_french_fits_a_phone(open_page, staff_state, charted):
    """French labels run long: at 320 px the charts, legends and tables stay inside the page."""
    page = open_page("fr", width=320, staff_state=staff_state)
    page.goto(f"{charted}?lang=fr")
    page.locator("details").evaluate_all("nodes => nodes.forEach(n => n.open = true)")
    check_page(page, "staff-results-charts-fr", "fr", 320)
    # The cross-tabulation is wider than a phone: it scrolls inside its own box, which takes keyboard focus.
    wrap = page.locator(".table-wrap", has=page.locator("table.table-crosstab"))
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")
    wrap.focus()
    assert wrap.evaluate("e => e === document.activeElement")


def test_contents_links_move_to_their_question(open_page, staff_state, charted):
    page = open_page("en", width=1280, staff_state=staff_state)
    page.goto(charted)
    links = page.locator("nav.contents a")
    assert links.count() >= 14
    for index in (0, 4, links.count() - 1):
        link = links.nth(index)
        target = link.get_attribute("href")
        link.click()
        assert page.url.endswith(target)
        heading = page.locator(target)
        assert heading.is_visible() and abs(heading.bounding_box()["y"]) < 50


def test_a_chart_downloads_as_png_from_its_form_without_script(open_page, staff_state, charted):
    page = open_page("en", width=1280, js=False, staff_state=staff_state)
    page.goto(charted + "#q-connected")
    section = page.locator("section", has=page.locator("#q-connected"))
    section.get_by_text("Download this chart").click()
    section.get_by_label("Language of the chart").select_option("zh")
    section.get_by_label("1080 × 1080 pixel square (Instagram)").check()
    with page.expect_download() as info:
        section.get_by_role("button", name="Download PNG").click()
    download = info.value
    assert download.suggested_filename == f"{SLUG}-connected-1-zh-square.png"
    with open(download.path(), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
