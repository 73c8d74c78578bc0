"""Countries and languages named for staff in their interface language (CLDR names through Babel)."""
from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError


@lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale("en")


class DisplayNames:
    """Names of country and language codes in one language, with the code kept beside them."""

    def __init__(self, language: str) -> None:
        self.locale = _locale(language)

    def country(self, code: str | None) -> str:
        """"Kenya (KE)" in English, "Kenya (KE)" / "Égypte (EG)" in French; "" for no country."""
        if not code:
            return ""
        name = self.locale.territories.get(code)
        return f"{name} ({code})" if name else code

    def language(self, code: str | None) -> str:
        """"Portuguese (pt)" in English, "portugais (pt)" in French; "" for no language."""
        if not code:
            return ""
        name = self.locale.languages.get(code)
        return f"{name} ({code})" if name else code

    def language_name(self, code: str) -> str:
        """The language's name alone ("English"), or its code when CLDR has no name for it."""
        return self.locale.languages.get(code) or code
