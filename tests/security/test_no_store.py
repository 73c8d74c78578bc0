"""No page or download but our own static files may be kept by a browser or proxy cache.

Walks the whole URL map with real ids (a personal link, an outbox message, a pending upload), as
an admin and anonymously, so a route added later is checked without anyone remembering to.
"""
from __future__ import annotations

import io
import re

import pytest
from flask import Response
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Invitation, MailBatch, Survey
from survey_app.security import public
from survey_app.services import invitations as invitation_service
from survey_app.services import tokens
from tests.conftest import csrf_from
from tests.security.helpers import build_url

BASE = "/staff/surveys/legacy-projects"


def _real_values(app, admin_client, survey_id: int, token: str) -> list[dict]:
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        invitation_service.send_invitations(survey, actor=None)
        invitation_service.send_pending()
        seed = db.session.execute(select(Invitation.token_seed)).scalars().first()
        batch_id = db.session.execute(select(MailBatch.id)).scalars().first()
        participant_id = db.session.execute(select(Invitation.participant_id)).scalars().first()
        optout = tokens.token_from_seed(seed, purpose="optout")
    listing = admin_client.get(f"{BASE}/invitations/outbox").get_data(as_text=True)
    outbox_name = re.search(r"s\d+-d\d+-a\d+\.eml", listing).group(0)
    page = admin_client.get(f"{BASE}/participants/import")
    sent = admin_client.post(f"{BASE}/participants/import", data={
        "csrf_token": csrf_from(page.data),
        "file": (io.BytesIO(b"name,email\nAda,ada@example.org\n"), "f.csv")}, content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)[-3000:]
    import_id = sent.headers["Location"].rsplit("/", 1)[1]
    common = {"slug": "legacy-projects", "participant_id": participant_id, "batch_id": batch_id,
              "name": outbox_name, "import_id": import_id, "number": 1, "kind": "s"}
    return [common | {"token": token, "fmt": "csv"}, common | {"token": optout, "fmt": "xlsx"}]


# The walk tries every token route with every token, so it would spend the shared budget for link
# guesses many times over; that budget has tests of its own (tests/security/test_tokens.py).
@pytest.mark.parametrize("app_overrides", [{"TOKEN_GUESS_LIMIT": "1000 per minute"}])
def test_every_route_answers_no_store_except_static_files(app, admin_client, make_survey, make_invitation):
    survey_id = make_survey()
    token = make_invitation(survey_id, name="Grace Hopper", email="grace@example.org")
    variants = _real_values(app, admin_client, survey_id, token)
    anonymous = app.test_client()
    checked: dict[str, set[int]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for values in variants:
            url = build_url(app, rule, {k: v for k, v in values.items() if k in rule.arguments})
            for method in sorted({"GET", "POST"} & rule.methods):
                for client in (admin_client, anonymous):
                    # POSTs carry no CSRF token: refused before anything changes, headers still checked.
                    response = client.open(url, method=method, buffered=True)  # a streamed export ends here
                    assert response.headers.get("Cache-Control") == "no-store", (method, url, response.status_code,
                                                                                 response.mimetype)
                    checked.setdefault(rule.endpoint, set()).add(response.status_code)
    # The pages and downloads that carry a personal link were really served, not only refused.
    for endpoint in ("invitations.outbox_message", "invitations.outbox", "respond.section", "respond.personal_link",
                     "participants.preview", "privacy.download", "results.export", "optout.optout"):
        assert 200 in checked[endpoint] or 302 in checked[endpoint], (endpoint, checked[endpoint])
    download = admin_client.get(f"{BASE}/invitations/outbox/{variants[0]['name']}?download=1")
    assert download.mimetype == "message/rfc822" and download.headers["Cache-Control"] == "no-store"
    assert b"/s/" in download.data  # it does carry the personal link


def test_static_files_stay_cacheable(app, client):
    html = client.get("/accessibility").get_data(as_text=True)
    css = re.search(r'href="(/static/[^"]+\.css\?v=[^"]+)"', html).group(1)
    response = client.get(css)
    assert response.status_code == 200 and "immutable" in response.headers["Cache-Control"]


def test_a_download_added_later_is_not_stored_either(app):
    @app.route("/test-only/new-download")
    @public
    def new_download():
        return Response(b"BEGIN:VCARD\nEND:VCARD\n", mimetype="application/octet-stream",
                        headers={"Cache-Control": "public, max-age=3600"})

    response = app.test_client().get("/test-only/new-download")
    assert response.headers["Cache-Control"] == "no-store"
