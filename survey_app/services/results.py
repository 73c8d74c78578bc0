"""Survey results aggregated in SQL, with small groups withheld; shared by dashboard, exports and PDF.

Figures count complete responses; partial ones are counted apart.  A group (country, region,
cohort, language, or a filter combining them) is shown only with at least the survey's minimum
group size of complete responses, and groups are withheld in pairs where one alone could be
recovered by subtracting the shown groups from a total (see disclosure_rules).
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, select, true
from sqlalchemy.sql.elements import ColumnElement

from ..countries import country_codes, country_name
from ..extensions import db
from ..models import (
    NO_COHORT,
    Answer,
    AnswerTotal,
    Invitation,
    InvitationStatus,
    Option,
    OptionRole,
    Participant,
    Question,
    QuestionType,
    Response,
    ResponseChannel,
    ResponseStatus,
    ResponseTotal,
    Survey,
)
from ..regions import REGION_NAMES, countries_in, region_name, region_of
from . import audit, bursts, paging, totals

CHOICE_COUNT_TYPES = {QuestionType.SINGLE.value, QuestionType.MULTIPLE.value, QuestionType.LIKERT.value,
                      QuestionType.MATRIX.value}
TEXT_TYPES = {QuestionType.TEXT.value, QuestionType.TEXTAREA.value}
# Types whose respondents are counted per question (the others give one answer per respondent).
DISTINCT_TYPES = frozenset({t.value for t in QuestionType} - {QuestionType.SINGLE.value, QuestionType.LIKERT.value,
                                                              QuestionType.MATRIX.value})
UNKNOWN_COUNTRY = "unknown"
CATEGORY_MAX = 100
# Channels staff may filter by; responses stored before channels were recorded are in neither.
CHANNELS = (ResponseChannel.PERSONAL.value, ResponseChannel.OPEN.value)
CHANNEL_NAMES = {ResponseChannel.PERSONAL.value: "personal link", ResponseChannel.OPEN.value: "open link"}


class ResultsError(ValueError):
    """A review action was refused; the message says why."""


@dataclass(frozen=True)
class ResultFilter:
    """Respondent groups to include: any value within a dimension, every dimension at once."""

    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    cohorts: tuple[int, ...] = ()
    languages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    @classmethod
    def from_values(cls, countries=(), regions=(), cohorts=(), languages=(), channels=()) -> ResultFilter:
        """Build a filter from untrusted strings, dropping values that are not codes we know."""
        known = set(country_codes())
        cohort_values = []
        for value in cohorts:
            try:
                cohort_values.append(int(value))
            except (TypeError, ValueError):
                continue
        return cls(
            countries=tuple(sorted({c.upper() for c in countries if c and c.upper() in known})),
            regions=tuple(sorted({r for r in regions if r in REGION_NAMES})),
            cohorts=tuple(sorted(set(cohort_values))),
            languages=tuple(sorted({lang for lang in languages if lang and len(lang) <= 8})),
            channels=tuple(sorted({c for c in channels if c in CHANNELS})),
        )

    @property
    def active(self) -> bool:
        return bool(self.countries or self.regions or self.cohorts or self.languages or self.channels)

    def describe(self, lang: str = "en") -> str:
        parts = []
        if self.countries:
            parts.append(", ".join(country_name(c, lang) for c in self.countries))
        if self.regions:
            parts.append(", ".join(region_name(r) for r in self.regions))
        if self.cohorts:
            parts.append("cohort " + ", ".join(str(c) for c in self.cohorts))
        if self.languages:
            parts.append("language " + ", ".join(self.languages))
        if self.channels:
            parts.append(", ".join(CHANNEL_NAMES[c] for c in self.channels))
        return "; ".join(parts)

    @property
    def totals_suffice(self) -> bool:
        """Running totals are kept per country, so they answer no filter, or a country or region filter."""
        return not (self.cohorts or self.languages or self.channels)

    def allows_country(self, country: str | None) -> bool:
        """Whether respondents of this country are in the filter (cohort and language aside)."""
        if self.countries and country not in self.countries:
            return False
        return not self.regions or (country is not None and region_of(country) in self.regions)

    def response_conditions(self) -> list[ColumnElement[bool]]:
        return self._conditions(Response.country, Response.cohort, Response.language, Response.channel)

    def participant_conditions(self) -> list[ColumnElement[bool]]:
        """Invited people answer through their personal link: a filter without that channel has none."""
        return self._conditions(Participant.country, Participant.cohort, Participant.language,
                                literal(ResponseChannel.PERSONAL.value))

    def _conditions(self, country, cohort, language, channel=None) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.countries:
            conditions.append(country.in_(self.countries))
        if self.regions:
            conditions.append(country.in_(countries_in(self.regions)))
        if self.cohorts:
            conditions.append(cohort.in_(self.cohorts))
        if self.languages:
            conditions.append(language.in_(self.languages))
        if self.channels and channel is not None:
            conditions.append(channel.in_(self.channels))
        return conditions


@dataclass
class OptionCount:
    code: str
    label: str
    count: int
    percent: float | None
    is_other: bool = False
    category: str | None = None


@dataclass
class MatrixRow:
    code: str
    label: str
    base: int
    counts: list[OptionCount]


@dataclass
class RankItem:
    code: str
    label: str
    ranked_by: int
    mean_rank: float | None
    first_count: int
    first_share: float | None


@dataclass
class NumberSummary:
    count: int
    mean: float | None
    minimum: int | None
    maximum: int | None


@dataclass
class QuestionResult:
    code: str
    type: str
    label: str
    base: int
    options: list[OptionCount] = field(default_factory=list)
    scale: list[tuple[str, str]] = field(default_factory=list)
    rows: list[MatrixRow] = field(default_factory=list)
    ranks: list[RankItem] = field(default_factory=list)
    number: NumberSummary | None = None
    other_texts: int = 0
    texts: int = 0
    note: str = ""
    withheld_note: str = ""

    @property
    def multiple(self) -> bool:
        return self.type == QuestionType.MULTIPLE.value


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


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def complete_condition(survey_id: int) -> ColumnElement[bool]:
    return and_(Response.survey_id == survey_id, Response.status == ResponseStatus.COMPLETE.value)


@dataclass
class Groups:
    """Complete responses per respondent group, and the figures of the filtered group."""

    countries: dict[str | None, int]
    cohorts: dict[int | None, int]
    languages: dict[str, int]
    channels: dict[str, int]
    latest: datetime | None
    n: int
    first: datetime | None
    last: datetime | None

    @property
    def completed_all(self) -> int:
        return sum(self.countries.values())


def group_counts(survey_id: int, filter_: ResultFilter | None = None) -> Groups:
    """Read the respondent groups from the running totals: one query over a few hundred rows."""
    filter_ = filter_ or ResultFilter()
    if not filter_.totals_suffice:
        raise ValueError("running totals are not kept per cohort or language")
    rows = db.session.execute(
        select(ResponseTotal.country, ResponseTotal.cohort, ResponseTotal.language, ResponseTotal.responses,
               ResponseTotal.first_submitted_at, ResponseTotal.last_submitted_at)
        .where(ResponseTotal.survey_id == survey_id, ResponseTotal.responses > 0)
    ).all()
    countries: dict[str | None, int] = defaultdict(int)
    cohorts: dict[int | None, int] = defaultdict(int)
    languages: dict[str, int] = defaultdict(int)
    latest = first = last = None
    n = 0
    for country, cohort, language, count, first_at, last_at in rows:
        country = country or None
        countries[country] += count
        cohorts[None if cohort == NO_COHORT else cohort] += count
        languages[language] += count
        latest = max(latest, last_at) if latest and last_at else latest or last_at
        if filter_.allows_country(country):
            n += count
            first = min(first, first_at) if first and first_at else first or first_at
            last = max(last, last_at) if last and last_at else last or last_at
    return Groups(dict(countries), dict(cohorts), dict(languages), channel_counts(survey_id), latest, n, first, last)


def channel_counts(survey_id: int) -> dict[str, int]:
    """Complete responses per channel: the running totals hold no channel, so an index-only count."""
    return dict(db.session.execute(
        select(Response.channel, func.count()).where(complete_condition(survey_id)).group_by(Response.channel)
    ).all())


def scan_group_counts(survey_id: int, filter_: ResultFilter | None = None) -> Groups:
    """Count the respondent groups from the responses themselves (any filter; cost grows with responses)."""
    filter_ = filter_ or ResultFilter()

    def by(column) -> dict[Any, int]:
        return dict(db.session.execute(
            select(column, func.count()).where(complete_condition(survey_id)).group_by(column)).all())

    n, first, last = db.session.execute(
        select(func.count(), func.min(Response.submitted_at), func.max(Response.submitted_at))
        .where(complete_condition(survey_id), *filter_.response_conditions())
    ).one()
    latest = db.session.execute(
        select(func.max(Response.submitted_at)).where(complete_condition(survey_id))).scalar()
    return Groups(by(Response.country), by(Response.cohort), by(Response.language), by(Response.channel), latest, n,
                  first, last)


def withheld_groups(counts: dict[Any, int], minimum: int, always: set[Any] = frozenset()) -> set[Any]:
    """Groups below the minimum, plus the smallest others until the withheld total is 0 or >= minimum.

    The second step is complementary suppression: without it, the total minus the groups
    shown would give the figure of a lone withheld group.  Keys in `always` are withheld too.
    """
    withheld = {key for key, n in counts.items() if n < minimum or key in always}
    hidden = sum(counts[key] for key in withheld)
    for key in sorted((k for k in counts if k not in withheld), key=lambda k: (counts[k], str(k))):
        if hidden == 0 or hidden >= minimum:
            break
        withheld.add(key)
        hidden += counts[key]
    return withheld


@dataclass(frozen=True)
class Disclosure:
    """Which groups staff may select and see on their own; everything else is withheld."""

    minimum: int
    countries: frozenset[str]
    regions: frozenset[str]
    cohorts: frozenset[int]
    languages: frozenset[str]
    channels: frozenset[str] = frozenset()


def disclosure_rules(survey: Survey, groups: Groups | None = None) -> Disclosure:
    """Work out the publishable countries, regions, cohorts and languages from the group counts.

    A country is withheld when it has fewer complete responses than the minimum; within each
    region, if the withheld countries hold between 1 and minimum-1 responses, the region's
    smallest shown country is withheld as well, so region minus countries never isolates them.
    """
    groups = groups or group_counts(survey.id)
    minimum = survey.min_group_size
    by_country = groups.countries
    withheld = withheld_groups(by_country, minimum, always={None})
    by_region: dict[str, dict[str | None, int]] = defaultdict(dict)
    for country, n in by_country.items():
        by_region[region_of(country) or UNKNOWN_COUNTRY][country] = n
    for members in by_region.values():
        residual = sum(n for c, n in members.items() if c in withheld)
        if 0 < residual < minimum:
            shown = sorted((c for c in members if c not in withheld), key=lambda c: (members[c], c))
            if shown:
                withheld.add(shown[0])
    region_counts = {r: sum(m.values()) for r, m in by_region.items()}
    cohorts, languages = groups.cohorts, groups.languages
    return Disclosure(
        minimum=minimum,
        countries=frozenset(c for c in by_country if c not in withheld),
        regions=frozenset(r for r in region_counts
                          if r not in withheld_groups(region_counts, minimum) and r != UNKNOWN_COUNTRY),
        cohorts=frozenset(c for c in cohorts if c not in withheld_groups(cohorts, minimum, always={None})),
        languages=frozenset(lang for lang in languages if lang not in withheld_groups(languages, minimum)),
        # Responses whose channel is unknown count as a group of their own, so that "all minus one
        # channel" never reveals a small other channel.
        channels=frozenset(c for c in groups.channels
                           if c in CHANNELS and c not in withheld_groups(groups.channels, minimum)),
    )


def suppress_small_groups(survey: Survey, filter_: ResultFilter, rules: Disclosure, n: int) -> str:
    """Return why results for this filter are withheld, or '' when they may be shown."""
    minimum = survey.min_group_size
    if (set(filter_.countries) - rules.countries or set(filter_.regions) - rules.regions
            or set(filter_.cohorts) - rules.cohorts or set(filter_.languages) - rules.languages
            or set(filter_.channels) - rules.channels):
        return (f"Results are not shown for groups with fewer than {minimum} complete responses (or for "
                "groups whose figures would reveal such a group by subtraction), so that no one can be "
                "identified from their answers. Choose a wider group.")
    if n < minimum:
        return (f"This group has fewer than {minimum} complete responses, so its results are withheld "
                "to protect the respondents' anonymity. Choose a wider group.")
    return ""


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
               *filter_.response_conditions())
    ).scalar_one()
    return StatusCounts(invited=invited or 0, opened=opened or 0, partial=partial, completed=completed,
                        completed_invited=completed_invited or 0)


def _is_country_question(question: Question) -> bool:
    choices = question.choices
    known = set(country_codes())
    return len(choices) > 50 and all(o.code.upper() in known for o in choices)


def summarise(survey: Survey, filter_: ResultFilter | None = None, lang: str = "en", *,
              from_totals: bool | None = None) -> SurveyResults:
    """Aggregate every question for the filtered, publishable group.

    Without a filter, or with country and region filters, the figures come from the running
    totals (survey_app/services/totals.py), whose size does not grow with the responses; cohort
    and language filters count the answers in a handful of GROUP BY queries. Both give the same
    results (tests/results/test_totals.py); from_totals forces one or the other.
    """
    filter_ = filter_ or ResultFilter()
    counted = _without_every_channel(survey.id, filter_)
    if from_totals is None:
        from_totals = counted.totals_suffice
    groups = group_counts(survey.id, counted) if from_totals else scan_group_counts(survey.id, counted)
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
    tallies = totals_tallies(survey, counted) if from_totals else scan_tallies(survey, counted)
    results.questions = _question_results(survey, tallies, lang, rules)
    results.crosstab = crosstab(survey, tallies.crosstab, lang)
    return results


def _without_every_channel(survey_id: int, filter_: ResultFilter) -> ResultFilter:
    """The same filter without its channels when they include every channel with complete responses.

    Such a channel filter changes no figure, so the running totals can still answer it; only a
    filter that leaves a channel out needs the scanning path.
    """
    if filter_.channels and set(filter_.channels) >= set(channel_counts(survey_id)):
        return replace(filter_, channels=())
    return filter_


def data_version(survey: Survey, completed: int, latest: datetime | None) -> str:
    """Name the data a report was built from: survey revision, response count, latest submission."""
    stamp = latest.strftime("%Y%m%dT%H%M") if latest else "none"
    digest = hashlib.sha256(f"{survey.id}:{survey.revision}:{completed}:{stamp}".encode()).hexdigest()[:8]
    return f"r{survey.revision}-n{completed}-{stamp}-{digest}"


@dataclass
class Tallies:
    """What the question figures are computed from, read from the totals or counted from answers.

    counts: choice answers per (item, option), option not blank; bases and texts: responses that
    answered and texts given, per question; ranks: (ranked by, sum of ranks, ranked first) per
    item; numbers: (count, sum, min, max); categories: {option: {category: n}}; crosstab:
    {country: {option: n}} for the cross-tab question.
    """

    counts: dict[int, dict[tuple[str, str], int]] = field(default_factory=lambda: defaultdict(dict))
    other_texts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    bases: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    texts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    ranks: dict[int, dict[str, tuple[int, int, int]]] = field(default_factory=lambda: defaultdict(dict))
    numbers: dict[int, tuple[int, int, int | None, int | None]] = field(default_factory=dict)
    categories: dict[int, dict[str, dict[str, int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(dict)))
    crosstab: dict[str | None, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))



def totals_tallies(survey: Survey, filter_: ResultFilter) -> Tallies:
    """Sum the running totals over countries: two queries whose size is set by the survey, not its responses."""
    types = {q.id: q.type for q in survey.questions}
    distinct = DISTINCT_TYPES
    where = [AnswerTotal.survey_id == survey.id, *filter_._conditions(AnswerTotal.country, None, None)]
    keys = (AnswerTotal.question_id, AnswerTotal.item_code, AnswerTotal.option_code, AnswerTotal.number,
            AnswerTotal.category)
    rows = db.session.execute(
        select(*keys, func.sum(AnswerTotal.answers), func.sum(AnswerTotal.numbers), func.sum(AnswerTotal.texts),
               func.sum(AnswerTotal.respondents)).where(*where).group_by(*keys)
    ).all()
    tallies = Tallies()
    for qid, item, option, number, category, answers, numbers, texts, respondents in rows:
        qtype = types.get(qid)
        if qtype in CHOICE_COUNT_TYPES and option and answers:
            cell = tallies.counts[qid]
            cell[(item, option)] = cell.get((item, option), 0) + answers
            tallies.other_texts[qid] += texts
        if qtype in distinct:
            tallies.bases[qid] += respondents
            tallies.texts[qid] += texts
        if qtype == QuestionType.RANKING.value and numbers:
            ranked, total, firsts = tallies.ranks[qid].get(item, (0, 0, 0))
            tallies.ranks[qid][item] = (ranked + numbers, total + number * numbers,
                                        firsts + (numbers if number == 1 else 0))
        if qtype == QuestionType.NUMBER.value and numbers:
            count, total, low, high = tallies.numbers.get(qid, (0, 0, None, None))
            tallies.numbers[qid] = (count + numbers, total + number * numbers,
                                    number if low is None else min(low, number),
                                    number if high is None else max(high, number))
        if category and answers:
            found = tallies.categories[qid][option]
            found[category] = found.get(category, 0) + answers
    question = crosstab_question(survey)
    if question is not None:
        for country, option, n in db.session.execute(
            select(AnswerTotal.country, AnswerTotal.option_code, func.sum(AnswerTotal.answers))
            .where(*where, AnswerTotal.question_id == question.id, AnswerTotal.option_code != "")
            .group_by(AnswerTotal.country, AnswerTotal.option_code)
        ).all():
            if n:
                tallies.crosstab[country or None][option] = n
    return tallies


def scan_tallies(survey: Survey, filter_: ResultFilter) -> Tallies:
    """Count every answer of the filtered complete responses in GROUP BY queries (any filter)."""
    where = [complete_condition(survey.id), *filter_.response_conditions()]
    questions = list(survey.questions)
    choice_ids = [q.id for q in questions if q.type in CHOICE_COUNT_TYPES]
    ranking_ids = [q.id for q in questions if q.type == QuestionType.RANKING.value]
    distinct_ids = [q.id for q in questions if q.type in DISTINCT_TYPES]
    number_ids = [q.id for q in questions if q.type == QuestionType.NUMBER.value]
    joined = select().select_from(Answer).join(Response, Response.id == Answer.response_id).where(*where)
    tallies = Tallies()
    if choice_ids:
        rows = db.session.execute(
            joined.add_columns(Answer.question_id, Answer.item_code, Answer.option_code, func.count(),
                               func.count(Answer.text))
            .where(Answer.question_id.in_(choice_ids), Answer.option_code != "")
            .group_by(Answer.question_id, Answer.item_code, Answer.option_code)
        ).all()
        for qid, item, option, count, with_text in rows:
            tallies.counts[qid][(item, option)] = count
            tallies.other_texts[qid] += with_text
    if distinct_ids:
        rows = db.session.execute(
            joined.add_columns(Answer.question_id, func.count(func.distinct(Answer.response_id)),
                               func.count(Answer.text))
            .where(Answer.question_id.in_(distinct_ids))
            .group_by(Answer.question_id)
        ).all()
        for qid, base, with_text in rows:
            tallies.bases[qid] = base
            tallies.texts[qid] = with_text
    if ranking_ids:
        rows = db.session.execute(
            joined.add_columns(Answer.question_id, Answer.item_code, func.count(), func.sum(Answer.number),
                               func.sum(case((Answer.number == 1, 1), else_=0)))
            .where(Answer.question_id.in_(ranking_ids), Answer.number.is_not(None))
            .group_by(Answer.question_id, Answer.item_code)
        ).all()
        for qid, item, count, total, firsts in rows:
            tallies.ranks[qid][item] = (count, int(total or 0), int(firsts or 0))
    if number_ids:
        rows = db.session.execute(
            joined.add_columns(Answer.question_id, func.count(Answer.number), func.sum(Answer.number),
                               func.min(Answer.number), func.max(Answer.number))
            .where(Answer.question_id.in_(number_ids)).group_by(Answer.question_id)
        ).all()
        for qid, count, total, low, high in rows:
            tallies.numbers[qid] = (count, int(total or 0), low, high)
    for qid, option, category, count in db.session.execute(
        joined.add_columns(Answer.question_id, Answer.option_code, Answer.category, func.count())
        .where(Answer.category.is_not(None), Answer.category != "")
        .group_by(Answer.question_id, Answer.option_code, Answer.category)
    ).all():
        tallies.categories[qid][option][category] = count
    question = crosstab_question(survey)
    if question is not None:
        for country, option, count in db.session.execute(
            joined.add_columns(Response.country, Answer.option_code, func.count())
            .where(Answer.question_id == question.id, Answer.option_code != "")
            .group_by(Response.country, Answer.option_code)
        ).all():
            tallies.crosstab[country][option] = count
    return tallies


def _mean(total: int, count: int) -> float | None:
    """Mean to two decimals, computed the same way whichever source the sums came from."""
    return round(total / count, 2) if count else None


def _question_results(survey: Survey, tallies: Tallies, lang: str, rules: Disclosure) -> list[QuestionResult]:
    results = []
    for question in survey.questions:
        label = survey.text(question.label, lang)
        result = QuestionResult(code=question.code, type=question.type, label=label, base=0,
                                other_texts=tallies.other_texts.get(question.id, 0),
                                texts=tallies.texts.get(question.id, 0))
        qcounts = tallies.counts.get(question.id, {})
        if question.type in (QuestionType.SINGLE.value, QuestionType.LIKERT.value, QuestionType.MULTIPLE.value):
            if question.type == QuestionType.MULTIPLE.value:
                result.base = tallies.bases.get(question.id, 0)
                result.note = ("Percentages do not add up to 100 % because respondents could choose "
                               "more than one answer.")
            else:
                result.base = sum(qcounts.values())
            result.options = _option_counts(survey, question, qcounts, result.base, lang,
                                            tallies.categories.get(question.id, {}))
            if question.type != QuestionType.LIKERT.value:
                result.options.sort(key=lambda o: (-o.count, o.label.casefold()))
            if _is_country_question(question):
                _withhold_small_countries(result, rules)
        elif question.type == QuestionType.MATRIX.value:
            result.scale = [(o.code, survey.text(o.label, lang)) for o in question.choices]
            row_bases: dict[str, int] = defaultdict(int)
            for (item, _option), count in qcounts.items():
                row_bases[item] += count
            result.base = max(row_bases.values(), default=0)
            for row in question.rows:
                base = row_bases.get(row.code, 0)
                result.rows.append(MatrixRow(row.code, survey.text(row.label, lang), base, [
                    OptionCount(o.code, survey.text(o.label, lang), qcounts.get((row.code, o.code), 0),
                                percent(qcounts.get((row.code, o.code), 0), base))
                    for o in question.choices
                ]))
            result.note = "Each row's percentages are of the respondents who answered that row."
        elif question.type == QuestionType.RANKING.value:
            result.base = tallies.bases.get(question.id, 0)
            for option in question.choices:
                count, total, firsts = tallies.ranks.get(question.id, {}).get(option.code, (0, 0, 0))
                result.ranks.append(RankItem(option.code, survey.text(option.label, lang), count,
                                             _mean(total, count), firsts, percent(firsts, result.base)))
            result.ranks.sort(key=lambda r: (r.mean_rank is None, r.mean_rank or 0, r.label.casefold()))
            result.note = ("Mean rank: 1 is the most preferred. First choice: share of respondents "
                           "who ranked the item first.")
        elif question.type == QuestionType.NUMBER.value:
            count, total, low, high = tallies.numbers.get(question.id, (0, 0, None, None))
            result.number = NumberSummary(count, _mean(total, count), low, high)
            result.base = count
        else:
            result.base = tallies.bases.get(question.id, 0)
        results.append(result)
    return results


def _option_counts(survey: Survey, question: Question, qcounts: dict[tuple[str, str], int], base: int,
                   lang: str, categories: dict[str, dict[str, int]]) -> list[OptionCount]:
    """Count each choice; split an "Other" option into its staff-made categories and the rest."""
    options = []
    for option in question.choices:
        count = qcounts.get(("", option.code), 0)
        label = survey.text(option.label, lang)
        if option.is_other and categories.get(option.code):
            short = "Other"
            for category, n in sorted(categories[option.code].items()):
                options.append(OptionCount(option.code, f"{short}: {category}", n, percent(n, base),
                                           is_other=True, category=category))
                count -= n
            label = f"{short}: not categorised"
        if count or not option.is_other or not categories.get(option.code):
            options.append(OptionCount(option.code, label, count, percent(count, base), is_other=option.is_other))
    return options


def _withhold_small_countries(result: QuestionResult, rules: Disclosure) -> None:
    """Show only publishable countries; pool the rest into one bar, itself withheld when small."""
    kept = [o for o in result.options if o.code.upper() in rules.countries and o.count]
    pooled = sum(o.count for o in result.options if o.code.upper() not in rules.countries)
    if pooled:
        result.withheld_note = (f"Countries with fewer than {rules.minimum} respondents (and, where needed, "
                                "one more so that none can be found by subtraction) are not shown on their own.")
        if pooled >= rules.minimum:
            kept.append(OptionCount("", "Other countries (each shown only in total)", pooled,
                                    percent(pooled, result.base)))
    result.options = kept


def crosstab_question(survey: Survey) -> Question | None:
    """The single-choice question flagged crosstab: true in the survey file."""
    for question in survey.questions:
        if question.settings.get("crosstab") and question.type == QuestionType.SINGLE.value:
            return question
    return None


def crosstab(survey: Survey, by_country: dict[str | None, dict[str, int]], lang: str = "en") -> CrossTab | None:
    """Cross the flagged question by world region; regions below the minimum are shown as withheld."""
    question = crosstab_question(survey)
    if question is None:
        return None
    cells: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for country, options in by_country.items():
        for option, count in options.items():
            cells[region_of(country) or UNKNOWN_COUNTRY][option] += count
    minimum = survey.min_group_size
    bases = {code: sum(cells[code].values()) for code in cells}
    withheld = withheld_groups(bases, minimum)
    columns = []
    for code in [*REGION_NAMES, UNKNOWN_COUNTRY]:
        if code not in cells:
            continue
        label = "Country not known" if code == UNKNOWN_COUNTRY else region_name(code)
        columns.append(CrossTabColumn(code, label, bases[code], code not in withheld))
    # Withheld columns hold 0 or at least `minimum` responses together (complementary suppression),
    # so the total minus the shown columns never isolates a small group.
    total = sum(bases.values())
    shown = columns
    table_rows = []
    for option in question.choices:
        per_column: list[tuple[int | None, float | None]] = []
        for column in columns:
            n = cells[column.code].get(option.code, 0)
            per_column.append((n, percent(n, column.base)) if column.shown else (None, None))
        n_total = sum(cells[c.code].get(option.code, 0) for c in shown)  # every column, shown or not
        per_column.append((n_total, percent(n_total, total)))
        table_rows.append((option.code, survey.text(option.label, lang), per_column))
    table_rows.sort(key=lambda r: -(r[2][-1][0] or 0))
    note = (f"Percentages are of each region's respondents who answered. Regions with fewer than {minimum} "
            "respondents are withheld; when only one would be, the next smallest is withheld too, so that "
            "no region's figures can be worked out by subtracting the others from the total.")
    return CrossTab(question.code, survey.text(question.label, lang), columns, table_rows, total, note)


def filter_choices(survey: Survey) -> dict[str, list[tuple[str, str]]]:
    """Values staff may filter by: only publishable groups, and never with their counts."""
    rules = disclosure_rules(survey)
    return {
        "countries": sorted(((c, country_name(c)) for c in rules.countries), key=lambda pair: pair[1]),
        "regions": [(code, name) for code, name in REGION_NAMES.items() if code in rules.regions],
        "cohorts": [(str(c), str(c)) for c in sorted(rules.cohorts)],
        "languages": [(lang, lang) for lang in sorted(rules.languages)],
        "channels": [(channel, CHANNEL_NAMES[channel]) for channel in CHANNELS if channel in rules.channels],
    }


# --- free-text review ---------------------------------------------------------------

@dataclass
class TextAnswer:
    answer_id: int
    response_id: int
    question_code: str
    question_label: str
    option_label: str
    text: str
    language: str
    consent: bool
    quote_approved: bool
    category: str | None
    is_other: bool


@dataclass
class TextPage:
    items: list[TextAnswer]
    page: int
    pages: int
    total: int


def consent_question(survey: Survey) -> Question | None:
    for question in survey.questions:
        if question.settings.get("quote_consent"):
            return question
    return None


def reviewable_questions(survey: Survey) -> list[Question]:
    """Questions whose free text staff review: quotable texts and choices with an "Other" box."""
    return [q for q in survey.questions
            if (q.type in TEXT_TYPES and q.settings.get("quotable")) or any(o.is_other for o in q.choices)]


def _consented_responses(survey: Survey):
    question = consent_question(survey)
    if question is None:
        return None
    return select(Answer.response_id).where(Answer.question_id == question.id, Answer.option_code == "yes")


def list_free_text(survey: Survey, question_code: str | None = None, page: int = 1, per_page: int = 50,
                   lang: str = "en", only_other: bool = False) -> TextPage:
    """Page through free-text answers of complete responses, with each respondent's quoting consent."""
    questions = reviewable_questions(survey)
    if question_code:
        questions = [q for q in questions if q.code == question_code]
    if only_other:
        questions = [q for q in questions if any(o.is_other for o in q.choices)]
    by_id = {q.id: q for q in questions}
    if not by_id:
        return TextPage([], 1, 1, 0)
    consented = _consented_responses(survey)
    consent_col = (Answer.response_id.in_(consented) if consented is not None else func.false()).label("consent")
    base = (select(Answer, Response.language, consent_col)
            .join(Response, Response.id == Answer.response_id)
            .where(complete_condition(survey.id), Answer.question_id.in_(list(by_id)),
                   Answer.text.is_not(None), Answer.text != ""))
    total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    page, pages, offset = paging.window(total, page, per_page)
    rows = db.session.execute(
        base.order_by(Answer.question_id, Answer.id).limit(per_page).offset(offset)
    ).all()
    items = []
    for answer, language, consent in rows:
        question = by_id[answer.question_id]
        option = next((o for o in question.choices if o.code == answer.option_code), None)
        items.append(TextAnswer(
            answer_id=answer.id, response_id=answer.response_id, question_code=question.code,
            question_label=survey.text(question.label, lang),
            option_label=survey.text(option.label, lang) if option else "", text=answer.text or "",
            language=language, consent=bool(consent), quote_approved=answer.quote_approved,
            category=answer.category, is_other=bool(option and option.is_other),
        ))
    return TextPage(items, page, pages, total)


def _review_answer(survey: Survey, answer_id: int) -> tuple[Answer, Question]:
    row = db.session.execute(
        select(Answer, Question).join(Question, Question.id == Answer.question_id)
        .join(Response, Response.id == Answer.response_id)
        .where(Answer.id == answer_id, Response.survey_id == survey.id)
    ).first()
    if row is None:
        raise ResultsError("That answer does not belong to this survey.")
    return row[0], row[1]


def set_quote_approval(survey: Survey, answer_id: int, approved: bool) -> Answer:
    """Approve or withdraw an answer for quoting; approval needs the respondent's "yes". Commit."""
    answer, question = _review_answer(survey, answer_id)
    if not (question.type in TEXT_TYPES and question.settings.get("quotable")):
        raise ResultsError("Only answers to questions marked as quotable can be quoted.")
    if approved:
        consented = _consented_responses(survey)
        allowed = consented is not None and db.session.execute(
            select(func.count()).select_from(consented.where(Answer.response_id == answer.response_id).subquery())
        ).scalar_one() > 0
        if not allowed:
            raise ResultsError("This respondent did not agree to be quoted.")
    answer.quote_approved = approved
    audit.record("results.quote_approved" if approved else "results.quote_withdrawn", survey.id,
                 answer_id=answer.id)
    db.session.commit()
    return answer


def set_category(survey: Survey, answer_id: int, category: str) -> Answer:
    """Put an "Other – please specify" answer into a category shown in the charts ('' clears it). Commit."""
    answer, question = _review_answer(survey, answer_id)
    option = next((o for o in question.choices if o.code == answer.option_code), None)
    if option is None or not option.is_other:
        raise ResultsError("Only \"Other – please specify\" answers can be categorised.")
    category = " ".join(category.split())[:CATEGORY_MAX]
    totals.recategorise(answer, category or None)
    answer.category = category or None
    audit.record("results.other_categorised", survey.id, answer_id=answer.id, cleared=not category)
    db.session.commit()
    return answer


def known_categories(survey: Survey) -> list[str]:
    rows = db.session.execute(
        select(Answer.category).join(Response, Response.id == Answer.response_id)
        .where(Response.survey_id == survey.id, Answer.category.is_not(None)).distinct()
    ).scalars().all()
    return sorted(rows, key=str.casefold)


@dataclass
class Quote:
    text: str
    question_label: str
    language: str


def approved_quotes(survey: Survey, lang: str = "en", limit: int = 30) -> list[Quote]:
    """Quotes staff approved whose respondent said yes, from publishable complete responses only."""
    question = consent_question(survey)
    if question is None:
        return []
    labels = {q.id: survey.text(q.label, lang) for q in survey.questions}
    # Two small steps rather than one join, which planners drive from the responses: the
    # approved answers through the partial index ix_answers_quote_approved ("= true" matches
    # it), then which of their responses are complete and consented. Cost follows approvals.
    candidates = db.session.execute(
        select(Answer.text, Answer.question_id, Answer.response_id)
        .where(Answer.quote_approved == true(), Answer.question_id.in_(list(labels)), Answer.text.is_not(None))
        .order_by(Answer.question_id, Answer.id)
    ).all()
    if not candidates:
        return []
    languages = dict(db.session.execute(
        select(Response.id, Response.language)
        .where(Response.id.in_({c.response_id for c in candidates}), complete_condition(survey.id),
               Response.id.in_(_consented_responses(survey)))
    ).all())
    rows = [(text, qid, languages[rid]) for text, qid, rid in candidates if rid in languages][:limit]
    return [Quote(text, labels.get(qid, ""), language) for text, qid, language in rows]


def option_labels(survey: Survey, lang: str = "en") -> dict[int, dict[tuple[str, str], str]]:
    """Labels by question id and (role, code), for exports."""
    labels: dict[int, dict[tuple[str, str], str]] = defaultdict(dict)
    for option in db.session.execute(
        select(Option).join(Question).where(Question.survey_id == survey.id)
    ).scalars():
        labels[option.question_id][(option.role, option.code)] = survey.text(option.label, lang)
    return labels


__all__ = [
    "CrossTab", "Disclosure", "MatrixRow", "NumberSummary", "OptionCount", "OptionRole", "QuestionResult",
    "Quote", "RankItem", "ResultFilter", "ResultsError", "StatusCounts", "SurveyResults", "TextAnswer",
    "TextPage", "approved_quotes", "crosstab", "filter_choices", "list_free_text", "percent",
    "disclosure_rules", "set_category", "set_quote_approval", "status_counts", "summarise",
    "suppress_small_groups", "withheld_groups",
]
