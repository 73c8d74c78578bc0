"""Hostile text through every form and the CSV import, read back everywhere: nothing runs or evaluates."""
from __future__ import annotations

import csv
import email
import email.policy
import io
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Participant, Response, Role, StaffUser, Survey
from survey_app.security import _PUBLIC_ATTR
from tests.conftest import csrf_from
from tests.security.helpers import answer_all, assert_nothing_executes, build_url, structure_of

EVALUATED = "999999"  # what any of the template probes would print if evaluated
CORPUS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg/onload=alert(1)>",
    "javascript:alert(1)",
    "{{7*7}} {{ 9*111111 }}",
    "{% print 3*333333 %}",
    "${9*111111} #{9*111111}",
    '=HYPERLINK("http://evil.example","click")',
    "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", " =1+1", "\uff1d1+1",
    "a\r\nBcc: x@evil.example",
    "a\nSubject: injected",
    "\u202egnp.exe",
    "𝕏😀 mixed Ελληνικά العربية 中文 русский",
    "</textarea><script>alert(2)</script>",
    "</title><script>alert(3)</script>",
    "\x00nul and \x1b escape",
]
LONG = "A" * 9990 + "<script>x</script>"  # 10,000 characters


def _fits(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]


def _check_page(html: str, where: str) -> None:
    assert_nothing_executes(html, where)
    assert EVALUATED not in html, f"template expression evaluated in {where}"
    assert "<script>alert" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")


def _escaped_marker_in(html: str) -> bool:
    return "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&lt;script&gt;alert(1)" in html


def _answer_text(hostile: str) -> str:
    return hostile if hostile.strip() else "x" + hostile


@pytest.fixture
def hostile_data(app, make_survey, make_invitation):
    """A survey whose participants are named, and whose free-text answers are, the corpus."""
    from tests.security.helpers import save_complete

    survey_id = make_survey()
    structure = structure_of(app, survey_id)
    for n, hostile in enumerate(CORPUS):
        token = make_invitation(survey_id, name=_fits(hostile.replace("\x00", ""), 200) or "x",
                                email=f"h{n}@example.org")
        save_complete(app, "s", token, structure, text=_answer_text(hostile),
                      other_text=_fits(hostile, 200) if hostile.strip() else None)
    return survey_id, structure


def test_respondent_pages_show_hostile_answers_inert(app, make_survey, make_invitation):
    survey_id = make_survey()
    structure = structure_of(app, survey_id)
    seen_escaped = 0
    for n, hostile in enumerate(CORPUS):
        token = make_invitation(survey_id, name=_fits(hostile.replace("\x00", ""), 200) or "x",
                                email=f"h{n}@example.org")
        client = app.test_client()
        answer_all(client, f"/s/{token}", structure, text=_answer_text(hostile),
                   other_text=_fits(hostile, 200) if hostile.strip() else None)
        for url in (f"/s/{token}/check", f"/s/{token}/1", f"/s/{token}/{len(structure.sections)}"):
            html = client.get(url).get_data(as_text=True)
            _check_page(html, url)
            seen_escaped += _escaped_marker_in(html)
        page = client.get(f"/s/{token}/check")
        client.post(f"/s/{token}/submit", data={"csrf_token": csrf_from(page.data)})
        _check_page(client.get(f"/s/{token}/done").get_data(as_text=True), "done")
    assert seen_escaped >= 1  # the hostile text really was shown, escaped
    with app.app_context():
        texts = {a.text for a in db.session.execute(select(Answer)).scalars() if a.text}
        assert any("<script>alert(1)</script>" in t for t in texts)  # stored verbatim, escaped on output
        assert db.session.execute(select(Response).where(Response.status == "complete")).scalars().all()


def test_too_long_hostile_text_is_refused_and_shown_inert(app, make_survey, make_invitation):
    survey_id = make_survey()
    structure = structure_of(app, survey_id)
    token = make_invitation(survey_id)
    client = app.test_client()
    for section in structure.sections:
        text_questions = [q for q in section.questions if q.type in {"text", "textarea"}]
        if not text_questions:
            continue
        page = client.get(f"/s/{token}/{section.number}")
        data = {q.code: LONG for q in text_questions}
        data["csrf_token"] = csrf_from(page.data)
        response = client.post(f"/s/{token}/{section.number}", data=data)
        assert response.status_code == 200  # shown again with an error, not stored
        _check_page(response.get_data(as_text=True), "long answer error page")
        break
    else:
        pytest.fail("no free-text question found in the survey")
    with app.app_context():
        assert not db.session.execute(select(Answer).where(Answer.text.like("AAAA%"))).first()


def _int_candidates(app, name: str) -> list[int]:
    model = {"participant_id": Participant, "answer_id": Answer, "response_id": Response,
             "user_id": StaffUser, "survey_id": Survey}.get(name)
    if model is None:
        return [1]
    with app.app_context():
        return list(db.session.execute(select(model.id).order_by(model.id).limit(6)).scalars())


def _staff_get_urls(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or \
                getattr(app.view_functions[rule.endpoint], _PUBLIC_ATTR, False):
            continue
        int_args = [a for a in rule.arguments if type(rule._converters[a]).__name__ == "IntegerConverter"]
        if not int_args:
            yield build_url(app, rule)
            continue
        for value in _int_candidates(app, int_args[0]):
            yield build_url(app, rule, {int_args[0]: value})


def _check_csv(body: str, where: str) -> int:
    cells = 0
    for row in csv.reader(io.StringIO(body)):
        for cell in row:
            cells += 1
            if cell and (cell[0] in "=+-@\t\r\uff1d" or cell.lstrip()[:1] in "=+-@\uff1d"):
                assert cell.startswith("'"), f"formula cell {cell[:40]!r} in {where}"
    return cells


def test_staff_pages_exports_and_pdf_show_hostile_text_inert(app, hostile_data, make_staff, login):
    survey_id, _structure = hostile_data
    client = app.test_client()
    login(client, make_staff(role=Role.ADMIN.value))
    shown_escaped, html_pages, csvs, pdfs = 0, 0, 0, 0
    for url in sorted(set(_staff_get_urls(app))):
        response = client.get(url)
        assert response.status_code < 500, url
        if response.mimetype == "text/html" and response.status_code == 200:
            html = response.get_data(as_text=True)
            _check_page(html, url)
            shown_escaped += _escaped_marker_in(html)
            html_pages += 1
        elif response.mimetype == "text/csv":
            _check_csv(response.get_data(as_text=True), url)
            csvs += 1
        elif response.mimetype == "application/pdf":
            pdfs += 1
            _check_pdf(response.data, url)
    assert html_pages >= 3
    assert shown_escaped >= 1, "no staff page showed the hostile names or answers: nothing was checked"


def _check_pdf(data: bytes, where: str) -> None:
    assert data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout
        assert EVALUATED.encode() not in text, where


def test_exports_neutralise_formulas(app, hostile_data):
    exports = pytest.importorskip("survey_app.services.exports")
    survey_id, _structure = hostile_data
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        body = "".join(exports.iter_csv(survey))
        assert _check_csv(body, "csv export") > 10
        assert "HYPERLINK" in body  # the hostile answers are in the export, neutralised
        if hasattr(exports, "write_xlsx"):
            from openpyxl import load_workbook

            path = app.instance_path + "/hostile.xlsx"
            exports.write_xlsx(survey, path)
            workbook = load_workbook(path)
            found = False
            for sheet in workbook.worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        assert cell.data_type != "f", f"formula in xlsx cell {cell.coordinate}"
                        if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                            found = True
                            assert cell.value.startswith("'") or cell.quotePrefix or cell.data_type == "s"
            assert found


def test_csv_import_preview_shows_hostile_names_inert(app, make_survey, admin_client):
    make_survey()
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.endswith(".upload") and "slug" in r.arguments]
    if not rules:
        pytest.skip("no participant import page yet")
    rows = ["name,email,country,cohort,language"]
    for n, hostile in enumerate(CORPUS + [LONG]):
        escaped = hostile.replace('"', '""')
        rows.append(f'"{escaped}",imp{n}@example.org,KE,2015,en')
    rows.append('"=cmd|\' /C calc\'!A0",<script>@evil.example,KE,2015,en')
    data = ("\r\n".join(rows) + "\r\n").encode("utf-8")
    url = build_url(app, rules[0])
    page = admin_client.get(url)
    field = re.search(r'type="file"[^>]*name="([^"]+)"|name="([^"]+)"[^>]*type="file"', page.get_data(as_text=True))
    name = next(g for g in field.groups() if g)
    response = admin_client.post(url, data={"csrf_token": csrf_from(page.data), name: (io.BytesIO(data), "p.csv")},
                                 content_type="multipart/form-data")
    assert response.status_code == 302, response.status_code
    preview = admin_client.get(urlsplit(response.headers["Location"]).path)
    html = preview.get_data(as_text=True)
    _check_page(html, "import preview")
    assert _escaped_marker_in(html)
    confirm = admin_client.post(urlsplit(response.headers["Location"]).path,
                                data={"csrf_token": csrf_from(html),
                                      "import_id": urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]})
    _check_page(confirm.get_data(as_text=True), "import result")
    with app.app_context():
        names = [p.name for p in db.session.execute(select(Participant)).scalars()]
    for page_url in (build_url(app, r) for r in app.url_map.iter_rules()
                     if r.endpoint.endswith(".index") and "slug" in r.arguments and "GET" in r.methods):
        _check_page(admin_client.get(page_url).get_data(as_text=True), page_url)
    assert names and all("\r" not in n and "\n" not in n for n in names)


def test_emails_escape_names_and_refuse_header_injection(app, make_survey):
    invitations = pytest.importorskip("survey_app.services.invitations")
    messages = pytest.importorskip("survey_app.services.mail.messages")
    survey_id = make_survey()
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        for hostile in CORPUS:
            shown = invitations.preview(survey, "invitation", "en", name=hostile)
            subject, text, html = shown.subject, shown.text, shown.html
            assert "\r" not in subject and "\n" not in subject
            _check_page(html, f"e-mail html for {hostile!r}")
            assert EVALUATED not in text
            rendered = invitations.renderer(survey, "invitation")("en")
            message = messages.build_message(rendered, hostile, "fellow@example.org",
                                           "http://127.0.0.1:5000/s/TOKEN", "http://127.0.0.1:5000/optout/T",
                                           "<id@example.org>")
            raw = message.as_bytes()
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert parsed["Bcc"] is None and parsed.get_all("Subject") and len(parsed.get_all("Subject")) == 1
            assert [str(a.addr_spec) for a in parsed["To"].addresses] == ["fellow@example.org"]
