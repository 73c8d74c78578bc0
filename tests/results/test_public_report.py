"""The web version of the report: published at an unguessable address, only approved content, gone when withdrawn."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from survey_app.countries import country_name
from survey_app.extensions import db
from survey_app.models import AuditEvent, ReportSettings, Survey
from survey_app.services import report, report_settings
from survey_app.services import results as rs

from ..conftest import csrf_from
from .conftest import NO_CONSENT, QUOTES, TINY_COUNTRY, UNAPPROVED

BASE = "/staff/surveys/legacy-projects/results"


def _publish(client) -> str:
    page = client.get(f"{BASE}/report")
    assert page.status_code == 200
    response = client.post(f"{BASE}/report/publish", data={"publish": "1", "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302
    page = client.get(f"{BASE}/report").get_data(as_text=True)
    url = re.search(r'data-published>[^<]*<a href="([^"]+)"', page).group(1)
    return urlsplit(url).path


def test_publishing_needs_csrf_and_gives_an_unguessable_address_stored_only_as_a_hash(app, staff_client, legacy):
    assert staff_client.post(f"{BASE}/report/publish", data={"publish": "1"}).status_code == 400
    path = _publish(staff_client)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 22  # 128 bits or more, URL-safe
    with app.app_context():
        row = db.session.get(ReportSettings, legacy.survey_id)
        assert row.public_token_hash and token not in row.public_token_hash
        assert token.encode() not in (row.public_seed or b"")
        stored = " ".join(str(v) for v in db.session.execute(select(AuditEvent.detail)).scalars())
        assert token not in stored
        assert "report.published" in db.session.execute(select(AuditEvent.action)).scalars().all()


def test_the_public_page_shows_the_reports_approved_content_only(app, staff_client, client, legacy):
    path = _publish(staff_client)
    response = client.get(path)  # anonymous
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    page = response.get_data(as_text=True)
    assert '<meta name="robots" content="noindex, nofollow">' in page
    for quote in QUOTES.values():
        assert quote in page
    assert UNAPPROVED not in page and NO_CONSENT not in page
    assert country_name(TINY_COUNTRY) not in page
    for value in legacy.names[:30] + legacy.emails[:30]:
        assert value not in page
    # Nothing from another host: every src and href is on this site or inline data.
    for link in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert link.startswith(("/", "#", "data:", "?")), link
    # Every chart has a text alternative and the figures agree with the summary.
    assert page.count('<svg role="img"') >= 8 and page.count("<title id=") == page.count('<svg role="img"')
    with app.app_context():
        results = rs.summarise(db.session.get(Survey, legacy.survey_id))
        crosstab = results.crosstab
    assert f'data-count="completed">{results.completed_all}<' in page
    for column in crosstab.columns:
        if not column.shown:  # a withheld region is never given a figure
            assert f'data-region="{column.label}"' not in page


def test_key_findings_on_the_page_are_the_edited_ones(app, staff_client, client, legacy):
    path = _publish(staff_client)
    form = staff_client.get(f"{BASE}/report/findings?language=en").get_data(as_text=True)
    keys = re.findall(r'name="(findings-\d+-key)" type="hidden" value="([^"]+)"', form)
    assert len(keys) >= 4
    data = {"csrf_token": csrf_from(form), "language": "en"}
    for name, key in keys:
        data[name] = key
        data[name.replace("-key", "-text")] = ""
    data["findings-0-text"] = "Most fellows who were invited answered the survey."
    data["findings-1-remove"] = "y"
    assert staff_client.post(f"{BASE}/report/findings?language=en", data=data).status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "Most fellows who were invited answered the survey." in page
    assert f'data-finding="{keys[1][1]}"' not in page
    assert f'data-finding="{keys[2][1]}"' in page


def test_unpublishing_makes_the_address_a_404_for_good(app, staff_client, client, legacy):
    path = _publish(staff_client)
    assert client.get(path).status_code == 200
    page = staff_client.get(f"{BASE}/report")
    staff_client.post(f"{BASE}/report/publish", data={"publish": "0", "csrf_token": csrf_from(page.data)})
    assert client.get(path).status_code == 404
    new_path = _publish(staff_client)
    assert new_path != path and client.get(path).status_code == 404 and client.get(new_path).status_code == 200


def test_the_pdf_links_to_the_web_version_only_while_published(app, staff_client, legacy):
    with app.app_context():
        survey = db.session.get(Survey, legacy.survey_id)
        assert report.build_content(survey, "en").public_url is None
    path = _publish(staff_client)
    with app.app_context():
        survey = db.session.get(Survey, legacy.survey_id)
        content = report.build_content(survey, "en")
        assert content.public_url.endswith(path)
        pdf = report.render_pdf_bytes(survey, "en")
    assert path.encode() in pdf  # the link annotation's URI


@pytest.mark.parametrize("app_overrides", [{"TOKEN_GUESS_LIMIT": "3 per minute", "RATELIMIT_STORAGE_URI": "memory://"}])
def test_unknown_addresses_count_against_the_link_guess_budget(app, client, legacy):
    for _ in range(3):
        assert client.get("/reports/NoSuchReportNoSuchReport00").status_code == 404
    assert client.get("/reports/NoSuchReportNoSuchReport01").status_code == 429
    # The budget is shared with the answer links: a guessed report address costs as much as a personal link.
    assert client.get("/s/NoSuchLinkNoSuchLinkNoSuch").status_code == 429


def test_nothing_below_the_minimum_when_every_group_is_small(app, staff_client, client, make_survey):
    """A survey with fewer complete responses than the minimum publishes no figures at all."""
    from survey_app.dev.generate import generate

    survey_id = make_survey(slug="tiny-survey")
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        generate(survey, 3, seed=3, partial=0)
        report_settings.publish(survey, None)
        token = report_settings.public_token(report_settings.settings_for(survey))
    page = client.get(f"/reports/{token}").get_data(as_text=True)
    assert "<svg" not in page and "data-findings" not in page
