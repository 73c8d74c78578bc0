"""Staff pages and the public opt-out: what staff see and press, end to end with CSRF on."""
from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Delivery, Invitation, Participant, Survey
from survey_app.services import invitations as invitation_service
from tests.conftest import csrf_from

from .conftest import links_in

BASE = "/staff/surveys/legacy-projects"


def test_send_confirmation_states_the_count_and_a_double_click_sends_once(app, smtp, staff_client, import_fellows):
    import_fellows(7)
    page = staff_client.get(f"{BASE}/invitations/send")
    assert 'data-count="recipients">7 invitations will be sent.' in page.get_data(as_text=True)
    token = csrf_from(page.data)
    first = staff_client.post(f"{BASE}/invitations/send", data={"csrf_token": token, "round": "0"})
    second = staff_client.post(f"{BASE}/invitations/send", data={"csrf_token": token, "round": "0"})
    assert first.status_code == 302 and "/batches/" in first.headers["Location"]
    assert second.status_code == 302 and "/batches/" not in second.headers["Location"]
    progress = staff_client.get(first.headers["Location"]).get_data(as_text=True)
    assert 'data-progress="0/7"' in progress and "Refresh" in progress and "<progress" in progress
    with app.app_context():
        invitation_service.send_pending()
    progress = staff_client.get(first.headers["Location"]).get_data(as_text=True)
    assert 'data-progress="7/7"' in progress and "Refresh" not in progress
    assert len(smtp.handler.received) == 7


def test_participants_table_filters_and_counts_by_status(app, smtp, staff_client, import_fellows, survey_id):
    import_fellows(4)
    smtp.handler.reject = {"fellow3@example.org"}
    with app.app_context():
        invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
        invitation_service.send_pending()
        invitation = db.session.execute(select(Invitation).join(Participant)
                                        .where(Participant.email == "fellow0@example.org")).scalar_one()
        invitation.status = "opened"
        db.session.commit()
    html = staff_client.get(f"{BASE}/participants").get_data(as_text=True)
    assert 'data-count="sent">2<' in html and 'data-count="failed">1<' in html and 'data-count="opened">1<' in html
    failed = staff_client.get(f"{BASE}/participants?status=failed").get_data(as_text=True)
    assert "fellow3@example.org" in failed and "fellow1@example.org" not in failed
    with app.app_context():
        pid = db.session.execute(select(Participant.id).where(Participant.email == "fellow3@example.org")).scalar_one()
    detail = staff_client.get(f"{BASE}/participants/{pid}").get_data(as_text=True)
    assert "550" in detail and "User unknown" in detail  # the server's answer, shown to staff


def test_staff_add_edit_and_remove_one_participant(app, staff_client, survey_id):
    page = staff_client.get(f"{BASE}/participants/add")
    bad = staff_client.post(f"{BASE}/participants/add", data={
        "csrf_token": csrf_from(page.data), "name": "Ada", "email": "not-an-address", "country": "KE",
        "cohort": "2010", "language": "en"})
    assert bad.status_code == 200 and 'href="#email"' in bad.get_data(as_text=True)
    ok = staff_client.post(f"{BASE}/participants/add", data={
        "csrf_token": csrf_from(page.data), "name": "Ada", "email": "Ada@Example.org", "country": "ke",
        "cohort": "2010", "language": "fr"})
    assert ok.status_code == 302
    with app.app_context():
        person = db.session.execute(select(Participant)).scalar_one()
        assert (person.email, person.country, person.language) == ("ada@example.org", "KE", "fr")
        assert person.invitation is not None
        pid = person.id
    edit = staff_client.get(f"{BASE}/participants/{pid}")
    staff_client.post(f"{BASE}/participants/{pid}", data={
        "csrf_token": csrf_from(edit.data), "name": "Ada Lovelace", "email": "ada@example.org", "country": "GB",
        "cohort": "", "language": ""})
    with app.app_context():
        assert db.session.get(Participant, pid).name == "Ada Lovelace"
    confirm = staff_client.get(f"{BASE}/participants/{pid}/remove")
    assert staff_client.post(f"{BASE}/participants/{pid}/remove",
                             data={"csrf_token": csrf_from(confirm.data)}).status_code == 302
    with app.app_context():
        assert db.session.get(Participant, pid) is None


def test_opt_out_stops_all_further_mail(app, smtp, client, import_fellows, survey_id):
    import_fellows(2)
    with app.app_context():
        invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
        invitation_service.send_pending()
    message = next(r for r in smtp.handler.received if r.recipients == ["fellow0@example.org"]).message
    _link, optout = links_in(message)
    path = optout.replace("http://127.0.0.1:5000", "")
    page = client.get(path)
    assert page.status_code == 200
    with app.app_context():  # GET never changes state
        assert db.session.execute(select(Participant.opted_out_at)
                                  .where(Participant.email == "fellow0@example.org")).scalar_one() is None
    assert client.post(path, data={}).status_code == 400  # the confirmation form needs its CSRF token
    done = client.post(path, data={"csrf_token": csrf_from(page.data)})
    assert done.status_code == 200 and "opted out" in done.get_data(as_text=True)
    smtp.handler.received.clear()
    with app.app_context():
        invitation_service.send_reminders(db.session.get(Survey, survey_id), actor=None)
        invitation_service.send_pending()
    assert [r.recipients for r in smtp.handler.received] == [["fellow1@example.org"]]


def test_one_click_unsubscribe_needs_no_csrf_but_get_changes_nothing(app, smtp, client, import_fellows, survey_id):
    import_fellows(1)
    with app.app_context():
        invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
        invitation_service.send_pending()
    header = str(smtp.handler.received[0].message["List-Unsubscribe"]).strip().strip("<>")
    path = header.replace("http://127.0.0.1:5000", "")
    assert client.get(path).status_code == 200
    with app.app_context():
        assert db.session.execute(select(Participant.opted_out_at)).scalar_one() is None
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with app.app_context():
        assert db.session.execute(select(Participant.opted_out_at)).scalar_one() is not None
    assert client.post("/optout/" + "A" * 24 + "/one-click", data={"List-Unsubscribe": "One-Click"}).status_code == 404


def test_texts_are_edited_per_language_and_previewed_escaped(app, staff_client, survey_id):
    page = staff_client.get(f"{BASE}/invitations/texts?text_lang=fr")
    response = staff_client.post(f"{BASE}/invitations/texts?text_lang=fr", data={
        "csrf_token": csrf_from(page.data), "subject": "Invitation : {survey_title}",
        "opening": "Bonjour {name} <b>{{ config.SECRET_KEY }}</b>", "reminder_subject": "", "reminder_opening": ""})
    assert response.status_code == 302
    html = staff_client.get(f"{BASE}/invitations/texts?text_lang=fr").get_data(as_text=True)
    assert "Bonjour Ada Example &lt;b&gt;{{ config.SECRET_KEY }}&lt;/b&gt;" in html
    assert app.config["SECRET_KEY"] not in html
    assert "Invitation : Enquête de l’ITP" in html  # the French title fills {survey_title}


def test_resend_and_delete_invitation_data(app, smtp, staff_client, import_fellows, survey_id):
    import_fellows(1)
    smtp.handler.drop_after_data = {"fellow0@example.org"}
    with app.app_context():
        invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
        invitation_service.send_pending()
        pid = db.session.execute(select(Participant.id)).scalar_one()
        old_hash = db.session.execute(select(Invitation.token_hash)).scalar_one()
    assert len(smtp.handler.received) == 1
    smtp.handler.drop_after_data = set()
    page = staff_client.get(f"{BASE}/participants/{pid}")
    assert "uncertain" in page.get_data(as_text=True)
    staff_client.post(f"{BASE}/invitations/participants/{pid}/resend", data={"csrf_token": csrf_from(page.data)})
    with app.app_context():
        invitation_service.send_pending()
        assert db.session.execute(select(Delivery.state)).scalar_one() == "sent"
    assert len(smtp.handler.received) == 2
    confirm = staff_client.get(f"{BASE}/invitations/participants/{pid}/delete-data")
    staff_client.post(f"{BASE}/invitations/participants/{pid}/delete-data",
                      data={"csrf_token": csrf_from(confirm.data)})
    with app.app_context():
        assert db.session.execute(select(Delivery)).first() is None
        assert db.session.execute(select(Invitation.token_hash)).scalar_one() != old_hash


class TestOutbox:
    @pytest.fixture
    def app_overrides(self) -> dict:
        return {"MAIL_SERVER": None, "MAIL_RETRY_BASE_SECONDS": 0}

    def test_without_a_mail_server_messages_become_eml_files_listed_for_staff(self, app, staff_client, survey_id,
                                                                              make_invitation):
        make_invitation(survey_id, name="<b>Bold</b> Fellow", email="bold@example.org")
        with app.app_context():
            invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
            invitation_service.send_pending()
        listing = staff_client.get(f"{BASE}/invitations/outbox").get_data(as_text=True)
        names = re.findall(r"s\d+-d\d+-a\d+\.eml", listing)
        assert len(set(names)) == 1
        shown = staff_client.get(f"{BASE}/invitations/outbox/{names[0]}").get_data(as_text=True)
        assert "bold@example.org" in shown and "<b>Bold" not in shown
        download = staff_client.get(f"{BASE}/invitations/outbox/{names[0]}?download=1")
        assert download.mimetype == "message/rfc822" and b"List-Unsubscribe" in download.data
        assert staff_client.get(f"{BASE}/invitations/outbox/..%2Fsecret_key").status_code == 404
        with app.app_context():
            assert db.session.execute(select(Delivery.state)).scalar_one() == "sent"

    def test_a_large_outbox_is_listed_fifty_to_a_page_with_recipient_and_subject(self, app, staff_client, survey_id,
                                                                                 make_invitation):
        for n in range(51):
            make_invitation(survey_id, name=f"Fellow {n}", email=f"fellow{n}@example.org", language="zh")
        with app.app_context():
            invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
            invitation_service.send_pending()
        first = staff_client.get(f"{BASE}/invitations/outbox").get_data(as_text=True)
        second = staff_client.get(f"{BASE}/invitations/outbox?page=2").get_data(as_text=True)
        beyond = staff_client.get(f"{BASE}/invitations/outbox?page=99").get_data(as_text=True)
        names = [re.findall(r">(s\d+-d\d+-a\d+\.eml)</a></th>", html) for html in (first, second)]
        assert [len(found) for found in names] == [50, 1]
        assert len(set(names[0]) | set(names[1])) == 51  # each message on exactly one page
        assert "51" in first and 'rel="next"' in first and 'rel="prev"' in second
        assert re.findall(r">(s\d+-d\d+-a\d+\.eml)</a></th>", beyond) == names[1]  # the last page, not an error
        recipients = re.findall(r"fellow\d+@example.org", first + second)
        assert len(set(recipients)) == 51
        raw = (Path(app.config["MAIL_OUTBOX_DIR"]) / names[0][0]).read_bytes()
        assert b"=?utf-8?" in raw.lower()  # a Chinese subject is RFC 2047-encoded in the file...
        subject = BytesParser(policy=policy.default).parsebytes(raw)["Subject"]
        assert not subject.isascii() and str(escape(subject)) in first  # ...and shown decoded


def test_participants_list_pages_through_many_people(app, staff_client, make_survey, make_invitation):
    """More people than fit on one page: the list and its page links still render."""
    survey_id = make_survey()
    for n in range(55):
        make_invitation(survey_id, name=f"Fellow {n:02d}", email=f"fellow{n:02d}@example.org")
    first = staff_client.get("/staff/surveys/legacy-projects/participants")
    assert first.status_code == 200 and 'rel="next"' in first.get_data(as_text=True)
    second = staff_client.get("/staff/surveys/legacy-projects/participants?page=2")
    html = second.get_data(as_text=True)
    assert second.status_code == 200 and 'rel="prev"' in html and "Fellow" in html
    # The page links keep the filters the list was opened with.
    filtered = staff_client.get("/staff/surveys/legacy-projects/participants?q=Fellow").get_data(as_text=True)
    assert re.search(r'rel="next" href="[^"]*q=Fellow[^"]*page=2|rel="next" href="[^"]*page=2[^"]*q=Fellow', filtered)


@pytest.mark.parametrize("count, expected", [(1, "Найден 1 участник."), (3, "Найдено 3 участника."),
                                             (5, "Найдено 5 участников."), (21, "Найден 21 участник.")])
def test_participant_count_agrees_with_the_number_in_russian(app, staff_client, make_survey, make_invitation,
                                                             count, expected):
    """Counts go through ngettext: Russian has three forms, chosen by the number, not by 'more than one'."""
    survey_id = make_survey()
    for n in range(count):
        make_invitation(survey_id, email=f"ru{n}@example.org")
    html = staff_client.get("/staff/surveys/legacy-projects/participants",
                            headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert expected in html


def test_staff_footer_names_the_signed_in_person_in_one_sentence(app, staff_client):
    html = staff_client.get("/staff/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Connecté(e) en tant que Staff Member" in html
