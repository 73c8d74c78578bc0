"""Translation coverage: which texts of a survey still lack a translation in each of its languages."""
from __future__ import annotations

import re
from collections.abc import Iterator

from ..countries import country_names
from ..models import OptionRole, Survey
from ..models.survey import Texts

# Labels such as "2006" or "4.5" read the same in every language.
_LANGUAGE_NEUTRAL = re.compile(r"\d+(?:[.,]\d+)?")


def _is_country_option(code: str, base_label: str, base_language: str) -> bool:
    """Tell an option generated from the CLDR country list ({from: countries}) from a written one."""
    return country_names(base_language).get(code.upper()) == base_label


def _translatable_texts(survey: Survey) -> Iterator[tuple[str, Texts]]:
    """Yield (place, texts) for every text a translator has to write, in survey order."""
    base = survey.base_language
    yield "survey: title", survey.title or {}
    yield "survey: intro", survey.intro or {}
    for section in survey.sections:
        yield f"section {section.code}: title", section.title or {}
        yield f"section {section.code}: intro", section.intro or {}
        for question in section.questions:
            yield f"question {question.code}: label", question.label or {}
            yield f"question {question.code}: hint", question.hint or {}
            error_name = (question.settings or {}).get("error_name")
            if isinstance(error_name, dict):
                yield f"question {question.code}: error name", error_name
            for option in question.options:
                label = option.label or {}
                base_label = (label.get(base) or "").strip()
                if _LANGUAGE_NEUTRAL.fullmatch(base_label) or _is_country_option(option.code, base_label, base):
                    continue
                kind = "row" if option.role == OptionRole.ROW.value else "option"
                yield f"{kind} {question.code}/{option.code}: label", label


def missing_translations(survey: Survey) -> dict[str, list[str]]:
    """List, per language other than the base, the places whose text is missing or empty there.

    A place counts only when the base language has a text for it: an absent intro or hint needs
    no translation. Respondents see the base-language text wherever a translation is missing.
    """
    others = [lang for lang in survey.languages or [] if lang != survey.base_language]
    missing: dict[str, list[str]] = {lang: [] for lang in others}
    for place, texts in _translatable_texts(survey):
        if not (texts.get(survey.base_language) or "").strip():
            continue
        for lang in others:
            if not (texts.get(lang) or "").strip():
                missing[lang].append(place)
    return missing
