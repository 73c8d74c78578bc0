"""Which respondents a set of results counts: groups chosen by country, region, cohort and language."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, literal

from ...countries import country_codes, country_name
from ...models import Participant, Response, ResponseChannel
from ...regions import REGION_NAMES, countries_in, region_name, region_of

# Channels staff may filter by; responses stored before channels were recorded are in neither.
CHANNELS = (ResponseChannel.PERSONAL.value, ResponseChannel.OPEN.value)
CHANNEL_NAMES = {ResponseChannel.PERSONAL.value: _l("personal link"), ResponseChannel.OPEN.value: _l("open link")}


@dataclass(frozen=True)
class ResultFilter:
    """Respondent groups to include: any value within a dimension, every dimension at once."""

    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    cohorts: tuple[int, ...] = ()
    languages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    @classmethod
    def from_values(cls, countries: Iterable[str] = (), regions: Iterable[str] = (), cohorts: Iterable[str] = (),
                    languages: Iterable[str] = (), channels: Iterable[str] = ()) -> ResultFilter:
        """Build a filter from untrusted strings, dropping values that are not codes we know."""
        known = set(country_codes())
        cohort_values = []
        for value in cohorts:
            if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
                cohort_values.append(int(value))
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
            parts.append(_("cohort %(years)s", years=", ".join(str(c) for c in self.cohorts)))
        if self.languages:
            parts.append(_("language %(codes)s", codes=", ".join(self.languages)))
        if self.channels:
            parts.append(", ".join(str(CHANNEL_NAMES[c]) for c in self.channels))
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

    def country_conditions(self, country: Any) -> list[ColumnElement[bool]]:
        """Conditions on a country column alone (the running totals keep nothing else)."""
        return self._conditions(country, None, None)

    def _conditions(self, country: Any, cohort: Any, language: Any, channel: Any = None) -> list[ColumnElement[bool]]:
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
