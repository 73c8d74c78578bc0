"""Random and tampered staff input (CSV imports, the participant form): never a 500, nothing half-stored.

The staff side of test_property.py: hypothesis builds files with digits of every script, numbers
of thousands of digits, lone surrogates, UTF-16 cut to an odd length, NUL bytes and other
programs' files, and form posts with the same numbers, and pushes them through the real pages.
"""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from survey_app.countries import country_codes
from survey_app.extensions import db
from survey_app.models import Invitation, Participant, Survey
from survey_app.services import participants as participant_service
from tests.conftest import csrf_from

BASE = "/staff/surveys/legacy-projects/participants"
CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

any_digits = st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=6)
numbers = st.one_of(
    any_digits,
    st.integers(-10**40, 10**40).map(str),
    st.sampled_from(["²", "²⁰¹⁵", "2015²", "½", "Ⅻ", "١٩٩٩", "٢٠١٥", "۲۰۱۵", "２０１５", "-2015", "+2015", "2015.0",
                     "2,015", "1e3", " 2015 ", "0x7df", "9" * 5000, "1" + "0" * 4300, "2015\x00", "٢0١5"]),
)
cells = st.one_of(numbers, st.text(max_size=30), st.just(""), st.just("\ud800"), st.just("\udfff x"),
                  st.sampled_from(["ada@example.org", "ADA@Example.ORG", "a@bücher.de", "x@xn--bcher-kva.de",
                                   "not-an-address", "KE", "Kenya", "en", "zh-Hans", "\x00", "=cmd|' /C calc'!A0"]))
rows = st.lists(st.tuples(cells, cells, cells, numbers, cells, cells), min_size=0, max_size=6)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252"]
DAMAGE = ["none", "none", "odd length", "nul", "binary tail", "zip head", "lone surrogate pair half", "cut"]


@st.composite
def import_files(draw) -> bytes:
    """A CSV as Excel or a person might save it, then perhaps damaged on the way; or no CSV at all."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=3000))
    header = draw(st.sampled_from(["name,email,country,cohort,language,museum", "Name;E-mail;Country;Year;Lang;Museum",
                                   "name\temail\tcountry\tcohort\tlanguage\tx"]))
    delimiter = ";" if ";" in header else ("\t" if "\t" in header else ",")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header.split(delimiter))
    for row in draw(rows):
        writer.writerow(row)
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(ENCODINGS))
    errors = "replace" if encoding == "cp1252" else "surrogatepass"
    data = text.encode(encoding, errors=errors)
    damage = draw(st.sampled_from(DAMAGE))
    at = draw(st.integers(0, max(0, len(data) - 1)))
    if damage == "odd length" and data:
        data = data[:-1] if len(data) % 2 == 0 else data + b"A"
    elif damage == "nul":
        data = data[:at] + b"\x00" + data[at:]
    elif damage == "binary tail":
        data += draw(st.binary(min_size=1, max_size=200))
    elif damage == "zip head":
        data = b"PK\x03\x04" + data
    elif damage == "lone surrogate pair half":
        data = data[:at] + "\ud83d".encode("utf-16-le", "surrogatepass") + data[at:]
    elif damage == "cut":
        data = data[:at]
    return data


def _assert_everyone_stored_is_valid(survey_id: int) -> None:
    codes = set(country_codes())
    people = db.session.execute(select(Participant).where(Participant.survey_id == survey_id)).scalars().all()
    for person in people:
        assert person.name and len(person.name) <= participant_service.MAX_NAME and not CONTROL.search(person.name)
        assert person.email == person.email.lower() and "@" in person.email and not CONTROL.search(person.email)
        assert person.cohort is None or (
            participant_service.COHORT_MIN <= person.cohort <= participant_service.COHORT_MAX)
        assert person.country is None or person.country in codes
        assert person.language is None or re.fullmatch(r"[a-z]{2,3}", person.language)
        for key, value in (person.attributes or {}).items():
            assert key and value and not ANY_CONTROL.search(key + value), (key, value)
    invitations = db.session.execute(
        select(func.count(Invitation.id)).where(Invitation.survey_id == survey_id)).scalar_one()
    assert invitations == len(people)  # nobody half-imported without their personal link


SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def test_any_bytes_through_the_import_pages(app, staff_client, make_survey):
    survey_id = make_survey()
    seen = {"refused": 0, "imported": 0}

    @SETTINGS
    @given(data=import_files())
    def run(data: bytes):
        with app.app_context():
            before = db.session.execute(select(func.count(Participant.id))).scalar_one()
        page = staff_client.get(f"{BASE}/import")
        sent = staff_client.post(f"{BASE}/import", data={"csrf_token": csrf_from(page.data),
                                                         "file": (io.BytesIO(data), "fellows.csv")},
                                 content_type="multipart/form-data")
        assert sent.status_code == 302, sent.status_code
        preview = staff_client.get(sent.headers["Location"])
        assert preview.status_code in {200, 422}, preview.status_code
        html = preview.get_data(as_text=True)
        if preview.status_code == 422:
            seen["refused"] += 1
            assert "Nothing was imported: " in html and "Traceback" not in html
            with app.app_context():
                assert db.session.execute(select(func.count(Participant.id))).scalar_one() == before
            return
        confirm = staff_client.post(sent.headers["Location"], data={
            "csrf_token": csrf_from(html), "import_id": sent.headers["Location"].rsplit("/", 1)[1]})
        assert confirm.status_code == 200, confirm.status_code
        seen["imported"] += 1
        with app.app_context():
            _assert_everyone_stored_is_valid(survey_id)

    run()
    assert seen["refused"] >= 5 and seen["imported"] >= 5, seen  # both paths were really exercised


def test_any_bytes_through_the_import_service(app, make_survey):
    """The CLI's path: a refusal is CsvFileError with a message; anything else imports whole."""
    survey_id = make_survey()

    @SETTINGS
    @given(data=import_files())
    def run(data: bytes):
        with app.test_request_context():
            survey = db.session.get(Survey, survey_id)
            try:
                preview = participant_service.preview_import(survey, data)
            except participant_service.CsvFileError as exc:
                assert str(exc).strip()
                return
            result = participant_service.apply_import(survey, preview, actor=None)
            assert result.added == len(preview.to_add)
            _assert_everyone_stored_is_valid(survey_id)

    run()


form_values = st.one_of(cells, numbers, st.text(max_size=300), st.just("x" * 5000))


def test_the_participant_form_with_any_numbers(app, staff_client, make_survey):
    survey_id = make_survey()
    outcomes = {200: 0, 302: 0}

    @SETTINGS
    @given(cohort=st.one_of(numbers, st.sampled_from(["2015", "٢٠١٥", "２０１５", "", "1999"])),
           tampered=st.sampled_from([None, "name", "email", "country", "language"]), value=form_values,
           drop=st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(
               ["name", "email", "country", "cohort", "language"]), max_size=1)),
           edit=st.booleans(), unique=st.uuids())
    def run(cohort, tampered, value, drop, edit, unique):
        with app.app_context():
            existing = db.session.execute(select(Participant.id)).scalars().first()
            before = db.session.execute(select(func.count(Participant.id))).scalar_one()
        url = f"{BASE}/{existing}" if edit and existing else f"{BASE}/add"
        page = staff_client.get(url)
        body = {"name": "Grace Hopper", "email": f"g{unique.hex[:10]}@example.org", "country": "KE",
                "cohort": cohort, "language": "en"}
        if tampered:
            body[tampered] = value
        for field in drop:
            body.pop(field)
        # Encoded by hand: a lone surrogate goes out as the bytes a broken client would send.
        raw = urlencode(body | {"csrf_token": csrf_from(page.data)}, encoding="utf-8", errors="surrogatepass")
        response = staff_client.post(url, data=raw, content_type="application/x-www-form-urlencoded")
        assert response.status_code in {200, 302}, response.status_code
        outcomes[response.status_code] += 1
        with app.app_context():
            after = db.session.execute(select(func.count(Participant.id))).scalar_one()
            assert after == before + (1 if response.status_code == 302 and url.endswith("/add") else 0)
            _assert_everyone_stored_is_valid(survey_id)
        if not tampered and not drop and cohort.strip() and participant_service.parse_cohort(cohort.strip()) is None:
            # Only the number is wrong: the message says so and states the range.
            assert response.status_code == 200
            assert "is not a year from 1950 to 2100" in response.get_data(as_text=True)

    run()
    assert outcomes[200] and outcomes[302], outcomes
