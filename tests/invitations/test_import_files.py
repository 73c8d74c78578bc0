"""Import files that are not what they claim, cohort years in every script, and where uploads go."""
from __future__ import annotations

import io
import os
import time
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Invitation, Participant, Survey
from survey_app.services import participants as participant_service
from tests.conftest import csrf_from

BASE = "/staff/surveys/legacy-projects/participants"
HEADER = "name,email,country,cohort,language\n"
GOOD = HEADER + "Ada Lovelace,ada@example.org,GB,2015,en\n"


@pytest.fixture
def app_overrides() -> dict:
    return {}


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fellows.csv", GOOD)
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
# Each file a tester (or a tired staff member) uploaded, and words the refusal must contain.
BAD_FILES = {
    "utf-16 with an odd byte count": ("\ufeff" + GOOD).encode("utf-16-le") + b"A",
    "utf-16 without a BOM, odd byte count": GOOD.encode("utf-16-le")[:-1],
    "utf-16 with a lone surrogate":
        b"\xff\xfe" + HEADER.encode("utf-16-le") + b"\x00\xd8" + "x,y\n".encode("utf-16-le"),
    "utf-16 ending on half a pair": b"\xff\xfe" + HEADER.encode("utf-16-le") + b"\x3d\xd8",
    "utf-8 BOM then bad bytes": b"\xef\xbb\xbf" + HEADER.encode() + b"Jos\xe9,\xed\xa0\x80@example.org,,,\n",
    "NUL bytes": HEADER.encode() + b"Ada\x00\x00\x00,ada@example.org,,,\n" + b"\x00\x01\x02" * 10,
    "random binary": bytes(range(256)) * 8,
    "an Excel workbook": _xlsx(),
    "a zip": _zip(),
    "a PNG image": PNG,
    "a JPEG image": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100),
    "an old .xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
    "a PDF": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    "empty": b"",
    "only a BOM": b"\xef\xbb\xbf",
    "only blank lines": b"\r\n\r\n   \n",
    "a huge line": b"name,email\n" + b"x" * 200_000 + b",a@example.org\n",
    "a huge header": b"name,email," + b"y" * 200_000 + b"\n",
    "thousands of columns": b"name,email," + b",".join(b"c%d" % i for i in range(5000)) + b"\n",
    "too many rows": (HEADER + "x\n" * (participant_service.MAX_ROWS + 1)).encode(),
}
EXPECTED_WORDS = {
    "utf-16 with an odd byte count": "odd number of bytes",
    "utf-16 without a BOM, odd byte count": "odd number of bytes",
    "utf-16 with a lone surrogate": "broken",
    "utf-16 ending on half a pair": "broken",
    "utf-8 BOM then bad bytes": "broken",
    "NUL bytes": "not text",
    "random binary": "not text",
    "an Excel workbook": "Excel workbook (.xlsx)",
    "a zip": "ZIP archive",
    "a PNG image": "an image",
    "a JPEG image": "an image",
    "an old .xls": "older Excel workbook (.xls)",
    "a PDF": "PDF document",
    "empty": "empty",
    "only a BOM": "empty",
    "only blank lines": "empty",
    "a huge line": "longer than 131072 characters",
    "a huge header": "longer than 131072 characters",
    "thousands of columns": "5002 columns",
    "too many rows": "more than 100000 rows",
}


def _people(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(Participant.id))).scalar_one()


def _uploads(app) -> list[str]:
    folder = Path(app.instance_path) / "imports"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_every_bad_file_is_refused_with_its_problem_named(app, survey_id, name):
    with app.test_request_context(), pytest.raises(participant_service.CsvFileError) as refused:
        participant_service.preview_import(db.session.get(Survey, survey_id), BAD_FILES[name])
    with app.test_request_context():
        assert EXPECTED_WORDS[name] in str(refused.value)
    assert _people(app) == 0


def test_the_staff_page_names_the_problem_keeps_nothing_and_never_fails(app, staff_client, survey_id):
    for name, data in BAD_FILES.items():
        page = staff_client.get(f"{BASE}/import")
        sent = staff_client.post(f"{BASE}/import", data={"csrf_token": csrf_from(page.data),
                                                         "file": (io.BytesIO(data), "fellows.csv")},
                                 content_type="multipart/form-data")
        assert sent.status_code == 302, name
        shown = staff_client.get(sent.headers["Location"])
        html = shown.get_data(as_text=True)
        assert shown.status_code == 422, (name, shown.status_code)
        assert "Nothing was imported: " in html and EXPECTED_WORDS[name] in html, name
        assert 'aria-invalid="true"' in html  # the message sits on the file field, for screen readers
        assert _uploads(app) == [], name  # the refused file is not kept
    assert _people(app) == 0


def test_a_workbook_refusal_says_what_to_do(app, survey_id):
    with app.test_request_context(), pytest.raises(participant_service.CsvFileError) as refused:
        participant_service.preview_import(db.session.get(Survey, survey_id), _xlsx())
    with app.test_request_context():
        assert str(refused.value) == ("the file is not text: it looks like an Excel workbook (.xlsx). "
                                      "Save it as CSV (UTF-8) and upload it again.")


def test_the_refusal_is_translated(app, staff_client, survey_id):
    french = {"Accept-Language": "fr"}  # staff pages follow the browser when the account chose no language
    page = staff_client.get(f"{BASE}/import", headers=french)
    sent = staff_client.post(f"{BASE}/import", data={"csrf_token": csrf_from(page.data),
                                                      "file": (io.BytesIO(_xlsx()), "fellows.csv")},
                             content_type="multipart/form-data", headers=french)
    html = staff_client.get(sent.headers["Location"], headers=french).get_data(as_text=True)
    assert "Rien n’a été importé" in html and "classeur Excel (.xlsx)" in html


def test_the_cli_names_the_problem_in_english(app, runner, survey_id, tmp_path):
    path = tmp_path / "fellows.csv"
    path.write_bytes(_xlsx())
    result = runner.invoke(args=["participants", "import", "legacy-projects", str(path)])
    assert result.exit_code != 0
    assert "nothing imported: the file is not text: it looks like an Excel workbook (.xlsx)" in result.output
    assert _people(app) == 0


def test_good_files_in_every_encoding_still_import(app, survey_id):
    text = HEADER + "José Müller,jose@example.org,PE,2019,es\nНгози,ngozi@example.org,NG,,\n"
    for data in (text.encode("utf-16"), text.encode("utf-16-le"), text.encode("utf-16-be"),
                 text.encode("utf-8-sig"), text.replace("Нгози", "Ngozi").encode("cp1252")):
        with app.app_context():
            preview = participant_service.preview_import(db.session.get(Survey, survey_id), data)
        assert [p.email for p in preview.to_add] == ["jose@example.org", "ngozi@example.org"], data[:8]
        assert preview.to_add[0].name == "José Müller"


def test_a_stray_nul_is_a_bad_row_not_a_bad_file(app, survey_id):
    data = (GOOD + "Ben\x00,ben@example.org,,,\n").encode()
    with app.app_context():
        preview = participant_service.preview_import(db.session.get(Survey, survey_id), data)
    assert [p.email for p in preview.to_add] == ["ada@example.org"]
    assert [(s.row, s.reason) for s in preview.skipped] == [(3, "the name contains control characters")]


def test_attribute_values_lose_control_characters(app, survey_id):
    data = (HEADER.rstrip("\n") + ",Muse\x07um\n" + "Ada,ada@example.org,GB,2015,en,Bri\x1bt\x0bish\n").encode()
    with app.app_context():
        _preview, result = participant_service.import_file(db.session.get(Survey, survey_id), data)
        assert result.added == 1
        assert db.session.execute(select(Participant.attributes)).scalar_one() == {"Muse um": "Bri t ish"}


# --- numbers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed,year", [
    ("2015", 2015), ("٢٠١٥", 2015), ("۲۰۱۵", 2015), ("２０１５", 2015), ("१९९९", 1999), (" 1950 ", 1950),
    ("2100", 2100),
])
def test_cohort_years_in_any_script_of_decimal_digits_are_read(typed, year):
    assert participant_service.parse_cohort(typed.strip()) == year


@pytest.mark.parametrize("typed", [
    "²", "²⁰¹⁵", "2015²", "½", "Ⅻ", "-2015", "+2015", "2015.0", "2,015", "2 015", "1949", "2101", "0000", "15",
    "20150", "9" * 5000, "", "二〇一五", "\u0663\u0662",
])
def test_anything_but_a_four_digit_year_in_range_is_refused(typed):
    assert participant_service.parse_cohort(typed) is None


def test_the_import_reports_bad_cohorts_with_the_range_and_imports_the_rest(app, survey_id):
    data = (HEADER + "A,a@example.org,,²,\nB,b@example.org,,٢٠١٥,\nC,c@example.org,,"
            + "9" * 5000 + ",\nD,d@example.org,,-1,\n").encode()
    with app.app_context():
        preview = participant_service.preview_import(db.session.get(Survey, survey_id), data)
    reasons = {s.row: s.reason for s in preview.skipped}
    assert sorted(reasons) == [2, 4, 5]
    assert all("from 1950 to 2100" in reason for reason in reasons.values())
    assert len(reasons[4]) < 200  # a 5,000-digit paste is quoted cut short
    assert [(p.email, p.cohort) for p in preview.to_add] == [("b@example.org", 2015)]


@pytest.mark.parametrize("typed,stored", [("²", None), ("9" * 5000, None), ("-2015", None), ("٢٠١٥", 2015),
                                          ("1850", None), ("2015", 2015)])
def test_the_participant_form_states_the_range(app, staff_client, survey_id, typed, stored):
    page = staff_client.get(f"{BASE}/add")
    response = staff_client.post(f"{BASE}/add", data={
        "csrf_token": csrf_from(page.data), "name": "Grace", "email": "grace@example.org", "cohort": typed})
    with app.app_context():
        saved = db.session.execute(select(Participant.cohort)).scalars().all()
    if stored is None:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "is not a year from 1950 to 2100" in html and 'href="#cohort"' in html
        assert 'value="Grace"' in html  # what was typed is kept
        assert saved == []
    else:
        assert response.status_code == 302 and saved == [stored]


def test_an_edit_post_missing_a_field_is_not_a_failure(app, staff_client, survey_id):
    page = staff_client.get(f"{BASE}/add")
    staff_client.post(f"{BASE}/add", data={"csrf_token": csrf_from(page.data), "name": "Grace",
                                           "email": "grace@example.org", "cohort": "2015"})
    with app.app_context():
        pid = db.session.execute(select(Participant.id)).scalar_one()
    edit = staff_client.get(f"{BASE}/{pid}")
    # A tampered post without the cohort field keeps the stored year (an int on the form).
    saved = staff_client.post(f"{BASE}/{pid}", data={"csrf_token": csrf_from(edit.data), "name": "Grace H",
                                                     "email": "grace@example.org"})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.execute(select(Participant.name, Participant.cohort)).one() == ("Grace H", 2015)


# --- uploads: kept only while pending -----------------------------------------------------------

def _upload(client, data: bytes = GOOD.encode()) -> str:
    page = client.get(f"{BASE}/import")
    sent = client.post(f"{BASE}/import", data={"csrf_token": csrf_from(page.data),
                                               "file": (io.BytesIO(data), "fellows.csv")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302
    return sent.headers["Location"]


def test_confirming_deletes_the_upload(app, staff_client, survey_id):
    location = _upload(staff_client)
    assert len(_uploads(app)) == 1
    preview = staff_client.get(location)
    done = staff_client.post(location, data={"csrf_token": csrf_from(preview.data),
                                             "import_id": location.rsplit("/", 1)[1]})
    assert done.status_code == 200 and _uploads(app) == [] and _people(app) == 1


def test_cancel_deletes_the_upload_and_imports_nothing(app, staff_client, survey_id):
    location = _upload(staff_client)
    preview = staff_client.get(location)
    html = preview.get_data(as_text=True)
    assert "Cancel and delete the file" in html and "for a day at most" in html
    assert staff_client.post(f"{location}/cancel").status_code == 400  # CSRF still applies
    assert len(_uploads(app)) == 1
    cancelled = staff_client.post(f"{location}/cancel", data={"csrf_token": csrf_from(html)})
    assert cancelled.status_code == 302 and cancelled.headers["Location"].endswith("/participants/import")
    assert "Import cancelled" in staff_client.get(cancelled.headers["Location"]).get_data(as_text=True)
    assert _uploads(app) == [] and _people(app) == 0
    gone = staff_client.get(location)
    assert gone.status_code == 404 and "no longer available" in gone.get_data(as_text=True)
    # Confirming the cancelled import afterwards (a second tab) imports nothing and says why.
    late = staff_client.post(location, data={"csrf_token": csrf_from(html), "import_id": location.rsplit("/", 1)[1]})
    assert late.status_code == 404 and _people(app) == 0


def test_a_new_upload_replaces_the_pending_one_of_the_same_person(app, staff_client, admin_client, survey_id):
    first = _upload(staff_client)
    second = _upload(staff_client)
    assert len(_uploads(app)) == 1
    assert staff_client.get(first).status_code == 404 and staff_client.get(second).status_code == 200
    colleague = _upload(admin_client)  # another staff member's pending upload is theirs
    assert len(_uploads(app)) == 2
    assert staff_client.get(second).status_code == 200 and admin_client.get(colleague).status_code == 200


def test_an_upload_belongs_to_its_survey(app, staff_client, survey_id, make_survey):
    make_survey(slug="other-survey")
    location = _upload(staff_client)
    other = location.replace("/legacy-projects/", "/other-survey/")
    assert staff_client.get(other).status_code == 404
    assert staff_client.get(location).status_code == 200


def _age(app, hours: float) -> None:
    then = time.time() - hours * 3600
    for path in (Path(app.instance_path) / "imports").iterdir():
        os.utime(path, (then, then))


def test_an_upload_expires_after_a_day(app, staff_client, survey_id):
    location = _upload(staff_client)
    _age(app, 23.9)
    assert staff_client.get(location).status_code == 200
    _age(app, 24)
    expired = staff_client.get(location)
    assert expired.status_code == 404 and "more than a day old" in expired.get_data(as_text=True)
    assert _uploads(app) == []


def test_erase_expired_deletes_day_old_uploads(app, runner, staff_client, admin_client, survey_id):
    _upload(staff_client)
    fresh = _upload(admin_client)
    folder = Path(app.instance_path) / "imports"
    stale = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime)[0]
    then = time.time() - 25 * 3600
    os.utime(stale, (then, then))
    (folder / "leftover.tmp").write_bytes(b"half-written")
    os.utime(folder / "leftover.tmp", (then, then))
    dry = runner.invoke(args=["privacy", "erase-expired", "--dry-run"])
    assert dry.exit_code == 0 and "import uploads older than 24 hours: would erase 2" in dry.output
    assert len(_uploads(app)) == 3
    real = runner.invoke(args=["privacy", "erase-expired"])
    assert "import uploads older than 24 hours: erased 2" in real.output
    remaining = _uploads(app)
    assert len(remaining) == 1 and remaining[0].endswith(fresh.rsplit("/", 1)[1] + ".csv")
    assert admin_client.get(fresh).status_code == 200
    assert runner.invoke(args=["privacy", "erase-expired"]).output.strip() == "nothing to erase"


def test_the_worker_sweeps_day_old_uploads(app, staff_client, survey_id):
    from survey_app.extensions import huey
    from survey_app.tasks import expire_import_uploads

    _upload(staff_client)
    due = huey.read_periodic(datetime(2030, 1, 1, 12, 7))  # any minute of any day
    assert any(task.name.endswith("expire_import_uploads") for task in due)
    expire_import_uploads.call_local()
    assert len(_uploads(app)) == 1
    _age(app, 24.5)
    expire_import_uploads.call_local()
    assert _uploads(app) == []


def test_uploads_are_readable_only_by_the_service(app, staff_client, survey_id):
    _upload(staff_client)
    path = next((Path(app.instance_path) / "imports").iterdir())
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_an_import_that_races_an_added_person_rolls_back_whole(app, survey_id):
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        preview = participant_service.preview_import(survey, (GOOD + "Ben,ben@example.org,,,\n").encode())
        # Someone adds Ada by hand between the preview and the confirm.
        participant_service.add_participant(survey, participant_service.validate_participant(
            survey, "Ada by hand", "ada@example.org"), actor=None)
        with pytest.raises(participant_service.ImportConflict):
            participant_service.apply_import(survey, preview, actor=None)
        names = db.session.execute(select(Participant.name)).scalars().all()
        assert names == ["Ada by hand"]  # Ben was not half-imported
        assert db.session.execute(select(func.count(Invitation.id))).scalar_one() == 1


def test_a_file_of_many_bad_rows_shows_the_first_two_hundred_and_a_count(app, staff_client, survey_id):
    data = (HEADER + "".join(f"Bad {n},not-an-address-{n},,,\n" for n in range(250))).encode()
    preview = staff_client.get(_upload(staff_client, data)).get_data(as_text=True)
    assert 'data-count="skipped">250<' in preview
    assert preview.count("not-an-address-") == 200 and "and 50 more." in preview
