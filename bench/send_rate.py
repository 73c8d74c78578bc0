"""Measure invitations per second through the real sending path to a local aiosmtpd server.

    .venv/bin/python bench/send_rate.py 300 2000            # SQLite file database
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/send_rate.py 2000

Compares with a bare Flask-Mail loop sending the same number of messages on one reused connection.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey_app.extensions import db, mail  # noqa: E402
from survey_app.models import Survey  # noqa: E402
from survey_app.services import invitations, mailer, participants  # noqa: E402
from survey_app.services import surveys as survey_service  # noqa: E402
from tests.conftest import LEGACY_SURVEY, make_app  # noqa: E402
from tests.invitations.conftest import fellows_csv  # noqa: E402
from tests.invitations.smtp_server import SmtpServer  # noqa: E402


def measure(count: int) -> tuple[float, float]:
    tmp = Path(tempfile.mkdtemp(prefix="send-rate-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    with SmtpServer() as smtp:
        app = make_app(url, tmp, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
        with app.app_context():
            db.drop_all()
            db.create_all()
            survey = survey_service.apply_definition(
                survey_service.parse_definition(survey_service.read_definition(LEGACY_SURVEY))).survey
            participants.import_file(survey, fellows_csv(count))
            batch = invitations.create_batch(db.session.get(Survey, survey.id), "invitation")
            started = time.perf_counter()
            invitations.process_batch(batch.id)
            ours = count / (time.perf_counter() - started)
            assert len(smtp.handler.received) == count
            smtp.handler.received.clear()
            # The same messages (same templates and size), built and sent in a plain loop.
            rendered = invitations._renderer(db.session.get(Survey, survey.id), "invitation")("en")
            started = time.perf_counter()
            with mail.connect() as conn:
                for i in range(count):
                    conn.send(mailer.build_message(rendered, f"Fellow {i}", f"bare{i}@example.org",
                                                   f"http://127.0.0.1:5000/s/token{i}",
                                                   f"http://127.0.0.1:5000/optout/token{i}", mailer.new_message_id()))
            bare = count / (time.perf_counter() - started)
            assert len(smtp.handler.received) == count
            db.session.remove()
            db.engine.dispose()
    return ours, bare


if __name__ == "__main__":
    for n in [int(arg) for arg in sys.argv[1:]] or [300, 2000]:
        ours, bare = measure(n)
        print(f"{n:>6} invitations: {ours:7.1f} msg/s through the ledger; bare Flask-Mail loop "
              f"{bare:7.1f} msg/s; ratio {ours / bare:.2f}")
