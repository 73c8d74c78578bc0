"""Each fellow's e-mail in their own language, as a real SMTP server received it, and the editor staff use.

Staff customise the English invitation; the Arabic and Chinese fellows still get their own
language's built-in text, right to left in Arabic, with links that open their survey.
"""
from __future__ import annotations

import re
import unicodedata
from email.message import EmailMessage

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Delivery, Survey
from survey_app.services import invitations as invitation_service
from survey_app.services.mail.messages import default_texts
from tests.conftest import csrf_from

from .conftest import links_in

BASE = "/staff/surveys/legacy-projects"
ISOLATES = "\u2068\u2069\u200f"
TITLES = {"en": "ITP legacy projects survey: staying connected online",
          "ar": "استبيان ITP حول مشاريع الإرث: لنبقَ على تواصل عبر الإنترنت",
          "zh": "ITP 传承项目调查：保持线上联系"}


@pytest.fixture
def app_overrides(smtp) -> dict:
    return {**smtp.config(), "MAIL_DEFAULT_SENDER": "ITP Surveys <itp-surveys@museum.example>",
            "MAIL_SEND_TASKS": 1, "HUEY_IMMEDIATE": True}


def _plain(text: str) -> str:
    """Text without the invisible bidi controls (isolates around names and titles, right-to-left marks)."""
    return "".join(ch for ch in text if ch not in ISOLATES)


def _default(app, language: str, kind: str, field: str, title: str, name: str) -> str:
    """The built-in text of one language, filled in."""
    with app.app_context(), force_locale(language):
        text = default_texts(kind)[field]
    return text.replace("{survey_title}", title).replace("{name}", name)


def _save_texts(client, language: str, **changes: str):
    """Post the editor's form for one language as a browser would: every field as shown, some changed."""
    page = client.get(f"{BASE}/invitations/texts?text_lang={language}")
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_from(html)}
    for key in ("subject", "reminder_subject"):
        data[key] = _unescape(re.search(rf'id="{key}" name="{key}" type="text" value="([^"]*)"', html).group(1))
    for key in ("opening", "reminder_opening"):
        data[key] = _unescape(re.search(rf'id="{key}" name="{key}"[^>]*>([^<]*)</textarea>', html).group(1))
    reviewed = changes.pop("reviewed", None)
    data.update(changes)
    if reviewed:
        data["reviewed"] = reviewed
    return client.post(f"{BASE}/invitations/texts?text_lang={language}", data=data)


def _unescape(value: str) -> str:
    return (value.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
            .replace("&quot;", '"').replace("&amp;", "&"))


def _received(smtp) -> dict[str, EmailMessage]:
    return {item.recipients[0]: item.message for item in smtp.handler.received}


def _first_strong_direction(line: str) -> str | None:
    """The direction a mail program gives a plain-text paragraph: its first strong letter outside isolates."""
    depth = 0
    for ch in line:
        if ch == "\u2068":
            depth += 1
        elif ch == "\u2069":
            depth = max(0, depth - 1)
        elif depth == 0:
            kind = unicodedata.bidirectional(ch)
            if kind == "L":
                return "ltr"
            if kind in ("R", "AL"):
                return "rtl"
    return None


def test_customised_english_reaches_english_fellows_only(app, smtp, staff_client, survey_id, make_invitation):
    tokens = {lang: make_invitation(survey_id, name=f"Fellow {lang}", email=f"{lang}@example.org", language=lang)
              for lang in ("en", "ar", "zh")}
    saved = _save_texts(staff_client, "en", subject="Our 2026 survey: {survey_title}",
                        opening="Hello {name}, we would love your views on {survey_title}.")
    assert saved.status_code == 302
    confirm = staff_client.get(f"{BASE}/invitations/send")
    assert staff_client.post(f"{BASE}/invitations/send", data={"csrf_token": csrf_from(confirm.data),
                                                              "round": "0"}).status_code == 302
    received = _received(smtp)
    assert set(received) == {"en@example.org", "ar@example.org", "zh@example.org"}

    english = received["en@example.org"]
    assert english["Subject"] == f"Our 2026 survey: {TITLES['en']}"
    assert f"Hello Fellow en, we would love your views on {TITLES['en']}." in english.get_body(("plain",)).get_content()

    for lang in ("ar", "zh"):
        message = received[f"{lang}@example.org"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "Our 2026 survey" not in str(message["Subject"]) and "love your views" not in text + html
        assert _plain(str(message["Subject"])) == _default(app, lang, "invitation", "subject", TITLES[lang], "")
        assert _default(app, lang, "invitation", "opening", TITLES[lang], f"Fellow {lang}") in _plain(text)
        assert message["Content-Language"] == lang
        # The link opens the fellow's survey, in their language.
        link, _optout = links_in(message)
        assert link.endswith(tokens[lang])
        page = app.test_client().get(link.removeprefix("http://127.0.0.1:5000"))
        assert page.status_code == 200 and TITLES[lang] in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(func.count(Delivery.id)).where(Delivery.state == "sent")).scalar_one() == 3


def test_arabic_reads_right_to_left_in_both_parts(app, smtp, survey_id, make_invitation):
    make_invitation(survey_id, name="Ada Lovelace", email="ar@example.org", language="ar")
    with app.app_context():
        invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
    [item] = smtp.handler.received
    message = item.message
    html = message.get_body(("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html
    text = message.get_body(("plain",)).get_content()
    # A Latin name inside the Arabic sentence is isolated, so it cannot reorder the punctuation around it.
    assert "\u2068Ada Lovelace\u2069" in text and "\u2068Ada Lovelace\u2069" in html
    for line in text.splitlines():
        if not line.strip() or line.strip() == "--":
            continue
        expected = "ltr" if line.startswith("http") else "rtl"
        assert _first_strong_direction(line) == expected, line
    assert _first_strong_direction(str(message["Subject"])) == "rtl"


def test_the_editor_shows_each_languages_current_text_and_its_state(app, staff_client, survey_id):
    arabic = staff_client.get(f"{BASE}/invitations/texts?text_lang=ar").get_data(as_text=True)
    default_opening = _default(app, "ar", "invitation", "opening", "{survey_title}", "{name}")
    # Pre-filled with the Arabic built-in text (not empty), written right to left.
    assert re.search(r'<textarea[^>]*id="opening"[^>]*lang="ar" dir="rtl"[^>]*>' + re.escape(default_opening), arabic)
    assert re.search(r'<input[^>]*id="subject"[^>]*value="دعوتك: {survey_title}" lang="ar" dir="rtl"', arabic)
    assert 'data-state="ar-subject"><strong class="tag tag-grey">Default' in arabic
    # The staff interface stays in English while the Arabic texts are edited.
    assert '<html lang="en" dir="ltr">' in arabic
    assert '<html lang="en"' in staff_client.get("/staff/").get_data(as_text=True)

    # Saving the form as shown changes nothing: every text stays the built-in default.
    assert _save_texts(staff_client, "ar").status_code == 302
    with app.app_context():
        assert db.session.get(Survey, survey_id).invitation_texts == {}

    _save_texts(staff_client, "ar", subject="دعوة خاصة: {survey_title}")
    _save_texts(staff_client, "en", opening="Dear {name}, a new English opening.")
    page = staff_client.get(f"{BASE}/invitations/texts?text_lang=ar").get_data(as_text=True)
    assert 'data-state="ar-subject"><strong class="tag">Customised' in page
    assert 'data-state="ar-opening"><strong class="tag tag-grey">Default' in page  # English changed, Arabic did not
    assert 'data-state="en-opening"><strong class="tag">Customised' in page
    assert 'value="دعوة خاصة: {survey_title}"' in page

    # The English subject changes: the Arabic subject, written against the old one, needs review.
    _save_texts(staff_client, "en", subject="A new English subject: {survey_title}")
    page = staff_client.get(f"{BASE}/invitations/texts?text_lang=ar").get_data(as_text=True)
    assert 'data-state="ar-subject"><strong class="tag tag-warning">Needs review: the English text changed' in page
    assert "A new English subject: {survey_title}" in page  # what English says now, to compare with
    assert 'value="دعوة خاصة: {survey_title}"' in page  # the Arabic text itself is kept
    _save_texts(staff_client, "ar", reviewed="subject")
    page = staff_client.get(f"{BASE}/invitations/texts?text_lang=ar").get_data(as_text=True)
    assert 'data-state="ar-subject"><strong class="tag">Customised' in page

    # Emptying a field goes back to that language's default; other languages are untouched.
    _save_texts(staff_client, "ar", subject="")
    with app.app_context():
        texts = db.session.get(Survey, survey_id).invitation_texts
        assert "ar" not in texts and texts["en"]["subject"]["text"] == "A new English subject: {survey_title}"
        details = db.session.execute(select(AuditEvent.detail)
                                     .where(AuditEvent.action == "invitations.texts")).scalars()
        assert [d["language"] for d in details] == ["ar", "en", "en", "ar", "ar"]


def test_a_language_outside_the_survey_is_not_found_and_lang_is_left_to_the_interface(staff_client, survey_id):
    assert staff_client.get(f"{BASE}/invitations/texts?text_lang=de").status_code == 404
    page = staff_client.get(f"{BASE}/invitations/texts?lang=fr").get_data(as_text=True)
    # ?lang= is the interface's business: the texts edited are still the base language's.
    assert 'value="Your invitation: {survey_title}" lang="en" dir="ltr"' in page


def test_too_long_a_subject_is_refused_and_kept_as_typed(app, staff_client, survey_id):
    response = _save_texts(staff_client, "zh", subject="长" * 201)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'href="#subject"' in html and 'value="' + "长" * 201 + '"' in html
    with app.app_context():
        assert db.session.get(Survey, survey_id).invitation_texts == {}


def test_the_preview_shows_the_message_rendered_never_its_source(staff_client, survey_id):
    _save_texts(staff_client, "ar", opening="مرحبًا {name} <b>{{ config.SECRET_KEY }}</b>")
    html = staff_client.get(f"{BASE}/invitations/texts?text_lang=ar").get_data(as_text=True)
    frames = re.findall(r'<iframe class="email-frame" sandbox srcdoc="([^"]*)" title="[^"]+" data-preview="(\w+)-html"',
                        html)
    assert [kind for _src, kind in frames] == ["invitation", "reminder"]
    srcdoc = _unescape(frames[0][0])
    assert srcdoc.startswith("<!doctype html>") and '<html lang="ar" dir="rtl">' in srcdoc
    assert "&lt;b&gt;{{ config.SECRET_KEY }}&lt;/b&gt;" in srcdoc  # staff text is text, never markup
    assert "&lt;!doctype" not in html.replace(frames[0][0], "").replace(frames[1][0], "")  # no HTML source shown
    text = re.search(r'<pre class="email-preview" lang="ar" dir="rtl" data-preview="invitation-text">([^<]*)</pre>',
                     html)
    assert text and "مرحبًا" in text.group(1) and "Ada Example" in text.group(1)
    assert 'data-preview="invitation-subject">' in html


def test_send_me_a_test_reaches_only_the_staff_member_and_no_count(app, smtp, staff_client, survey_id,
                                                                    make_invitation):
    make_invitation(survey_id, email="fellow@example.org", language="zh")
    with app.app_context():
        before = (invitation_service.status_counts(survey_id), invitation_service.delivery_counts(survey_id))
    page = staff_client.get(f"{BASE}/invitations/texts?text_lang=zh")
    response = staff_client.post(f"{BASE}/invitations/texts/test?text_lang=zh", data={
        "csrf_token": csrf_from(page.data), "kind": "reminder", "language": "zh"})
    assert response.status_code == 302
    [item] = smtp.handler.received
    assert item.recipients[0].startswith("staff") and item.recipients[0].endswith("@itp.example")
    message = item.message
    assert message["Subject"] == "[测试] " + _default(app, "zh", "reminder", "subject", TITLES["zh"], "")
    assert message["X-ITP-Test"] == "yes" and message["List-Unsubscribe"] is None
    text = message.get_body(("plain",)).get_content()
    assert _default(app, "zh", "reminder", "opening", TITLES["zh"], "Staff Member") in text
    assert "http://127.0.0.1:5000/staff/surveys/legacy-projects" in text  # a page the staff member can open
    with app.app_context():
        assert db.session.execute(select(func.count(Delivery.id))).scalar_one() == 0
        after = (invitation_service.status_counts(survey_id), invitation_service.delivery_counts(survey_id))
        assert after == before
        survey = db.session.get(Survey, survey_id)
        assert invitation_service.count_recipients(survey, "invitation") == 1  # the fellow is still to invite
        [event] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "invitations.test")).scalars()
        assert event.detail == {"kind": "reminder", "language": "zh"}
    flashed = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A test of this message in 中文（简体） is on its way to staff" in flashed


def test_send_me_a_test_refuses_a_language_the_survey_lacks(app, smtp, staff_client, survey_id):
    page = staff_client.get(f"{BASE}/invitations/texts")
    response = staff_client.post(f"{BASE}/invitations/texts/test", data={
        "csrf_token": csrf_from(page.data), "kind": "invitation", "language": "de"})
    assert response.status_code == 400 and 'href="#language"' in response.get_data(as_text=True)
    assert smtp.handler.received == []


def test_uncertain_invitations_are_reminded_like_anyone_who_has_not_answered(app, smtp, survey_id, import_fellows):
    import_fellows(3)
    smtp.handler.drop_after_data = {"fellow1@example.org"}
    with app.app_context():
        invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
        invitation_service.send_pending()
        states = dict(db.session.execute(select(Delivery.participant_id, Delivery.state)).tuples().all())
    assert sorted(states.values()) == ["sent", "sent", "uncertain"]
    smtp.handler.drop_after_data = set()
    smtp.handler.received.clear()
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert invitation_service.count_recipients(survey, "reminder") == 3
        invitation_service.send_reminders(survey, actor=None)
        invitation_service.send_pending()
    assert sorted(item.recipients[0] for item in smtp.handler.received) == [
        "fellow0@example.org", "fellow1@example.org", "fellow2@example.org"]


def test_scheduled_reminders_wait_the_set_days_after_an_uncertain_invitation(app, smtp, survey_id, import_fellows):
    import_fellows(1)
    smtp.handler.drop_after_data = {"fellow0@example.org"}
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        invitation_service.save_schedule(survey, True, 7, 2, actor=None)
        invitation_service.send_invitations(survey, actor=None)
        invitation_service.send_pending()
        assert invitation_service.run_scheduled_reminders() == []  # handed over just now: not yet
        delivery = db.session.execute(select(Delivery)).scalar_one()
        assert delivery.state == "uncertain"
        delivery.updated_at = delivery.updated_at.replace(year=delivery.updated_at.year - 1)
        db.session.commit()
        assert len(invitation_service.run_scheduled_reminders()) == 1


class TestOutboxRendered:
    @pytest.fixture
    def app_overrides(self) -> dict:
        return {"MAIL_SERVER": None, "HUEY_IMMEDIATE": True,
                "MAIL_DEFAULT_SENDER": "ITP Surveys <itp-surveys@museum.example>"}

    def test_each_message_is_shown_as_its_reader_sees_it(self, app, staff_client, survey_id, make_invitation):
        make_invitation(survey_id, name="Layla <Haddad>", email="layla@example.org", language="ar")
        with app.app_context():
            invitation_service.send_invitations(db.session.get(Survey, survey_id), actor=None)
        page = staff_client.get(f"{BASE}/invitations/texts?text_lang=fr")
        staff_client.post(f"{BASE}/invitations/texts/test?text_lang=fr", data={
            "csrf_token": csrf_from(page.data), "kind": "invitation", "language": "fr"})
        listing = staff_client.get(f"{BASE}/invitations/outbox").get_data(as_text=True)
        assert "the test is written to the outbox as an .eml file" in listing  # said once, where it went
        invitation = re.search(r">(s\d+-d\d+-a\d+\.eml)</a></th>", listing).group(1)
        test = re.search(r">(s\d+-t\d+-\d+\.eml)</a></th>", listing).group(1)
        assert re.search(r'<strong class="tag tag-warning">Test</strong> \[Test\] Votre invitation', listing)

        shown = staff_client.get(f"{BASE}/invitations/outbox/{invitation}").get_data(as_text=True)
        assert 'data-message="to">Layla Haddad &lt;layla@example.org&gt;</dd>' in shown
        assert 'data-message="from">ITP Surveys &lt;itp-surveys@museum.example&gt;</dd>' in shown
        assert re.search(r'<dd lang="ar" dir="rtl" data-message="subject">\u062f\u0639\u0648\u062a\u0643', shown)
        frame = re.search(r'<iframe class="email-frame" sandbox srcdoc="([^"]*)"', shown)
        assert frame and '<html lang="ar" dir="rtl">' in _unescape(frame.group(1))
        assert re.search(r'<pre class="email-preview" lang="ar" dir="rtl" data-message="text">', shown)
        for raw in ("MIME-Version", "Content-Transfer-Encoding", "=?utf-8?", "List-Unsubscribe"):
            assert raw not in shown  # headers decoded and shown as fields, never the raw message
        assert "Test</strong>" not in shown

        test_page = staff_client.get(f"{BASE}/invitations/outbox/{test}").get_data(as_text=True)
        assert "A test a staff member sent to themselves" in test_page
        assert 'data-message="subject">[Test] Votre invitation' in test_page
        download = staff_client.get(f"{BASE}/invitations/outbox/{test}?download=1")
        assert download.mimetype == "message/rfc822" and b"X-ITP-Test: yes" in download.data
        with app.app_context():
            assert db.session.execute(select(func.count(Delivery.id))).scalar_one() == 1  # the fellow's only


def test_texts_saved_before_languages_were_separate_stay_in_their_own_language(app, survey_id):
    """Earlier versions stored plain strings; English ones no longer leak into other languages."""
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        survey.invitation_texts = {"en": {"subject": "Old English subject", "opening": ""}}
        db.session.commit()
        english = invitation_service.editable_texts(survey, "en")
        assert english["subject"].text == "Old English subject" and english["subject"].state == "customised"
        assert english["opening"].state == "default"
        arabic = invitation_service.editable_texts(survey, "ar")
        assert arabic["subject"].state == "default" and arabic["subject"].text == "دعوتك: {survey_title}"
        rendered = invitation_service.renderer(survey, "invitation")("ar")
        assert "Old English subject" not in rendered.subject + rendered.text + rendered.html
        assert invitation_service.renderer(survey, "invitation")("en").subject == "Old English subject"
