"""Staff results pages: counts, charts with tables, filters, withheld groups, review and access."""
from __future__ import annotations

import re

from sqlalchemy import select

from survey_app.countries import country_name
from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, Response, Survey
from survey_app.services import results as rs

from ..conftest import csrf_from
from .conftest import TINY_COUNTRY

URL = "/staff/surveys/legacy-projects/results/"


def test_anonymous_users_are_refused(client, legacy):
    for path in ("", "preview", "report.pdf", "export.csv", "export.xlsx", "text"):
        response = client.get(URL + path)
        assert response.status_code == 302 and "/staff/login" in response.location
    assert client.post(URL + "text/1/quote", data={"approve": "1"}).status_code in (400, 401)


def test_dashboard_shows_counts_charts_and_tables(app, staff_client, legacy):
    page = staff_client.get(URL).get_data(as_text=True)
    with app.app_context():
        results = rs.summarise(db.session.get(Survey, legacy.survey_id))
    assert f'data-count="completed">{results.status.completed}<' in page
    assert f'data-count="partial">{results.status.partial}<' in page
    assert page.count("<svg role=\"img\"") >= 10 and page.count("<caption>") >= 10
    preferred = next(q for q in results.questions if q.code == "preferred_platform")
    top = preferred.options[0]
    assert f'data-count="preferred_platform:{top.code}">{top.count}<' in page
    assert "by world region" in page
    assert " style=" not in page and "<style" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert country_name(TINY_COUNTRY) not in page


def test_filters_combine_and_small_groups_are_withheld(app, staff_client, legacy):
    page = staff_client.get(URL + "?region=mena&language=ar").get_data(as_text=True)
    assert "data-withheld" not in page and "<svg" in page
    page = staff_client.get(URL + f"?country={TINY_COUNTRY}").get_data(as_text=True)
    assert "data-withheld" in page and "<svg role" not in page


def test_review_approves_only_with_consent_and_is_audited(app, staff_client, legacy):
    page = staff_client.get(URL + "text?question=suggestions").get_data(as_text=True)
    token = csrf_from(page)
    with app.app_context():
        survey = db.session.get(Survey, legacy.survey_id)
        items = rs.list_free_text(survey, "suggestions", per_page=1000).items
    consenting = next(i for i in items if i.consent and not i.quote_approved)
    refusing = next(i for i in items if not i.consent)
    staff_client.post(URL + f"text/{refusing.answer_id}/quote", data={"approve": "1", "csrf_token": token})
    staff_client.post(URL + f"text/{consenting.answer_id}/quote", data={"approve": "1", "csrf_token": token})
    with app.app_context():
        assert db.session.get(Answer, consenting.answer_id).quote_approved is True
        assert db.session.get(Answer, refusing.answer_id).quote_approved is False
        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
        assert actions.count("results.quote_approved") == 1


def test_preview_shows_the_summary_with_quotes(staff_client, legacy):
    page = staff_client.get(URL + "preview").get_data(as_text=True)
    assert "How to read this summary" in page and "微信群是我们最方便的联系方式" in page
    assert "This fellow said no to being quoted" not in page


def test_export_downloads_are_streamed_and_audited(app, staff_client, legacy):
    response = staff_client.get(URL + "export.csv")
    assert response.status_code == 200 and response.is_streamed
    body = response.get_data(as_text=True)
    with app.app_context():
        n = db.session.query(Response).filter_by(survey_id=legacy.survey_id).count()
        detail = db.session.execute(select(AuditEvent.detail).where(AuditEvent.action == "results.export")).scalar()
        assert detail == {"format": "csv"}
    assert len([line for line in body.splitlines() if re.match(r"^\d+,", line)]) == n
    xlsx = staff_client.get(URL + "export.xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
