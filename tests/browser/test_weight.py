"""Page weight, caching headers and self-containment of the respondent pages."""
from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.support import ui

pytestmark = pytest.mark.browser
FIRST_LOAD_BUDGET = 50 * 1024
LATER_BUDGET = 15 * 1024
WEIGHTS: dict[str, dict] = {}


class Meter:
    """Bytes the browser really received per page (DevTools' "transferred": headers + body, 0 when cached)."""

    def __init__(self, page) -> None:
        self.session = page.context.new_cdp_session(page)
        self.session.send("Network.enable")
        self.session.on("Network.responseReceived", self._response)
        self.session.on("Network.loadingFinished", self._finished)
        self.urls: dict[str, str] = {}
        self.cached: set[str] = set()
        self.loaded: list[tuple[str, int]] = []

    def _response(self, event) -> None:
        self.urls[event["requestId"]] = event["response"]["url"]
        if event["response"].get("fromDiskCache") or event["response"].get("fromMemoryCache"):
            self.cached.add(event["requestId"])

    def _finished(self, event) -> None:
        size = 0 if event["requestId"] in self.cached else int(event["encodedDataLength"])
        self.loaded.append((self.urls.get(event["requestId"], "?"), size))

    def take(self) -> tuple[int, list[tuple[str, int]]]:
        loaded, self.loaded = self.loaded, []
        return sum(size for _url, size in loaded), loaded


def _record(name: str, lang: str, first: int, later: int, files: list) -> None:
    WEIGHTS[f"{name} [{lang}]"] = {"first_load_bytes": first, "later_bytes": later,
                                   "files": [(urlsplit(u).path, s) for u, s in files]}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page-weights.json").write_text(json.dumps(WEIGHTS, indent=1, ensure_ascii=False))


def _pages(server, lang) -> dict[str, str]:
    token = server.invite("legacy-projects", lang)
    done = server.invite("legacy-projects", lang)
    server.answer(done, submit=True)
    checked = server.invite("legacy-projects", lang)
    server.answer(checked)
    return {
        "index": "/",
        "open start": "/survey/legacy-projects",
        "personal start": f"/s/{token}",
        "section 1 (countries list)": f"/s/{token}/1",
        "section 2 (grid, ranking)": f"/s/{token}/2",
        "section 3": f"/s/{token}/3",
        "all-types section 3 (text, number)": f"/s/{server.invite('all-types', lang)}/3",
        "check answers": f"/s/{checked}/check",
        "done": f"/s/{done}/done",
        "already answered": f"/s/{done}",
        "closed": "/survey/legacy-closed",
        "accessibility": "/accessibility",
        "privacy": "/privacy",
    }


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_page_weight_within_budget(open_page, live_server, lang):
    """Each page on a first visit (empty cache) ≤ 50 KB; on a later visit (CSS and JS cached) ≤ 15 KB."""
    over = []
    for name, path in _pages(live_server, lang).items():
        page = open_page(lang, width=320)  # a fresh context: an empty cache
        meter = Meter(page)
        page.goto(live_server.url + path)
        first, files = meter.take()
        assert any(u.endswith(".css") or ".css?" in u for u, _ in files)
        page.goto(live_server.url + path)  # again, as a fellow coming back to it: only the HTML is new
        later, _ = meter.take()
        _record(name, lang, first, later, files)
        print(f"{lang} {name}: first {first / 1024:.1f} KB, later {later / 1024:.1f} KB")
        if first > FIRST_LOAD_BUDGET or later > LATER_BUDGET:
            over.append((name, first, later))
        page.context.close()
    assert over == []


def test_static_files_fingerprinted_and_cached_for_a_year_html_never(open_page, live_server):
    page = open_page("en")
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(live_server.url + "/survey/legacy-projects")
    html = next(r for r in responses if r.url.endswith("/survey/legacy-projects"))
    assert html.headers["cache-control"] == "no-store"
    static = [r for r in responses if "/static/" in r.url]
    assert {urlsplit(r.url).path for r in static} >= {"/static/css/site.css", "/static/js/app.js"}
    for response in static:
        assert re.search(r"\?v=[0-9a-f]{12}$", response.url), response.url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_no_web_fonts_and_no_other_hosts(open_page, live_server):
    """The CSS declares no @font-face or remote URL, and no page loads a font file."""
    page = open_page("zh", width=320)
    fonts = []
    page.on("request", lambda request: fonts.append(request.url) if request.resource_type == "font" else None)
    token = live_server.invite("legacy-projects", "zh")
    for path in ("/", f"/s/{token}", f"/s/{token}/1", f"/s/{token}/2"):
        page.goto(live_server.url + path)
    css = page.request.get(live_server.url + "/static/css/site.css").text()
    assert "@font-face" not in css and "@import" not in css and not re.search(r"url\((?!\s*['\"]?data:)", css)
    assert fonts == []
    assert "Noto Sans CJK SC" in css and "PingFang SC" in css  # CJK faces from the system, never downloaded
    open_page.assert_no_foreign_requests()
    assert all(urlsplit(u).netloc == live_server.host for u in open_page.requests if u.startswith("http"))


def test_no_popups_or_downloads_in_the_journey(open_page, live_server):
    """WeChat's in-app browser: nothing opens a new window and nothing needs a download."""
    page = open_page("zh", width=320)
    popups, downloads = [], []
    page.on("popup", lambda popup: popups.append(popup))
    page.on("download", lambda download: downloads.append(download))
    page.goto(f"{live_server.url}/survey/legacy-projects")
    page.get_by_role("button", name=ui(live_server, "zh", "Start now")).click()
    assert page.locator("a[target], form[target]").count() == 0
    assert popups == [] and downloads == []
