"""Two staff actions on the same person at the same moment: one outcome and a message, never a 500.

Real concurrency against a threaded server on SQLite and PostgreSQL (the pattern of
test_concurrency.py), then the "already gone" answers through the test client, then the service
calls with a stale object, which is what the losing request of a race holds.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Delivery, Invitation, Participant, Survey
from survey_app.services import invitations as invitation_service
from survey_app.services import participants as participant_service
from survey_app.services import privacy
from tests.conftest import LEGACY_SURVEY, STAFF_PASSWORD, csrf_from
from tests.invitations.conftest import fellows_csv
from tests.security.test_concurrency import Browser, _run_together

BASE = "/staff/surveys/legacy-projects"
ROUNDS = 6  # people per pair of actions: more chances for the two requests to overlap
# Each pair: two staff actions fired at the same instant on one person.
PAIRS = [("remove", "delete_data"), ("remove", "remove"), ("edit", "remove"), ("delete_data", "delete_data"),
         ("erase", "remove"), ("erase", "delete_data"), ("resend", "remove"), ("edit", "erase")]
ACTIONS = {
    "remove": ("{base}/participants/{pid}/remove", "{base}/participants/{pid}/remove"),
    "delete_data": ("{base}/invitations/participants/{pid}/delete-data",
                    "{base}/invitations/participants/{pid}/delete-data"),
    "edit": ("{base}/participants/{pid}", "{base}/participants/{pid}"),
    "erase": ("{base}/participants/{pid}/erase", "{base}/participants/{pid}/erase"),
    "resend": ("{base}/participants/{pid}", "{base}/invitations/participants/{pid}/resend"),
}


def _setup(app, people: int) -> tuple[int, list[tuple[int, str]]]:
    """The legacy survey with `people` fellows, each invited once through the outbox."""
    from survey_app.services import surveys as survey_service

    with app.app_context():
        definition = survey_service.parse_definition(survey_service.read_definition(LEGACY_SURVEY))
        survey = survey_service.apply_definition(definition).survey
        participant_service.import_file(survey, fellows_csv(people))
        invitation_service.send_invitations(survey, actor=None)
        invitation_service.send_pending()
        from survey_app.services import staff as staff_service

        staff_service.create_staff("racer@itp.example", "Racer", STAFF_PASSWORD, "admin")
        rows = db.session.execute(select(Participant.id, Participant.email).order_by(Participant.id)).all()
        return survey.id, [(pid, email) for pid, email in rows]


def _signed_in(port: int) -> Browser:
    browser = Browser(port)
    csrf = browser.csrf("/staff/login")
    status, _ = browser.request("POST", "/staff/login", {"email": "racer@itp.example", "password": STAFF_PASSWORD,
                                                         "csrf_token": csrf})
    assert status == 302
    return browser


def _job(port: int, action: str, pid: int, n: int):
    page, target = (path.format(base=BASE, pid=pid) for path in ACTIONS[action])

    def prepare():
        browser = _signed_in(port)
        return browser, browser.csrf(page)

    def fire(state):
        browser, csrf = state
        data = {"csrf_token": csrf}
        if action == "edit":
            data.update({"name": f"Renamed {n}", "email": f"renamed{n}@example.org", "country": "KE",
                         "cohort": "2015", "language": ""})
        status, body = browser.request("POST", target, data)
        location_page = ""
        if status == 302:  # follow to read the message the person sees
            _status, location_page = browser.request("GET", "/staff/surveys/legacy-projects/participants")
        return status, body, location_page
    return prepare, fire


def test_simultaneous_staff_actions_on_one_person_end_in_one_outcome(server_app, live_server):
    app, port = server_app, live_server
    survey_id, people = _setup(app, len(PAIRS) * ROUNDS)
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    assert len(list(outbox.glob("*.eml"))) == len(people)
    jobs, plan = [], []
    for index, (pid, email) in enumerate(people):
        first, second = PAIRS[index % len(PAIRS)]
        jobs += [_job(port, first, pid, index), _job(port, second, pid, index + 1000)]
        plan.append((pid, email, first, second))
    results = _run_together(jobs)

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    statuses = Counter(status for status, _body, _page in results)
    assert set(statuses) <= {302}, statuses  # every request: done, or told why not; never a 500
    messages = " ".join(page for _s, _b, page in results)
    with app.app_context():
        for pid, email, first, second in plan:
            ends_gone = {"remove", "erase"} & {first, second}
            person = db.session.get(Participant, pid)
            invitations = db.session.execute(
                select(func.count(Invitation.id)).where(Invitation.participant_id == pid)).scalar_one()
            if ends_gone:
                assert person is None, (first, second)
                assert invitations == 0
                assert db.session.execute(select(Delivery).where(Delivery.participant_id == pid)).first() is None
            else:
                assert person is not None and invitations == 1, (first, second)
            if ends_gone or "delete_data" in (first, second):
                # Nothing of theirs stays in the outbox, whichever request won.
                leftovers = [p.name for p in outbox.glob("*.eml") if email.encode() in p.read_bytes()]
                assert leftovers == [], (first, second, leftovers)
        # Nobody was left half-removed: every invitation and ledger row belongs to someone.
        orphans = db.session.execute(select(func.count(Invitation.id)).where(
            Invitation.participant_id.not_in(select(Participant.id)))).scalar_one()
        assert orphans == 0
    # The double Remove and the erase-after-remove losers were told, in words.
    assert "already been removed or erased" in messages or "has been removed or erased" in messages


def test_adding_the_same_address_at_once_adds_one_and_tells_the_other(server_app, live_server):
    app, port = server_app, live_server
    _setup(app, 0)

    def add_job(n: int, copy: int):
        def prepare():
            browser = _signed_in(port)
            return browser, browser.csrf(f"{BASE}/participants/add")

        def fire(state):
            browser, csrf = state
            return browser.request("POST", f"{BASE}/participants/add", {
                "csrf_token": csrf, "name": f"Same {n} {copy}", "email": f"same{n}@example.org"})
        return prepare, fire

    results = _run_together([add_job(n, copy) for n in range(ROUNDS) for copy in range(3)])
    assert not [r for r in results if isinstance(r, Exception)]
    statuses = Counter(status for status, _body in results)
    assert statuses == {302: ROUNDS, 200: 2 * ROUNDS}, statuses  # one added per address, two told why
    assert all("already a participant" in body for status, body in results if status == 200)
    with app.app_context():
        assert db.session.execute(select(func.count(Participant.id))).scalar_one() == ROUNDS
        assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == ROUNDS


# --- the losing request, one step at a time ---------------------------------------------------

def _make_person(app, survey_id: int, email: str = "grace@example.org") -> int:
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        person = participant_service.add_participant(
            survey, participant_service.validate_participant(survey, "Grace Hopper", email), actor=None)
        return person.id


def test_a_double_submitted_remove_says_the_person_is_already_gone(app, staff_client, make_survey):
    survey_id = make_survey()
    pid = _make_person(app, survey_id)
    page = staff_client.get(f"{BASE}/participants/{pid}/remove")
    token = csrf_from(page.data)
    first = staff_client.post(f"{BASE}/participants/{pid}/remove", data={"csrf_token": token})
    second = staff_client.post(f"{BASE}/participants/{pid}/remove", data={"csrf_token": token})
    assert first.status_code == second.status_code == 302
    shown = staff_client.get(second.headers["Location"]).get_data(as_text=True)
    assert "already been removed or erased" in shown
    # The confirmation page of someone gone is still a plain 404.
    assert staff_client.get(f"{BASE}/participants/{pid}/remove").status_code == 404


@pytest.mark.parametrize("action,words", [
    ("delete_data", "no invitation data left to delete"),
    ("edit", "your changes were not saved"),
    ("resend", "nothing was sent"),
    ("erase", "already been erased or removed"),
])
def test_acting_on_someone_removed_in_another_tab_says_so(app, staff_client, make_survey, action, words):
    survey_id = make_survey()
    pid = _make_person(app, survey_id)
    page, target = (path.format(base=BASE, pid=pid) for path in ACTIONS[action])
    token = csrf_from(staff_client.get(page).data)
    remove_page = staff_client.get(f"{BASE}/participants/{pid}/remove")
    staff_client.post(f"{BASE}/participants/{pid}/remove", data={"csrf_token": csrf_from(remove_page.data)})
    data = {"csrf_token": token, "name": "Grace", "email": "grace@example.org"}
    response = staff_client.post(target, data=data)
    assert response.status_code == 302
    assert words in staff_client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count(Participant.id))).scalar_one() == 0
        assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 0
        assert db.session.execute(select(func.count(Delivery.id))).scalar_one() == 0


def test_someone_in_another_survey_is_still_not_found(app, staff_client, make_survey):
    make_survey()
    other = make_survey(slug="other-survey")
    pid = _make_person(app, other)
    token = csrf_from(staff_client.get(f"/staff/surveys/other-survey/participants/{pid}/remove").data)
    assert staff_client.post(f"{BASE}/participants/{pid}/remove", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(Participant, pid) is not None


@pytest.mark.parametrize("action", ["remove", "delete_data", "edit", "resend", "erase"])
def test_a_stale_participant_gets_gone_not_a_database_error(app, make_survey, action):
    """What the losing request holds: a participant loaded before the winner committed."""
    survey_id = make_survey()
    pid = _make_person(app, survey_id)
    with app.app_context():
        stale = db.session.get(Participant, pid)
        survey = db.session.get(Survey, survey_id)
        person = participant_service.validate_participant(survey, "Grace H", "grace@example.org", cohort="2015")
        with app.app_context():  # another request, with its own session, wins the race
            participant_service.remove_participant(db.session.get(Participant, pid), actor=None)
        calls = {
            "remove": lambda: participant_service.remove_participant(stale, actor=None),
            "delete_data": lambda: invitation_service.delete_invitation_data(stale, actor=None),
            "edit": lambda: participant_service.update_participant(stale, person, actor=None),
            "resend": lambda: invitation_service.resend(stale, actor=None),
            "erase": lambda: privacy.erase_participant(pid, None),
        }
        expected = privacy.ParticipantGone if action == "erase" else participant_service.ParticipantGone
        with pytest.raises(expected):
            calls[action]()
    with app.app_context():
        assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 0


def test_messages_name_no_database_internals(app, staff_client, make_survey):
    survey_id = make_survey()
    pid = _make_person(app, survey_id)
    token = csrf_from(staff_client.get(f"{BASE}/participants/{pid}/remove").data)
    staff_client.post(f"{BASE}/participants/{pid}/remove", data={"csrf_token": token})
    again = staff_client.post(f"{BASE}/participants/{pid}/remove", data={"csrf_token": token}, follow_redirects=True)
    html = again.get_data(as_text=True)
    assert again.status_code == 200
    assert not re.search(r"IntegrityError|ForeignKey|foreign key|Traceback|StaleData", html)
