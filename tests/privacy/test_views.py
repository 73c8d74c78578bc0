"""The survey privacy pages: retention form, finding a person, download and erasure with CSRF."""
from __future__ import annotations

import json

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Invitation, Participant, Survey
from tests.conftest import csrf_from


def test_privacy_page_explains_anonymity_and_saves_retention(app, staff_client, make_survey):
    make_survey(anonymous=True)
    page = staff_client.get("/staff/surveys/legacy-projects/privacy")
    assert page.status_code == 200
    assert b'data-anonymous="yes"' in page.data and b"kept until someone erases it" in page.data
    bad = staff_client.post("/staff/surveys/legacy-projects/privacy",
                            data={"days": "0", "csrf_token": csrf_from(page.data)})
    assert bad.status_code == 400 and b'href="#days"' in bad.data
    saved = staff_client.post("/staff/surveys/legacy-projects/privacy",
                              data={"days": "180", "csrf_token": csrf_from(page.data)})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.execute(select(Survey.retention_days)).scalar_one() == 180
        event = db.session.execute(select(AuditEvent)).scalar_one()
        assert event.action == "survey.retention_changed" and event.actor_email.startswith("staff")
    assert b"180 days after the survey closes" in staff_client.get("/staff/surveys/legacy-projects/privacy").data
    # Without the CSRF token nothing changes.
    assert staff_client.post("/staff/surveys/legacy-projects/privacy", data={"days": "5"}).status_code == 400


def test_find_download_and_erase_a_person(app, staff_client, make_survey, make_invitation, participant_id):
    survey_id = make_survey()
    make_invitation(survey_id, name="Grace Hopper", email="grace@example.org")
    make_invitation(survey_id, name="Other Person", email="other@example.org")
    person = participant_id("grace@example.org")
    found = staff_client.get("/staff/surveys/legacy-projects/privacy?q=grace@example.org")
    assert f"/participants/{person}/privacy".encode() in found.data and b"other@example.org" not in found.data
    page = staff_client.get(f"/staff/surveys/legacy-projects/participants/{person}/privacy")
    assert page.status_code == 200 and b"Download everything we hold (JSON)" in page.data

    download = staff_client.get(f"/staff/surveys/legacy-projects/participants/{person}/data")
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Cache-Control"] == "no-store"
    assert json.loads(download.data)["participant"]["email"] == "grace@example.org"

    confirm = staff_client.get(f"/staff/surveys/legacy-projects/participants/{person}/erase")
    assert b"This cannot be undone" in confirm.data and b"1 invitation" in confirm.data
    assert staff_client.post(f"/staff/surveys/legacy-projects/participants/{person}/erase").status_code == 400
    erased = staff_client.post(f"/staff/surveys/legacy-projects/participants/{person}/erase",
                               data={"csrf_token": csrf_from(confirm.data)})
    assert erased.status_code == 302
    with app.app_context():
        assert db.session.get(Participant, person) is None
        assert db.session.execute(select(Participant.email)).scalars().all() == ["other@example.org"]
        assert db.session.execute(select(Invitation)).scalars().one()
        actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
        assert actions == ["participant.exported", "participant.erased"]
    assert staff_client.get(f"/staff/surveys/legacy-projects/participants/{person}/privacy").status_code == 404


def test_participant_must_belong_to_the_survey_in_the_url(app, staff_client, make_survey, make_invitation,
                                                          participant_id):
    make_survey()
    other = make_survey(slug="other-survey")
    make_invitation(other, email="elsewhere@example.org")
    person = participant_id("elsewhere@example.org")
    for suffix in ("privacy", "data", "erase"):
        assert staff_client.get(f"/staff/surveys/legacy-projects/participants/{person}/{suffix}").status_code == 404
    page = staff_client.get(f"/staff/surveys/other-survey/participants/{person}/erase")
    wrong = staff_client.post(f"/staff/surveys/legacy-projects/participants/{person}/erase",
                              data={"csrf_token": csrf_from(page.data)})
    assert wrong.status_code == 404
    with app.app_context():
        assert db.session.get(Participant, person) is not None


def test_privacy_pages_need_a_signed_in_staff_member(client, make_survey, make_invitation, participant_id):
    survey_id = make_survey()
    make_invitation(survey_id, email="p@example.org")
    person = participant_id("p@example.org")
    for url in ("/staff/surveys/legacy-projects/privacy",
                f"/staff/surveys/legacy-projects/participants/{person}/data"):
        assert client.get(url).headers["Location"].startswith("/staff/login")
    assert client.post(f"/staff/surveys/legacy-projects/participants/{person}/erase").status_code in {400, 401}
