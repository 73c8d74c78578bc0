"""Link-bound CSRF tokens on the secret-link forms: no cookie needed, and one link's token opens no other."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Response
from survey_app.respond import csrf as link_csrf
from tests.conftest import csrf_from
from tests.respond.test_journey import SECTION1, answer_everything


def _answers(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Answer.id)))


def test_a_fellow_whose_browser_keeps_no_cookies_answers_and_submits(app, all_types, make_invitation):
    client = app.test_client(use_cookies=False)
    token = make_invitation(all_types)
    page = client.get(f"/s/{token}/1")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    answer_everything(client, f"/s/{token}")
    check = client.get(f"/s/{token}/check")
    assert "Set-Cookie" not in check.headers
    sent = client.post(f"/s/{token}/submit", data={"csrf_token": csrf_from(check.data)})
    assert sent.headers["Location"].endswith(f"/s/{token}/done")
    with app.app_context():
        assert db.session.scalar(select(Response.status)) == "complete"


def test_one_links_token_is_refused_on_another(app, client, all_types, make_invitation):
    mine, theirs = make_invitation(all_types), make_invitation(all_types)
    my_csrf = csrf_from(client.get(f"/s/{mine}/1").data)
    refused = client.post(f"/s/{theirs}/1", data={**SECTION1, "csrf_token": my_csrf})
    assert refused.status_code == 200 and b"Your session had expired" in refused.data
    assert b'value="Teal"' in refused.data  # what was typed is shown again
    assert _answers(app) == 0
    accepted = client.post(f"/s/{mine}/1", data={**SECTION1, "csrf_token": my_csrf})
    assert accepted.status_code == 302 and _answers(app) > 0


def test_the_submit_token_of_one_link_does_not_send_another(app, client, all_types, make_invitation):
    mine, theirs = make_invitation(all_types), make_invitation(all_types)
    answer_everything(client, f"/s/{theirs}")
    my_csrf = csrf_from(client.get(f"/s/{mine}/1").data)
    refused = client.post(f"/s/{theirs}/submit", data={"csrf_token": my_csrf})
    assert refused.headers["Location"].endswith(f"/s/{theirs}/check?resubmit=1")
    with app.app_context():
        assert db.session.scalar(select(Response.status)) == "partial"


@pytest.mark.parametrize("change", ["none", "empty", "no-dot", "bad-time", "other-mac", "other-kind", "too-old",
                                    "far-future"])
def test_only_an_untampered_recent_token_for_the_link_is_valid(app, change):
    with app.test_request_context():
        now = time.time()
        good = link_csrf.issue("s", "the-link", now=now)
        assert link_csrf.is_valid("s", "the-link", good, now=now + 3600)
        issued, mac = good.split(".")
        max_age = app.config["RESPOND_CSRF_MAX_AGE"].total_seconds()
        bad, when = {
            "none": (None, now),
            "empty": ("", now),
            "no-dot": (issued + mac, now),
            "bad-time": ("zz." + mac, now),
            "other-mac": (f"{issued}.{link_csrf.issue('s', 'another-link', now=now).split('.')[1]}", now),
            "other-kind": (link_csrf.issue("r", "the-link", now=now), now),
            "too-old": (good, now + max_age + 1),
            "far-future": (good, now - 3600),
        }[change]
        assert not link_csrf.is_valid("s", "the-link", bad, now=when)


def test_a_new_secret_key_invalidates_old_tokens(app):
    with app.test_request_context():
        token = link_csrf.issue("s", "the-link")
        app.config["SECRET_KEY"] = "a-completely-different-secret-key-for-this-test-0123"
        assert not link_csrf.is_valid("s", "the-link", token)


def test_a_page_carries_one_token_even_when_the_clock_ticks(app, monkeypatch):
    """The cached and directly rendered page, and every form on a page, must carry the same token."""
    ticks = iter(range(1_800_000_000, 1_800_000_100))
    monkeypatch.setattr(link_csrf.time, "time", lambda: float(next(ticks)))
    with app.test_request_context():
        first = link_csrf.issue("s", "the-link")
        assert link_csrf.issue("s", "the-link") == first
        assert link_csrf.issue("s", "another-link") != first
    with app.test_request_context():
        assert link_csrf.issue("s", "the-link") != first  # a new request, a new time
