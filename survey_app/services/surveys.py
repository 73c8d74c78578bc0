"""Survey definitions as data: parse a versioned YAML/JSON file and create or update a survey."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, select

from ..countries import collation_key, country_codes, country_names
from ..extensions import db
from ..models import (
    Answer,
    Invitation,
    Option,
    OptionRole,
    Question,
    Response,
    ResponseStatus,
    Section,
    Survey,
    SurveyStatus,
)
from ..questions import DefinitionError, QuestionType, get_type, type_names
from .statements import rows_changed

SUPPORTED_FORMATS = {1}
CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "surveys"


class SurveyFileError(ValueError):
    """The survey file is malformed or would harm stored data; the message says where and why."""


@dataclass
class LoadResult:
    survey: Survey
    created: bool
    changes: list[str] = field(default_factory=list)


def read_definition(path: str | Path) -> dict[str, Any]:
    """Read a survey file (YAML or JSON) into a dict, with a clear error on bad syntax."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SurveyFileError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        kind = "JSON" if path.suffix == ".json" else "YAML"
        raise SurveyFileError(f"{path.name} is not valid {kind}: {exc}") from exc
    if not isinstance(data, dict):
        raise SurveyFileError(f"{path.name} must hold a mapping at the top level")
    return data


def _texts(value: Any, where: str, required: bool = True) -> dict[str, str]:
    if value is None and not required:
        return {}
    if isinstance(value, str):
        return {"en": value}
    if not isinstance(value, dict) or not value or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SurveyFileError(f"{where}: expected a mapping of language code to text")
    return {k: v.strip() for k, v in value.items()}


def _code(value: Any, where: str) -> str:
    code = str(value) if isinstance(value, (str, int)) else None
    if not code or len(code) > 64 or not set(code) <= CODE_CHARS:
        raise SurveyFileError(f"{where}: code {value!r} must be 1-64 characters of a-z, 0-9, _ or -")
    return code


def _date(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError as exc:
            raise SurveyFileError(f"{where}: {value!r} is not an ISO date or date-time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _expand_options(spec: Any, where: str, languages: list[str]) -> list[dict[str, Any]]:
    """Turn the options entry (a list, a year range or the country list) into option dicts."""
    if isinstance(spec, list):
        return spec
    if not isinstance(spec, dict):
        raise SurveyFileError(f"{where}: options must be a list, a range or {{from: countries}}")
    options: list[dict[str, Any]] = []
    if spec.get("from") == "countries":
        names = {lang: country_names(lang) for lang in languages}
        english = country_names("en")
        options = [
            {"code": code.lower(), "label": {lang: names[lang][code] for lang in languages}}
            for code in sorted(country_codes(), key=lambda c: collation_key(english[c]))
        ]
    elif "range" in spec:
        bounds = spec["range"]
        try:
            start, stop = int(bounds["from"]), int(bounds["to"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SurveyFileError(f"{where}: range needs integer from and to") from exc
        options = [{"code": str(n), "label": {"en": str(n)}} for n in range(start, stop + 1)]
    else:
        raise SurveyFileError(f"{where}: unknown options source {spec!r}")
    return options + list(spec.get("extra", []))


def parse_definition(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a definition and normalise it into plain dicts ready to apply."""
    fmt = data.get("format")
    if fmt not in SUPPORTED_FORMATS:
        raise SurveyFileError(f"format {fmt!r} is not supported; this version reads format 1")
    slug = _code(data.get("slug"), "slug")
    languages = data.get("languages") or [data.get("base_language", "en")]
    base = data.get("base_language", "en")
    if base not in languages:
        raise SurveyFileError("base_language must be one of languages")
    survey = {
        "slug": slug,
        "definition_version": int(data.get("version", 1)),
        "base_language": base,
        "languages": list(languages),
        "title": _texts(data.get("title"), "title"),
        "intro": _texts(data.get("intro"), "intro", required=False),
        "anonymous": bool(data.get("anonymous", False)),
        "open_link": bool(data.get("open_link", False)),
        "min_group_size": int(data.get("min_group_size", 5)),
    }
    # Retention is a staff setting too: only a file that names it may change it.
    if "retention_days" in data:
        survey["retention_days"] = data["retention_days"]
    # Opening and closing are set on the overview page too: only a file that names them changes them,
    # so reloading a file to fix a wording never reopens a survey staff closed. A new survey is a draft.
    if "status" in data:
        survey["status"] = data["status"]
        if survey["status"] not in {s.value for s in SurveyStatus}:
            raise SurveyFileError(f"status must be one of {', '.join(s.value for s in SurveyStatus)}")
    if "opens" in data:
        survey["opens_at"] = _date(data["opens"], "opens")
    if "closes" in data:
        survey["closes_at"] = _date(data["closes"], "closes")
    sections = data.get("sections")
    if not isinstance(sections, list) or not sections:
        raise SurveyFileError("sections: at least one section is required")
    seen_sections: set[str] = set()
    seen_questions: set[str] = set()
    parsed_sections = []
    for s_index, section in enumerate(sections, 1):
        where = f"section {s_index}"
        code = _code(section.get("code"), where)
        if code in seen_sections:
            raise SurveyFileError(f"{where}: duplicate section code {code!r}")
        seen_sections.add(code)
        questions = []
        for q_index, question in enumerate(section.get("questions") or [], 1):
            questions.append(_parse_question(question, f"{where} ({code}), question {q_index}", languages,
                                             seen_questions))
        if not questions:
            raise SurveyFileError(f"{where} ({code}): at least one question is required")
        parsed_sections.append({
            "code": code,
            "title": _texts(section.get("title"), f"{where} title"),
            "intro": _texts(section.get("intro"), f"{where} intro", required=False),
            "questions": questions,
        })
    survey["sections"] = parsed_sections
    return survey


def _parse_question(question: dict[str, Any], where: str, languages: list[str], seen: set[str]) -> dict[str, Any]:
    """Read the keys every question has, then let its type read and check the rest."""
    code = _code(question.get("code"), where)
    if code in seen:
        raise SurveyFileError(f"{where}: duplicate question code {code!r}")
    seen.add(code)
    where = f"{where} ({code})"
    qtype = question.get("type")
    if qtype not in type_names():
        raise SurveyFileError(f"{where}: unknown type {qtype!r}; use one of {', '.join(type_names())}")
    kind = get_type(qtype)
    parsed: dict[str, Any] = {
        "code": code,
        "type": qtype,
        "required": bool(question.get("required", True)),
        "label": _texts(question.get("label"), f"{where} label"),
        "hint": _texts(question.get("hint"), f"{where} hint", required=False),
        "settings": _settings(kind, question, where),
        "options": [],
        "rows": [],
    }
    if "error_name" in question:
        # How error messages name the question ("Select the year you took part …"), kept with its settings.
        parsed["settings"]["error_name"] = _texts(question["error_name"], f"{where} error_name")
    if kind.takes_options:
        parsed["options"] = _parse_options(_expand_options(question.get("options"), where, languages),
                                           OptionRole.CHOICE.value, where)
    elif "options" in question:
        raise SurveyFileError(f"{where}: a {qtype} question takes no options")
    if kind.takes_rows:
        rows = question.get("rows")
        parsed["rows"] = _parse_options(rows if isinstance(rows, list) else [], OptionRole.ROW.value, f"{where} rows")
    elif "rows" in question:
        raise SurveyFileError(f"{where}: a {qtype} question takes no rows")
    try:
        kind.check_definition(parsed, where)
    except DefinitionError as exc:
        raise SurveyFileError(str(exc)) from None
    parsed["options"] += parsed.pop("rows")
    return parsed


def _settings(kind: QuestionType, question: dict[str, Any], where: str) -> dict[str, Any]:
    """The settings this type takes, each checked by the type; another type's setting is an error."""
    settings = {}
    for key, value in question.items():
        check = kind.settings.get(key)
        if check is not None:
            try:
                settings[key] = check(value, f"{where}, {key}")
            except DefinitionError as exc:
                raise SurveyFileError(str(exc)) from None
        elif any(key in get_type(name).settings for name in type_names()):
            # Another type's setting given to this one: a mistake worth naming, not ignoring.
            raise SurveyFileError(f"{where}: {key} does not apply to a {kind.name} question")
    return settings


def _parse_options(raw: list[Any], role: str, where: str) -> list[dict[str, Any]]:
    options = []
    seen: set[str] = set()
    for index, option in enumerate(raw, 1):
        if not isinstance(option, dict):
            raise SurveyFileError(f"{where}, option {index}: expected a mapping with code and label")
        code = _code(option.get("code"), f"{where}, option {index}")
        if code in seen:
            raise SurveyFileError(f"{where}: duplicate option code {code!r}")
        seen.add(code)
        options.append({
            "code": code,
            "role": role,
            "label": _texts(option.get("label"), f"{where}, option {code}"),
            "is_other": bool(option.get("other", False)),
            "is_exclusive": bool(option.get("exclusive", False)),
        })
    return options


def _answered_question_ids(survey_id: int, tests: bool) -> set[int]:
    """Questions with stored answers: in real responses, or (tests=True) in staff test responses."""
    rows = db.session.execute(
        select(Answer.question_id).join(Response)
        .where(Response.survey_id == survey_id, Response.is_test.is_(tests)).distinct()
    )
    return {row[0] for row in rows}


def _answered_option_codes(question: Question, tests: bool) -> set[tuple[str, str]]:
    """Codes (role, code) that stored answers refer to: chosen options, matrix rows, ranked items."""
    rows = db.session.execute(
        select(Answer.item_code, Answer.option_code).join(Response)
        .where(Answer.question_id == question.id, Response.is_test.is_(tests)).distinct()
    ).all()
    item_role = get_type(question.type).item_role
    used: set[tuple[str, str]] = set()
    for item, option in rows:
        if option:
            used.add((OptionRole.CHOICE.value, option))
        if item:
            used.add((item_role, item))
    return used


def _orphaned(survey: Survey, definition: dict[str, Any], tests: bool) -> list[str]:
    """What the new definition would orphan among stored answers (real ones, or staff tests')."""
    answered = _answered_question_ids(survey.id, tests)
    if not answered:
        return []
    existing_questions = {q.code: q for q in survey.questions}
    wanted_questions = {q["code"] for s in definition["sections"] for q in s["questions"]}
    problems = []
    for code, existing in existing_questions.items():
        if code not in wanted_questions and existing.id in answered:
            problems.append(f"question {code!r} has stored answers and cannot be removed")
    for section_def in definition["sections"]:
        for question_def in section_def["questions"]:
            question = existing_questions.get(question_def["code"])
            if question is None or question.id not in answered:
                continue
            if question.type != question_def["type"]:
                problems.append(
                    f"question {question.code!r} has stored answers; its type cannot change "
                    f"from {question.type} to {question_def['type']}"
                )
            wanted = {(o["role"], o["code"]) for o in question_def["options"]}
            for role, code in sorted(_answered_option_codes(question, tests)):
                if (role, code) not in wanted:
                    problems.append(f"option {code!r} of question {question.code!r} has stored answers "
                                    "and cannot be removed")
    return problems


def _delete_test_responses(survey_id: int) -> int:
    """Delete a survey's staff test responses with their answers (in the caller's transaction)."""
    tests = select(Response.id).where(Response.survey_id == survey_id, Response.is_test.is_(True))
    db.session.execute(delete(Answer).where(Answer.response_id.in_(tests)).execution_options(
        synchronize_session=False))
    return rows_changed(delete(Response).where(Response.survey_id == survey_id, Response.is_test.is_(True))
                        .execution_options(synchronize_session=False))


def apply_definition(definition: dict[str, Any]) -> LoadResult:
    """Create or update the survey by slug; refuse changes that would orphan stored answers. Commit."""
    survey = db.session.execute(select(Survey).where(Survey.slug == definition["slug"])).scalar_one_or_none()
    created = survey is None
    changes: list[str] = []
    if survey is None:
        survey = Survey(slug=definition["slug"])
        db.session.add(survey)
    for key in ("definition_version", "base_language", "languages", "title", "intro", "status", "opens_at",
                "closes_at", "anonymous", "open_link", "min_group_size", "retention_days"):
        if key not in definition:
            continue
        if created or getattr(survey, key) != definition[key]:
            if not created:
                changes.append(f"survey {key} changed")
            setattr(survey, key, definition[key])

    problems = [] if created else _orphaned(survey, definition, tests=False)
    if problems:
        db.session.rollback()
        raise SurveyFileError("refused, this change would orphan stored answers:\n- " + "\n- ".join(problems))
    if not created and _orphaned(survey, definition, tests=True):
        # Staff previews are disposable: rather than block a change, they go with what they answered.
        removed = _delete_test_responses(survey.id)
        changes.append(f"{removed} staff test response(s) deleted: they answered what this change removes")

    existing_sections = {s.code: s for s in survey.sections}
    existing_questions = {q.code: q for q in survey.questions}
    # Park positions out of the way so reordering never trips the unique codes mid-flush.
    kept_sections = []
    for s_pos, section_def in enumerate(definition["sections"], 1):
        section = existing_sections.pop(section_def["code"], None)
        if section is None:
            section = Section(code=section_def["code"], position=s_pos)
            survey.sections.append(section)
            if not created:
                changes.append(f"section {section_def['code']} added")
        section.position = s_pos
        section.title = section_def["title"]
        section.intro = section_def["intro"]
        kept_sections.append(section)
        for q_pos, question_def in enumerate(section_def["questions"], 1):
            question = existing_questions.pop(question_def["code"], None)
            if question is None:
                question = Question(code=question_def["code"])
                survey.questions.append(question)
                if not created:
                    changes.append(f"question {question_def['code']} added")
            question.section = section
            question.position = s_pos * 1000 + q_pos
            for key in ("type", "required", "label", "hint", "settings"):
                setattr(question, key, question_def[key])
            _apply_options(question, question_def["options"], changes)
    if not created:
        survey.revision = (survey.revision or 1) + 1
    for question in existing_questions.values():
        changes.append(f"question {question.code} removed")
        db.session.delete(question)
    for section in existing_sections.values():
        changes.append(f"section {section.code} removed")
        db.session.delete(section)
    db.session.commit()
    return LoadResult(survey=survey, created=created, changes=changes)


def _apply_options(question: Question, option_defs: list[dict[str, Any]], changes: list[str]) -> None:
    existing = {(o.role, o.code): o for o in question.options}
    for position, option_def in enumerate(option_defs, 1):
        option = existing.pop((option_def["role"], option_def["code"]), None)
        if option is None:
            option = Option(code=option_def["code"], role=option_def["role"])
            question.options.append(option)
            if question.id is not None:
                changes.append(f"option {option_def['code']} added to {question.code}")
        option.position = position
        option.label = option_def["label"]
        option.is_other = option_def["is_other"]
        option.is_exclusive = option_def["is_exclusive"]
    for option in existing.values():
        changes.append(f"option {option.code} removed from {question.code}")
        question.options.remove(option)


def load_survey_file(path: str | Path) -> LoadResult:
    """Read, validate and apply a survey file."""
    return apply_definition(parse_definition(read_definition(path)))


def get_survey(slug: str) -> Survey | None:
    return db.session.execute(select(Survey).where(Survey.slug == slug)).scalar_one_or_none()


@dataclass(frozen=True)
class SurveyCounts:
    invited: int
    started: int
    completed: int


def survey_counts(survey_id: int) -> SurveyCounts:
    """Invited / started / completed counts for the staff home (two grouped queries)."""
    invited = db.session.execute(
        select(func.count(Invitation.id)).where(Invitation.survey_id == survey_id)
    ).scalar_one()
    by_status = dict(
        db.session.execute(
            select(Response.status, func.count(Response.id))
            .where(Response.survey_id == survey_id, Response.is_test.is_(False))
            .group_by(Response.status)
        ).tuples().all()
    )
    completed = by_status.get(ResponseStatus.COMPLETE.value, 0)
    return SurveyCounts(invited=invited, started=completed + by_status.get(ResponseStatus.PARTIAL.value, 0),
                        completed=completed)


def list_surveys() -> list[tuple[Survey, SurveyCounts]]:
    surveys = db.session.execute(select(Survey).order_by(Survey.created_at, Survey.id)).scalars().all()
    return [(survey, survey_counts(survey.id)) for survey in surveys]


def bundled_survey_path(slug: str) -> Path:
    return BUNDLED_DIR / f"{slug}.yaml"
