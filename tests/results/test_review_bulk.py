"""Free-text review at the pace of reading: filters, one action for many answers, suggestions, translations."""
from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, QuoteTranslation, Survey, TextReview
from survey_app.services import report
from survey_app.services import results as rs

from ..conftest import csrf_from
from .conftest import QUOTES

URL = "/staff/surveys/legacy-projects/results/text"


def _items(app, survey_id, question=None, **kw):
    with app.app_context():
        return rs.list_free_text(db.session.get(Survey, survey_id), question, per_page=2000, **kw).items


def _bulk(client, action, ids, category="", query="?question=suggestions"):
    page = client.get(URL + query)
    data = {"csrf_token": csrf_from(page.data), "action": action, "category": category, "answer": [str(i) for i in ids]}
    return client.post(URL + "/bulk" + query, data=data)


def test_bulk_approve_takes_only_consenting_answers_and_says_why_others_were_left(app, staff_client, legacy):
    items = _items(app, legacy.survey_id, "suggestions", state="unreviewed")
    consenting = [i.answer_id for i in items if i.consent][:5]
    refusing = [i.answer_id for i in items if not i.consent][:3]
    response = _bulk(staff_client, "approve", consenting + refusing)
    assert response.status_code == 302 and "question=suggestions" in response.location
    page = staff_client.get(response.location).get_data(as_text=True)
    assert "5 answers changed." in page
    assert "3 answers were not approved: the fellows did not agree to be quoted." in page
    with app.app_context():
        approved = {a.id for a in db.session.execute(select(Answer).where(Answer.quote_approved.is_(True))).scalars()}
        assert set(consenting) <= approved and not set(refusing) & approved
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "results.bulk_review")).scalar_one()
        assert event.detail == {"review_action": "approve", "changed": 5, "refused": 3} and event.actor_id is not None


def test_bulk_actions_need_csrf_and_a_known_action(app, staff_client, legacy):
    item = _items(app, legacy.survey_id, "suggestions")[0]
    refused = staff_client.post(URL + "/bulk", data={"action": "approve", "answer": [str(item.answer_id)]})
    assert refused.status_code == 400
    response = _bulk(staff_client, "delete-everything", [item.answer_id])
    assert "Choose what to do with the selected answers." in staff_client.get(response.location).get_data(as_text=True)


def test_reject_then_filter_by_state_and_language(app, staff_client, legacy):
    items = _items(app, legacy.survey_id, "suggestions", state="unreviewed")
    rejected = [i.answer_id for i in items[:4]]
    _bulk(staff_client, "reject", rejected)
    assert {i.answer_id for i in _items(app, legacy.survey_id, "suggestions", state="rejected")} == set(rejected)
    assert not set(rejected) & {i.answer_id for i in _items(app, legacy.survey_id, "suggestions", state="unreviewed")}
    chinese = _items(app, legacy.survey_id, "suggestions", language="zh")
    assert chinese and all(i.language == "zh" for i in chinese)
    assert QUOTES["zh"] in {i.text for i in chinese}
    page = staff_client.get(URL + "?question=suggestions&state=rejected").get_data(as_text=True)
    assert f'data-total="{len(rejected)}"' in page


def test_categorise_many_other_answers_and_suggest_from_those_already_coded(app, staff_client, legacy):
    others = [i for i in _items(app, legacy.survey_id, "preferred_platform") if i.is_other]
    written, _count = Counter(i.text for i in others).most_common(1)[0]  # a platform the list lacks, such as LINE
    same = [i for i in others if i.text == written]
    assert len(same) >= 3
    category = f"{written} (messenger)"
    _bulk(staff_client, "categorise", [i.answer_id for i in same[:2]], category=category,
          query="?question=preferred_platform")
    waiting = [i for i in _items(app, legacy.survey_id, "preferred_platform", state="unreviewed") if i.is_other]
    rest = [i for i in waiting if i.text == written]
    assert rest and all(i.suggestion == category for i in rest)
    page = staff_client.get(URL + "?question=preferred_platform&state=unreviewed").get_data(as_text=True)
    assert f"Suggested: {category}" in page
    _bulk(staff_client, "suggested", [i.answer_id for i in rest], query="?question=preferred_platform")
    with app.app_context():
        for item in rest:
            assert db.session.get(Answer, item.answer_id).category == category
        results = rs.summarise(db.session.get(Survey, legacy.survey_id))
    preferred = next(q for q in results.questions if q.code == "preferred_platform")
    coded = next(o for o in preferred.options if o.category == category)
    assert coded.count == len(rest) + 2  # the running totals moved with every answer


def test_suggestions_match_names_and_shared_words():
    coded = [("We mostly use Telegram", "Telegram"), ("Signal app for the team", "Signal")]
    assert rs.suggest("telegram channel", coded) == "Telegram"
    assert rs.suggest("the Signal app", coded) == "Signal"
    assert rs.suggest("carrier pigeons", coded) is None


def test_a_translation_clears_needs_translation_and_prints_beside_the_quote(app, staff_client, legacy):
    quote = next(i for i in _items(app, legacy.survey_id, "suggestions") if i.text == QUOTES["zh"])
    _bulk(staff_client, "needs_translation", [quote.answer_id])
    flagged = _items(app, legacy.survey_id, "suggestions", state="needs_translation")
    assert [i.answer_id for i in flagged] == [quote.answer_id]
    url = URL + f"/{quote.answer_id}/translation"
    page = staff_client.get(url).get_data(as_text=True)
    assert 'name="text_zh"' not in page and 'name="text_en"' in page and 'name="text_ar"' in page
    english = "WeChat groups are our handiest way to stay in touch"
    response = staff_client.post(url, data={"csrf_token": csrf_from(page), "text_en": english, "text_ar": ""})
    assert response.status_code == 302
    assert _items(app, legacy.survey_id, "suggestions", state="needs_translation") == []
    with app.app_context():
        assert db.session.get(QuoteTranslation, (quote.answer_id, "en")).text == english
        assert db.session.get(QuoteTranslation, (quote.answer_id, "ar")) is None
        content = report.build_content(db.session.get(Survey, legacy.survey_id), "en")
        printed = next(q for q in content.quotes if q.text == QUOTES["zh"])
        assert printed.translation == english
        french = report.build_content(db.session.get(Survey, legacy.survey_id), "fr")
        assert next(q for q in french.quotes if q.text == QUOTES["zh"]).translation is None


def test_withdrawing_a_quote_drops_its_translations(app, staff_client, legacy):
    quote = next(i for i in _items(app, legacy.survey_id, "suggestions") if i.text == QUOTES["ru"])
    page = staff_client.get(URL + f"/{quote.answer_id}/translation").get_data(as_text=True)
    staff_client.post(URL + f"/{quote.answer_id}/translation",
                      data={"csrf_token": csrf_from(page), "text_en": "Telegram suits our museum better"})
    _bulk(staff_client, "reject", [quote.answer_id])
    with app.app_context():
        assert db.session.get(Answer, quote.answer_id).quote_approved is False
        assert db.session.get(TextReview, quote.answer_id).rejected is True
        assert db.session.execute(select(QuoteTranslation)).first() is None
    assert staff_client.get(URL + f"/{quote.answer_id}/translation").status_code == 404


def test_the_review_page_works_without_script_and_carries_its_own(staff_client, legacy):
    page = staff_client.get(URL + "?question=suggestions").get_data(as_text=True)
    assert 'form="bulk" name="answer"' in page
    assert '<form method="post" action="/staff/surveys/legacy-projects/results/text/bulk' in page
    assert re.search(r'<script src="/static/js/review\.js\?v=\w+" defer></script>', page)
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " style=" not in page
