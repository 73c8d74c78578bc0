"""Fixtures for invitations: a real SMTP server, an app pointed at it, and fellows to invite."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.services import participants as participant_service

from .smtp_server import FaultyHandler, SmtpServer

LINK_RE = re.compile(r"(https?://\S+/s/([A-Za-z0-9_-]+))")
OPTOUT_RE = re.compile(r"(https?://\S+/optout/([A-Za-z0-9_-]+))")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(FaultyHandler()) as server:
        yield server


@pytest.fixture
def app_overrides(smtp) -> dict:
    return {**smtp.config(), "MAIL_RETRY_BASE_SECONDS": 0, "MAIL_MAX_ATTEMPTS": 4,
            "MAIL_DEFAULT_SENDER": "ITP Surveys <itp-surveys@museum.example>", "MAIL_SEND_TASKS": 1}


def fellows_csv(count: int, start: int = 0, domain: str = "example.org") -> bytes:
    lines = ["name,email,country,cohort,language"]
    countries = ["KE", "EG", "IN", "CN", "BR", "FR", "PE", "JO"]
    languages = ["en", "fr", "es", "ar", "zh", "ru", ""]
    for i in range(start, start + count):
        lines.append(f"Fellow {i},fellow{i}@{domain},{countries[i % len(countries)]},"
                     f"{2006 + i % 19},{languages[i % len(languages)]}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def survey_id(make_survey) -> int:
    return make_survey()


@pytest.fixture
def import_fellows(app, survey_id) -> Callable[..., int]:
    """Import `count` generated fellows into the survey through the real import service."""

    def do(count: int, start: int = 0) -> int:
        with app.app_context():
            survey = db.session.get(Survey, survey_id)
            _preview, result = participant_service.import_file(survey, fellows_csv(count, start))
            return result.added

    return do


def links_in(message) -> tuple[str, str]:
    """The personal link and the opt-out link from a received message's text part."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = LINK_RE.search(text)
    optout = OPTOUT_RE.search(text)
    assert link and optout, text
    return link.group(1), optout.group(1)
