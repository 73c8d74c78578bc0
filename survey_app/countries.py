"""Countries (ISO 3166-1 alpha-2) with names in every language, and their world regions."""
from __future__ import annotations

from functools import lru_cache

from babel import Locale

# Babel lists groupings and private-use codes among territories; they are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"})


@lru_cache(maxsize=1)
def country_codes() -> tuple[str, ...]:
    """All country codes, sorted by code."""
    territories = Locale("en").territories
    return tuple(sorted(c for c in territories
                        if isinstance(c, str) and len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES))


@lru_cache(maxsize=16)
def country_names(lang: str) -> dict[str, str]:
    """Country names in one language (Babel/CLDR), keyed by code."""
    territories = Locale.parse(lang).territories
    english = Locale("en").territories
    return {code: territories.get(code) or english[code] for code in country_codes()}


def country_name(code: str | None, lang: str = "en") -> str:
    if not code:
        return ""
    return country_names(lang).get(code.upper(), code)
