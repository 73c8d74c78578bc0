"""`flask dev generate`: says what it added, and its fellows answer as fellows would, the same way for a seed."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from survey_app.dev.generate import COUNTRIES, generate
from survey_app.dev.personas import FREE_TEXT, OTHER_PLATFORMS, OTHER_PLATFORMS_ANYWHERE, OTHER_ROLES, ROLES
from survey_app.extensions import db
from survey_app.models import Answer, Participant, Question, Response, Survey

ROLE_CODES = {code for code, _share in ROLES}
USUAL = {country: language for country, _weight, language in COUNTRIES}


def _answers(survey_id: int, code: str) -> list[tuple[Response, Answer]]:
    return list(db.session.execute(
        select(Response, Answer).join(Answer, Answer.response_id == Response.id)
        .join(Question, Question.id == Answer.question_id)
        .where(Response.survey_id == survey_id, Question.code == code).order_by(Response.id, Answer.id)).all())


def _picked(survey_id: int, code: str) -> dict[int, tuple[str, set[str]]]:
    """Response id -> (country, the options it picked) for a choice question."""
    picked: dict[int, tuple[str, set[str]]] = {}
    for response, answer in _answers(survey_id, code):
        picked.setdefault(response.id, (response.country, set()))[1].add(answer.option_code)
    return picked


@pytest.fixture
def generated(app, make_survey) -> int:
    survey_id = make_survey()
    with app.app_context():
        generate(db.session.get(Survey, survey_id), 600, seed=5)
    return survey_id


def test_the_command_says_how_many_participants_and_responses_it_added(app, runner, make_survey):
    survey_id = make_survey()
    result = runner.invoke(args=["dev", "generate", "legacy-projects", "--responses", "40", "--seed", "1"])
    assert result.exit_code == 0, result.output
    found = re.search(r"added (\d+) synthetic participants, each with a personal invitation \((\d+) of them have "
                      r"not answered\), and (\d+) synthetic responses \((\d+) complete, (\d+) partial\)", result.output)
    assert found, result.output
    participants, silent, responses, complete, partial = map(int, found.groups())
    with app.app_context():
        count = lambda *where: db.session.execute(select(func.count()).where(*where)).scalar_one()  # noqa: E731
        assert participants == count(Participant.survey_id == survey_id)
        assert responses == count(Response.survey_id == survey_id) == complete + partial
        assert complete == 40 == count(Response.survey_id == survey_id, Response.status == "complete")
        assert silent == participants - responses
    assert "synthetic.example, a reserved domain that receives no mail" in result.output
    open_link = runner.invoke(args=["dev", "generate", "legacy-projects", "--responses", "10", "--no-invitations"])
    assert "added no participants and 10 synthetic responses (10 complete, 0 partial) through the open link" \
        in open_link.output


def test_wechat_is_for_fellows_in_china_and_whatsapp_for_africa_south_asia_and_the_middle_east(app, generated):
    with app.app_context():
        used = _picked(generated, "platforms_used")
        preferred = _picked(generated, "preferred_platform")

    def share(answers: dict[int, tuple[str, set[str]]], option: str, countries: set[str], inside: bool) -> float:
        rows = [chosen for country, chosen in answers.values() if (country in countries) == inside]
        assert len(rows) >= 20
        return sum(option in chosen for chosen in rows) / len(rows)

    china, whatsapp_lands = {"CN"}, {"KE", "NG", "UG", "GH", "EG", "SD", "IQ", "JO", "IN", "PK", "BD"}
    assert share(used, "wechat", china, True) > 0.8
    assert share(used, "wechat", china, False) < 0.1
    assert share(used, "whatsapp", whatsapp_lands, True) > 0.7
    assert share(used, "whatsapp", china, True) < 0.2
    assert share(used, "facebook", china, False) > 0.5  # widespread outside China
    assert share(used, "facebook", china, True) < 0.2
    assert share(preferred, "wechat", china, True) > 0.4 > share(preferred, "wechat", china, False)


def test_roles_are_the_surveys_and_written_in_roles_are_real_ones(app, generated):
    real = {role for roles in OTHER_ROLES.values() for role in roles}
    with app.app_context():
        rows = _answers(generated, "role")
    codes = Counter(answer.option_code for _response, answer in rows)
    assert set(codes) <= ROLE_CODES and codes.most_common(1)[0][0] == "curator"
    written = [answer.text for _response, answer in rows if answer.option_code == "other"]
    assert written and all(text in real for text in written)
    assert all(answer.text is None for _response, answer in rows if answer.option_code != "other")


def test_free_text_fits_its_question_and_is_in_the_fellows_language(app, generated):
    with app.app_context():
        for code in ("other_platforms", "suggestions"):
            pools = FREE_TEXT[code]
            rows = _answers(generated, code)
            assert len(rows) > 50, code
            for response, answer in rows:
                languages = [lang for lang, texts in pools.items() if answer.text in texts]
                assert languages, (code, answer.text)  # a text written for this question
                # In the language they answer in, or now and then in their own (Greek, Portuguese …).
                assert languages[0] in {response.language, USUAL[response.country]}, (response.language, answer.text)
            assert {response.country for response, answer in rows if answer.text in pools["zh"]} == {"CN"}
            same = sum(answer.text in pools.get(response.language, ()) for response, answer in rows)
            assert same / len(rows) > 0.85
        others = {name for names in OTHER_PLATFORMS.values() for name in names} | set(OTHER_PLATFORMS_ANYWHERE)
        written = [answer.text for _r, answer in _answers(generated, "platforms_used") if answer.option_code == "other"]
        assert written and set(written) <= others


def test_the_same_seed_gives_the_same_fellows_and_answers(app, make_survey):
    first, second, third = (make_survey(slug=slug) for slug in ("seeded-one", "seeded-two", "seeded-three"))

    def snapshot(survey_id: int) -> list[tuple]:
        rows = db.session.execute(
            select(Response.country, Response.language, Response.cohort, Response.status, Question.code,
                   Answer.item_code, Answer.option_code, Answer.number, Answer.text)
            .join(Answer, Answer.response_id == Response.id).join(Question, Question.id == Answer.question_id)
            .where(Response.survey_id == survey_id).order_by(Response.id, Answer.id)).all()
        return [tuple(row) for row in rows]

    with app.app_context():
        for survey_id, seed in ((first, 42), (second, 42), (third, 43)):
            generate(db.session.get(Survey, survey_id), 60, seed=seed)
        assert snapshot(first) == snapshot(second) and len(snapshot(first)) > 600
        assert snapshot(first) != snapshot(third)
