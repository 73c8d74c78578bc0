"""The e-mail editor in Chromium: the preview is the rendered message, right to left in Arabic, in a sandboxed frame."""
from __future__ import annotations

from playwright.sync_api import expect

BASE = "/staff/surveys/legacy-projects/invitations"


def test_the_arabic_preview_is_rendered_right_to_left_and_the_interface_stays_english(open_page, live_server,
                                                                                      staff_state):
    page = open_page("en", width=320, staff_state=staff_state)
    page.goto(f"{live_server.url}{BASE}/texts?text_lang=ar")
    assert page.evaluate("document.documentElement.lang") == "en"  # the staff interface does not switch
    opening = page.locator("#opening")
    expect(opening).to_have_attribute("dir", "rtl")
    expect(opening).to_have_attribute("lang", "ar")
    assert opening.input_value().startswith("عزيزنا/عزيزتنا {name}")  # the current text, not an empty field

    frame_element = page.locator('iframe[data-preview="invitation-html"]')
    expect(frame_element).to_have_attribute("sandbox", "")  # no script, no access to the staff page
    frame = frame_element.content_frame
    # Rendered as the fellow sees it (our content security policy lets the srcdoc frame show it).
    expect(frame.locator("html")).to_have_attribute("dir", "rtl")
    link = frame.locator("a").first
    expect(link).to_be_visible()
    assert link.inner_text().startswith("ابدأ")
    assert frame.locator("p").first.evaluate("p => getComputedStyle(p).direction") == "rtl"
    assert page.evaluate("window.getComputedStyle(document.querySelector('[data-preview=invitation-text]'))"
                         ".direction") == "rtl"

    page.goto(f"{live_server.url}/staff/")
    assert page.evaluate("document.documentElement.lang") == "en"
