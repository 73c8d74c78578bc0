"""A legacy-projects survey with a few hundred synthetic responses, a two-person country and quotes."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from survey_app.dev.generate import generate
from survey_app.extensions import db
from survey_app.models import Answer, Participant, Question, Response, Survey
from survey_app.services import totals

TINY_COUNTRY = "IS"  # Iceland: two respondents, below the minimum group size of 5
QUOTES = {
    "zh": "微信群是我们最方便的联系方式",
    "ar": "مجموعات واتساب مفيدة جداً للتواصل",
    "el": "Θα ήθελα περισσότερες συναντήσεις",
    "ru": "Телеграм удобнее для нашего музея",
    "hi": "मासिक समाचार पत्र बहुत उपयोगी होगा",
    "en": "Recordings help colleagues in other time zones",
}
UNAPPROVED = "This comment was never approved for quoting"
NO_CONSENT = "This fellow said no to being quoted"


@dataclass
class Fixture:
    survey_id: int
    names: list[str]
    emails: list[str]


def _answer(response_id: int, question: Question, **values) -> Answer:
    row = Answer(response_id=response_id, question_id=question.id, item_code=values.pop("item_code", ""),
                 option_code=values.pop("option_code", ""), **values)
    db.session.add(row)
    return row


def add_quote(survey: Survey, text: str, consent: str | None, approved: bool, language: str = "en") -> None:
    """Add one complete response from Kenya with a suggestion and a consent answer."""
    questions = {q.code: q for q in survey.questions}
    response = Response(survey_id=survey.id, status="complete", language=language, country="KE", cohort=2015,
                        submitted_at=survey.created_at)
    db.session.add(response)
    db.session.flush()
    _answer(response.id, questions["suggestions"], text=text, quote_approved=approved)
    if consent:
        _answer(response.id, questions["quote_ok"], option_code=consent)
    db.session.flush()
    totals.add_response(response.id)  # what submit_response does for a response completed by hand


@pytest.fixture
def legacy(app, make_survey) -> Fixture:
    survey_id = make_survey()
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        generate(survey, 300, seed=7)
        generate(survey, 2, seed=8, country=TINY_COUNTRY, invitations=True, partial=0)
        for lang, text in QUOTES.items():
            add_quote(survey, text, "yes", True, lang)
        add_quote(survey, UNAPPROVED, "yes", False)
        add_quote(survey, NO_CONSENT, "no", True)  # approved flag without consent must never print
        db.session.commit()
        people = db.session.execute(select(Participant.name, Participant.email)
                                    .where(Participant.survey_id == survey_id)).all()
    return Fixture(survey_id, [p.name for p in people], [p.email for p in people])
