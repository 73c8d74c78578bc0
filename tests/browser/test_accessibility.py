"""axe-core (WCAG 2.2 AA tags) on every respondent and staff page and state, at 320 and 1280 px.

Each page is loaded once, at 320 px, and checked there, then widened to 1280 px and checked again:
the server cannot tell the widths apart, so the second load would only repeat the first (a new page,
the navigation and axe's injection were two thirds of every check, and the browser suite is CPU-bound).
"""
from __future__ import annotations

import json
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, WIDTHS
from tests.browser.support import AXE_OPTIONS, ui

pytestmark = pytest.mark.browser
AXE_SCRIPT = Axe().axe_script
LANGS = ["en", "ar", "zh"]
STAFF_BLUEPRINTS = {"staff", "auth", "invitations", "participants", "results", "privacy", "admin", "preview"}
# Ids are placeholders at collection time, replaced by real rows of the live server in the test.
PARTICIPANT, USER, BATCH, MESSAGE = 987654321, 987654322, 987654323, "s0-d0-a0.eml"
FILLABLE = {"slug": "legacy-projects", "participant_id": PARTICIPANT, "user_id": USER, "batch_id": BATCH,
            "name": MESSAGE}
NOT_PAGES = {"auth.login", "auth.logout"}


def press_continue(page, server, lang) -> None:
    page.get_by_role("button", name=ui(server, lang, "Save and continue"), exact=True).click()
    page.get_by_role("alert").wait_for()


def _section(slug: str, number: int, errors: bool = False):
    def visit(page, server, lang):
        page.goto(f"{server.url}/s/{server.invite(slug, lang)}/{number}")
        if errors:
            press_continue(page, server, lang)
    return visit


def _personal(path: str = "", sections: int | None = None, submit: bool = False, answered: bool = True):
    def visit(page, server, lang):
        token = server.invite("legacy-projects", lang)
        if answered:
            server.answer(token, sections=sections, submit=submit)
        page.goto(f"{server.url}/s/{token}{path}")
    return visit


def _get(path: str):
    def visit(page, server, lang):
        page.goto(server.url + path)
    return visit


def _open_link_started(page, server, lang):
    page.goto(f"{server.url}/survey/legacy-projects")
    page.get_by_role("button", name=ui(server, lang, "Start now")).click()
    page.wait_for_url(re.compile(r"/r/[^/]+/1$"))
    # The resume link is shown in full once, after the first save (the view adds ?new=1 then).
    page.goto(page.url.rsplit("/", 1)[0] + "/2?new=1")


def _open_link_finish_later(page, server, lang):
    """The open link's first page: the resume link behind its closed disclosure."""
    page.goto(f"{server.url}/survey/legacy-projects")
    page.get_by_role("button", name=ui(server, lang, "Start now")).click()
    page.wait_for_url(re.compile(r"/r/[^/]+/1$"))


def _open_link_refused(page, server, lang):
    """Past OPEN_LINK_LIMIT a fellow pressing Start now gets the page saying when to try again."""
    limit = server.app.config["OPEN_LINK_LIMIT"]
    server.app.config["OPEN_LINK_LIMIT"] = "1 per 10 minutes"  # a counter of its own: the others are untouched
    try:
        for _ in range(2):
            page.goto(f"{server.url}/survey/legacy-projects")
            page.get_by_role("button", name=ui(server, lang, "Start now")).click()
            page.wait_for_load_state()
            if page.locator("[data-retry-minutes]").count():
                break
    finally:
        server.app.config["OPEN_LINK_LIMIT"] = limit
    assert page.locator("[data-retry-minutes]").count() == 1


def _csrf_expired(page, server, lang):
    """The page outlives its CSRF token while the fellow types: it comes back with all answers kept."""
    page.goto(f"{server.url}/s/{server.invite('all-types', lang)}/3")
    page.get_by_role("textbox").first.fill("Typed for two hours")
    lifetime = server.app.config["RESPOND_CSRF_MAX_AGE"]
    server.app.config["RESPOND_CSRF_MAX_AGE"] = timedelta(seconds=-1)  # every token issued is now too old
    try:
        press_continue(page, server, lang)
    finally:
        server.app.config["RESPOND_CSRF_MAX_AGE"] = lifetime
    assert page.get_by_role("textbox").first.input_value() == "Typed for two hours"


RESPONDENT_PAGES = {
    "index": _get("/"),
    "accessibility": _get("/accessibility"),
    "privacy": _get("/privacy"),
    "not-found": _get("/s/NoSuchLinkNoSuchLinkNoSuch"),
    "open-start": _get("/survey/legacy-projects"),
    "open-section-new-resume-link": _open_link_started,
    "open-section-finish-later": _open_link_finish_later,
    "personal-start": _personal(answered=False),
    "legacy-1": _section("legacy-projects", 1),
    "legacy-1-errors": _section("legacy-projects", 1, errors=True),
    "legacy-2-errors": _section("legacy-projects", 2, errors=True),
    "legacy-3-errors": _section("legacy-projects", 3, errors=True),
    "all-types-1-errors": _section("all-types", 1, errors=True),
    "all-types-2-errors": _section("all-types", 2, errors=True),
    "all-types-3-errors": _section("all-types", 3, errors=True),
    "csrf-expired": _csrf_expired,
    "check-missing": _personal("/check", sections=1),
    "check-complete": _personal("/check"),
    "check-resubmit": _personal("/check?resubmit=1"),
    "done": _personal("/done", submit=True),
    "already-answered": _personal("", submit=True),
    "optout": lambda page, server, lang: page.goto(f"{server.url}/optout/{server.optout_token(language=lang)}"),
    "optout-one-click": lambda page, server, lang: page.goto(
        f"{server.url}/optout/{server.optout_token(language=lang)}/one-click"),
    "open-link-refused": _open_link_refused,
    "closed": _get("/survey/legacy-closed"),
    "not-yet-open": _get("/survey/legacy-soon"),
}


# Our script changes a page only where it has "Please specify" boxes (it hides them until Other is
# chosen); every other page is the same without it, so a run without the script is needed only for
# these. test_respondent_page_has_no_axe_violations fails for a page that gains such a box unlisted,
# and the run without the script fails for a listed page that has none.
OUR_SCRIPT_CHANGES = ".conditional"
CHANGED_BY_OUR_SCRIPT = ["open-section-new-resume-link", "open-section-finish-later", "legacy-1", "legacy-1-errors",
                         "legacy-2-errors", "all-types-1-errors"]


def staff_urls() -> list[str]:
    """Every GET page of the staff blueprints whose arguments we can fill, from the URL map."""
    from tests.conftest import make_app

    tmp = Path(tempfile.mkdtemp(prefix="urlmap-"))
    app = make_app("sqlite://", tmp)
    urls = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".", 1)[0]
        if blueprint not in STAFF_BLUEPRINTS or "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        if not set(rule.arguments) <= set(FILLABLE):
            continue
        urls.append(rule.build({k: FILLABLE[k] for k in rule.arguments})[1])
    return sorted(set(urls))


def axe_violations(page) -> list[dict]:
    """Run axe on the page as it is now; inject it once per document (572 KB to send and compile)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    found = page.evaluate("options => axe.run(document, options).then(results => results.violations)", AXE_OPTIONS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in found]


def check_page(page, name: str, lang: str, width: int) -> None:
    """Zero axe violations and no sideways scrolling at 320 px; keep a screenshot of RTL and CJK pages."""
    violations = axe_violations(page)
    _record(name, lang, width, len(violations))
    if lang in {"ar", "zh"}:
        (ARTIFACTS / "screens").mkdir(parents=True, exist_ok=True)
        # An artifact, not a check: a tall page on a slow machine may take longer than the 5 s
        # allowed to interactions (a 320 px outbox in Chinese once did), so it gets 30 s.
        page.screenshot(path=str(ARTIFACTS / "screens" / f"{re.sub(r'[^A-Za-z0-9-]+', '_', name)}-{lang}-{width}.png"),
                        full_page=True, timeout=30_000)
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)
    if width == 320:
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= 320, f"horizontal scrolling at 320 px: scrollWidth {scroll}"


def check_page_at_both_widths(page, name: str, lang: str) -> None:
    """check_page at 320 px (where the page was opened), then again with the same page widened to 1280 px."""
    check_page(page, name, lang, 320)
    page.set_viewport_size(WIDTHS[1280])
    check_page(page, name, lang, 1280)


def _record(name: str, lang: str, width: int, count: int) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "axe-results.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps({"page": name, "lang": lang, "width": width, "violations": count}) + "\n")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", list(RESPONDENT_PAGES))
def test_respondent_page_has_no_axe_violations(open_page, live_server, name, lang):
    page = open_page(lang, width=320)
    RESPONDENT_PAGES[name](page, live_server, lang)
    assert page.evaluate("document.documentElement.lang") == lang
    if name not in CHANGED_BY_OUR_SCRIPT:  # else the run without our script below would be needed too
        assert page.locator(OUR_SCRIPT_CHANGES).count() == 0, f"{name}: add it to CHANGED_BY_OUR_SCRIPT"
    check_page_at_both_widths(page, name, lang)


@pytest.mark.parametrize("lang", ["fr", "es", "ru"])
@pytest.mark.parametrize("name", list(RESPONDENT_PAGES))
def test_respondent_page_in_the_other_un_languages_has_no_axe_violations(open_page, live_server, name, lang):
    """French, Spanish and Russian labels run longer: check them where space is tightest, at 320 px."""
    page = open_page(lang, width=320)
    RESPONDENT_PAGES[name](page, live_server, lang)
    assert page.evaluate("document.documentElement.lang") == lang
    check_page(page, name, lang, 320)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", CHANGED_BY_OUR_SCRIPT)
def test_respondent_page_without_our_script_has_no_axe_violations(open_page, live_server, name, lang):
    """The page as a fellow without JavaScript gets it ("Please specify" boxes shown), at 320 px.

    axe itself needs JavaScript, so the browser keeps it on but our own script is never delivered.
    """
    page = open_page(lang, width=320)
    page.route("**/static/js/**", lambda route: route.abort())
    RESPONDENT_PAGES[name](page, live_server, lang)
    assert page.locator(OUR_SCRIPT_CHANGES).count() > 0, f"{name}: our script does not change it"
    assert page.evaluate("document.querySelectorAll('.conditional[hidden]').length") == 0
    check_page(page, name + "-without-script", lang, 320)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", staff_urls())
def test_staff_page_has_no_axe_violations(open_page, live_server, staff_state, path, lang):
    page = open_page(lang, width=320, staff_state=staff_state)
    path = path.replace(f"/{PARTICIPANT}", f"/{live_server.first_participant_id()}")
    path = path.replace(f"/{USER}", f"/{live_server.staff_user_id()}")
    if f"/{BATCH}" in path or f"/{MESSAGE}" in path:
        batch_id, message = live_server.sent_batch()
        path = path.replace(f"/{BATCH}", f"/{batch_id}").replace(f"/{MESSAGE}", f"/{message}")
    url = f"{live_server.url}{path}{'&' if '?' in path else '?'}lang={lang}"
    head = page.request.get(url, max_redirects=0)
    assert head.status == 200, path
    if not head.headers["content-type"].startswith("text/html"):
        return  # a download (PDF, spreadsheet): nothing for axe to check
    response = page.goto(url)
    assert response.status == 200, path
    assert "/staff/login" not in page.url
    check_page_at_both_widths(page, "staff" + path, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_staff_sign_in_with_an_error_has_no_axe_violations(open_page, live_server, lang):
    page = open_page(lang, width=320)
    page.goto(f"{live_server.url}/staff/login?lang={lang}")
    page.get_by_label(ui(live_server, lang, "E-mail address")).fill("nobody@itp.example")
    page.get_by_label(ui(live_server, lang, "Password"), exact=True).fill("wrong password here")
    page.get_by_role("button", name=ui(live_server, lang, "Sign in")).click()
    expect(page.get_by_role("alert")).to_be_focused()
    check_page_at_both_widths(page, "staff-sign-in-error", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_import_preview_has_no_axe_violations(open_page, live_server, staff_state, lang, tmp_path):
    """The preview of an uploaded fellows list, with added, updated and skipped rows and a language warning."""
    csv = tmp_path / "fellows.csv"
    csv.write_text("name,email,country,cohort,language\nAmina Yusuf,amina@example.org,NG,2014,en\n"
                   "Li Wei,li.wei@example.org,CN,2019,zh\nNo Address,not-an-address,KE,2015,en\n"
                   "Ana Souza,ana.souza@example.org,BR,2016,pt\n", encoding="utf-8")
    page = open_page(lang, width=320, staff_state=staff_state)
    page.goto(f"{live_server.url}/staff/surveys/legacy-projects/participants/import?lang={lang}")
    page.locator("input[type=file]").set_input_files(str(csv))
    page.get_by_role("button", name=ui(live_server, lang, "Check the file")).click()
    page.wait_for_url(re.compile(r"/participants/import/"))
    assert page.locator("[data-warnings=languages] li").count() == 1
    check_page_at_both_widths(page, "staff-import-preview", lang)


def test_staff_pages_found_in_url_map():
    """Guard the discovery itself: the known staff pages must be among those tested."""
    assert {"/staff/", "/staff/surveys/legacy-projects", "/staff/password", "/staff/audit", "/staff/admin/users",
            "/staff/surveys/legacy-projects/participants", "/staff/surveys/legacy-projects/privacy",
            f"/staff/surveys/legacy-projects/participants/{PARTICIPANT}/privacy"} <= set(staff_urls())


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_error_summary_takes_focus_and_links_move_focus_to_fields(open_page, live_server, js):
    page = open_page("en", width=320, js=js)
    _section("legacy-projects", 1, errors=True)(page, live_server, "en")
    expect(page.get_by_role("alert")).to_be_focused()
    links = page.get_by_role("alert").get_by_role("link")
    targets = [links.nth(i).get_attribute("href")[1:] for i in range(links.count())]
    assert targets == ["cohort_year", "country"]
    for i, target in enumerate(targets):
        links.nth(i).click()
        expect(page.locator(f"#{target}")).to_be_focused()
        # The field's label must be on screen with it, not scrolled out of view above.
        label = page.locator(f'label[for="{target}"]')
        assert label.is_visible() and label.bounding_box()["y"] > -1


FOCUS_STYLE = """e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth, s.outlineColor,
    s.boxShadow, s.backgroundColor].join('|'); }"""


def test_keyboard_focus_is_visible_on_radios_buttons_and_links(open_page, live_server):
    page = open_page("en", width=1280)
    page.goto(f"{live_server.url}/s/{live_server.invite('all-types', 'en')}/1")
    radio = page.get_by_role("radio", name="Red", exact=True)
    button = page.get_by_role("button", name="Save and continue")
    switcher_link = page.get_by_role("link", name="Français")
    unfocused = [element.evaluate(FOCUS_STYLE) for element in (radio, button, switcher_link)]
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # the first language
    for _ in range(30):
        if radio.evaluate("e => e === document.activeElement"):
            break
        page.keyboard.press("Tab")
    assert radio.evaluate("e => e === document.activeElement"), "Tab never reached the first radio"
    assert radio.evaluate(FOCUS_STYLE) != unfocused[0]
    button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
    assert button.evaluate("e => e === document.activeElement")
    assert button.evaluate(FOCUS_STYLE) != unfocused[1]
    switcher_link.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert switcher_link.evaluate(FOCUS_STYLE) != unfocused[2]


@pytest.mark.parametrize("lang", LANGS)
def test_targets_are_at_least_24_pixels(open_page, live_server, lang):
    page = open_page(lang, width=320)
    page.goto(f"{live_server.url}/s/{live_server.invite('legacy-projects', lang)}/2")
    targets = page.locator("input[type=radio], input[type=checkbox], .lang-switcher a, .site-footer a, "
                           "main a, button, select")
    small = []
    for i in range(targets.count()):
        box = targets.nth(i).bounding_box()
        if box and (box["width"] < 24 or box["height"] < 24):
            small.append((targets.nth(i).evaluate("e => e.outerHTML.slice(0, 80)"), box))
    assert small == []


def test_matrix_and_ranking_are_keyboard_operable(open_page, live_server):
    """Arrow keys move within one grid row's radios; a rank is chosen from its list by keyboard."""
    page = open_page("ar", width=320)
    page.goto(f"{live_server.url}/s/{live_server.invite('all-types', 'ar')}/2")
    row = page.get_by_role("group", name="البريد الإلكتروني", exact=True)
    row.get_by_role("radio").first.focus()
    page.keyboard.press("Space")
    assert row.get_by_role("radio").first.is_checked()
    page.keyboard.press("ArrowLeft")  # in right-to-left, left goes to the next option
    assert row.get_by_role("radio").nth(1).is_checked()
    other_row = page.get_by_role("group", name="الدردشة", exact=True)
    assert not any(other_row.get_by_role("radio").nth(i).is_checked() for i in range(2))
    rank = page.get_by_label("بيتا", exact=True)
    rank.focus()
    page.keyboard.press("ArrowDown")
    assert rank.input_value() == "1"
