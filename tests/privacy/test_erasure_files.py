"""Erasure reaches files too: the outbox, pending import uploads and, on SQLite, the database file.

Erase a person, then look where a tester would: the outbox listing, the outbox URLs that worked
before, and every file under instance/ on disk.
"""
from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text

from survey_app.extensions import db
from survey_app.models import Participant, Survey
from survey_app.services import invitations as invitation_service
from survey_app.services import privacy
from tests.conftest import TEST_DATABASE, csrf_from

BASE = "/staff/surveys/legacy-projects"
GRACE = "grace@example.org"
OTHER = "other@example.org"
EML = re.compile(r"s\d+-d\d+-a\d+\.eml")


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """As `make run` has it: the SQLite database inside instance/, so the look at disk covers it."""
    if TEST_DATABASE == "postgres":
        return request.getfixturevalue("pg_session_url")
    (tmp_path / "instance").mkdir(exist_ok=True)
    return f"sqlite:///{tmp_path / 'instance' / 'survey_app.db'}"


@pytest.fixture
def mailed(app, make_survey, make_invitation) -> int:
    """Grace and another fellow, each sent an invitation and a reminder as .eml files."""
    survey_id = make_survey()
    make_invitation(survey_id, name="Grace Hopper", email=GRACE)
    make_invitation(survey_id, name="Other Fellow", email=OTHER)
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        invitation_service.send_invitations(survey, actor=None)
        invitation_service.send_pending()
        invitation_service.send_reminders(survey, actor=None)
        invitation_service.send_pending()
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    grace_files = [p for p in outbox.glob("*.eml") if GRACE.encode() in p.read_bytes()]
    assert len(grace_files) == 2
    # A copy whose ledger row went earlier, as removals before this release left them.
    shutil.copy(grace_files[0], outbox / f"s{survey_id}-d9999-a1.eml")
    return survey_id


def _upload(client, rows: str) -> str:
    page = client.get(f"{BASE}/participants/import")
    sent = client.post(f"{BASE}/participants/import", data={
        "csrf_token": csrf_from(page.data),
        "file": (io.BytesIO(("name,email\n" + rows).encode()), "fellows.csv")}, content_type="multipart/form-data")
    assert sent.status_code == 302
    return sent.headers["Location"]


def _files_holding(folder: Path, needle: str) -> list[str]:
    patterns = [needle.encode(), needle.encode("utf-16-le")]
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and any(pattern in p.read_bytes() for pattern in patterns))


def test_erasing_a_person_leaves_nothing_of_theirs_in_the_outbox_or_on_disk(app, staff_client, admin_client,
                                                                            mailed):
    instance = Path(app.instance_path)
    listing = staff_client.get(f"{BASE}/invitations/outbox").get_data(as_text=True)
    assert GRACE in listing and len(set(EML.findall(listing))) == 5
    before = {name: staff_client.get(f"{BASE}/invitations/outbox/{name}").get_data(as_text=True)
              for name in set(EML.findall(listing))}
    grace_names = {name for name, page in before.items() if GRACE in page}
    assert len(grace_names) == 3
    # Pending uploads: one lists Grace (in another staff member's hands), one does not.
    holding = _upload(admin_client, "Grace Hopper,GRACE@Example.org\nNew Person,new@example.org\n")
    other_upload = _upload(staff_client, "Someone Else,else@example.org\n")
    assert len(_files_holding(instance, "Grace Hopper")) >= 4

    with app.app_context():
        person = db.session.execute(select(Participant.id).where(Participant.email == GRACE)).scalar_one()
    confirm = staff_client.get(f"{BASE}/participants/{person}/erase")
    erased = staff_client.post(f"{BASE}/participants/{person}/erase", data={"csrf_token": csrf_from(confirm.data)})
    assert erased.status_code == 302
    assert "copies of their e-mails in the outbox" in staff_client.get(erased.headers["Location"]).get_data(
        as_text=True)

    listing = staff_client.get(f"{BASE}/invitations/outbox").get_data(as_text=True)
    assert GRACE not in listing and "Grace" not in listing
    assert set(EML.findall(listing)) == set(before) - grace_names
    for name in grace_names:
        assert staff_client.get(f"{BASE}/invitations/outbox/{name}").status_code == 404
        assert staff_client.get(f"{BASE}/invitations/outbox/{name}?download=1").status_code == 404
    for name in set(before) - grace_names:
        assert OTHER in staff_client.get(f"{BASE}/invitations/outbox/{name}?download=1").get_data(as_text=True)
    assert admin_client.get(holding).status_code == 404  # the upload listing her is gone
    assert staff_client.get(other_upload).status_code == 200  # the other one is untouched
    # On disk, under instance/ (outbox, imports and, on SQLite, the database and its WAL): nothing.
    assert _files_holding(instance, GRACE) == []
    assert _files_holding(instance, "Grace Hopper") == []
    assert _files_holding(instance, OTHER)  # the look itself works


def test_the_cli_erasure_reports_and_deletes_the_files_too(app, runner, mailed):
    result = runner.invoke(args=["privacy", "erase-participant", "legacy-projects", GRACE, "--yes"])
    assert result.exit_code == 0, result.output
    assert "3 outbox message(s)" in result.output
    assert _files_holding(Path(app.instance_path), GRACE) == []


def test_removing_a_participant_deletes_their_outbox_copies(app, staff_client, mailed):
    with app.app_context():
        person = db.session.execute(select(Participant.id).where(Participant.email == GRACE)).scalar_one()
    page = staff_client.get(f"{BASE}/participants/{person}/remove")
    staff_client.post(f"{BASE}/participants/{person}/remove", data={"csrf_token": csrf_from(page.data)})
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    remaining = [p.name for p in outbox.glob("*.eml") if GRACE.encode() in p.read_bytes()]
    assert remaining == [f"s{mailed}-d9999-a1.eml"]  # removal goes by ledger row; erasure also by address
    assert len(list(outbox.glob("*.eml"))) == 3


def test_retention_erases_the_surveys_outbox(app, runner, mailed):
    from datetime import timedelta

    from survey_app.models.base import utcnow

    with app.app_context():
        survey = db.session.get(Survey, mailed)
        survey.retention_days, survey.closes_at = 30, utcnow() - timedelta(days=31)
        db.session.commit()
        dry = privacy.erase_expired(dry_run=True)
        assert dry[0].outbox_messages == 5
    result = runner.invoke(args=["privacy", "erase-expired"])
    assert "outbox messages 5" in result.output
    assert list(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml")) == []
    assert _files_holding(Path(app.instance_path), GRACE) == []


def test_an_erasure_that_cannot_delete_a_file_erases_nothing(app, mailed, monkeypatch):
    from survey_app.services.mail import outbox

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outbox, "remove_outbox_files", refuse)
    with app.app_context():
        person = db.session.execute(select(Participant.id).where(Participant.email == GRACE)).scalar_one()
        with pytest.raises(privacy.PrivacyError, match="could not be deleted"):
            privacy.erase_participant(person, None)
    with app.app_context():
        assert db.session.get(Participant, person) is not None  # still findable: run it again once fixed


@pytest.mark.skipif(TEST_DATABASE == "postgres", reason="SQLite pragmas")
def test_sqlite_overwrites_deleted_rows(app):
    with app.app_context():
        assert db.session.execute(text("PRAGMA secure_delete")).scalar() == 1
