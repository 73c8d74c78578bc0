"""A staff member previews the survey in Arabic at phone width, skips a required page, and no count moves."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Response, ResponseTotal
from tests.browser.support import structure, ui
from tests.browser.test_accessibility import axe_violations

pytestmark = pytest.mark.browser
SLUG = "legacy-projects"


def _counts(server) -> tuple[int, int, int]:
    """Real responses, test responses, and the running totals' complete responses of the survey."""
    with server.app.app_context():
        survey_id = server.surveys[SLUG]
        real, tests = (db.session.scalar(select(func.count()).select_from(Response).where(
            Response.survey_id == survey_id, Response.is_test.is_(flag))) for flag in (False, True))
        counted = db.session.scalar(select(func.coalesce(func.sum(ResponseTotal.responses), 0))
                                    .where(ResponseTotal.survey_id == survey_id))
        db.session.remove()
    return real, tests, counted


def test_preview_in_arabic_at_phone_width(open_page, live_server, staff_state):
    before = _counts(live_server)
    page = open_page("en", width=1280, staff_state=staff_state)
    page.goto(f"{live_server.url}/staff/surveys/{SLUG}")
    page.get_by_role("link", name="Preview the survey").click()
    page.get_by_label("Language of the preview").select_option("ar")
    page.get_by_role("button", name="Show this language").click()
    page.wait_for_url(re.compile(r"language=ar"))
    assert axe_violations(page) == []

    frame_element = page.get_by_title("Preview of the survey at phone width")
    expect(frame_element).to_be_visible()
    frame = frame_element.element_handle().content_frame()
    frame.wait_for_load_state()
    # A phone's viewport inside the frame, so the pages' narrow-screen rules apply.
    width = frame.evaluate("window.innerWidth")
    assert 360 <= width <= 375, width
    assert frame.evaluate("document.documentElement.lang") == "ar"
    assert frame.evaluate("document.documentElement.dir") == "rtl"

    pages = len(structure(live_server, SLUG).sections)
    inner = frame_element.content_frame  # a FrameLocator: waits for each page the frame loads
    inner.get_by_role("button", name=ui(live_server, "ar", "Start now")).click()
    banner = inner.get_by_role("region", name=ui(live_server, "ar", "Preview"))
    expect(banner).to_be_visible()
    expect(inner.get_by_text(ui(live_server, "ar", "Page %(num)d of %(total)d", num=1, total=pages))).to_be_visible()
    # Required questions skipped: the preview goes on to page 2 without an error.
    inner.get_by_role("button", name=ui(live_server, "ar", "Save and continue")).click()
    expect(inner.get_by_text(ui(live_server, "ar", "Page %(num)d of %(total)d", num=2, total=pages))).to_be_visible()
    expect(inner.get_by_role("alert")).to_have_count(0)
    frame = frame_element.element_handle().content_frame()
    assert frame.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # The framed page on its own, at a phone's width: no axe violation, in the preview's language.
    phone = open_page("ar", width=320, staff_state=staff_state)
    phone.set_viewport_size({"width": 375, "height": 740})
    phone.goto(frame.url)
    assert phone.evaluate("document.documentElement.lang") == "ar"
    expect(phone.get_by_role("region", name=ui(live_server, "ar", "Preview"))).to_be_visible()
    assert axe_violations(phone) == []

    real, tests, counted = _counts(live_server)
    assert (real, counted) == (before[0], before[2])
    assert tests == before[1] + 1
    # The staff interface stayed in English.
    page.goto(f"{live_server.url}/staff/surveys/{SLUG}")
    assert page.evaluate("document.documentElement.lang") == "en"
    expect(page.get_by_text(re.compile(r"Test responses: \d+"))).to_be_visible()
