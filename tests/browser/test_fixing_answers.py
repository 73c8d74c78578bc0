"""Fixing answers in a real browser: "None of these", 40 px targets, the resume link, going back."""
from __future__ import annotations

import re

import pytest

from tests.browser.support import Answerer, structure, ui

pytestmark = pytest.mark.browser


def _all_types_page(open_page, server, lang: str = "en", js: bool = True, width: int = 320):
    token = server.invite("all-types", language=lang)
    page = open_page(lang, width=width, js=js)
    page.goto(f"{server.url}/s/{token}/1")
    return page, token, Answerer(page, server, structure(server, "all-types"), lang)


def test_none_of_these_clears_the_others_and_is_cleared_by_them(open_page, live_server):
    page, _token, fill = _all_types_page(open_page, live_server, "ar")
    fruits = fill.question("fruits")

    def box(code: str):
        return fill.group("fruits").get_by_role("checkbox", name=fill.option_label(fruits, code), exact=True)

    box("apple").check()
    box("mango").check()
    box("none").check()
    assert [box(c).is_checked() for c in ("apple", "mango", "none")] == [False, False, True]
    box("apple").check()
    assert [box(c).is_checked() for c in ("apple", "mango", "none")] == [True, False, False]
    # Unticking is the fellow's own business: nothing else changes, and nothing is announced.
    box("apple").uncheck()
    assert not any(box(c).is_checked() for c in ("apple", "mango", "none"))
    assert page.locator("[role=status], [role=alert], [aria-live]").count() == 0


@pytest.mark.parametrize("number", [1, 2])
def test_radios_and_check_boxes_are_40_px_targets_at_320_px(open_page, live_server, number):
    page, token, _fill = _all_types_page(open_page, live_server)
    page.goto(f"{live_server.url}/s/{token}/{number}")
    inputs = page.locator("input[type=radio], input[type=checkbox]")
    assert inputs.count() >= 4
    for i in range(inputs.count()):
        box = inputs.nth(i).bounding_box()
        assert box["width"] >= 40 and box["height"] >= 40, (inputs.nth(i).get_attribute("id"), box)
        row = inputs.nth(i).locator("xpath=..").bounding_box()  # the label around it: all clickable
        assert row["height"] >= 40 and row["width"] >= box["width"]
    # Clicking the far end of a label row (its text, not the box) chooses the option.
    first = inputs.first
    label = first.locator("xpath=..")
    row = label.bounding_box()
    page.mouse.click(row["x"] + row["width"] - 2, row["y"] + row["height"] / 2)
    assert first.is_checked()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_resume_link_is_shown_once_then_behind_a_disclosure(open_page, live_server, js):
    server = live_server
    page = open_page("fr", width=320, js=js)
    page.goto(f"{server.url}/survey/legacy-projects")
    page.get_by_role("button", name=ui(server, "fr", "Start now")).click()
    page.wait_for_url(re.compile(r"/r/[^/]+/1$"))
    summary = page.locator("details.resume-link > summary")
    link = page.locator("details.resume-link a")
    assert summary.inner_text() == ui(server, "fr", "Finish later")
    assert not link.is_visible()  # one line, not a phone screen
    summary.click()
    assert link.is_visible() and link.inner_text() == page.url
    summary.click()

    fill = Answerer(page, server, structure(server, "legacy-projects"), "fr")
    fill.choose("cohort_year", "2015")
    fill.choose("country", "fr")
    page.get_by_role("button", name=ui(server, "fr", "Save and continue"), exact=True).click()
    page.wait_for_url(re.compile(r"/r/[^/]+/2\?new=1$"))
    assert page.get_by_role("status").get_by_role("link").is_visible()
    assert page.locator("details.resume-link").count() == 0
    page.goto(page.url.split("?")[0])  # coming back to the page later
    assert page.get_by_role("status").count() == 0 and summary.is_visible()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_going_back_from_a_half_filled_page_loses_nothing(open_page, live_server, js):
    server = live_server
    page, token, fill = _all_types_page(open_page, live_server, "zh", js=js)
    fill.choose("colour", "blue")
    fill.tick("fruits", ["apple"])
    fill.choose("agree", "agree")
    page.get_by_role("button", name=ui(server, "zh", "Save and continue"), exact=True).click()
    page.wait_for_url(re.compile(r"/2$"))

    # Half filled: one grid row answered, and two items both ranked 1 (not valid).
    fill.grid("usage", {"mail": "daily"})
    fill.rank("order", {"a": 1, "b": 1})
    page.get_by_role("button", name=ui(server, "zh", "Save and go back"), exact=True).click()
    page.wait_for_url(re.compile(r"/1$"))
    assert page.get_by_role("alert").count() == 0  # going back never stops at a message
    colour = fill.question("colour")
    assert fill.group("colour").get_by_role("radio", name=fill.option_label(colour, "blue"), exact=True).is_checked()

    page.get_by_role("button", name=ui(server, "zh", "Save and continue"), exact=True).click()
    page.wait_for_url(re.compile(r"/2$"))
    usage, order = fill.question("usage"), fill.question("order")
    mail = fill.group("usage").get_by_role("group", name=fill.t(usage.rows[0].label), exact=True)
    assert mail.get_by_role("radio", name=fill.option_label(usage, "daily"), exact=True).is_checked()
    for item in ("a", "b"):
        assert fill.group("order").get_by_label(fill.option_label(order, item), exact=True).input_value() == "1"
    # Going forward still checks, and the message names the question.
    page.get_by_role("button", name=ui(server, "zh", "Save and continue"), exact=True).click()
    message = ui(server, "zh", "Give each rank in “%(question)s” to only one item", question=fill.t(order.label))
    assert page.get_by_role("alert").get_by_role("link", name=message, exact=True).is_visible()
