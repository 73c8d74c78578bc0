"""Key findings: sentences generated from a survey's results in the report's language, as staff edited them.

Each sentence states only figures the report shows (the same counts, bases and rounded
percentages), and never one about a group below the minimum size: region sentences use only the
cross-tab columns disclosure control shows. Staff may rewrite or leave out each sentence per
language; an edit remembers the sentence it replaced, so the editor can say when the data moved on.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from babel.lists import format_list
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..figures import percent_text
from ..models import ReportFinding, StaffUser, Survey
from ..questions import OptionCount, QuestionResult
from . import audit
from .results import SurveyResults
from .results.disclosure import UNKNOWN_COUNTRY
from .structure import survey_structure

FINDING_MAX = 600
REGION_FINDINGS = 4


@dataclass(frozen=True)
class Generated:
    """A sentence the data gives, with the key its edits are stored under."""

    key: str
    text: str


@dataclass(frozen=True)
class Finding:
    """One key finding as the report prints it, and what the editor needs to know about it."""

    key: str
    text: str  # what the report prints: the staff's sentence, or the generated one
    generated: str  # what the data says now
    edited: bool
    removed: bool
    stale: bool  # edited or removed, and the generated sentence changed since


def _quoted(label: str) -> str:
    return _("“%(text)s”", text=label)


def _listed(labels: Sequence[str], lang: str) -> str:
    return format_list(list(labels), locale=lang)


def _top(options: Sequence[OptionCount]) -> list[OptionCount]:
    """The options with the largest count, leaving out pooled or uncategorised remainders."""
    candidates = [o for o in options if o.count and o.code and not (o.is_other and not o.category)]
    best = max((o.count for o in candidates), default=0)
    return [o for o in candidates if o.count == best] if best else []


def _choice_sentence(result: QuestionResult, lang: str) -> str | None:
    top = _top(result.options)
    if not top or not result.base:
        return None
    question, pct = _quoted(result.label), percent_text(top[0].percent)
    if len(top) == 1:
        return _("%(answer)s is the answer most often given to %(question)s: %(pct)s of the %(n)s respondents "
                 "who answered.", answer=top[0].label, question=question, pct=pct, n=result.base)
    return _("%(answers)s are the answers most often given to %(question)s: each %(pct)s of the %(n)s "
             "respondents who answered.", answers=_listed([o.label for o in top], lang), question=question,
             pct=pct, n=result.base)


def _matrix_sentence(result: QuestionResult, lang: str) -> str | None:
    """The row with the largest share on the scale's first point (such as "Daily")."""
    rows = [row for row in result.rows if row.base and row.counts and row.counts[0].count]
    if not rows:
        return None
    best = max(row.counts[0].percent or 0.0 for row in rows)
    top = [row for row in rows if (row.counts[0].percent or 0.0) == best]
    point = _quoted(top[0].counts[0].label)
    return _("In %(question)s, %(rows)s has the largest share answering %(point)s: %(pct)s of those who "
             "answered for it.", question=_quoted(result.label), rows=_listed([r.label for r in top], lang),
             point=point, pct=percent_text(best))


def _ranking_sentence(result: QuestionResult, lang: str) -> str | None:
    ranked = [r for r in result.ranks if r.first_count]
    if not ranked or not result.base:
        return None
    best = max(r.first_count for r in ranked)
    top = [r for r in ranked if r.first_count == best]
    return _("%(items)s is ranked first most often in %(question)s: the first choice of %(pct)s of the %(n)s "
             "respondents.", items=_listed([r.label for r in top], lang), question=_quoted(result.label),
             pct=percent_text(top[0].first_share), n=result.base)


def _number_sentence(result: QuestionResult, lang: str) -> str | None:
    number = result.number
    if number is None or not number.count or number.mean is None:
        return None
    return _("The average answer to %(question)s is %(mean)s (%(n)s answers, from %(low)s to %(high)s).",
             question=_quoted(result.label), mean=f"{number.mean:.1f}", n=number.count, low=number.minimum,
             high=number.maximum)


def _question_sentence(result: QuestionResult, lang: str) -> str | None:
    """A sentence from whichever figures the question's type filled in."""
    if result.rows:
        return _matrix_sentence(result, lang)
    if result.ranks:
        return _ranking_sentence(result, lang)
    if result.number is not None:
        return _number_sentence(result, lang)
    if result.options:
        return _choice_sentence(result, lang)
    return None


def _region_sentences(results: SurveyResults, lang: str) -> list[Generated]:
    """Regions whose most common answer differs from everyone's, largest regions first."""
    crosstab = results.crosstab
    if crosstab is None or not crosstab.answers:
        return []
    overall = max(row[2][-1][0] or 0 for row in crosstab.answers)
    overall_top = {code for code, _label, cells in crosstab.answers if overall and cells[-1][0] == overall}
    found = []
    columns = sorted(enumerate(crosstab.columns), key=lambda pair: -pair[1].base)
    for index, column in columns:
        # Only regions disclosure control shows, never "country not known" or a withheld one.
        if not column.shown or column.code == UNKNOWN_COUNTRY or column.base < results.min_group_size:
            continue
        best = max(cells[index][0] or 0 for _code, _label, cells in crosstab.answers)
        top = [(code, label, cells[index][1]) for code, label, cells in crosstab.answers
               if best and cells[index][0] == best]
        if not top or {code for code, _label, _pct in top} == overall_top:
            continue
        text = _("Fellows in %(region)s most often answered %(answers)s to %(question)s: %(pct)s of the %(n)s "
                 "respondents there.", region=column.label, answers=_listed([label for _c, label, _p in top], lang),
                 question=_quoted(crosstab.question_label), pct=percent_text(top[0][2]), n=column.base)
        found.append(Generated(f"region:{column.code}", text))
        if len(found) == REGION_FINDINGS:
            break
    return found


def generate(survey: Survey, results: SurveyResults) -> list[Generated]:
    """The sentences the data gives, in the results' language."""
    if results.withheld:
        return []
    with force_locale(results.language):
        return _generate(survey, results)


def _generate(survey: Survey, results: SurveyResults) -> list[Generated]:
    lang = results.language
    found: list[Generated] = []
    status = results.status
    if status.invited and status.response_rate is not None:
        found.append(Generated("response-rate", _(
            "%(done)s of the %(invited)s fellows invited completed the survey: a response rate of %(rate)s.",
            done=status.completed_invited, invited=status.invited, rate=percent_text(status.response_rate))))
    views = survey_structure(survey).questions
    for result in results.questions:
        view = views.get(result.code)
        # Who answered (cohort, country) and whether they may be quoted are not findings.
        if view is None or view.settings.get("profile") or view.settings.get("quote_consent"):
            continue
        if result.base < results.min_group_size:
            continue
        sentence = _question_sentence(result, lang)
        if sentence:
            found.append(Generated(f"question:{result.code}", sentence))
    found += _region_sentences(results, lang)
    return found


def _edits(survey: Survey, lang: str) -> dict[str, ReportFinding]:
    rows = db.session.execute(
        select(ReportFinding).where(ReportFinding.survey_id == survey.id, ReportFinding.language == lang)
    ).scalars()
    return {row.key: row for row in rows}


def merge(generated: Sequence[Generated], edits: dict[str, ReportFinding]) -> list[Finding]:
    """Each generated sentence with its edit, if any; edits of sentences the data no longer gives are dropped."""
    merged = []
    for item in generated:
        edit = edits.get(item.key)
        if edit is None:
            merged.append(Finding(item.key, item.text, item.text, False, False, False))
            continue
        merged.append(Finding(item.key, edit.text or "", item.text, edit.text is not None, edit.text is None,
                              edit.generated != item.text))
    return merged


def findings(survey: Survey, results: SurveyResults) -> list[Finding]:
    """Every finding with its edit state, for the editor (removed ones included)."""
    return merge(generate(survey, results), _edits(survey, results.language))


def printed(all_findings: Sequence[Finding]) -> list[Finding]:
    """The findings the report prints: removed ones left out."""
    return [f for f in all_findings if not f.removed and f.text]


@dataclass(frozen=True)
class FindingChange:
    """What staff sent for one finding: its key, their sentence ('' to use the data's), and whether to leave it out."""

    key: str
    text: str
    remove: bool


def save_edits(survey: Survey, results: SurveyResults, changes: Sequence[FindingChange],
               actor: StaffUser | None) -> int:
    """Store staff edits for the report's language; a sentence equal to the data's clears its edit. Commit.

    Returns how many findings now differ from the generated ones.
    """
    lang = results.language
    generated = {item.key: item.text for item in generate(survey, results)}
    edits = _edits(survey, lang)
    for change in changes:
        if change.key not in generated:
            continue  # the data no longer gives this sentence (the page was older than the data)
        text = " ".join(change.text.split())[:FINDING_MAX]
        edit = edits.get(change.key)
        if not change.remove and (not text or text == generated[change.key]):
            if edit is not None:
                db.session.delete(edit)
                del edits[change.key]
            continue
        if edit is None:
            edit = edits[change.key] = ReportFinding(survey_id=survey.id, language=lang, key=change.key)
            db.session.add(edit)
        edit.text = None if change.remove else text
        edit.generated = generated[change.key]
        edit.updated_by_id = actor.id if actor is not None else None
    audit.record("report.findings_edited", survey.id, actor=actor, language=lang, edited=len(edits))
    db.session.commit()
    return len(edits)
