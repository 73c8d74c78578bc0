"""Staff preview: any language, phone width, skip anything; test responses never counted, and deletable."""
from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, func, select

from survey_app.dev.generate import generate
from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, Invitation, Response, Survey
from survey_app.services import totals
from tests.conftest import csrf_from
from tests.security.helpers import section_data, structure_of
from tests.totals_check import snapshot

SLUG = "legacy-projects"
PREVIEW = f"/staff/surveys/{SLUG}/preview"
RESULTS = f"/staff/surveys/{SLUG}/results"


@pytest.fixture
def survey_id(app, make_survey) -> int:
    """The legacy survey with some real responses and invited fellows, some of whom have not answered."""
    survey_id = make_survey()
    with app.app_context():
        generate(db.session.get(Survey, survey_id), 24, seed=3)
    return survey_id


def _start(client, language: str) -> str:
    """Open the preview page in a language, start from its frame as a browser would; return /r/<token>."""
    page = client.get(f"{PREVIEW}?language={language}")
    assert page.status_code == 200
    src = re.search(r'<iframe src="([^"]+)"', page.data.decode()).group(1).replace("&amp;", "&")
    start = client.get(src)
    assert start.status_code == 200
    started = client.post(src, data={"csrf_token": csrf_from(start.data)})
    assert started.status_code == 302
    first = started.headers["Location"]
    assert re.fullmatch(r"/r/[^/]+/1", first), first
    return first.rsplit("/", 1)[0]


def _post_section(client, prefix: str, number: int, body: dict[str, str]):
    page = client.get(f"{prefix}/{number}")
    assert page.status_code == 200
    return client.post(f"{prefix}/{number}", data={**body, "csrf_token": csrf_from(page.data)})


def _figures(client) -> dict[str, str]:
    """The headline figures of the dashboard and the survey overview, as staff read them."""
    found = {}
    for name, url in (("dashboard", RESULTS + "/"), ("overview", f"/staff/surveys/{SLUG}")):
        html = client.get(url).data.decode()
        for key, value in re.findall(r'<dd data-count="(\w+)">([^<]*)</dd>', html):
            found[f"{name}.{key}"] = value
    assert {"dashboard.rate", "dashboard.completed", "dashboard.partial", "overview.started",
            "overview.completed"} <= set(found)
    return found


def _state(app, client, survey_id: int) -> dict:
    """Everything a preview must leave as it was: figures, totals, statuses, the CSV and the PDF's text."""
    with app.app_context():
        statuses = sorted(db.session.execute(
            select(Invitation.id, Invitation.status, Invitation.started_at, Invitation.completed_at)
            .where(Invitation.survey_id == survey_id)).all())
        kept_totals = snapshot(survey_id)
    csv = client.get(RESULTS + "/export.csv")
    assert csv.status_code == 200
    csv_text = csv.get_data(as_text=True)  # read the stream whole, which ends its request
    csv.close()
    pdf = client.get(RESULTS + "/report.pdf")
    assert pdf.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    return {"figures": _figures(client), "statuses": statuses, "totals": kept_totals,
            "csv": csv_text, "pdf": text}


def test_preview_in_arabic_and_chinese_shows_those_languages_at_phone_width(staff_client, survey_id):
    for language, dir_, title in (("ar", "rtl", "مشاريع"), ("zh", "ltr", "项目")):
        page = staff_client.get(f"{PREVIEW}?language={language}")
        html = page.data.decode()
        assert re.search(r'<iframe src="[^"]+" width="375"', html)
        assert 'title="Preview of the survey at phone width"' in html
        prefix = _start(staff_client, language)
        first = staff_client.get(f"{prefix}/1")
        body = first.data.decode()
        assert f'<html lang="{language}" dir="{dir_}">' in body
        assert 'class="preview-banner"' in body
        # Framed by our own preview page only.
        assert "frame-ancestors 'self'" in first.headers["Content-Security-Policy"]
        assert first.headers["X-Frame-Options"] == "SAMEORIGIN"
        start = staff_client.get(f"{PREVIEW}/start?lang={language}")
        assert title in start.data.decode()
    # The page's own language switcher changes the preview's language, and it stays changed.
    switched = staff_client.get(f"{prefix}/1?lang=ru")
    assert '<html lang="ru" dir="ltr">' in switched.data.decode()
    assert '<html lang="ru" dir="ltr">' in staff_client.get(f"{prefix}/1").data.decode()
    # The staff pages stay in the staff member's language throughout.
    assert '<html lang="en" dir="ltr">' in staff_client.get(f"/staff/surveys/{SLUG}").data.decode()
    # An ordinary respondent page still refuses to be framed.
    assert "frame-ancestors 'none'" in staff_client.get(f"/survey/{SLUG}").headers["Content-Security-Policy"]


def test_preview_may_skip_required_questions_and_send(app, staff_client, survey_id):
    structure = structure_of(app, survey_id)
    assert any(q.required for q in structure.sections[0].questions)
    prefix = _start(staff_client, "en")
    for number in range(1, len(structure.sections) + 1):
        skipped = _post_section(staff_client, prefix, number, {})
        assert skipped.status_code == 302, skipped.data[:1000]
    check = staff_client.get(f"{prefix}/check")
    sent = staff_client.post(f"{prefix}/submit", data={"csrf_token": csrf_from(check.data)})
    assert sent.headers["Location"].endswith(f"{prefix}/done")
    with app.app_context():
        test = db.session.execute(select(Response).where(Response.is_test.is_(True))).scalar_one()
        assert test.status == "complete" and test.invitation_id is None and test.channel == "preview"


def test_a_fellow_still_cannot_skip_a_required_question(app, client, survey_id):
    """The preview's leniency is the preview's alone."""
    page = client.get(f"/survey/{SLUG}")
    started = client.post(f"/survey/{SLUG}", data={"csrf_token": csrf_from(page.data)})
    prefix = started.headers["Location"].rsplit("/", 1)[0]
    refused = _post_section(client, prefix, 1, {})
    assert refused.status_code == 200 and "There is a problem" in refused.data.decode()


def test_previews_leave_figures_totals_statuses_exports_and_the_pdf_unchanged(app, staff_client, survey_id):
    before = _state(app, staff_client, survey_id)
    structure = structure_of(app, survey_id)
    # One preview answered in full and sent, one skipped and sent, one left half done.
    for language in ("fr", "ar"):
        prefix = _start(staff_client, language)
        for number in range(1, len(structure.sections) + 1):
            body = section_data(structure, number, text="A tester's comment") if language == "fr" else {}
            assert _post_section(staff_client, prefix, number, body).status_code == 302
        check = staff_client.get(f"{prefix}/check")
        staff_client.post(f"{prefix}/submit", data={"csrf_token": csrf_from(check.data)})
    half = _start(staff_client, "zh")
    assert _post_section(staff_client, half, 1, section_data(structure, 1)).status_code == 302
    after = _state(app, staff_client, survey_id)
    assert after == before
    assert "A tester's comment" not in after["csv"]
    with app.app_context():
        assert db.session.execute(select(Response).where(Response.is_test.is_(True))).scalars().all()
        # A rebuild of the totals leaves the tests out too.
        totals.rebuild(survey_id)
        assert snapshot(survey_id) == before["totals"]
        db.session.rollback()
    overview = staff_client.get(f"/staff/surveys/{SLUG}").data.decode()
    assert '<p data-count="tests">Test responses: 3' in overview


def test_delete_removes_the_test_responses_only(app, staff_client, survey_id):
    structure = structure_of(app, survey_id)
    for _ in range(2):
        prefix = _start(staff_client, "en")
        _post_section(staff_client, prefix, 1, section_data(structure, 1))
    with app.app_context():
        real = db.session.execute(select(Response.id).where(Response.is_test.is_(False))).scalars().all()
        assert real
    confirm = staff_client.get(f"/staff/surveys/{SLUG}/test-responses/delete")
    assert "Delete 2 test responses?" in confirm.data.decode()
    done = staff_client.post(f"/staff/surveys/{SLUG}/test-responses/delete",
                             data={"csrf_token": csrf_from(confirm.data)}, follow_redirects=True)
    assert "2 test responses deleted." in done.data.decode()
    with app.app_context():
        assert db.session.execute(select(Response.id).where(Response.is_test.is_(False))).scalars().all() == real
        assert not db.session.execute(select(Response.id).where(Response.is_test.is_(True))).all()
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "test_responses.deleted")).scalar_one()
        assert event.detail == {"responses": 2} and event.survey_id == survey_id
    # Nothing left: the overview no longer offers it, and the confirmation page says so.
    assert "Test responses:" not in staff_client.get(f"/staff/surveys/{SLUG}").data.decode()
    empty = staff_client.get(f"/staff/surveys/{SLUG}/test-responses/delete").data.decode()
    assert "There are no test responses to delete." in empty and "<form" not in empty.split("<main", 1)[1]


def test_deleting_needs_the_confirmation_form(staff_client, survey_id):
    assert staff_client.post(f"/staff/surveys/{SLUG}/test-responses/delete").status_code == 400


def test_non_staff_cannot_reach_a_preview(app, staff_client, survey_id):
    prefix = _start(staff_client, "en")
    stranger = app.test_client()
    for url in (PREVIEW, f"{PREVIEW}/start", f"/staff/surveys/{SLUG}/test-responses/delete"):
        assert stranger.get(url).headers["Location"].startswith("/staff/login")
    # Even with the test response's link, only signed-in staff see it.
    assert stranger.get(f"{prefix}/1").status_code == 404
    assert stranger.get(f"{prefix}/check").status_code == 404


def test_staff_answering_through_the_open_link_give_a_real_response(app, staff_client, survey_id):
    """Only the preview entry marks a test: signed in or not, the open link is the fellows' way in."""
    page = staff_client.get(f"/survey/{SLUG}")
    started = staff_client.post(f"/survey/{SLUG}", data={"csrf_token": csrf_from(page.data)})
    token = started.headers["Location"].split("/")[2]
    with app.app_context():
        from survey_app.services import tokens

        response = db.session.execute(
            select(Response).where(Response.resume_token_hash == tokens.hash_token(token))).scalar_one()
        assert response.is_test is False and response.channel == "open"
    assert "preview-banner" not in staff_client.get(started.headers["Location"]).data.decode()


def test_preview_works_while_the_survey_is_closed(app, staff_client, make_survey):
    make_survey(status="draft")
    prefix = _start(staff_client, "en")
    page = staff_client.get(f"{prefix}/1")
    assert page.status_code == 200 and 'class="preview-banner"' in page.data.decode()
    # Fellows still see the survey as not open.
    assert "preview-banner" not in app.test_client().get(f"/survey/{SLUG}").data.decode()


def test_a_survey_change_takes_only_test_answers_with_it_and_real_ones_still_block_it(
        app, staff_client, make_survey):
    """Previews never block a wording fix: test answers that a change orphans go; a fellow's answer still refuses it."""
    from survey_app.services import surveys as survey_service
    from tests.conftest import LEGACY_SURVEY

    survey_id = make_survey()
    structure = structure_of(app, survey_id)
    prefix = _start(staff_client, "en")
    assert _post_section(staff_client, prefix, 1, section_data(structure, 1)).status_code == 302
    removed = structure.sections[0].questions[0].code

    def without_first_question():
        definition = survey_service.parse_definition(survey_service.read_definition(LEGACY_SURVEY))
        definition["sections"][0]["questions"] = [q for q in definition["sections"][0]["questions"]
                                                  if q["code"] != removed]
        return definition

    with app.app_context():
        real = Response(survey_id=survey_id, language="en", channel="open")
        db.session.add(real)
        db.session.commit()
        db.session.add(Answer(response_id=real.id, question_id=structure.sections[0].questions[0].id,
                              text="a fellow's answer"))
        db.session.commit()
        with pytest.raises(survey_service.SurveyFileError, match="would orphan stored answers"):
            survey_service.apply_definition(without_first_question())
        assert db.session.execute(select(func.count(Response.id)).where(Response.is_test.is_(True))).scalar_one() == 1
        db.session.execute(delete(Answer).where(Answer.response_id == real.id))
        db.session.commit()

        result = survey_service.apply_definition(without_first_question())
        assert any("1 staff test response(s) deleted" in change for change in result.changes)
        assert db.session.execute(select(func.count(Response.id)).where(Response.is_test.is_(True))).scalar_one() == 0
        assert db.session.get(Response, real.id) is not None  # the fellow's response stays
