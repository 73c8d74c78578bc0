"""Measure invitations per second through the real worker to a local aiosmtpd server.

    .venv/bin/python bench/send_rate.py 300 2000            # SQLite file database
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/send_rate.py 2000

The subject is a `huey_consumer survey_app.worker.huey` process (one worker thread, the queue on
Redis when 127.0.0.1:6379 answers, else on SQLite) sending a batch of N invitations through the
ledger: timed from the moment the batch is queued, as the staff page queues it, until the ledger
holds no message waiting. The baseline is a bare Flask-Mail loop sending the same N messages (same
recipients, names, languages, links and headers, built by the same `mail.messages.build_message`) on one
reused connection: the first half before the subject and the second half after it, so that load
drifting on a shared machine weighs on both. The SMTP server (bench/smtp_sink.py) runs in a third
process, so neither sender shares its GIL. Each run checks that the server received exactly N
distinct messages, one per recipient, none repeated, with the Message-IDs the ledger recorded, and
exits non-zero otherwise. It also prints the seconds spent preparing (importing the fellows), so
the bench can size its rounds.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.smtp_sink import read_received  # noqa: E402
from survey_app.extensions import db, huey, mail  # noqa: E402
from survey_app.models import Delivery, Invitation, Participant, Survey  # noqa: E402
from survey_app.services import invitations, participants  # noqa: E402
from survey_app.services.mail import messages as mail_messages  # noqa: E402
from survey_app.services import surveys as survey_service  # noqa: E402
from tests.conftest import LEGACY_SURVEY, make_app  # noqa: E402
from tests.invitations.conftest import fellows_csv  # noqa: E402
from tests.invitations.workers import start_worker, stop_worker, worker_env  # noqa: E402

BIN = Path(sys.executable).parent
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
WAIT_LIMIT = 1800.0  # seconds: a safety net for a stuck worker, far above any round


class Sink:
    """bench/smtp_sink.py in its own process; `take()` returns what arrived since the last call."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "received.txt"
        self.path.touch()
        self.offset = 0
        self.proc = subprocess.Popen([str(BIN / "python"), "-m", "bench.smtp_sink", str(self.path)], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())

    def take(self) -> list[tuple[list[str], str]]:
        received, self.offset = read_received(self.path, self.offset)
        return received

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _check_received(received: list[tuple[list[str], str]], emails: set[str]) -> list[str]:
    """Assert the server got one message per expected recipient, none repeated; return the Message-IDs."""
    per_recipient = Counter(r for recipients, _ in received for r in recipients)
    if len(received) != len(emails):
        raise SystemExit(f"{len(received)} messages received, expected {len(emails)}")
    if per_recipient != Counter(emails):
        raise SystemExit("a recipient got no message or more than one")
    message_ids = [message_id for _, message_id in received]
    if len(set(message_ids)) != len(emails):
        raise SystemExit("two messages share a Message-ID")
    return message_ids


def _bare_loop(messages: list[tuple]) -> float:
    """Send prepared messages in a plain Flask-Mail loop on one connection; return seconds taken."""
    started = time.perf_counter()
    with mail.connect() as conn:
        for rendered, name, email, link, optout in messages:
            conn.send(mail_messages.build_message(rendered, name, email, link, optout, mail_messages.new_message_id()))
    return time.perf_counter() - started


def _redis_url() -> str | None:
    """The production queue when a Redis server answers on 127.0.0.1, else None (the SQLite queue)."""
    try:
        import redis

        redis.Redis.from_url(BENCH_REDIS_URL, socket_connect_timeout=2).ping()
        return BENCH_REDIS_URL
    except Exception:
        return None


def _start_worker(app, sink: Sink, redis_url: str | None, log: Path) -> subprocess.Popen:
    """A real Huey consumer with one worker thread, ready once it has run a task."""
    env = worker_env(app, sink, **({"REDIS_URL": redis_url} if redis_url else {}))
    # No periodic tasks: the minute's sweep would otherwise start the batch before it is queued.
    proc = start_worker(env, log, "--no-periodic", "--max-delay", "0.1")
    # Its start-up hook (resuming pending batches) runs before any task; a batch id that does not
    # exist sends nothing.
    from survey_app import tasks

    try:
        tasks.send_batch(0).get(blocking=True, timeout=120)
    except Exception:
        stop_worker(proc)
        raise SystemExit(f"the Huey worker did not start: {log.read_text(errors='replace')[-400:]}") from None
    return proc


def _waiting(batch_id: int) -> int:
    """Messages of the batch not yet handed to the server, read in a fresh transaction."""
    count = db.session.execute(select(func.count(Delivery.id)).where(
        Delivery.batch_id == batch_id, Delivery.state.in_(invitations.ACTIVE_STATES))).scalar_one()
    db.session.rollback()
    return count


def measure(count: int) -> tuple[float, float, float, str]:
    """Our rate and the bare loop's (msg/s), the seconds spent preparing the survey and fellows, the queue."""
    with tempfile.TemporaryDirectory(prefix="send-rate-") as tmp_name:
        tmp = Path(tmp_name)
        sink = Sink(tmp)
        try:
            return _measure(count, tmp, sink)
        finally:
            sink.stop()


def _measure(count: int, tmp: Path, sink: Sink) -> tuple[float, float, float, str]:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    redis_url = _redis_url()
    app = make_app(url, tmp, MAIL_SERVER="127.0.0.1", MAIL_PORT=sink.port, MAIL_SUPPRESS_SEND=False,
                   REDIS_URL=redis_url)
    with app.app_context():
        began = time.perf_counter()
        db.drop_all()
        db.create_all()
        huey.flush()  # nothing left on the queue by an earlier run
        survey = survey_service.apply_definition(
            survey_service.parse_definition(survey_service.read_definition(LEGACY_SURVEY))).survey
        participants.import_file(survey, fellows_csv(count))
        survey = db.session.get(Survey, survey.id)
        # The same messages for the baseline, prepared outside its timing: each fellow's own
        # name, address, language (rendered once per language, as the ledger path does) and links.
        render = invitations.renderer(survey, "invitation")
        fellows = db.session.execute(
            select(Participant.name, Participant.email, Participant.language, Invitation.token_seed)
            .join(Invitation, Invitation.participant_id == Participant.id)
            .where(Participant.survey_id == survey.id).order_by(Participant.id)).all()
        messages = [(render(language), name, email, invitations.personal_link(seed),
                     invitations.optout_link(seed)) for name, email, language, seed in fellows]
        emails = {email for _name, email, _language, _seed in fellows}
        assert len(emails) == count
        prepared = time.perf_counter() - began

        worker = _start_worker(app, sink, redis_url, tmp / "worker.log")
        try:
            began = time.perf_counter()
            batch = invitations.create_batch(survey, "invitation")  # committed, not yet queued
            batch_id = batch.id
            prepared += time.perf_counter() - began

            half = count // 2
            first, second = messages[:half], messages[half:]
            bare_seconds = _bare_loop(first)
            _check_received(sink.take(), {message[2] for message in first})

            started = time.perf_counter()
            invitations.wake_workers(batch_id)
            db.session.commit()  # jobs go to the queue when the transaction commits
            deadline = time.monotonic() + WAIT_LIMIT
            while _waiting(batch_id):
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the Huey worker stopped or stalled (exit {worker.poll()})")
                time.sleep(0.02)
            ours_seconds = time.perf_counter() - started
        finally:
            stop_worker(worker)
        received_ids = _check_received(sink.take(), emails)
        ledger = db.session.execute(select(Delivery.state, Delivery.message_id)
                                    .where(Delivery.batch_id == batch_id)).all()
        assert len(ledger) == count and {state for state, _ in ledger} == {"sent"}, "ledger not all sent"
        assert {mid for _, mid in ledger} == set(received_ids), "ledger and server disagree"

        bare_seconds += _bare_loop(second)
        _check_received(sink.take(), {message[2] for message in second})
        db.session.remove()
        db.engine.dispose()
    return count / ours_seconds, count / bare_seconds, prepared, "Redis" if redis_url else "SQLite"


if __name__ == "__main__":
    for n in [int(arg) for arg in sys.argv[1:]] or [300, 2000]:
        ours, bare, prepared, queue = measure(n)
        print(f"{n:>6} invitations: {ours:7.1f} msg/s through the ledger; bare Flask-Mail loop "
              f"{bare:7.1f} msg/s; ratio {ours / bare:.2f}; prepared in {prepared:.2f} s; queue on {queue}")
