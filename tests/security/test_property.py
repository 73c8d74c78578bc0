"""Random and tampered respondent posts: never a 500, never invalid data stored."""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, Participant, Survey
from survey_app.services import responses as response_service
from survey_app.services import tokens
from survey_app.services.structure import QuestionView, SurveyStructure
from tests.conftest import ALL_TYPES_SURVEY, LEGACY_SURVEY, csrf_from
from tests.security.helpers import section_data, structure_of

SURVEY_FILES = [p for p in (LEGACY_SURVEY, ALL_TYPES_SURVEY) if Path(p).exists()]

# Digits int() or str.isdigit() accept that are not ASCII: Arabic-Indic, Devanagari, full-width,
# superscripts, circled and other "No" digits.
foreign_digits = st.text(alphabet=st.characters(categories=["Nd", "No"], exclude_characters="0123456789"),
                         min_size=1, max_size=6)
scalars = st.one_of(
    st.text(max_size=40), st.integers().map(str), foreign_digits,
    st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "9" * 5000, "1_950", "+2", "²", "٣", "٢٠١٥",
                     "1.5", "None", "null", "[]", "{}", "<script>", "\x00", "NaN"]),
)
values = st.one_of(scalars, st.lists(scalars, min_size=2, max_size=4), st.just("x" * 6000))


def _tamper(structure: SurveyStructure, number: int, data):
    """Start from a valid body, then break it the way an attacker or a broken browser would."""
    body: dict[str, object] = dict(section_data(structure, number))
    keys = list(body) or ["q"]
    for _ in range(data.draw(st.integers(0, 4))):
        action = data.draw(st.sampled_from(["replace", "drop", "extra", "list", "repeat", "digits"]))
        key = data.draw(st.sampled_from(keys))
        if action == "replace":
            body[key] = data.draw(values)
        elif action == "repeat":  # a valid value sent again, or beside another valid one
            current = body.get(key)
            first = current[0] if isinstance(current, list) and current else current
            body[key] = [first, data.draw(st.sampled_from([first, *_valid_values(structure, number, key)]))]
        elif action == "digits":
            body[key] = data.draw(foreign_digits)
        elif action == "drop":
            body.pop(key, None)
        elif action == "extra":
            body[data.draw(st.sampled_from(["response_id", "status", "invitation_id", key + "__x",
                                            key + "__other", "last_section", "csrf"]))] = data.draw(scalars)
        else:
            body[key] = data.draw(st.lists(scalars, min_size=2, max_size=3))
    return body


def _valid_values(structure: SurveyStructure, number: int, key: str) -> list[str]:
    """Values a browser could send for the field `key`: the question's codes, or ranks."""
    for q in structure.sections[number - 1].questions:
        if key == q.code and q.choices:
            return sorted(q.choice_codes)
        if key.startswith(q.code + "__") and q.type == "matrix":
            return sorted(q.choice_codes)
        if key.startswith(q.code + "__") and q.type == "ranking":
            return [str(n) for n in range(1, len(q.choices) + 1)]
    return ["A fine answer", "2000"]


def _assert_stored_answers_valid(structure: SurveyStructure) -> None:
    questions = {q.id: q for section in structure.sections for q in section.questions}
    from survey_app.questions.choice import OTHER_TEXT_MAX
    from survey_app.questions.number import NUMBER_LIMIT

    by_question: dict[int, list[Answer]] = {}
    for answer in db.session.execute(select(Answer).where(Answer.question_id.in_(list(questions)))).scalars():
        by_question.setdefault(answer.question_id, []).append(answer)
        q = questions[answer.question_id]
        if q.type in {"single", "likert", "multiple"}:
            assert answer.option_code in q.choice_codes, (q.code, answer.option_code)
            if answer.text is not None:
                assert q.other_option and answer.option_code == q.other_option.code
                assert len(answer.text) <= OTHER_TEXT_MAX
        elif q.type == "matrix":
            assert answer.option_code in q.choice_codes and answer.item_code in {r.code for r in q.rows}
        elif q.type in {"text", "textarea"}:
            assert answer.text and len(answer.text) <= q.kind.limit(q) and answer.option_code == ""
        elif q.type == "number":
            low, high = q.settings.get("min_value"), q.settings.get("max_value")
            assert answer.number is not None and abs(answer.number) <= NUMBER_LIMIT
            assert (low is None or answer.number >= int(low)) and (high is None or answer.number <= int(high))
        elif q.type == "ranking":
            assert answer.item_code in q.choice_codes and 1 <= answer.number <= len(q.choices)
    for question_id, answers in by_question.items():
        q = questions[question_id]
        if q.type == "ranking":
            per_response_ranks: dict[int, list[int]] = {}
            for a in answers:
                per_response_ranks.setdefault(a.response_id, []).append(a.number)
            for ranks in per_response_ranks.values():
                assert sorted(ranks) == list(range(1, len(ranks) + 1)), (q.code, ranks)
        if q.type in {"single", "likert", "text", "textarea", "number", "matrix", "ranking"}:
            # One value per question, or per matrix row and ranked item.
            per_response: dict[tuple[int, str], int] = {}
            for a in answers:
                per_response[(a.response_id, a.item_code)] = per_response.get((a.response_id, a.item_code), 0) + 1
            assert max(per_response.values()) == 1, q.code


def _new_token(app, survey_id: int) -> str:
    with app.app_context():
        seed = tokens.new_seed()
        token = tokens.token_from_seed(seed)
        participant = Participant(survey_id=survey_id, name="P", email=f"{token[:10]}@example.org",
                                  attributes={})
        participant.invitation = Invitation(survey_id=survey_id, token_seed=seed, token_hash=tokens.hash_token(token))
        db.session.add(participant)
        db.session.commit()
    return token


def test_tampered_section_posts(app, make_survey):
    from survey_app.services import surveys as survey_service

    surveys = []
    for path in SURVEY_FILES:
        slug = survey_service.read_definition(path)["slug"]
        survey_id = make_survey(path, open_link=False) if slug != "legacy-projects" else make_survey(path)
        surveys.append((survey_id, structure_of(app, survey_id)))
    client = app.test_client()
    # Each survey's personal link (/s/) and an open-link resume link (/r/), made the way the pages make it.
    links = {(sid, "s"): _new_token(app, sid) for sid, _ in surveys}
    with app.app_context():
        for sid, _ in surveys:
            links[(sid, "r")] = response_service.start_open_response(db.session.get(Survey, sid), "en", None)[1]
    posted = {"n": 0}

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def run(data):
        survey_id, structure = data.draw(st.sampled_from(surveys))
        number = data.draw(st.integers(1, len(structure.sections)))
        kind = data.draw(st.sampled_from(["s", "r"]))
        token = links[(survey_id, kind)]
        page = client.get(f"/{kind}/{token}/{number}")
        assert page.status_code == 200
        if data.draw(st.integers(0, 2)) == 0:
            # A third of the posts untouched, so valid saves are always among them: with every post
            # tampered, a run could store nothing and the final check fail by chance (seen in CI).
            body = {**section_data(structure, number), "csrf_token": csrf_from(page.data)}
        else:
            body = _tamper(structure, number, data)
            if data.draw(st.booleans()) or "csrf_token" in body:
                body.setdefault("csrf_token", csrf_from(page.data))
            if data.draw(st.integers(0, 9)) == 0:
                body["csrf_token"] = "forged"
        response = client.post(f"/{kind}/{token}/{number}", data=body)
        assert response.status_code in {200, 302, 400, 413}, response.status_code
        posted["n"] += 1
        with app.app_context():
            _assert_stored_answers_valid(structure)

    run()
    assert posted["n"] >= 30
    with app.app_context():
        assert db.session.execute(select(Answer)).first() is not None  # some valid posts did store


def _fields(structure: SurveyStructure, number: int) -> list[tuple[QuestionView, str]]:
    """Every field a section's form has: a question's own, each matrix row's and ranked item's, Other's."""
    from survey_app.questions.choice import other_field_name
    from survey_app.questions.matrix import cell_field_name

    fields = []
    for q in structure.sections[number - 1].questions:
        if q.type in {"matrix", "ranking"}:
            fields += [(q, cell_field_name(q, o.code)) for o in (q.rows if q.type == "matrix" else q.choices)]
        else:
            fields.append((q, q.code))
        if q.other_option is not None:
            fields.append((q, other_field_name(q)))
    return fields


def test_every_field_refuses_repeats_and_foreign_digits(app, make_survey):
    """Each field of every question type, sent twice or as non-ASCII digits: the page and a message, nothing stored."""
    from survey_app.questions.choice import other_field_name
    from survey_app.services import surveys as survey_service

    client = app.test_client()
    seen_types: set[str] = set()
    for path in SURVEY_FILES:
        slug = survey_service.read_definition(path)["slug"]
        survey_id = make_survey(path)
        structure = structure_of(app, survey_id)
        token = _new_token(app, survey_id)
        for number in range(1, len(structure.sections) + 1):
            for question, name in _fields(structure, number):
                valid = dict(section_data(structure, number))
                if name == other_field_name(question):
                    valid[question.code] = question.other_option.code
                    valid[name] = "Something else"
                first = valid.get(name) or _valid_values(structure, number, name)[0]
                for label, value in (("repeated", [first, first]), ("foreign digits", "٢٠١٥"),
                                     ("superscript", "²")):
                    if label != "repeated" and question.type not in {"number", "ranking"}:
                        continue
                    page = client.get(f"/s/{token}/{number}")
                    body = {**valid, name: value, "csrf_token": csrf_from(page.data)}
                    response = client.post(f"/s/{token}/{number}", data=body)
                    assert response.status_code == 200, (slug, name, label, response.status_code)
                    html = response.data.decode()
                    block = html[html.index(f'id="q-{question.code}"'):]
                    assert 'class="error-message"' in block.split('<div class="form-group', 1)[0], (slug, name)
                    seen_types.add(question.type)
        with app.app_context():
            assert db.session.execute(select(Answer)).first() is None, slug
    assert seen_types == {"single", "likert", "multiple", "text", "textarea", "number", "matrix", "ranking"}


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=60))
def test_random_paths_never_fail(app, path):
    client = app.test_client()
    response = client.get("/s/" + path)
    assert response.status_code < 500
    response = client.post("/staff/login?next=" + path, data={"email": path, "password": path})
    assert response.status_code < 500
