"""Disclosure control: count the respondent groups and withhold any that could identify someone.

A group (country, region, cohort, language, or a filter combining them) is shown only with at
least the survey's minimum group size of complete responses, and groups are withheld in pairs
where one alone could be recovered by subtracting the shown groups from a total.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, select

from ...extensions import db
from ...models import NO_COHORT, Response, ResponseStatus, ResponseTotal, Survey
from ...regions import region_of
from .filters import CHANNELS, ResultFilter

UNKNOWN_COUNTRY = "unknown"


def complete_condition(survey_id: int) -> ColumnElement[bool]:
    """Complete real responses of a survey: staff tests (previews) are never counted."""
    return and_(Response.survey_id == survey_id, Response.status == ResponseStatus.COMPLETE.value,
                Response.is_test.is_(False))


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
    return dict(db.session.execute(  # type: ignore[arg-type]
        select(Response.channel, func.count()).where(complete_condition(survey_id)).group_by(Response.channel)
    ).all())


def scan_group_counts(survey_id: int, filter_: ResultFilter | None = None) -> Groups:
    """Count the respondent groups from the responses themselves (any filter; cost grows with responses)."""
    filter_ = filter_ or ResultFilter()

    def by(column: Any) -> dict[Any, int]:
        return dict(db.session.execute(  # type: ignore[arg-type]
            select(column, func.count()).where(complete_condition(survey_id)).group_by(column)).all())

    n, first, last = db.session.execute(
        select(func.count(), func.min(Response.submitted_at), func.max(Response.submitted_at))
        .where(complete_condition(survey_id), *filter_.response_conditions())
    ).one()
    latest = db.session.execute(
        select(func.max(Response.submitted_at)).where(complete_condition(survey_id))).scalar()
    return Groups(by(Response.country), by(Response.cohort), by(Response.language), by(Response.channel), latest, n,
                  first, last)


def withheld_groups(counts: Mapping[Any, int], minimum: int,
                    always: frozenset[Any] | set[Any] = frozenset()) -> set[Any]:
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
            shown = sorted((c for c in members if c not in withheld), key=lambda c: (members[c], c or ""))
            if shown:
                withheld.add(shown[0])
    region_counts = {r: sum(m.values()) for r, m in by_region.items()}
    cohorts, languages = groups.cohorts, groups.languages
    return Disclosure(
        minimum=minimum,
        countries=frozenset(c for c in by_country if c is not None and c not in withheld),
        regions=frozenset(r for r in region_counts
                          if r not in withheld_groups(region_counts, minimum) and r != UNKNOWN_COUNTRY),
        cohorts=frozenset(c for c in cohorts
                          if c is not None and c not in withheld_groups(cohorts, minimum, always={None})),
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
        return _("Results are not shown for groups with fewer than %(num)d complete responses (or for groups "
                 "whose figures would reveal such a group by subtraction), so that no one can be identified from "
                 "their answers. Choose a wider group.", num=minimum)
    if n < minimum:
        return _("This group has fewer than %(num)d complete responses, so its results are withheld to protect "
                 "the respondents' anonymity. Choose a wider group.", num=minimum)
    return ""

