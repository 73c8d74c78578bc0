"""Measure invitations per second through the real sending path to a local aiosmtpd server.

    .venv/bin/python bench/send_rate.py 300 2000            # SQLite file database
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/send_rate.py 2000

The subject is `invitations.process_batch` (the body of the Huey task) sending a batch of N
invitations through the ledger. The baseline is a bare Flask-Mail loop sending the same N messages
(same recipients, names, languages, links and headers, built by the same `mailer.build_message`) on
one reused connection: the first half before the subject and the second half after it, so that
load drifting on a shared machine weighs on both. Each run checks that the server received exactly
N distinct messages, one per recipient, none repeated, and exits non-zero otherwise. It also
prints the seconds spent preparing (importing the fellows), so the bench can size its rounds.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from survey_app.extensions import db, mail  # noqa: E402
from survey_app.models import Delivery, Invitation, Participant, Survey  # noqa: E402
from survey_app.services import invitations, mailer, participants  # noqa: E402
from survey_app.services import surveys as survey_service  # noqa: E402
from tests.conftest import LEGACY_SURVEY, make_app  # noqa: E402
from tests.invitations.conftest import fellows_csv  # noqa: E402
from tests.invitations.smtp_server import SmtpServer  # noqa: E402

MESSAGE_ID_RE = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


def _check_received(smtp: SmtpServer, emails: set[str]) -> list[bytes]:
    """Assert the server got one message per expected recipient, none repeated; return the Message-IDs."""
    received = list(smtp.handler.received)
    per_recipient = Counter(r for item in received for r in item.recipients)
    assert len(received) == len(emails), f"{len(received)} messages received, expected {len(emails)}"
    assert per_recipient == Counter(emails), "a recipient got no message or more than one"
    message_ids = [MESSAGE_ID_RE.search(item.data).group(1) for item in received]
    assert len(set(message_ids)) == len(emails), "two messages share a Message-ID"
    smtp.handler.received.clear()
    return message_ids


def _bare_loop(messages: list[tuple]) -> float:
    """Send prepared messages in a plain Flask-Mail loop on one connection; return seconds taken."""
    started = time.perf_counter()
    with mail.connect() as conn:
        for rendered, name, email, link, optout in messages:
            conn.send(mailer.build_message(rendered, name, email, link, optout, mailer.new_message_id()))
    return time.perf_counter() - started


def measure(count: int) -> tuple[float, float, float]:
    """Our rate and the bare loop's (msg/s), and the seconds spent preparing the survey and fellows."""
    with tempfile.TemporaryDirectory(prefix="send-rate-") as tmp_name:
        return _measure(count, Path(tmp_name))


def _measure(count: int, tmp: Path) -> tuple[float, float, float]:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    with SmtpServer() as smtp:
        app = make_app(url, tmp, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
        with app.app_context():
            began = time.perf_counter()
            db.drop_all()
            db.create_all()
            survey = survey_service.apply_definition(
                survey_service.parse_definition(survey_service.read_definition(LEGACY_SURVEY))).survey
            participants.import_file(survey, fellows_csv(count))
            survey = db.session.get(Survey, survey.id)
            # The same messages for the baseline, prepared outside its timing: each fellow's own
            # name, address, language (rendered once per language, as the ledger path does) and links.
            render = invitations._renderer(survey, "invitation")
            fellows = db.session.execute(
                select(Participant.name, Participant.email, Participant.language, Invitation.token_seed)
                .join(Invitation, Invitation.participant_id == Participant.id)
                .where(Participant.survey_id == survey.id).order_by(Participant.id)).all()
            messages = [(render(language), name, email, invitations.personal_link(seed),
                         invitations.optout_link(seed)) for name, email, language, seed in fellows]
            emails = {email for _name, email, _language, _seed in fellows}
            assert len(emails) == count
            batch = invitations.create_batch(survey, "invitation")
            db.session.commit()
            prepared = time.perf_counter() - began

            half = count // 2
            first, second = messages[:half], messages[half:]
            bare_seconds = _bare_loop(first)
            _check_received(smtp, {message[2] for message in first})

            started = time.perf_counter()
            invitations.process_batch(batch.id)
            ours_seconds = time.perf_counter() - started
            received_ids = _check_received(smtp, emails)
            ledger = db.session.execute(select(Delivery.state, Delivery.message_id)
                                        .where(Delivery.batch_id == batch.id)).all()
            assert len(ledger) == count and {state for state, _ in ledger} == {"sent"}, "ledger not all sent"
            assert {mid.encode() for _, mid in ledger} == set(received_ids), "ledger and server disagree"

            bare_seconds += _bare_loop(second)
            _check_received(smtp, {message[2] for message in second})
            db.session.remove()
            db.engine.dispose()
    return count / ours_seconds, count / bare_seconds, prepared


if __name__ == "__main__":
    for n in [int(arg) for arg in sys.argv[1:]] or [300, 2000]:
        ours, bare, prepared = measure(n)
        print(f"{n:>6} invitations: {ours:7.1f} msg/s through the ledger; bare Flask-Mail loop "
              f"{bare:7.1f} msg/s; ratio {ours / bare:.2f}; prepared in {prepared:.2f} s")
