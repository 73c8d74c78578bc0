"""The open link: new responses limited per address, each marked with its channel and a keyed hash of the address."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Response
from survey_app.services import bursts
from tests.conftest import REDIS_TEST_URL, csrf_from, redis_available, service_missing
from tests.security.helpers import answer_all, structure_of

URL = "/survey/legacy-projects"
FIRST = {"REMOTE_ADDR": "192.0.2.10"}
SECOND = {"REMOTE_ADDR": "192.0.2.20"}


def start(client, environ: dict, lang: str | None = None):
    """Open the start page (in `lang` when given) and press Start now, as a browser from that address would."""
    page = client.get(URL + (f"?lang={lang}" if lang else ""), environ_base=environ)
    assert page.status_code == 200
    return client.post(URL, data={"csrf_token": csrf_from(page.data)}, environ_base=environ)


@pytest.fixture(params=["memory", "redis"])
def storage_overrides(request) -> dict:
    """The limiter's storage: memory (one machine) or the Redis that several web machines share."""
    if request.param == "redis":
        reason = redis_available()
        if reason:
            service_missing(reason)
        return {"RATELIMIT_STORAGE_URI": REDIS_TEST_URL, "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    return {"RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture
def app_overrides(storage_overrides) -> dict:
    return storage_overrides  # OPEN_LINK_LIMIT stays at its default, 10 per 10 minutes


def test_thirty_starts_from_one_address(app, make_survey):
    assert app.config["OPEN_LINK_LIMIT"] == "10 per 10 minutes"
    survey_id = make_survey()
    client = app.test_client()
    outcomes = [start(client, FIRST, lang="fr") for _ in range(30)]
    assert [r.status_code for r in outcomes] == [302] * 10 + [429] * 20
    refused = outcomes[-1]
    page = refused.data.decode()
    # The friendly page, in the language the fellow chose, saying when to try again.
    assert '<html lang="fr"' in page and "Trop de nouvelles réponses depuis votre connexion" in page
    minutes = int(re.search(r'data-retry-minutes="(\d+)"', page).group(1))
    assert 1 <= minutes <= 10
    assert f"Vous pourrez commencer une nouvelle réponse dans {minutes} minute" in page
    assert 60 * (minutes - 1) < int(refused.headers["Retry-After"]) <= 600
    assert 'class="lang-switcher"' in page and "Too many" not in page
    # Another address is unaffected; the refused starts stored nothing.
    other = app.test_client()
    assert start(other, SECOND).status_code == 302
    with app.app_context():
        rows = db.session.execute(select(Response.channel, Response.client_hash)
                                  .where(Response.survey_id == survey_id).order_by(Response.id)).all()
    assert len(rows) == 11 and {channel for channel, _ in rows} == {"open"}
    first_hashes = {hashed for _, hashed in rows[:10]}
    assert len(first_hashes) == 1 and rows[10][1] not in first_hashes  # one hash per address, not per response
    for _, hashed in rows:
        assert re.fullmatch(r"[0-9a-f]{32}", hashed)
        assert "192.0.2" not in hashed
    with app.app_context():
        assert bursts.client_hash(survey_id, FIRST["REMOTE_ADDR"]) == rows[0][1]
        assert bursts.client_hash(survey_id + 1, FIRST["REMOTE_ADDR"]) != rows[0][1]  # not linkable across surveys


def test_refusal_speaks_each_language(app, make_survey):
    make_survey()
    expected = {"en": "Too many new responses from your connection", "es": "Demasiadas respuestas nuevas",
                "ar": "عدد كبير جدًا من الاستجابات الجديدة", "zh": "来自您网络连接的新答卷过多",
                "ru": "Слишком много новых ответов"}
    for n, (lang, title) in enumerate(expected.items()):
        client = app.test_client()
        environ = {"REMOTE_ADDR": f"198.51.100.{n + 1}"}
        for _ in range(10):
            assert start(client, environ).status_code == 302
        refused = start(client, environ, lang=lang)
        assert refused.status_code == 429 and title in refused.data.decode(), lang
    assert 'dir="rtl"' in start(client, {"REMOTE_ADDR": "198.51.100.4"}, lang="ar").data.decode()


def test_personal_responses_are_marked_and_carry_no_hash(app, make_survey, make_invitation):
    survey_id = make_survey()
    token = make_invitation(survey_id)
    client = app.test_client()
    answer_all(client, f"/s/{token}", structure_of(app, survey_id))
    with app.app_context():
        assert db.session.execute(select(Response.channel, Response.client_hash)).one() == ("personal", None)


def test_anonymous_surveys_keep_no_address_hash(app, make_survey):
    make_survey(anonymous=True)
    assert start(app.test_client(), FIRST).status_code == 302
    with app.app_context():
        assert db.session.execute(select(Response.channel, Response.client_hash)).one() == ("open", None)
