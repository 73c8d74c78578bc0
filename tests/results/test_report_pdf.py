"""The publishable PDF read back: cover, key findings true of the database, bookmarks, pages, languages, layout."""
from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Invitation, Question, Response, Survey
from survey_app.regions import region_name, region_of
from survey_app.services import findings, report, report_settings
from survey_app.services import results as rs

from ..conftest import csrf_from
from .conftest import QUOTES

BIDI_MARKS = dict.fromkeys(range(0x202A, 0x202F))
BASE = "/staff/surveys/legacy-projects/results"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        from tests.conftest import service_missing

        service_missing(f"{name} (poppler-utils) is not installed")
    return path


def _pages(path: Path) -> list[str]:
    out = subprocess.run([_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, check=True)
    text = unicodedata.normalize("NFKC", out.stdout.decode()).translate(BIDI_MARKS)
    return text.split("\f")[:-1]


def _words(path: Path, page: int) -> tuple[float, list[tuple[float, float, float, str]]]:
    """The page's width and its words as (xMin, xMax, yMin, text), from pdftotext -bbox."""
    out = subprocess.run([_tool("pdftotext"), "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
                         capture_output=True, check=True).stdout.decode()
    width = float(re.search(r'<page width="([\d.]+)"', out).group(1))
    words = [(float(a), float(c), float(b), unicodedata.normalize("NFKC", html.unescape(t)))
             for a, b, c, _d, t in re.findall(
                 r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out)]
    return width, words


def _build(app, survey_id: int, lang: str, path: Path) -> Path:
    with app.app_context():
        with path.open("wb") as handle:
            report.write_pdf(db.session.get(Survey, survey_id), handle, lang)
    return path


@pytest.fixture
def pdf_en(app, legacy, tmp_path) -> Path:
    return _build(app, legacy.survey_id, "en", tmp_path / "en.pdf")


@pytest.fixture
def pdf_ar(app, legacy, tmp_path) -> Path:
    with app.app_context():
        report_settings.save_cover(db.session.get(Survey, legacy.survey_id), "المتحف البريطاني", "#1d4f91", None,
                                   False, None)
    return _build(app, legacy.survey_id, "ar", tmp_path / "ar.pdf")


def _ui(app, lang: str, message: str, **values) -> str:
    with app.test_request_context(), force_locale(lang):
        return gettext(message, **values)


# --- pages, bookmarks, metadata, identifiers ----------------------------------------------------------

def test_every_page_says_page_n_of_m_and_no_internal_identifier(app, legacy, pdf_en):
    pages = _pages(pdf_en)
    assert len(pages) == len(PdfReader(pdf_en).pages) >= 6
    for number, text in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in text
    whole = "\n".join(pages)
    with app.app_context():
        version = rs.summarise(db.session.get(Survey, legacy.survey_id)).data_version
    assert version not in whole and "Data version" not in whole and not re.search(r"\br\d+-n\d+-", whole)
    reader = PdfReader(pdf_en)
    assert version not in str(reader.metadata)


def test_bookmarks_for_every_section_and_question(app, legacy, pdf_en):
    reader = PdfReader(pdf_en)

    def titles(outline) -> list[str]:
        found = []
        for entry in outline:
            found += titles(entry) if isinstance(entry, list) else [entry.title]
        return found

    marks = titles(reader.outline)
    for section in ("Key findings", "How to read this summary", "Answers, question by question",
                    "What fellows said", "Appendix: data tables"):
        assert section in marks, section
    with app.app_context():
        results = rs.summarise(db.session.get(Survey, legacy.survey_id))
    for number, question in enumerate(results.questions, 1):
        assert f"{number}. {question.label}" in marks
    assert any(mark.startswith("Table 1. ") for mark in marks)
    assert reader.trailer["/Root"]["/PageMode"] == "/UseOutlines"


def test_metadata_names_the_organisation_and_the_language(app, legacy, pdf_ar):
    reader = PdfReader(pdf_ar)
    assert reader.metadata.author == "المتحف البريطاني"
    with app.app_context():
        title = db.session.get(Survey, legacy.survey_id).title["ar"]
    assert title in reader.metadata.title
    assert reader.trailer["/Root"]["/Lang"] == "ar"


def test_counts_and_footer_n_equal_the_database(app, legacy, pdf_en):
    pages = _pages(pdf_en)
    with app.app_context():
        complete = db.session.query(Response).filter_by(survey_id=legacy.survey_id, status="complete").count()
    assert re.search(rf"Complete responses\s+{complete}\b", pages[0])
    for text in pages:
        assert f"n = {complete} complete responses" in text


def test_tables_are_in_the_appendix_only(app, legacy, pdf_en):
    pages = _pages(pdf_en)
    appendix = next(i for i, text in enumerate(pages) if "Appendix: data tables" in text)
    before = "\n".join(pages[:appendix])
    assert "Per cent" not in before  # the column heading of every choice table
    assert "Per cent" in "\n".join(pages[appendix:])
    assert "Data: table 1 in the appendix." in before


def test_years_are_in_order(app, legacy, pdf_en):
    text = "\n".join(_pages(pdf_en))
    table = text[text.index("Table 1. In which year"):]
    years = [int(y) for y in re.findall(r"^\s*(20\d\d)\s", table, re.M)]
    assert len(years) >= 10 and years == sorted(years)


# --- words and scripts -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "ru", "fr"])
def test_no_word_is_broken_between_letters(app, legacy, tmp_path, lang):
    path = _build(app, legacy.survey_id, lang, tmp_path / f"{lang}.pdf")
    tokens = set(re.findall(r"\w[\w’'-]*", "\n".join(_pages(path))))
    with app.app_context():
        survey = db.session.get(Survey, legacy.survey_id)
        results = rs.summarise(survey, lang=lang)
        labels = [c.label for c in results.crosstab.columns if c.shown]
        labels += [o.label for q in results.questions for o in q.options if q.code in ("preferred_platform", "role")]
    words = {w for label in labels for w in re.findall(r"\w[\w’'-]*", label) if len(w) >= 4}
    assert len(words) >= 15
    missing = sorted(w for w in words if w not in tokens)
    assert not missing, f"words not found whole in the {lang} PDF: {missing}"


def test_chinese_lines_never_start_with_closing_punctuation(app, legacy, tmp_path):
    path = _build(app, legacy.survey_id, "zh", tmp_path / "zh.pdf")
    text = "\n".join(_pages(path))
    assert QUOTES["zh"] in re.sub(r"\s+", "", text)
    for line in text.splitlines():
        assert not line.strip().startswith(("。", "，", "、", "）", "：", "；")), line


def test_arabic_runs_right_to_left(app, legacy, pdf_ar):
    pages = _pages(pdf_ar)
    total = len(pages)
    with app.app_context():
        complete = rs.summarise(db.session.get(Survey, legacy.survey_id)).completed_all
    # Page furniture is mirrored: "Page N of M" on the left, the date and n on the right.
    width, words = _words(pdf_ar, 2)
    footer = [w for w in words if w[2] > 790]
    assert any(w[3] == str(total) and w[1] < width / 2 for w in footer)
    assert any(w[3] == str(complete) and w[0] > width / 2 for w in footer)
    # Headings sit against the right margin.
    body = [w for w in words if w[2] < 790]
    top = min(body, key=lambda w: w[2])
    heading = [w for w in body if abs(w[2] - top[2]) < 2]
    assert max(w[1] for w in heading) > width - 60 and min(w[0] for w in heading) > width / 3
    # The cover's table has its labels on the right and the figures to their left.
    width, words = _words(pdf_ar, 1)
    figure = next(w for w in words if w[3] == str(complete))
    label_words = [w for w in words if abs(w[2] - figure[2]) < 6 and w[3] != str(complete)]
    assert label_words and min(w[0] for w in label_words) > figure[1]
    # The Arabic words are the catalogue's translation, drawn in the Arabic font.
    heading_text = _ui(app, "ar", "Key findings")
    letters = {c for c in heading_text if c.isalpha()}
    assert letters and letters <= set("".join(pages[1]))


def test_every_font_is_embedded_in_each_language(app, legacy, tmp_path):
    for lang in ("ar", "zh", "ru"):
        path = _build(app, legacy.survey_id, lang, tmp_path / f"{lang}.pdf")
        rows = subprocess.run([_tool("pdffonts"), str(path)], capture_output=True, text=True,
                              check=True).stdout.splitlines()[2:]
        assert rows
        for row in rows:
            assert re.search(r"\s+yes\s+yes\s+(yes|no)\s+\d+\s+\d+$", row), (lang, row)


def test_the_cli_builds_the_report_in_any_survey_language(runner, legacy, tmp_path):
    out = tmp_path / "ar.pdf"
    result = runner.invoke(args=["results", "pdf", "legacy-projects", "-o", str(out), "--language", "ar"])
    assert result.exit_code == 0, result.output
    assert PdfReader(out).trailer["/Root"]["/Lang"] == "ar"
    refused = runner.invoke(args=["results", "pdf", "legacy-projects", "-o", str(out), "--language", "de"])
    assert refused.exit_code == 2 and "not one of this survey's languages" in refused.output


def test_the_download_button_takes_a_language(staff_client, legacy):
    page = staff_client.get(f"{BASE}/report").get_data(as_text=True)
    assert 'name="language"' in page and '<option value="ar" lang="ar"' in page
    response = staff_client.get(f"{BASE}/report.pdf?language=zh")
    assert response.status_code == 200 and 'results-zh-' in response.headers["Content-Disposition"]
    assert PdfReader(io.BytesIO(response.data)).trailer["/Root"]["/Lang"] == "zh"


# --- key findings -------------------------------------------------------------------------------------

def _complete(survey_id: int):
    return select(Response.id).where(Response.survey_id == survey_id, Response.status == "complete")


def _db_choice(survey_id: int, code: str) -> tuple[Counter, int]:
    question = db.session.execute(select(Question).where(Question.survey_id == survey_id, Question.code == code)
                                  ).scalar_one()
    rows = db.session.execute(select(Answer.option_code, Answer.response_id)
                              .where(Answer.question_id == question.id, Answer.response_id.in_(_complete(survey_id)),
                                     Answer.option_code != "")).all()
    return Counter(option for option, _r in rows), len({r for _o, r in rows})


def test_key_findings_are_true_of_the_database(app, legacy, pdf_en):
    text = re.sub(r"\s+", " ", "\n".join(_pages(pdf_en)))
    with app.test_request_context():  # region_name() translates, as on a page
        survey = db.session.get(Survey, legacy.survey_id)
        content = report.build_content(survey, "en")
        by_key = {f.key: f.text for f in content.findings}
        labels = {q.code: {o.code: o.label["en"] for o in q.choices} for q in survey.questions}
        qlabels = {q.code: q.label["en"] for q in survey.questions}
        checked = 0
        for question in survey.questions:
            sentence = by_key.get(f"question:{question.code}")
            if sentence is None or question.type not in ("single", "multiple", "likert"):
                continue
            counts, base = _db_choice(survey.id, question.code)
            coded_other = {o.code for o in question.choices if o.is_other}
            plain = {code: n for code, n in counts.items() if code not in coded_other}
            best = max(plain.values())
            top = [labels[question.code][c] for c, n in plain.items() if n == best]
            assert any(label in sentence for label in top), sentence
            assert f"{100 * best / base:.1f} %" in sentence and f"the {base} respondents" in sentence, sentence
            assert f"“{qlabels[question.code]}”" in sentence
            checked += 1
        assert checked >= 4
        invited = db.session.query(Invitation).filter_by(survey_id=survey.id).count()
        done = db.session.query(Invitation).filter_by(survey_id=survey.id, status="completed").count()
        assert by_key["response-rate"].startswith(f"{done} of the {invited} fellows invited")
        assert f"{100 * done / invited:.1f} %" in by_key["response-rate"]
        # Region sentences: recount the cross-tabulated question per region from the answers.
        per_region: dict[str, Counter] = defaultdict(Counter)
        question = next(q for q in survey.questions if q.code == "preferred_platform")
        other_codes = {o.code for o in question.choices if o.is_other}
        for option, country in db.session.execute(
                select(Answer.option_code, Response.country).join(Response)
                .where(Answer.question_id == question.id, Response.status == "complete")):
            per_region[region_of(country) or ""][option] += 1
        shown = {c.label for c in content.results.crosstab.columns if c.shown}
        regional = {k: v for k, v in by_key.items() if k.startswith("region:")}
        for key, sentence in regional.items():
            code = key.split(":", 1)[1]
            counts = per_region[code]
            base = sum(counts.values())
            assert base >= survey.min_group_size and region_name(code) in shown
            named = {c: n for c, n in counts.items() if c not in other_codes}  # as for questions: "Other" is no answer
            best = max(named.values())
            top = [labels["preferred_platform"][c] for c, n in named.items() if n == best]
            assert sentence.startswith(f"Fellows in {region_name(code)} most often answered"), sentence
            assert any(label in sentence for label in top) and f"{100 * best / base:.1f} %" in sentence
            assert f"of the {base} respondents there" in sentence
        withheld = [c.label for c in content.results.crosstab.columns if not c.shown]
        for sentence in by_key.values():
            assert not any(label in sentence for label in withheld), sentence
    assert "Key findings" in text
    for sentence in by_key.values():
        assert sentence in text, sentence


def test_findings_can_be_edited_removed_and_flagged_when_the_data_changes(app, legacy):
    from survey_app.dev.generate import generate

    with app.app_context():
        survey = db.session.get(Survey, legacy.survey_id)
        results = rs.summarise(survey)
        generated = findings.findings(survey, results)
        first, second = generated[1], generated[2]
        findings.save_edits(survey, results, [
            findings.FindingChange(first.key, "Most fellows prefer WhatsApp.", False),
            findings.FindingChange(second.key, "", True)], None)
        content = report.build_content(survey, "en")
        printed = {f.key: f.text for f in content.findings}
        assert printed[first.key] == "Most fellows prefer WhatsApp." and second.key not in printed
        assert report.build_content(survey, "fr").findings[1].text != "Most fellows prefer WhatsApp."
        assert not any(f.stale for f in findings.findings(survey, rs.summarise(survey)))
        generate(survey, 60, seed=11)
        after = {f.key: f for f in findings.findings(survey, rs.summarise(survey))}
        assert after[first.key].stale and after[first.key].text == "Most fellows prefer WhatsApp."
        assert after[first.key].generated != first.generated


def test_the_findings_editor_shows_stale_edits(app, staff_client, legacy):
    from survey_app.dev.generate import generate

    form = staff_client.get(f"{BASE}/report/findings?language=en").get_data(as_text=True)
    keys = re.findall(r'name="(findings-\d+-key)" type="hidden" value="([^"]+)"', form)
    data = {"csrf_token": csrf_from(form), "language": "en"}
    for name, key in keys:
        data[name] = key
    data["findings-1-text"] = "Edited by staff."
    assert staff_client.post(f"{BASE}/report/findings?language=en", data=data).status_code == 302
    assert "data-stale" not in staff_client.get(f"{BASE}/report/findings?language=en").get_data(as_text=True)
    with app.app_context():
        generate(db.session.get(Survey, legacy.survey_id), 80, seed=12)
    page = staff_client.get(f"{BASE}/report/findings?language=en").get_data(as_text=True)
    assert "data-stale" in page and "Edited by staff." in page


# --- the cover: logo and accent colour --------------------------------------------------------------

def _image(fmt: str, size=(120, 60), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (29, 79, 145)).save(out, format=fmt, **save)
    return out.getvalue()


def _save_cover(client, **fields):
    page = client.get(f"{BASE}/report")
    data = {"csrf_token": csrf_from(page.data), "organisation": "British Museum", "accent_colour": ""}
    data.update(fields)
    return client.post(f"{BASE}/report/cover", data=data, content_type="multipart/form-data")


def test_a_png_or_jpeg_logo_is_checked_re_encoded_and_printed(app, staff_client, legacy, tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Person")
    upload = _image("PNG", pnginfo=info) + b"trailing bytes after the image"
    response = _save_cover(staff_client, accent_colour="#1d4f91", logo=(io.BytesIO(upload), "logo.png"))
    assert response.status_code == 302
    with app.app_context():
        row = report_settings.settings_for(db.session.get(Survey, legacy.survey_id))
        assert row.logo_png.startswith(b"\x89PNG") and b"Secret Person" not in row.logo_png
        assert b"trailing bytes" not in row.logo_png and (row.logo_width, row.logo_height) == (120, 60)
        assert row.accent_colour == "#1d4f91" and row.organisation == "British Museum"
    path = _build(app, legacy.survey_id, "en", tmp_path / "logo.pdf")
    reader = PdfReader(path)
    assert len(reader.pages[0].images) == 1 and reader.metadata.author == "British Museum"
    assert "British Museum" in _pages(path)[0]
    assert _save_cover(staff_client, logo=(io.BytesIO(_image("JPEG")), "photo.jpg")).status_code == 302


@pytest.mark.parametrize("name, data, message", [
    ("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "The logo must be a PNG or JPEG image."),
    ("logo.gif", _image("GIF"), "The logo must be a PNG or JPEG image."),
    ("logo.png", _image("PNG", size=(4000, 20)), "The logo must be at most 3000 pixels wide and high."),
    ("logo.png", b"\x89PNG" + b"\x00" * (1024 * 1024 + 10), "The logo must be a file of at most 1 MB."),
    ("logo.png", _image("PNG")[:60], "The logo must be a PNG or JPEG image."),
])
def test_a_bad_logo_is_refused_with_a_message_and_nothing_is_saved(app, staff_client, legacy, name, data, message):
    response = _save_cover(staff_client, logo=(io.BytesIO(data), name))
    assert response.status_code == 400
    assert html.escape(message, quote=False) in response.get_data(as_text=True).replace("&#39;", "'")
    assert 'value="British Museum"' in response.get_data(as_text=True)  # what was typed is kept
    with app.app_context():
        assert report_settings.settings_for(db.session.get(Survey, legacy.survey_id)).logo_png is None


def test_an_accent_colour_must_be_readable_on_white(app, staff_client, legacy):
    response = _save_cover(staff_client, accent_colour="#ffee00")
    assert response.status_code == 400 and "Choose a darker colour" in response.get_data(as_text=True)
    assert _save_cover(staff_client, accent_colour="not a colour").status_code == 400
    assert _save_cover(staff_client, accent_colour="#1D4F91").status_code == 302
    with app.app_context():
        assert report_settings.settings_for(db.session.get(Survey, legacy.survey_id)).accent_colour == "#1d4f91"


def test_quotes_print_their_translation_beside_the_original(app, legacy, tmp_path):
    with app.app_context():
        survey = db.session.get(Survey, legacy.survey_id)
        answer_id = db.session.execute(select(Answer.id).where(Answer.text == QUOTES["ru"])).scalar_one()
        rs.save_translations(survey, answer_id, {"en": "Telegram suits our museum better"}, None)
    path = _build(app, legacy.survey_id, "en", tmp_path / "quotes.pdf")
    text = "\n".join(_pages(path))
    line = next(line for line in text.splitlines() if "Telegram suits" in line)
    assert "Телеграм" in line  # side by side: the original and its translation on one line


def test_questions_follow_one_another_without_a_page_each(pdf_en):
    """A section heading is never alone on a page, and short questions share pages instead of one a page."""
    pages = _pages(pdf_en)
    heading = next(i for i, page in enumerate(pages) if "Answers, question by question" in page)
    assert "1. In which year" in pages[heading]
    starts = [i for i, page in enumerate(pages) for line in page.splitlines()
              if re.match(r"\s*\d{1,2}\. \S", line) and "Table" not in line]
    assert len(set(starts)) < len(starts)  # at least one page holds two questions
