"""Many simultaneous submits against a real threaded server: one response per invitation, no 500."""
from __future__ import annotations

import http.client
import re
import threading
from collections import Counter
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select, text

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, Response, ResponseStatus
from tests.conftest import STAFF_PASSWORD, make_app
from tests.security.helpers import save_complete, section_data, structure_of
from tests.totals_check import assert_totals_match_a_rebuild

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SAME_TOKEN_SUBMITS = 20
OTHER_INVITATIONS = 20


class Browser:
    """One visitor with their own cookies, talking HTTP to the real server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response.status, payload

    def csrf(self, path: str) -> str:
        status, page = self.request("GET", path)
        assert status == 200, (path, status)
        return CSRF.search(page).group(1)


def _run_together(jobs) -> list:
    """Start every job at the same instant (a barrier), collect results or exceptions."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i, job):
        prepare, fire = job
        state = prepare()
        barrier.wait()
        try:
            results[i] = fire(state)
        except Exception as exc:  # reported through the results, never swallowed
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return results


def test_sqlite_runs_in_wal_with_a_busy_timeout(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'wal.db'}", tmp_path)
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        db.engine.dispose()


def test_simultaneous_submits_store_exactly_one_response(server_app, live_server, make_invitation_for):
    app, port = server_app, live_server
    survey_id, structure = make_invitation_for.survey()
    same = make_invitation_for(survey_id)
    save_complete(app, "s", same, structure)
    others = [make_invitation_for(survey_id) for _ in range(OTHER_INVITATIONS)]
    for token in others:
        save_complete(app, "s", token, structure, upto=len(structure.sections) - 1)
    fresh = make_invitation_for(survey_id)  # first saves race to create its response
    last = len(structure.sections)
    with app.app_context():
        answers_before = db.session.execute(select(func.count(Answer.id))).scalar()

    def submit_job(token):
        def prepare():
            browser = Browser(port)
            return browser, browser.csrf(f"/s/{token}/check")

        def fire(state):
            browser, csrf = state
            return browser.request("POST", f"/s/{token}/submit", {"csrf_token": csrf})[0]
        return prepare, fire

    def save_then_submit_job(token):
        def prepare():
            browser = Browser(port)
            return browser, browser.csrf(f"/s/{token}/{last}")

        def fire(state):
            browser, csrf = state
            data = {**section_data(structure, last), "csrf_token": csrf}
            first = browser.request("POST", f"/s/{token}/{last}", data)[0]
            second = browser.request("POST", f"/s/{token}/submit", {"csrf_token": csrf})[0]
            return first, second
        return prepare, fire

    def first_save_job(token):
        def prepare():
            browser = Browser(port)
            return browser, browser.csrf(f"/s/{token}/1")

        def fire(state):
            browser, csrf = state
            return browser.request("POST", f"/s/{token}/1", {**section_data(structure, 1), "csrf_token": csrf})[0]
        return prepare, fire

    def long_read():
        """A long export-like read holds its transaction open while the submits run."""
        def prepare():
            return None

        def fire(_):
            with app.app_context():
                with db.engine.connect() as conn:
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
                    conn.execute(select(Answer.id, Answer.text)).fetchmany(5)
                    for _ in range(50):
                        conn.execute(select(func.count(Answer.id))).scalar()
            return "read done"
        return prepare, fire

    jobs = [submit_job(same) for _ in range(SAME_TOKEN_SUBMITS)]
    jobs += [submit_job(token) for token in others]  # incomplete: sent back to their last section
    jobs += [save_then_submit_job(token) for token in others]
    jobs += [first_save_job(fresh) for _ in range(10)]
    jobs += [long_read(), long_read()]
    export_browser = _staff_browser(app, port)
    if export_browser is not None:
        jobs += [_export_job(export_browser) for _ in range(2)]
    results = _run_together(jobs)

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    statuses = Counter()
    for result in results:
        for value in (result if isinstance(result, tuple) else (result,)):
            if isinstance(value, int):
                statuses[value] += 1
    assert statuses[500] == 0 and all(code in {200, 302, 303} for code in statuses), statuses
    assert all(status == 302 for status in results[:SAME_TOKEN_SUBMITS])

    with app.app_context():
        per_invitation = dict(db.session.execute(
            select(Response.invitation_id, func.count(Response.id)).group_by(Response.invitation_id)).all())
        assert all(count == 1 for count in per_invitation.values()), per_invitation
        ids = {token: _invitation_id(token) for token in [same, fresh, *others]}
        assert per_invitation.get(ids[fresh]) == 1  # ten first saves, one response
        statuses_by_invitation = dict(db.session.execute(select(Response.invitation_id, Response.status)).all())
        assert statuses_by_invitation[ids[same]] == ResponseStatus.COMPLETE.value
        for token in others:
            # Every one ends complete: either its own submit came after its save or the retry did.
            assert statuses_by_invitation[ids[token]] == ResponseStatus.COMPLETE.value, token
        completed = db.session.execute(
            select(func.count(Invitation.id)).where(Invitation.completed_at.is_not(None))).scalar()
        assert completed == 1 + len(others)
        # No answer row was duplicated by the races.
        duplicates = db.session.execute(
            select(Answer.response_id, Answer.question_id, Answer.item_code, Answer.option_code, func.count())
            .group_by(Answer.response_id, Answer.question_id, Answer.item_code, Answer.option_code)
            .having(func.count() > 1)).all()
        assert not duplicates
        same_answers = db.session.execute(
            select(func.count(Answer.id)).join(Response).where(Response.invitation_id == ids[same])).scalar()
        assert 0 < same_answers <= answers_before
        # And the running totals count exactly what was stored, though saves and submits raced.
        assert_totals_match_a_rebuild(survey_id)


def _invitation_id(token: str) -> int:
    from survey_app.services.tokens import hash_token

    return db.session.execute(select(Invitation.id).where(Invitation.token_hash == hash_token(token))).scalar_one()


def _staff_browser(app, port):
    """Sign a browser in on the real server, for the export, when the results blueprint has one."""
    if "results.export" not in app.view_functions:
        return None
    from survey_app.services import staff as staff_service

    with app.app_context():
        staff_service.create_staff("exporter@itp.example", "Exporter", STAFF_PASSWORD, "admin")
    browser = Browser(port)
    csrf = browser.csrf("/staff/login")
    status, _ = browser.request("POST", "/staff/login", {"email": "exporter@itp.example",
                                                         "password": STAFF_PASSWORD, "csrf_token": csrf})
    assert status == 302
    return browser


def _export_job(browser):
    def prepare():
        return browser

    def fire(b):
        return b.request("GET", "/staff/surveys/legacy-projects/results/export.csv")[0]
    return prepare, fire


@pytest.fixture
def make_invitation_for(server_app):
    """make_invitation for the concurrency app, plus survey() to load the legacy survey."""
    from survey_app.models import Participant
    from survey_app.services import surveys as survey_service
    from survey_app.services import tokens
    from tests.conftest import LEGACY_SURVEY

    app = server_app
    counter = {"n": 0}

    def make(survey_id: int) -> str:
        counter["n"] += 1
        with app.app_context():
            participant = Participant(survey_id=survey_id, name=f"Fellow {counter['n']}",
                                      email=f"f{counter['n']}@example.org", country="KE", cohort=2015,
                                      language="en", attributes={})
            seed = tokens.new_seed()
            token = tokens.token_from_seed(seed)
            participant.invitation = Invitation(survey_id=survey_id, token_seed=seed,
                                                token_hash=tokens.hash_token(token))
            db.session.add(participant)
            db.session.commit()
            return token

    def survey():
        with app.app_context():
            definition = survey_service.parse_definition(survey_service.read_definition(LEGACY_SURVEY))
            survey_id = survey_service.apply_definition(definition).survey.id
        return survey_id, structure_of(app, survey_id)

    make.survey = survey
    return make
