"""The results PDF read back: counts equal the database, fonts embedded, scripts present, no personal data."""
from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from survey_app.countries import country_name
from survey_app.extensions import db
from survey_app.models import Answer, Invitation, Question, Response, Survey
from survey_app.services import report

from .conftest import NO_CONSENT, QUOTES, TINY_COUNTRY, UNAPPROVED

BIDI_MARKS = dict.fromkeys(range(0x202A, 0x202F))


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return path


@pytest.fixture
def pdf(app, legacy, tmp_path) -> Path:
    path = tmp_path / "summary.pdf"
    with app.app_context():
        with path.open("wb") as handle:
            report.write_pdf(db.session.get(Survey, legacy.survey_id), handle)
    return path


def _text(path: Path) -> str:
    out = subprocess.run([_poppler("pdftotext"), "-layout", str(path), "-"], capture_output=True, check=True)
    return unicodedata.normalize("NFKC", out.stdout.decode()).translate(BIDI_MARKS)


def test_every_font_is_embedded(pdf):
    out = subprocess.run([_poppler("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = out.splitlines()[2:]
    assert len(rows) >= 3  # Latin/CJK, Arabic and Devanagari at least
    for row in rows:
        assert re.search(r"\s+yes\s+yes\s+(yes|no)\s+\d+\s+\d+$", row), row
        assert not re.match(r"(Helvetica|Times|Courier|Symbol|ZapfDingbats)", row)


def test_counts_in_the_pdf_equal_the_database(app, legacy, pdf):
    text = _text(pdf)
    with app.app_context():
        complete = db.session.query(Response).filter_by(survey_id=legacy.survey_id, status="complete").count()
        invited = db.session.query(Invitation).filter_by(survey_id=legacy.survey_id).count()
        question = db.session.execute(select(Question).where(Question.code == "preferred_platform")).scalar_one()
        counts = Counter(db.session.execute(
            select(Answer.option_code).join(Response)
            .where(Answer.question_id == question.id, Response.status == "complete")).scalars())
        # "Other – please specify" is a prompt: its answers are shown as "Other, not coded" until staff code them.
        labels = {o.code: "Other, not coded" if o.is_other else o.label["en"] for o in question.choices}
    assert re.search(rf"Complete responses\s+{complete}\b", text)
    assert re.search(rf"Fellows invited\s+{invited}\b", text)
    base = sum(counts.values())
    for code, n in counts.items():
        # Each bar prints "n (p %)" and the table row "label  n  p %".
        assert re.search(rf"{re.escape(labels[code])}\s+{n}\s+{100 * n / base:.1f} %", text), labels[code]
        assert f"{n} ({100 * n / base:.1f} %)" in text
    assert f"n = {base} answered" in text


def test_quotes_in_every_script_and_nothing_withheld_or_personal(app, legacy, pdf):
    text = _text(pdf)
    squeezed = re.sub(r"\s+", "", text)
    for lang, quote in QUOTES.items():
        if lang in ("ar", "hi"):
            letters = {c for c in unicodedata.normalize("NFKC", quote) if c.isalpha()}
            assert len(letters & set(text)) >= len(letters) * 0.8, lang
        else:
            assert re.sub(r"\s+", "", quote) in squeezed, lang
    assert UNAPPROVED not in text and NO_CONSENT not in text
    assert country_name(TINY_COUNTRY) not in text
    for value in legacy.names[:50] + legacy.emails[:50]:
        assert value not in text
    assert "@" not in text.replace("@britmusITP", "")


def test_pages_render_to_images(pdf, tmp_path):
    subprocess.run([_poppler("pdftoppm"), "-png", "-r", "30", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 5 and all(p.stat().st_size > 1000 for p in pages)


def test_cli_builds_the_pdf(runner, legacy, tmp_path):
    out = tmp_path / "cli.pdf"
    result = runner.invoke(args=["results", "pdf", "legacy-projects", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:5] == b"%PDF-"


def test_crosstab_prints_region_bases_and_no_markup(app, legacy, pdf):
    text = _text(pdf)
    assert "by world region" in text and "<br" not in text and "&lt;" not in text
    with app.app_context():
        from survey_app.services import results as rs

        crosstab = rs.summarise(db.session.get(Survey, legacy.survey_id)).crosstab
    bases = [str(c.base) if c.shown else "withheld" for c in crosstab.columns]  # as the bases row prints them
    assert re.search(r"Respondents \(n\)\s+" + r"\s+".join(bases), text)
