"""Countries (ISO 3166-1 alpha-2) with names in every language, sorted as readers of that language expect.

Names come from CLDR through Babel (`Locale(lang).territories`). Babel has no collation, so names
are sorted with pyuca, a pure-Python implementation of the Unicode Collation Algorithm with its
default table (DUCET): accents and case count only after the letters, so "Côte d’Ivoire" comes
before "Czechia", and "Åland" sits among the As. PyICU would add each language's tailoring
(Spanish ñ after n, Chinese by pinyin) but needs ICU and a compiler wherever the service is
installed; with DUCET, Chinese names follow Unicode's order of the characters. Sorted lists are
worked out once per language and process.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from babel import Locale
from pyuca import Collator

# Babel lists groupings and private-use codes among territories; they are not countries.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"})


@lru_cache(maxsize=1)
def _collator() -> Collator:
    """The Unicode collator (reads its table once: about 0.2 s)."""
    return Collator()


def collation_key(text: str) -> tuple[int, ...]:
    """Sort key of a text by the Unicode Collation Algorithm."""
    return tuple(_collator().sort_key(text))


@lru_cache(maxsize=1)
def country_codes() -> tuple[str, ...]:
    """All country codes, sorted by code."""
    territories = Locale("en").territories
    return tuple(sorted(c for c in territories
                        if isinstance(c, str) and len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES))


@lru_cache(maxsize=1)
def country_code_set() -> frozenset[str]:
    return frozenset(country_codes())


@lru_cache(maxsize=16)
def country_names(lang: str) -> dict[str, str]:
    """Country names in one language (Babel/CLDR), keyed by code."""
    territories = Locale.parse(lang).territories
    english = Locale("en").territories
    return {code: territories.get(code) or english[code] for code in country_codes()}


@lru_cache(maxsize=16)
def country_order(lang: str) -> dict[str, int]:
    """Each country code's place when the names in this language are sorted by collation."""
    names = country_names(lang)
    ordered = sorted(names, key=lambda code: (collation_key(names[code]), code))
    return {code: place for place, code in enumerate(ordered)}


def is_country_list(codes: Sequence[str]) -> bool:
    """Whether options (by code) are the country list of `{from: countries}`, maybe with a few extras."""
    known = country_code_set()
    countries = sum(1 for code in codes if code.upper() in known)
    return countries > 50 and len(codes) - countries <= 5


def country_name(code: str | None, lang: str = "en") -> str:
    if not code:
        return ""
    return country_names(lang).get(code.upper(), code)
