"""Shared helpers for the security tests: valid answers, URL building, HTML inspection."""
from __future__ import annotations

import re
import secrets
from html.parser import HTMLParser

from flask import Flask, request
from werkzeug.routing import Rule

from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.questions import QuestionView
from survey_app.services.structure import SurveyStructure, survey_structure
from tests.conftest import csrf_from

TEXT_TYPES = {"text", "textarea"}


def structure_of(app: Flask, survey_id: int) -> SurveyStructure:
    with app.app_context():
        return survey_structure(db.session.get(Survey, survey_id))


def question_answer(q: QuestionView, text: str = "A fine answer") -> dict[str, str]:
    """Form fields answering one question validly; free text gets `text`."""
    from survey_app.questions.matrix import cell_field_name

    data: dict[str, str] = {}
    if q.type in {"single", "likert", "multiple"}:
        plain = [o for o in q.choices if not o.is_other and not o.is_exclusive]
        choice = plain[0] if plain else q.choices[0]
        data[q.code] = choice.code
    elif q.type in TEXT_TYPES:
        data[q.code] = text
    elif q.type == "number":
        low = q.settings.get("min_value")
        data[q.code] = str(low if low is not None else 1)
    elif q.type == "matrix":
        for row in q.rows:
            data[cell_field_name(q, row.code)] = q.choices[0].code
    elif q.type == "ranking":
        for rank, item in enumerate(q.choices, 1):
            data[cell_field_name(q, item.code)] = str(rank)
    return data


def other_answer(q: QuestionView, text: str) -> dict[str, str] | None:
    """Fields choosing the question's Other option with `text`, or None if it has none."""
    from survey_app.questions.choice import other_field_name

    other = q.other_option
    if other is None:
        return None
    return {q.code: other.code, other_field_name(q): text}


def section_data(structure: SurveyStructure, number: int, text: str = "A fine answer",
                 other_text: str | None = None) -> dict[str, str]:
    """A complete, valid POST body (without CSRF) for one section."""
    data: dict[str, str] = {}
    for q in structure.sections[number - 1].questions:
        answer = other_answer(q, other_text) if other_text is not None else None
        data.update(answer or question_answer(q, text))
    return data


def answer_all(client, prefix: str, structure: SurveyStructure, text: str = "A fine answer",
               other_text: str | None = None) -> None:
    """Answer every section of a survey through the real pages (CSRF on)."""
    for number in range(1, len(structure.sections) + 1):
        page = client.get(f"{prefix}/{number}")
        assert page.status_code == 200, (number, page.status_code)
        body = section_data(structure, number, text, other_text)
        body["csrf_token"] = csrf_from(page.data)
        response = client.post(f"{prefix}/{number}", data=body)
        assert response.status_code == 302, (number, response.data[:2000])


def submit(client, prefix: str):
    page = client.get(f"{prefix}/check")
    assert page.status_code == 200, page.status_code
    return client.post(f"{prefix}/submit", data={"csrf_token": csrf_from(page.data)})


def post_login(client, email, password, address="127.0.0.1", next_url=None, headers=None):
    """Sign in through the real form from one client address (REMOTE_ADDR), CSRF on."""
    page = client.get("/staff/login", environ_base={"REMOTE_ADDR": address})
    url = "/staff/login" + (f"?next={next_url}" if next_url is not None else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": csrf_from(page.data)},
                       environ_base={"REMOTE_ADDR": address}, headers=headers or {})


def random_token() -> str:
    return secrets.token_urlsafe(18)


def build_url(app: Flask, rule: Rule, values: dict[str, str] | None = None) -> str:
    """Fill every argument of a rule with a plausible dummy value and build its path."""
    values = dict(values or {})
    args = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        kind = type(converter).__name__
        if name in values:
            args[name] = values[name]
        elif kind == "IntegerConverter":
            args[name] = 1
        elif kind == "AnyConverter":
            args[name] = sorted(converter.items)[0] if hasattr(converter, "items") else "s"
        elif kind == "UUIDConverter":
            import uuid

            args[name] = uuid.uuid4()
        elif kind == "PathConverter":
            args[name] = "x/y"
        elif name == "slug":
            args[name] = "legacy-projects"
        elif "token" in name:
            args[name] = random_token()
        elif name in {"lang", "language", "locale"}:
            args[name] = "fr"
        else:
            args[name] = "1"
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, args, method=next(iter(rule.methods - {"HEAD", "OPTIONS"}), "GET"),
                             append_unknown=False)


class ScriptAudit(HTMLParser):
    """Collect what a browser would execute: script elements, event handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inline_scripts: list[str] = []
        self.foreign_scripts: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.js_urls: list[str] = []
        self.inline_styles: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            src = attributes.get("src")
            if not src:
                self.inline_scripts.append("")
                self._in_script = True
            elif not src.startswith("/static/"):
                self.foreign_scripts.append(src)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.handlers.append((tag, name))
            if name in {"href", "src", "action", "formaction"} and value and \
                    re.sub(r"\s", "", value).lower().startswith("javascript:"):
                self.js_urls.append(value)
            if name == "style":
                self.inline_styles.append(value or "")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def audit_html(html: str) -> ScriptAudit:
    audit = ScriptAudit()
    audit.feed(html)
    audit.close()
    return audit


def assert_nothing_executes(html: str, where: str = "") -> None:
    audit = audit_html(html)
    assert not audit.inline_scripts, f"inline <script> in {where}"
    assert not audit.foreign_scripts, f"foreign script {audit.foreign_scripts} in {where}"
    assert not audit.handlers, f"event handler attributes {audit.handlers} in {where}"
    assert not audit.js_urls, f"javascript: URL in {where}"


def save_complete(app: Flask, kind: str, token: str, structure: SurveyStructure, text: str = "A fine answer",
                  upto: int | None = None, other_text: str | None = None) -> None:
    """Save every section (or the first `upto`) through the service, as the pages would."""
    from forms.respond import SectionAnswers
    from survey_app.services import responses as response_service

    sections = structure.sections[: upto if upto is not None else len(structure.sections)]
    for section in sections:
        data = section_data(structure, section.number, text, other_text)
        with app.test_request_context(method="POST", data=data):
            link = response_service.find_link(kind, token)
            form = SectionAnswers(section.questions, request.form)
            assert form.validate(), form.question_errors
            response_service.save_section(link, section, form.answer_rows(), "en")
