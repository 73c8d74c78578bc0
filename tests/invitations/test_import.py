"""Importing fellows from CSV: encodings, validation per row, merging, re-imports, UI and CLI."""
from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Invitation, Participant, Survey
from survey_app.services import participants as participant_service
from tests.conftest import csrf_from

SAMPLE = Path("/work/shared/data/fellows_sample.csv")


@pytest.fixture
def app_overrides() -> dict:
    return {}


def _preview(app, survey_id, data: bytes):
    with app.app_context():
        return participant_service.preview_import(db.session.get(Survey, survey_id), data)


def _import(app, survey_id, data: bytes):
    with app.app_context():
        return participant_service.import_file(db.session.get(Survey, survey_id), data)[1]


def _people(app, survey_id) -> dict[str, Participant]:
    with app.app_context():
        rows = db.session.execute(select(Participant).where(Participant.survey_id == survey_id)).scalars().all()
        db.session.expunge_all()
        return {p.email: p for p in rows}


@pytest.mark.parametrize("encoding,separator", [
    ("utf-8", ","), ("utf-8-sig", ","), ("utf-16", ";"), ("cp1252", ";"), ("utf-8", ";"),
])
def test_encodings_and_separators_read_names_correctly(app, survey_id, encoding, separator):
    text = (f"Name{separator}E-mail{separator}Country{separator}Cohort{separator}Language{separator}Museum\r\n"
            f"José Müller{separator}JOSE@Example.org{separator}pe{separator}2019{separator}ES{separator}MALI\r\n"
            f"\"Ngozi, Adébáyọ̀\"{separator}ngozi@example.org{separator}Nigeria{separator}{separator}{separator}\r\n")
    if encoding == "cp1252":
        text = text.replace("Adébáyọ̀", "Adébáyo")
    result = _import(app, survey_id, text.encode(encoding))
    assert result.added == 2 and result.skipped == 0
    people = _people(app, survey_id)
    jose = people["jose@example.org"]
    assert (jose.name, jose.country, jose.cohort, jose.language) == ("José Müller", "PE", 2019, "es")
    assert jose.attributes == {"Museum": "MALI"}
    assert people["ngozi@example.org"].country == "NG"
    assert people["ngozi@example.org"].name.startswith("Ngozi, Ad")


def test_invalid_rows_are_reported_by_row_number_and_the_rest_imported(app, survey_id):
    data = (
        b"name,email,country,cohort,language\n"
        b"Good One,good1@example.org,KE,2010,en\n"
        b"No Address,,KE,2010,en\n"
        b"Bad Address,not-an-address,KE,2010,en\n"
        b"\"Line\nBreak\",linebreak@example.org,KE,2010,en\n"
        b"Bad Country,c@example.org,XX,2010,en\n"
        b"Bad Cohort,d@example.org,KE,1850,en\n"
        b"Bad Language,e@example.org,KE,2010,english please\n"
        b"Good Two,good2@example.org,,,\n"
    )
    preview = _preview(app, survey_id, data)
    reasons = {s.row: s.reason for s in preview.skipped}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert "missing" in reasons[3] and "not valid" in reasons[4] and "line break" in reasons[5]
    assert "XX" in reasons[6] and "1850" in reasons[7] and "english please" in reasons[8]
    result = _import(app, survey_id, data)
    assert (result.added, result.skipped) == (2, 6)
    assert set(_people(app, survey_id)) == {"good1@example.org", "good2@example.org"}


def test_duplicates_merge_and_reimport_updates_without_duplicating(app, survey_id):
    first = b"name,email,country,cohort,language\nAda One,ada@example.org,KE,2010,en\n" \
            b"Ada Later,ADA@example.org,KE,2011,fr\nBen,ben@example.org,EG,2012,ar\n"
    preview = _preview(app, survey_id, first)
    assert [m.row for m in preview.merged] == [2]
    assert _import(app, survey_id, first).added == 2
    assert _people(app, survey_id)["ada@example.org"].name == "Ada Later"

    second = b"name,email,country,cohort,language\nAda Later,ada@example.org,KE,2011,fr\n" \
             b"Ben Renamed,ben@example.org,EG,2012,ar\nCleo,cleo@example.org,JO,2013,en\n"
    result = _import(app, survey_id, second)
    assert (result.added, result.updated, result.unchanged) == (1, 1, 1)
    people = _people(app, survey_id)
    assert len(people) == 3 and people["ben@example.org"].name == "Ben Renamed"
    with app.app_context():
        assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 3
        events = db.session.execute(select(AuditEvent.detail).where(AuditEvent.action == "participants.import")
                                    ).scalars().all()
    assert events[-1] == {"added": 1, "updated": 1, "unchanged": 1, "skipped": 0}


def test_a_file_without_an_email_column_imports_nothing(app, survey_id):
    with app.app_context(), pytest.raises(participant_service.CsvFileError):
        participant_service.import_file(db.session.get(Survey, survey_id), b"name,address\nA,a@example.org\n")
    assert _people(app, survey_id) == {}


def test_the_300_fellow_sample_imports_through_the_cli(app, runner, survey_id):
    result = runner.invoke(args=["participants", "import", "legacy-projects", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "added 300" in result.output
    again = runner.invoke(args=["participants", "import", "legacy-projects", str(SAMPLE)])
    assert "added 0, updated 0, unchanged 300" in again.output
    assert len(_people(app, survey_id)) == 300


def test_import_through_the_staff_ui_previews_escapes_and_confirms(app, staff_client, survey_id):
    page = staff_client.get("/staff/surveys/legacy-projects/participants/import")
    assert page.status_code == 200
    data = b"name,email,country,cohort,language\n<script>alert(1)</script>,x@example.org,KE,2010,en\n" \
           b"Bad,bad,KE,2010,en\n"
    response = staff_client.post("/staff/surveys/legacy-projects/participants/import", data={
        "csrf_token": csrf_from(page.data), "file": (io.BytesIO(data), "fellows.csv"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    preview = staff_client.get(response.headers["Location"])
    html = preview.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert 'data-count="skipped">1<' in html
    assert _people(app, survey_id) == {}  # nothing saved before confirming
    done = staff_client.post(response.headers["Location"], data={
        "csrf_token": csrf_from(html), "import_id": response.headers["Location"].rsplit("/", 1)[1]})
    assert done.status_code == 200 and "1 added" in done.get_data(as_text=True)
    assert set(_people(app, survey_id)) == {"x@example.org"}
    # the stashed upload is gone: confirming twice cannot import again
    assert staff_client.get(response.headers["Location"]).status_code == 404


def test_a_forged_import_id_is_refused(staff_client, survey_id):
    traversal = "/staff/surveys/legacy-projects/participants/import/..%2F..%2Fsecret_key"
    assert staff_client.get(traversal).status_code == 404
    assert staff_client.get("/staff/surveys/legacy-projects/participants/import/" + "0" * 32).status_code == 404


@pytest.mark.slow
def test_60000_rows_import_in_well_under_a_minute(app, survey_id):
    lines = ["name,email,country,cohort,language"] + [
        f"Fellow {i},fellow{i}@example.org,KE,2010,en" for i in range(60_000)]
    data = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    result = _import(app, survey_id, data)
    elapsed = time.perf_counter() - started
    assert result.added == 60_000
    print(f"60,000-row import: {elapsed:.1f} s")
    with app.app_context():
        assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 60_000
