"""The dashboard leads with the answer: headline figures, completions per day with mailings marked, a contents list."""
from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Invitation, MailBatch, Response, Survey
from survey_app.regions import region_of
from survey_app.services.results.progress import completions_per_day, mail_rounds

URL = "/staff/surveys/legacy-projects/results/"


def _count(page: str, key: str) -> str:
    found = re.search(rf'data-count="{re.escape(key)}">([^<]*)<', page)
    assert found, key
    return found.group(1)


def _add_mailings(survey_id: int) -> list[datetime]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
    sent = [start, start + timedelta(days=3), start + timedelta(days=14), start + timedelta(days=21, hours=5)]
    # Two batches of the invitation (a second group imported later), then two reminder rounds.
    rounds = (("invitation", 0), ("invitation", 0), ("reminder", 1), ("reminder", 2))
    for (kind, number), when in zip(rounds, sent, strict=True):
        db.session.add(MailBatch(survey_id=survey_id, kind=kind, round=number, total=10, created_at=when))
    db.session.commit()
    return sent


def test_headline_figures_match_the_database(app, staff_client, legacy):
    page = staff_client.get(URL).get_data(as_text=True)
    headline = page[page.index("data-headline"):page.index("</dl>", page.index("data-headline"))]
    with app.app_context():
        statuses = Counter(db.session.execute(
            select(Response.status).where(Response.survey_id == legacy.survey_id)).scalars())
        invitations = db.session.execute(select(Invitation.status).where(
            Invitation.survey_id == legacy.survey_id)).scalars().all()
    completed_invited = sum(1 for status in invitations if status == "completed")
    assert _count(headline, "completed") == str(statuses["complete"])
    assert _count(headline, "partial") == str(statuses["partial"]) != "0"
    assert _count(headline, "rate") == f"{100 * completed_invited / len(invitations):.1f} %"
    # The headline comes before the filters and the questions.
    assert page.index("data-headline") < page.index("result-filters") < page.index('id="q-cohort_year"')


def test_completions_per_day_match_the_database_with_mailings_marked(app, staff_client, legacy):
    with app.app_context():
        sent = _add_mailings(legacy.survey_id)
        submitted = db.session.execute(select(Response.submitted_at).where(
            Response.survey_id == legacy.survey_id, Response.status == "complete")).scalars().all()
        assert [r.kind for r in mail_rounds(legacy.survey_id)] == ["invitation", "reminder", "reminder"]
    expected = Counter(when.astimezone(UTC).date() for when in submitted)
    assert len(expected) > 10
    page = staff_client.get(URL).get_data(as_text=True)
    shown = {day: int(n) for day, n in re.findall(r'data-count="day:(\d{4}-\d\d-\d\d)">(\d+)<', page)}
    assert shown == {day.isoformat(): n for day, n in expected.items()}
    assert sum(shown.values()) == len(submitted)
    progress = page[page.index('id="progress-title"'):page.index("</section>", page.index('id="progress-title"'))]
    assert progress.count('<svg role="img"') == 1
    # The invitation once (its first batch), and each reminder round, drawn and listed.
    assert progress.count(">Invitations sent<") == 2  # the label drawn in the chart and its table row
    assert progress.count(">Reminder 1<") == 2 and progress.count(">Reminder 2<") == 2
    assert sent[0].strftime("%-d %b %Y") in progress
    assert "<details" in progress  # the day-by-day table is folded beneath the chart


def test_completions_per_day_follow_the_filter(app, legacy):
    with app.app_context():
        from survey_app.services.results import ResultFilter

        responses = db.session.execute(select(Response.country, Response.submitted_at).where(
            Response.survey_id == legacy.survey_id, Response.status == "complete")).all()
        expected = Counter(when.astimezone(UTC).date() for country, when in responses
                           if region_of(country) == "mena")
        assert completions_per_day(legacy.survey_id, ResultFilter.from_values(regions=["mena"])) == expected
        assert sum(completions_per_day(legacy.survey_id).values()) == len(responses)


def test_contents_links_resolve_and_tables_are_folded(staff_client, legacy):
    page = staff_client.get(URL).get_data(as_text=True)
    contents = page[page.index("data-contents"):page.index("</nav>", page.index("data-contents"))]
    targets = re.findall(r'href="#([^"]+)"', contents)
    with staff_client.application.app_context():
        survey = db.session.execute(select(Survey)).scalar_one()
        assert len(targets) == len(survey.questions) + 1  # each question and the cross-tabulation
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    assert set(targets) <= ids
    assert len(set(re.findall(r'\bid="([^"]+)"', page))) == len(re.findall(r'\bid="([^"]+)"', page))  # unique ids
    # Every question's data table is folded in a <details> beneath its chart, never beside it.
    blocks = re.findall(r'<section class="result-question".*?</section>', page, re.S)
    charted = [b for b in blocks if '<svg role="img"' in b]
    assert len(charted) >= 10
    for block in charted:
        assert block.count("<table") == block.count("<details class=\"details chart-data\">") >= 1
        assert block.index('<svg role="img"') < block.index("<table")
    # Wide tables scroll in their own box, which a keyboard can reach, named by its caption.
    assert re.search(r'<div class="table-wrap" role="region" aria-label="[^"]+" tabindex="0">', page)


def test_the_dashboard_stays_free_of_scripts_and_styles_in_arabic(staff_client, legacy):
    page = staff_client.get(URL, headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'dir="rtl"' in page and 'direction="rtl"' in page
    assert " style=" not in page and "<style" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
