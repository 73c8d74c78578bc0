"""A live server with the real app and one headless Chromium for the whole browser suite."""
from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from survey_app.extensions import db
from survey_app.models import Invitation, Participant
from survey_app.services import staff as staff_service
from survey_app.services import surveys as survey_service
from survey_app.services import tokens
from tests.conftest import ALL_TYPES_SURVEY, LEGACY_SURVEY, STAFF_PASSWORD, make_app, service_missing

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WIDTHS = {320: {"width": 320, "height": 640}, 1280: {"width": 1280, "height": 800}}
ACCEPT = {"en": "en-GB,en;q=0.9", "ar": "ar-EG,ar;q=0.9", "zh": "zh-CN,zh;q=0.9", "fr": "fr-FR,fr;q=0.9",
          "es": "es-ES,es;q=0.9", "ru": "ru-RU,ru;q=0.9"}
STAFF_EMAIL = "browser-staff@itp.example"


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            # The server thread shares the process's warning filters with the test: a warning raised
            # while serving would turn into a 500 page. WTForms 3.3 warns about tuple choices (forms/respond.py).
            item.add_marker(pytest.mark.filterwarnings(
                "ignore:Passing SelectField choices as tuples:DeprecationWarning"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can screenshot failed tests."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@dataclass
class LiveServer:
    """The running app: its base URL and helpers that write test data through the services."""

    app: object
    url: str
    surveys: dict[str, int] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def invite(self, slug: str = "legacy-projects", language: str | None = "en") -> str:
        """Create a participant with an invitation and return the personal token."""
        with self.app.app_context():
            participant = Participant(
                survey_id=self.surveys[slug], name="Browser Fellow", email=f"{secrets.token_hex(6)}@example.org",
                country="KE", cohort=2015, language=language, attributes={},
            )
            seed = tokens.new_seed()
            token = tokens.token_from_seed(seed)
            participant.invitation = Invitation(
                survey_id=self.surveys[slug], token_seed=seed, token_hash=tokens.hash_token(token),
                optout_token_hash=tokens.hash_token(tokens.token_from_seed(seed, purpose="optout")),
            )
            db.session.add(participant)
            db.session.commit()
            self.last_seed = seed
            return token

    def optout_token(self, slug: str = "legacy-projects", language: str | None = "en") -> str:
        """Invite someone and return the token of their opt-out link (as in their e-mail)."""
        self.invite(slug, language)
        with self.app.app_context():
            return tokens.token_from_seed(self.last_seed, purpose="optout")

    def first_participant_id(self, slug: str = "legacy-projects") -> int:
        """An existing participant of the survey, for staff pages about one person."""
        from sqlalchemy import func, select

        self.invite(slug)
        with self.app.app_context():
            return db.session.scalar(select(func.min(Participant.id))
                                     .where(Participant.survey_id == self.surveys[slug]))

    def sent_batch(self, slug: str = "legacy-projects") -> tuple[int, str]:
        """Send one invitation batch into the outbox; return the batch id and one message's file name."""
        from survey_app.models import Survey
        from survey_app.services import invitations as invitation_service
        from survey_app.services.mail import outbox

        self.invite(slug)
        with self.app.test_request_context():
            survey = db.session.get(Survey, self.surveys[slug])
            batch = invitation_service.create_batch(survey, "invitation", 0)
            if batch is None:  # everyone was already invited by an earlier call
                from sqlalchemy import select

                from survey_app.models import MailBatch

                batch = db.session.scalars(select(MailBatch).order_by(MailBatch.id)).first()
            batch_id = batch.id
            invitation_service.process_batch(batch_id)
            name = sorted(p.name for p in outbox.outbox_dir().glob("*.eml"))[0]
            db.session.remove()
        return batch_id, name

    def staff_user_id(self) -> int:
        from sqlalchemy import select

        from survey_app.models import StaffUser

        with self.app.app_context():
            return db.session.scalar(select(StaffUser.id).order_by(StaffUser.id))


    def answer(self, token: str, sections: int | None = None, submit: bool = False, kind: str = "s") -> None:
        """Save valid answers to the first `sections` sections (all by default) through the services."""
        from survey_app.services import responses as response_service
        from survey_app.services.structure import survey_structure

        with self.app.test_request_context():
            link = response_service.find_link(kind, token)
            structure = survey_structure(link.survey)
            for section in structure.sections[:sections]:
                rows = [row for q in section.questions for row in _valid_rows(q)]
                response_service.save_section(link, section, rows, "en")
            if submit:
                response_service.submit_response(response_service.find_link(kind, token))
            db.session.remove()


def _valid_rows(q) -> list:
    from survey_app.questions import AnswerRow

    plain = [o for o in q.choices if not o.is_other and not o.is_exclusive]
    if q.type in {"single", "likert", "multiple"}:
        return [AnswerRow(q.id, option_code=plain[0].code)]
    if q.type in {"text", "textarea"}:
        return [AnswerRow(q.id, text="A short answer")]
    if q.type == "number":
        return [AnswerRow(q.id, number=int(q.settings.get("min_value", 2000)))]
    if q.type == "matrix":
        return [AnswerRow(q.id, item_code=row.code, option_code=plain[0].code) for row in q.rows]
    return [AnswerRow(q.id, item_code=item.code, number=n) for n, item in enumerate(q.choices, 1)]


def _load(path: Path, **changes) -> int:
    definition = survey_service.parse_definition(survey_service.read_definition(path))
    definition.update(changes)
    return survey_service.apply_definition(definition).survey.id


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """Serve the real app on 127.0.0.1 (ephemeral port) from a file SQLite database."""
    tmp = tmp_path_factory.mktemp("live")
    app = make_app(f"sqlite:///{tmp / 'live.db'}", tmp, TOKEN_GUESS_LIMIT="10000 per minute",
                   LOGIN_LIMIT="10000 per minute", OPEN_LINK_LIMIT="10000 per minute")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    live = LiveServer(app, url)
    with app.app_context():
        db.create_all()
        live.surveys["legacy-projects"] = _load(LEGACY_SURVEY)
        if ALL_TYPES_SURVEY.exists():
            live.surveys["all-types"] = _load(ALL_TYPES_SURVEY)
        live.surveys["legacy-closed"] = _load(LEGACY_SURVEY, slug="legacy-closed", status="closed")
        soon = datetime.now(UTC) + timedelta(days=400)
        live.surveys["legacy-soon"] = _load(LEGACY_SURVEY, slug="legacy-soon", opens_at=soon)
        staff_service.create_staff(STAFF_EMAIL, "Browser Staff", STAFF_PASSWORD, "admin")
        db.session.remove()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield live
    server.shutdown()
    thread.join(10)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        service_missing(f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def staff_state(browser, live_server) -> dict:
    """Sign in once through the real form and reuse the cookies in every staff context."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server.url + "/staff/login")
    page.get_by_label("E-mail address").fill(STAFF_EMAIL)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/staff/$"))
    state = context.storage_state()
    context.close()
    return state


class PageFactory:
    """Open pages in fresh contexts; record every request and keep pages for failure screenshots."""

    def __init__(self, browser, live_server: LiveServer) -> None:
        self.browser = browser
        self.server = live_server
        self.contexts: list = []
        self.pages: list = []
        self.requests: list[str] = []
        self.foreign: list[str] = []

    def __call__(self, lang: str = "en", width: int = 1280, js: bool = True, staff_state: dict | None = None):
        context = self.browser.new_context(
            viewport=WIDTHS[width], java_script_enabled=js, locale={"zh": "zh-CN", "ar": "ar-EG"}.get(lang, lang),
            extra_http_headers={"Accept-Language": ACCEPT[lang]}, storage_state=staff_state,
        )
        context.set_default_timeout(5000)
        context.on("request", self._record)
        self.contexts.append(context)
        page = context.new_page()
        self.pages.append(page)
        return page

    def _record(self, request) -> None:
        self.requests.append(request.url)
        parts = urlsplit(request.url)
        if parts.scheme in {"data", "about", "blob"}:
            return
        if parts.netloc != self.server.host:
            self.foreign.append(request.url)

    def assert_no_foreign_requests(self) -> None:
        assert not self.foreign, f"pages requested other hosts: {self.foreign}"

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[-150:]
        for n, page in enumerate(self.pages):
            if not page.is_closed():
                try:
                    page.screenshot(path=str(ARTIFACTS / f"{safe}-{n}.png"), full_page=True)
                except Exception:  # a crashed page must not hide the test's own failure
                    pass

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def open_page(request, browser, live_server) -> Iterator[Callable]:
    """open_page(lang, width, js) -> a Playwright page; fails the test on any request to another host."""
    factory = PageFactory(browser, live_server)
    yield factory
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        factory.screenshot(request.node.nodeid)
    factory.close()
    factory.assert_no_foreign_requests()
