"""The results summary of a survey: status counts, every question's figures and the cross-tabulation.

Shared by the dashboard, the PDF and the exports. Figures count complete responses; partial ones
are counted apart. Each question is summarised by its type (survey_app/questions) from its tally
(tallies.py), for the group the filter chooses, once disclosure control (disclosure.py) allows it.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from ...countries import country_name
from ...extensions import db
from ...models import Invitation, InvitationStatus, Participant, Response, ResponseStatus, Survey
from ...questions import QuestionResult, QuestionTally, QuestionView, SummaryContext, percent
from ...regions import REGION_NAMES, region_name, region_of
from .. import bursts
from ..structure import survey_structure
from . import tallies
from .disclosure import (
    UNKNOWN_COUNTRY,
    Disclosure,
    channel_counts,
    disclosure_rules,
    group_counts,
    scan_group_counts,
    suppress_small_groups,
    withheld_groups,
)
from .filters import CHANNEL_NAMES, CHANNELS, ResultFilter


@dataclass
class StatusCounts:
    invited: int
    opened: int
    partial: int
    completed: int
    completed_invited: int

    @property
    def response_rate(self) -> float | None:
        """Completed invitations over invitations: open-link responses are not in the rate."""
        return percent(self.completed_invited, self.invited)


@dataclass
class CrossTabColumn:
    code: str
    label: str
    base: int
    shown: bool


@dataclass
class CrossTab:
    question_code: str
    question_label: str
    columns: list[CrossTabColumn]
    rows: list[tuple[str, str, list[tuple[int | None, float | None]]]]  # code, label, per column
    total_base: int
    note: str
    # The "Other – please specify" option: counted in the table, but not an answer to name in a sentence.
    other_code: str | None = None

    @property
    def answers(self) -> list[tuple[str, str, list[tuple[int | None, float | None]]]]:
        """The rows that are answers in their own right (every row but the written-in "Other")."""
        return [row for row in self.rows if row[0] != self.other_code]


@dataclass
class SurveyResults:
    survey_id: int
    slug: str
    title: str
    language: str
    filter: ResultFilter
    min_group_size: int
    status: StatusCounts
    completed_all: int
    completed: int
    withheld: bool
    withheld_reason: str
    questions: list[QuestionResult]
    crosstab: CrossTab | None
    period_start: datetime | None
    period_end: datetime | None
    latest_submission: datetime | None
    data_version: str
    # Addresses that sent many open-link responses in this view (services/bursts.py); counts and times only.
    bursts: list[bursts.Burst] = field(default_factory=list)


def status_counts(survey_id: int, completed: int, filter_: ResultFilter | None = None) -> StatusCounts:
    """Invited, opened, partial and completed counts; `completed` comes from the group counts.

    Partial responses are counted through the status index (a few per cent of responses).
    """
    filter_ = filter_ or ResultFilter()
    inv = select(
        func.count(),
        func.sum(case((Invitation.opened_at.is_not(None), 1), else_=0)),
        func.sum(case((Invitation.status == InvitationStatus.COMPLETED.value, 1), else_=0)),
    ).where(Invitation.survey_id == survey_id)
    if filter_.active:
        inv = inv.join(Participant, Participant.id == Invitation.participant_id).where(
            *filter_.participant_conditions())
    invited, opened, completed_invited = db.session.execute(inv).one()
    partial = db.session.execute(
        select(func.count()).select_from(Response)
        .where(Response.status == ResponseStatus.PARTIAL.value, Response.survey_id == survey_id,
               Response.is_test.is_(False), *filter_.response_conditions())
    ).scalar_one()
    return StatusCounts(invited=invited or 0, opened=opened or 0, partial=partial, completed=completed,
                        completed_invited=completed_invited or 0)


def summarise(survey: Survey, filter_: ResultFilter | None = None, lang: str = "en", *,
              from_totals: bool | None = None) -> SurveyResults:
    """Aggregate every question for the filtered, publishable group, every text in the language asked."""
    with force_locale(lang):
        return _summarise(survey, filter_, lang, from_totals)


def _summarise(survey: Survey, filter_: ResultFilter | None, lang: str, from_totals: bool | None) -> SurveyResults:
    """The summary itself; see summarise().

    Without a filter, or with country and region filters, the figures come from the running
    totals (survey_app/services/totals.py), whose size does not grow with the responses; cohort
    and language filters count the answers. Both give the same results (tests/results/test_totals.py);
    from_totals forces one or the other.
    """
    filter_ = filter_ or ResultFilter()
    counted_filter = _without_every_channel(survey.id, filter_)
    if from_totals is None:
        from_totals = counted_filter.totals_suffice
    groups = (group_counts(survey.id, counted_filter) if from_totals
              else scan_group_counts(survey.id, counted_filter))
    rules = disclosure_rules(survey, groups)
    reason = suppress_small_groups(survey, filter_, rules, groups.n)
    results = SurveyResults(
        survey_id=survey.id, slug=survey.slug, title=survey.text(survey.title, lang), language=lang,
        filter=filter_, min_group_size=survey.min_group_size,
        status=status_counts(survey.id, groups.n, filter_),
        completed_all=groups.completed_all, completed=groups.n if not reason else 0,
        withheld=bool(reason), withheld_reason=reason, questions=[], crosstab=None,
        period_start=survey.opens_at or groups.first, period_end=survey.closes_at or groups.last,
        latest_submission=groups.latest, data_version=data_version(survey, groups.completed_all, groups.latest),
    )
    if reason:
        return results
    results.bursts = bursts.find_bursts(survey.id, filter_.response_conditions())
    questions = list(survey_structure(survey).questions.values())
    counted = (tallies.from_totals if from_totals else tallies.by_counting)(survey.id, counted_filter)
    context = SummaryContext(lang=lang, text=lambda texts: survey.text(texts, lang), rules=rules)
    for question in questions:
        result = question.kind.summarise(question, counted.get(question.id) or QuestionTally(), context)
        result.figures = question.kind.figures(result, context)
        results.questions.append(result)
    flagged = crosstab_question(questions)
    if flagged is not None:
        by_country = (tallies.countries_from_totals if from_totals else tallies.countries_by_counting)(
            survey.id, flagged.id, counted_filter)
        results.crosstab = crosstab(survey, flagged, by_country, lang)
    return results


def _without_every_channel(survey_id: int, filter_: ResultFilter) -> ResultFilter:
    """The same filter without its channels when they include every channel with complete responses.

    Such a channel filter changes no figure, so the running totals can still answer it; only a
    filter that leaves a channel out needs the counting path.
    """
    if filter_.channels and set(filter_.channels) >= set(channel_counts(survey_id)):
        return replace(filter_, channels=())
    return filter_


def data_version(survey: Survey, completed: int, latest: datetime | None) -> str:
    """Name the data a report was built from: survey revision, response count, latest submission."""
    stamp = latest.strftime("%Y%m%dT%H%M") if latest else "none"
    digest = hashlib.sha256(f"{survey.id}:{survey.revision}:{completed}:{stamp}".encode()).hexdigest()[:8]
    return f"r{survey.revision}-n{completed}-{stamp}-{digest}"


def crosstab_question(questions: list[QuestionView]) -> QuestionView | None:
    """The one-choice question flagged crosstab: true in the survey file."""
    return next((q for q in questions if q.settings.get("crosstab") and q.kind.one_choice), None)


def crosstab(survey: Survey, question: QuestionView, by_country: tallies.CountryCounts,
             lang: str = "en") -> CrossTab:
    """Cross the flagged question by world region; regions below the minimum are shown as withheld."""
    cells: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for country, options in by_country.items():
        for code, count in options.items():
            cells[region_of(country) or UNKNOWN_COUNTRY][code] += count
    minimum = survey.min_group_size
    bases = {code: sum(cells[code].values()) for code in cells}
    withheld = withheld_groups(bases, minimum)
    columns = []
    for code in [*REGION_NAMES, UNKNOWN_COUNTRY]:
        if code not in cells:
            continue
        label = _("Country not known") if code == UNKNOWN_COUNTRY else region_name(code)
        columns.append(CrossTabColumn(code, label, bases[code], code not in withheld))
    # Withheld columns hold 0 or at least `minimum` responses together (complementary suppression),
    # so the total minus the shown columns never isolates a small group.
    total = sum(bases.values())
    table_rows = []
    for option in question.choices:
        per_column: list[tuple[int | None, float | None]] = []
        for column in columns:
            n = cells[column.code].get(option.code, 0)
            per_column.append((n, percent(n, column.base)) if column.shown else (None, None))
        n_total = sum(cells[c.code].get(option.code, 0) for c in columns)  # every column, shown or not
        per_column.append((n_total, percent(n_total, total)))
        label = _("Other answers (written in)") if option.is_other else survey.text(option.label, lang)
        table_rows.append((option.code, label, per_column))
    table_rows.sort(key=lambda r: -(r[2][-1][0] or 0))
    note = _("Percentages are of each region's respondents who answered. Regions with fewer than %(num)d "
             "respondents are withheld; when only one would be, the next smallest is withheld too, so that no "
             "region's figures can be worked out by subtracting the others from the total.", num=minimum)
    other = question.other_option
    return CrossTab(question.code, survey.text(question.label, lang), columns, table_rows, total, note,
                    other.code if other is not None else None)


def filter_choices(survey: Survey, lang: str = "en") -> dict[str, list[tuple[str, str]]]:
    """Values staff may filter by, named in their language: only publishable groups, never with their counts."""
    rules: Disclosure = disclosure_rules(survey)
    with force_locale(lang):
        return {
            "countries": sorted(((c, country_name(c, lang)) for c in rules.countries), key=lambda pair: pair[1]),
            "regions": [(code, str(name)) for code, name in REGION_NAMES.items() if code in rules.regions],
            "cohorts": [(str(c), str(c)) for c in sorted(rules.cohorts)],
            "languages": [(code, code) for code in sorted(rules.languages)],
            "channels": [(channel, str(CHANNEL_NAMES[channel])) for channel in CHANNELS if channel in rules.channels],
        }
