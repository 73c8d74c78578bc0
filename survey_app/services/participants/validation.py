"""One participant's details checked by the same rules wherever they come from (a CSV row, the staff form)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ...countries import country_codes, country_names
from ...models import Survey

MAX_NAME = 200
MAX_ATTRIBUTE = 500
COHORT_MIN, COHORT_MAX = 1950, 2100
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


class ParticipantError(ValueError):
    """A single participant's details are invalid; the message says which and why."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class ParticipantData:
    name: str
    email: str
    country: str | None
    cohort: int | None
    language: str | None
    attributes: dict[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {"name": self.name, "country": self.country, "cohort": self.cohort,
                "language": self.language, "attributes": self.attributes}


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _shown(value: str, limit: int = 40) -> str:
    """A typed value quoted in a message, cut short so a 5,000-character paste stays readable."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def parse_cohort(text: str) -> int | None:
    """Read a cohort year: four decimal digits from COHORT_MIN to COHORT_MAX, else None.

    Digits of any script (Arabic-Indic ٢٠١٥, Persian ۲۰۱۵, full-width ２０１５) are read as the ASCII
    digits they stand for; superscripts, fractions, signs and separators are not digits here.
    The length is checked first, so a 5,000-digit paste never reaches int().
    """
    if len(text) != 4 or not all(ch.isdecimal() for ch in text):
        return None
    year = int("".join(str(unicodedata.decimal(ch)) for ch in text))
    return year if COHORT_MIN <= year <= COHORT_MAX else None


def plain_text(value: str) -> str:
    """Attribute text without control characters (each becomes a space), trimmed."""
    return " ".join(_CONTROL_RE.sub(" ", value).split()) if _CONTROL_RE.search(value) else value.strip()


_SIMPLE_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@lru_cache(maxsize=8192)
def _normalise_domain(domain: str) -> str:
    return validate_email(f"x@{domain}", check_deliverability=False).domain.lower()


def normalise_email(address: str) -> str:
    """Validate with email-validator, checking each distinct domain once (60,000 rows share few)."""
    local, at, domain = address.rpartition("@")
    if at and len(local) <= 64 and _SIMPLE_LOCAL.fullmatch(local) and domain.isascii():
        return f"{local.lower()}@{_normalise_domain(domain)}"
    return validate_email(address, check_deliverability=False).normalized.lower()


@dataclass
class Validator:
    languages: list[str]
    country_by_name: dict[str, str]
    codes: frozenset[str]

    @classmethod
    def for_survey(cls, survey: Survey) -> Validator:
        names = {name.casefold(): code for code, name in country_names("en").items()}
        return cls(languages=list(survey.languages or [survey.base_language]), country_by_name=names,
                   codes=frozenset(country_codes()))

    def validate(self, raw: dict[str, str], attributes: dict[str, str]) -> tuple[ParticipantData | None, dict]:
        errors: dict[str, str] = {}
        # NFC first: the length limit applies to what is stored (NFC can lengthen a few scripts).
        name = unicodedata.normalize("NFC", _clean(raw.get("name")))
        if "\r" in name or "\n" in name:
            errors["name"] = "the name contains a line break"
        elif not name:
            errors["name"] = "the name is missing"
        elif len(name) > MAX_NAME:
            errors["name"] = f"the name is longer than {MAX_NAME} characters"
        elif _CONTROL_RE.search(name):
            errors["name"] = "the name contains control characters"
        email_raw = _clean(raw.get("email"))
        email = ""
        if "\r" in email_raw or "\n" in email_raw:
            errors["email"] = "the e-mail address contains a line break"
        elif not email_raw:
            errors["email"] = "the e-mail address is missing"
        else:
            try:
                email = normalise_email(email_raw)
            except EmailNotValidError as exc:
                errors["email"] = f"the e-mail address {_shown(email_raw)} is not valid ({exc})"
        country = _clean(raw.get("country"))
        country_code: str | None = None
        if country:
            if country.upper() in self.codes:
                country_code = country.upper()
            elif country.casefold() in self.country_by_name:
                country_code = self.country_by_name[country.casefold()]
            else:
                errors["country"] = f"the country {_shown(country)} is not an ISO country code or name"
        cohort_raw = _clean(raw.get("cohort"))
        cohort: int | None = None
        if cohort_raw:
            cohort = parse_cohort(cohort_raw)
            if cohort is None:
                errors["cohort"] = (f"the cohort {_shown(cohort_raw)} is not a year from {COHORT_MIN} to "
                                    f"{COHORT_MAX} written in digits, such as 2015")
        language_raw = _clean(raw.get("language")).replace("_", "-").split("-", 1)[0].lower()
        language: str | None = None
        if language_raw:
            # A preference outside the survey's languages is kept (e-mails fall back to the base
            # language, and a later translation applies); only malformed codes are refused.
            if re.fullmatch(r"[a-z]{2,3}", language_raw):
                language = language_raw
            else:
                errors["language"] = (f"the language {_shown(raw.get('language') or '')} is not a language code "
                                      "such as en or fr")
        if errors:
            return None, errors
        return ParticipantData(name=name, email=email, country=country_code,
                               cohort=cohort, language=language, attributes=attributes), {}


def validate_participant(survey: Survey, name: str, email: str, country: str = "", cohort: str = "",
                         language: str = "") -> ParticipantData:
    """Check one participant typed in the staff UI with the same rules as the import."""
    person, errors = Validator.for_survey(survey).validate(
        {"name": name, "email": email, "country": country, "cohort": cohort, "language": language}, {})
    if person is None:
        raise ParticipantError(errors)
    return person
