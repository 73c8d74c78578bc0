"""Immutable, cached snapshots of a survey's structure for the hot respondent pages."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Question, Section, Survey, SurveyState
from ..models.survey import pick_text, survey_state
from ..questions import OptionView, QuestionView

Texts = dict[str, str]


@dataclass(frozen=True)
class SurveyRef:
    """The columns of a survey that respondent pages read: read as plain values, not an ORM object."""

    id: int
    slug: str
    revision: int
    base_language: str
    title: Texts
    intro: Texts
    status: str
    opens_at: datetime | None
    closes_at: datetime | None
    anonymous: bool
    created_at: datetime

    # The model's own rules, so a snapshot and a loaded survey can never disagree.
    def state(self, now: datetime | None = None) -> SurveyState:
        return survey_state(self.status, self.opens_at, self.closes_at, now)

    def text(self, texts: Texts, lang: str) -> str:
        return pick_text(texts, lang, self.base_language)


# Table columns, not ORM attributes: a Core statement executes in half the time of an ORM-enabled one.
_surveys = Survey.__table__.c
SURVEY_REF_COLUMNS = (_surveys.id, _surveys.slug, _surveys.revision, _surveys.base_language, _surveys.title,
                      _surveys.intro, _surveys.status, _surveys.opens_at, _surveys.closes_at, _surveys.anonymous,
                      _surveys.created_at)


@dataclass(frozen=True)
class SectionView:
    code: str
    number: int
    title: Texts
    intro: Texts
    questions: tuple[QuestionView, ...]


@dataclass(frozen=True)
class SurveyStructure:
    survey_id: int
    revision: int
    base_language: str
    sections: tuple[SectionView, ...]
    questions: dict[str, QuestionView] = field(default_factory=dict)

    def text(self, texts: Texts, lang: str) -> str:
        return texts.get(lang) or texts.get(self.base_language) or next(iter(texts.values()), "")

    def section(self, number: int) -> SectionView | None:
        return self.sections[number - 1] if 1 <= number <= len(self.sections) else None


_cache: dict[tuple, SurveyStructure] = {}
_lock = threading.Lock()


def _build(survey: Survey | SurveyRef) -> SurveyStructure:
    sections = db.session.execute(
        select(Section)
        .where(Section.survey_id == survey.id)
        .order_by(Section.position)
        .options(selectinload(Section.questions).selectinload(Question.options))
    ).scalars().all()
    views: list[SectionView] = []
    questions: dict[str, QuestionView] = {}
    for number, section in enumerate(sections, 1):
        qviews = []
        for q in section.questions:
            qview = QuestionView(
                id=q.id, code=q.code, type=q.type, required=q.required, label=dict(q.label),
                hint=dict(q.hint or {}), settings=dict(q.settings or {}),
                choices=tuple(OptionView(o.code, dict(o.label), o.is_other, o.is_exclusive) for o in q.choices),
                rows=tuple(OptionView(o.code, dict(o.label)) for o in q.rows),
            )
            qviews.append(qview)
            questions[q.code] = qview
        views.append(SectionView(section.code, number, dict(section.title), dict(section.intro or {}), tuple(qviews)))
    return SurveyStructure(survey.id, survey.revision, survey.base_language, tuple(views), questions)


def survey_structure(survey: Survey | SurveyRef) -> SurveyStructure:
    """Return the survey's structure, rebuilt only when the survey file was reloaded."""
    # The database URL and creation time tell apart surveys that share an id in other databases.
    identity = (str(db.engine.url), survey.id, survey.created_at)
    key = (*identity, survey.revision)
    cached = _cache.get(key)
    if cached is None:
        cached = _build(survey)
        with _lock:
            for old in [k for k in _cache if k[:3] == identity]:
                del _cache[old]
            _cache[key] = cached
    return cached
