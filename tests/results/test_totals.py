"""Running totals: kept right by every write path, and giving exactly the results of counting the answers."""
from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from survey_app.dev.generate import Answerer, generate
from survey_app.extensions import db
from survey_app.models import Answer, AnswerTotal, Invitation, Participant, Response, ResponseTotal, Survey
from survey_app.models.base import utcnow
from survey_app.regions import region_of
from survey_app.services import participants as participant_service
from survey_app.services import privacy, tokens
from survey_app.services import results as rs
from survey_app.services.invitations import delete_invitation_data
from survey_app.services.responses import RespondentLink, submit_response
from tests.conftest import ALL_TYPES_SURVEY, LEGACY_SURVEY
from tests.totals_check import assert_totals_match_a_rebuild, snapshot

COUNTRIES = ["KE", "KE", "EG", "EG", "CN", "IN", "NG", "BR", None]
ICELAND_AT = {10, 40}  # two fellows in Iceland, below the minimum group size: withheld everywhere


def assert_same_results(survey: Survey, filter_: rs.ResultFilter) -> None:
    """Totals and answer counting give the same SurveyResults, field by field."""
    from_totals = rs.summarise(survey, filter_, from_totals=True)
    counted = rs.summarise(survey, filter_, from_totals=False)
    for field in dataclasses.fields(rs.SurveyResults):
        if field.name == "questions":
            assert len(from_totals.questions) == len(counted.questions)
            for mine, theirs in zip(from_totals.questions, counted.questions, strict=True):
                assert mine == theirs, mine.code
        else:
            assert getattr(from_totals, field.name) == getattr(counted, field.name), field.name


def _submit_random(survey: Survey, answerer: Answerer, rng: random.Random, invitation_id: int | None = None,
                   submit: bool = True, iceland: bool = False) -> int:
    """Save a response with random answers as a respondent would, then submit it through the service."""
    country = "IS" if iceland else rng.choice(COUNTRIES)
    cohort = rng.choice([2008, 2012, 2012, 2020, None])
    language = rng.choice(["en", "en", "ar", "zh"])
    response = Response(survey_id=survey.id, invitation_id=invitation_id, language=language, country=country,
                        cohort=cohort, started_at=utcnow() - timedelta(minutes=rng.randint(1, 10_000)))
    db.session.add(response)
    db.session.flush()
    rows = answerer.answers(response.id, country or "KE", cohort, language)
    if rng.random() < 0.3:  # a number of 0 and a blank category must count like any other
        rows = [(r, q, i, o, 0 if n is not None and i == "" else n, t) for r, q, i, o, n, t in rows]
    db.session.execute(insert(Answer), [
        {"response_id": r, "question_id": q, "item_code": i, "option_code": o, "number": n, "text": t}
        for r, q, i, o, n, t in rows])
    db.session.commit()
    if submit:
        link = RespondentLink("r", "", survey, None, response)
        assert submit_response(link)
        assert not submit_response(link)  # a second submit must not count twice
    return response.id


def _invite(survey: Survey, n: int) -> Participant:
    person = Participant(survey_id=survey.id, name=f"Fellow {n}", email=f"fellow{n}@example.org", attributes={})
    seed = tokens.new_seed()
    person.invitation = Invitation(survey_id=survey.id, token_seed=seed,
                                   token_hash=tokens.hash_token(tokens.token_from_seed(seed)))
    db.session.add(person)
    db.session.flush()
    return person


@pytest.mark.parametrize("survey_file", [LEGACY_SURVEY, ALL_TYPES_SURVEY], ids=["legacy", "all-types"])
def test_totals_and_counting_agree_after_submits_erasures_and_review(ctx, make_survey, survey_file):
    survey = db.session.get(Survey, make_survey(survey_file))
    rng = random.Random(20261121)  # nosec B311 - test data
    generate(survey, 40, seed=5)  # bulk data: the generator rebuilds the totals
    # Its own random source, so who answers from where does not shift when the generator's fellows change.
    answerer = Answerer(survey, random.Random(5))  # nosec B311 - test data
    people = []
    for n in range(70):
        person = _invite(survey, n) if n % 3 == 0 else None
        _submit_random(survey, answerer, rng, person.invitation.id if person else None, submit=n % 10 != 9,
                       iceland=n in ICELAND_AT)
        if person is not None:
            people.append(person.id)

    # Staff sort "Other" texts into categories, change their mind, clear some.
    others = db.session.execute(
        select(Answer.id).join(Response).where(Response.survey_id == survey.id, Answer.text.is_not(None),
                                               Answer.option_code != "").order_by(Answer.id)).scalars().all()
    assert others
    for answer_id in others[::2]:
        rs.set_category(survey, answer_id, rng.choice(["Telegram", "Signal", "Messaging apps"]), actor=None)
    for answer_id in others[::6]:
        rs.set_category(survey, answer_id, rng.choice(["", "Signal"]), actor=None)

    # Erasure, removal of a person (the response stays) and deletion of invitation data.
    for participant_id in people[:6]:
        privacy.erase_participant(participant_id, None)
    participant_service.remove_participant(db.session.get(Participant, people[6]), actor=None)
    delete_invitation_data(db.session.get(Participant, people[7]), actor=None)

    assert_totals_match_a_rebuild(survey.id)
    filters = [rs.ResultFilter(), rs.ResultFilter(countries=("KE",)), rs.ResultFilter(countries=("EG", "KE")),
               rs.ResultFilter(regions=(region_of("KE"),)), rs.ResultFilter(regions=(region_of("CN"), region_of("EG"))),
               rs.ResultFilter(countries=("IS",)), rs.ResultFilter(countries=("KE",), regions=(region_of("KE"),))]
    for filter_ in filters:
        assert_same_results(survey, filter_)
    # The filters that do have results: a withheld-only comparison would prove little.
    assert not rs.summarise(survey).withheld and not rs.summarise(survey, filters[1]).withheld
    assert rs.summarise(survey, filters[5]).withheld  # Iceland is too small everywhere


def test_erase_expired_leaves_totals_right(ctx, make_survey):
    survey = db.session.get(Survey, make_survey())
    rng = random.Random(7)  # nosec B311 - test data
    answerer = Answerer(survey, rng)
    for n in range(30):
        person = _invite(survey, n)
        _submit_random(survey, answerer, rng, person.invitation.id)
    approved = db.session.execute(select(Answer).join(Response).where(
        Response.survey_id == survey.id, Answer.text.is_not(None), Answer.option_code == "")).scalars().first()
    approved.quote_approved = True
    survey.closes_at = utcnow() - timedelta(days=40)
    survey.retention_days = 30
    db.session.commit()
    texts_before = sum(q.texts for q in rs.summarise(survey).questions)
    assert privacy.erase_expired()
    assert 0 < sum(q.texts for q in rs.summarise(survey).questions) < texts_before
    assert_totals_match_a_rebuild(survey.id)
    assert_same_results(survey, rs.ResultFilter())


def test_cohort_and_language_filters_count_the_answers(ctx, make_survey):
    survey = db.session.get(Survey, make_survey())
    generate(survey, 60, seed=3)
    filter_ = rs.ResultFilter(languages=("en",))
    assert not filter_.totals_suffice and rs.ResultFilter(countries=("KE",)).totals_suffice
    with pytest.raises(ValueError):
        rs.summarise(survey, filter_, from_totals=True)
    assert rs.summarise(survey, filter_).completed == rs.scan_group_counts(survey.id, filter_).n


def test_rebuild_totals_command_repairs_damaged_totals(app, runner, make_survey):
    survey_id = make_survey()
    with app.app_context():
        generate(db.session.get(Survey, survey_id), 25, seed=11)
        good = snapshot(survey_id)
        db.session.execute(AnswerTotal.__table__.update().values(answers=AnswerTotal.answers + 3))
        db.session.execute(ResponseTotal.__table__.delete())
        db.session.commit()
        assert snapshot(survey_id) != good
    result = runner.invoke(args=["results", "rebuild-totals", "legacy-projects"])
    assert result.exit_code == 0, result.output
    assert "legacy-projects: running totals rebuilt" in result.output
    with app.app_context():
        assert snapshot(survey_id) == good
    assert runner.invoke(args=["results", "rebuild-totals"]).exit_code == 0
    assert runner.invoke(args=["results", "rebuild-totals", "no-such-survey"]).exit_code != 0


def test_survey_deletion_takes_its_totals_along(ctx, make_survey):
    survey_id = make_survey()
    generate(db.session.get(Survey, survey_id), 5, seed=2)
    assert db.session.execute(select(AnswerTotal).limit(1)).first() is not None
    db.session.delete(db.session.get(Survey, survey_id))
    db.session.commit()
    assert db.session.execute(select(AnswerTotal).limit(1)).first() is None
    assert db.session.execute(select(ResponseTotal).limit(1)).first() is None
