"""The import preview tells staff what fellows will get: languages the survey lacks, countries by name, a template."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Participant, Survey
from survey_app.services import participants as participant_service
from tests.conftest import csrf_from

IMPORT = "/staff/surveys/legacy-projects/participants/import"


@pytest.fixture
def survey_id(make_survey) -> int:
    return make_survey()  # offers en, fr, es, ar, zh, ru; base language en


def _csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    lines = ["name,email,country,language"] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _upload(client, data: bytes, **headers) -> str:
    page = client.get(IMPORT, headers=headers)
    response = client.post(IMPORT, data={"csrf_token": csrf_from(page.data), "file": (io.BytesIO(data), "f.csv")},
                           content_type="multipart/form-data", headers=headers)
    assert response.status_code == 302, response.data[:300]
    return response.headers["Location"]


def _text(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))  # no-break spaces kept


MIXED = _csv(
    [(f"Fellow pt{i}", f"pt{i}@example.org", "BR", "pt") for i in range(12)]
    + [(f"Fellow el{i}", f"el{i}@example.org", "GR", "el") for i in range(3)]
    + [("Fellow tr", "tr@example.org", "TR", "tr")]
    + [(f"Fellow fr{i}", f"fr{i}@example.org", "SN", "fr") for i in range(4)]
    + [("Fellow none", "none@example.org", "KE", "")]
)


def test_the_service_counts_each_language_the_survey_does_not_offer(app, survey_id):
    with app.app_context():
        preview = participant_service.preview_import(db.session.get(Survey, survey_id), MIXED)
    assert [(w.language, w.count, w.fallback) for w in preview.languages_not_offered] == [
        ("pt", 12, "en"), ("el", 3, "en"), ("tr", 1, "en")]


def test_people_already_imported_count_too_and_offered_languages_never_warn(app, survey_id):
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        participant_service.import_file(survey, MIXED)
        again = participant_service.preview_import(survey, MIXED)  # every row unchanged now
        assert again.unchanged == 21 and not again.to_add
        assert [(w.language, w.count) for w in again.languages_not_offered] == [("pt", 12), ("el", 3), ("tr", 1)]
        offered = participant_service.preview_import(survey, _csv([("A", "a@example.org", "CN", "zh"),
                                                                    ("B", "b@example.org", "EG", "AR")]))
        assert offered.languages_not_offered == []


def test_the_preview_page_warns_once_per_language_with_count_and_fallback(staff_client, survey_id):
    html = staff_client.get(_upload(staff_client, MIXED, **{"Accept-Language": "en"})).get_data(as_text=True)
    text = _text(html)
    assert ("12 fellows have language “pt” (Portuguese), which this survey does not offer: they will get English "
            "(the survey's base language).") in text
    assert "3 fellows have language “el” (Greek)" in text
    assert "1 fellow has language “tr” (Turkish), which this survey does not offer: they will get English" in text
    assert html.count('data-language="') == 3 and 'data-language="fr"' not in html


def test_the_preview_names_countries_and_languages_in_english(staff_client, survey_id):
    data = _csv([("Wanjiru Kamau", "w@example.org", "KE", "en"), ("Ahmed Said", "a@example.org", "Egypt", "ar"),
                 ("Li Wei", "l@example.org", "cn", "zh")])
    text = _text(staff_client.get(_upload(staff_client, data, **{"Accept-Language": "en"})).get_data(as_text=True))
    assert "Kenya (KE)" in text and "Egypt (EG)" in text and "China (CN)" in text
    assert "Arabic (ar)" in text and "Chinese (zh)" in text


def test_the_preview_names_countries_and_languages_in_french(staff_client, survey_id):
    data = _csv([("Ahmed Said", "a@example.org", "EG", "ar"), ("Ana Souza", "s@example.org", "BR", "pt")])
    html = staff_client.get(_upload(staff_client, data, **{"Accept-Language": "fr"}),
                            headers={"Accept-Language": "fr"}).get_data(as_text=True)
    text = _text(html)
    assert "Égypte (EG)" in text and "Brésil (BR)" in text and "arabe (ar)" in text
    assert "Egypt (EG)" not in text
    assert ("1 boursier a la langue «\u00a0pt\u00a0» (portugais), que cette enquête ne propose pas\u00a0: "
            "il recevra les messages en anglais (la langue de base de l’enquête).") in text


def test_display_names_fall_back_to_the_code():
    names = participant_service.DisplayNames("fr")
    assert names.country("KE") == "Kenya (KE)" and names.country("DE") == "Allemagne (DE)"
    assert names.country(None) == "" and names.language("xq") == "xq"


def test_the_template_downloads_as_an_attachment_only_for_staff(app, client, staff_client, survey_id):
    assert client.get(f"{IMPORT}/template.csv").status_code in (302, 401, 403)
    response = staff_client.get(f"{IMPORT}/template.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="legacy-projects-participants-template.csv"'
    assert response.mimetype == "text/csv"
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, for Excel
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["name", "email", "country", "cohort", "language", "museum"]
    assert len(rows) == 3 and rows[2][0] == "José Quispe Mamani"
    page = staff_client.get(IMPORT).get_data(as_text=True)
    assert f'href="{IMPORT}/template.csv"' in page


def test_the_template_imports_cleanly_through_the_same_importer(app, staff_client, survey_id):
    data = staff_client.get(f"{IMPORT}/template.csv").data
    location = _upload(staff_client, data)
    html = staff_client.get(location).get_data(as_text=True)
    assert 'data-count="add">2<' in html and 'data-count="skipped">0<' in html
    assert 'data-warnings="languages"' not in html
    done = staff_client.post(location, data={"csrf_token": csrf_from(html), "import_id": location.rsplit("/", 1)[1]})
    assert done.status_code == 200
    with app.app_context():
        people = {p.email: p for p in db.session.execute(
            select(Participant).where(Participant.survey_id == survey_id)).scalars()}
    jose = people["jose.quispe@example.org"]
    assert (jose.name, jose.country, jose.cohort, jose.language) == ("José Quispe Mamani", "PE", 2019, "es")
    assert jose.attributes == {"museum": "Museo de Arte de Lima"}
    assert people["amina.okafor@example.org"].language == "en"


def test_the_cli_dry_run_prints_the_same_warnings(runner, survey_id, tmp_path):
    path = tmp_path / "fellows.csv"
    path.write_bytes(MIXED)
    result = runner.invoke(args=["participants", "import", "legacy-projects", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert ("warning: 12 fellows have language 'pt', which this survey does not offer: they will get 'en' "
            "(the survey's base language)") in result.output
    assert "warning: 1 fellow has language 'tr'" in result.output
    assert "dry run: would add 21" in result.output
