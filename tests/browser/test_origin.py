"""The Origin check in a real browser: our staff forms get through, another site's are refused."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import STAFF_EMAIL
from tests.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.browser


def test_staff_forms_post_with_our_own_origin_and_get_through(browser, live_server):
    """Chromium sends our origin (not "null") and a same-origin Referer from a staff page."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/staff/login")
    page.get_by_label("E-mail address").fill(STAFF_EMAIL)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    with page.expect_request(lambda request: request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/staff/$"))
    headers = posted.value.headers
    assert headers["origin"] == live_server.url
    assert headers["referer"] == live_server.url + "/staff/login"
    context.close()


def test_a_form_on_another_site_posting_to_a_staff_page_is_refused(browser, live_server):
    """A cross-site form (no CSRF token, as an attacker's would be) meets the Origin check first: 403."""
    context = browser.new_context()
    page = context.new_page()
    form = (f'<form method="post" action="{live_server.url}/staff/login">'
            f'<input name="email" value="{STAFF_EMAIL}"><input name="password" value="{STAFF_PASSWORD}">'
            '<button>Go</button></form>')
    page.route("http://elsewhere.test/**", lambda route: route.fulfill(
        status=200, content_type="text/html", body=f"<!doctype html><title>Elsewhere</title>{form}"))
    page.goto("http://elsewhere.test/page")
    with page.expect_response(lambda response: response.request.method == "POST") as answered:
        page.get_by_role("button", name="Go").click()
    assert answered.value.request.headers["origin"] == "http://elsewhere.test"
    assert answered.value.status == 403
    context.close()
