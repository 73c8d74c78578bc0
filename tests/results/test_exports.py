"""Exports: one row per response, formulas neutralised (headers too), no personal data, flat memory."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import update

from survey_app.dev.generate import generate
from survey_app.extensions import db
from survey_app.models import Question, Response, Survey
from survey_app.services import exports

DANGEROUS = tuple("=+-@\t\r")


def _assert_safe(value) -> None:
    if isinstance(value, str) and value:
        assert not value.startswith(DANGEROUS) and not value.lstrip().startswith(DANGEROUS), repr(value)


def _hostile_labels(survey_id: int) -> None:
    db.session.execute(update(Question).where(Question.survey_id == survey_id, Question.code == "suggestions")
                       .values(label={"en": "=HYPERLINK(\"http://evil.invalid\")"}))
    db.session.execute(update(Question).where(Question.survey_id == survey_id, Question.code == "other_platforms")
                       .values(label={"en": "@SUM(1+1)"}))
    # As a reload of the survey file would: a new revision, so cached structures are rebuilt.
    db.session.execute(update(Survey).where(Survey.id == survey_id).values(revision=Survey.revision + 1))
    db.session.commit()
    db.session.expire_all()


def test_neutralise_is_strict():
    for value in ("=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "  =1", "\uff1d1"):
        assert exports.neutralise(value).startswith("'")
    assert exports.neutralise("Telegram") == "Telegram" and exports.neutralise(-3) == -3


def test_csv_neutralises_every_cell_and_holds_no_personal_data(ctx, legacy, tmp_path):
    _hostile_labels(legacy.survey_id)
    survey = db.session.get(Survey, legacy.survey_id)
    text = "".join(exports.iter_csv(survey, label_headers=True))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert "'=HYPERLINK(\"http://evil.invalid\")" in rows[0] and "'@SUM(1+1)" in rows[0]
    for row in rows:
        for cell in row:
            _assert_safe(cell)
    complete = db.session.query(Response).filter_by(survey_id=survey.id).count()
    assert len(rows) == complete + 1
    assert any(cell.startswith("'=") for row in rows[1:] for cell in row)  # generated formula-like answers
    for value in legacy.names[:100] + legacy.emails[:100]:
        assert value not in text


def test_xlsx_stores_text_never_formulas(ctx, legacy, tmp_path):
    _hostile_labels(legacy.survey_id)
    survey = db.session.get(Survey, legacy.survey_id)
    path = tmp_path / "out.xlsx"
    exports.write_xlsx(survey, str(path))
    workbook = load_workbook(path)
    sheet = workbook["Responses"]
    header = [c.value for c in sheet[1]]
    assert "'=HYPERLINK(\"http://evil.invalid\")" not in header  # headers are codes in the sheet...
    legend = [c.value for row in workbook["Columns"].iter_rows() for c in row]
    assert "'=HYPERLINK(\"http://evil.invalid\")" in legend  # ...and labels in the legend, neutralised
    formula_like = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate
                _assert_safe(cell.value)
                formula_like += isinstance(cell.value, str) and cell.value.startswith("'")
    assert formula_like > 0


def test_cli_exports(runner, legacy, tmp_path):
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"x.{fmt}"
        result = runner.invoke(args=["results", "export", "legacy-projects", "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000


def test_dev_generate_cli(runner, make_survey, app):
    make_survey()
    result = runner.invoke(args=["dev", "generate", "legacy-projects", "--responses", "50", "--seed", "1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.query(Response).filter_by(status="complete").count() == 50


MEASURE = """
import resource, sys
from config import TestingConfig
from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.services import exports
app = create_app({"CONFIG": TestingConfig, "SQLALCHEMY_DATABASE_URI": sys.argv[1], "INSTANCE_PATH": sys.argv[2]})
with app.app_context():
    survey = db.session.get(Survey, int(sys.argv[3]))
    exports.columns(survey)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = sum(chunk.count("\\n") for chunk in exports.iter_csv(survey))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(rows, (after - before) // 1024)
"""


def test_csv_export_memory_stays_flat_at_10000_responses(app, make_survey, tmp_path):
    with app.app_context():
        survey = db.session.get(Survey, make_survey())
        generate(survey, 10_000, invitations=False, partial=0, seed=3)
        survey_id, url = survey.id, app.config["SQLALCHEMY_DATABASE_URI"]
    # A fresh process, so that its peak resident memory belongs to the export alone.
    out = subprocess.run([sys.executable, "-c", MEASURE, url, str(tmp_path / "inst"), str(survey_id)],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2]).stdout
    rows, grown_mb = map(int, out.split())
    assert rows == 10_001
    # Loading the answers of 10,000 responses as Python objects takes well over 200 MB; a page takes a few.
    assert grown_mb < 40, grown_mb
