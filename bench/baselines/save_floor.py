"""The floor of a correct section save on this stack: bare Flask and the driver, our checks, our schema.

What a save cannot skip, and all this app does: find the link by its token's hash (one query), check
the posted answers against the section's questions (forms.respond.SectionAnswers, the app's own
rules and messages), check the link-bound CSRF token (survey_app.respond.csrf), and store the
response, the invitation's status and the answers in one transaction (or replace the section's
answers of a response already started), then answer 303. No session, ORM, language choice, guess
limit, security header or service layer; the one extension, Flask-Babel, adds no request hook and is
only reached to word the messages of a refused post. `make bench` measures our save beside it on
SQLite, so the table shows how much of the distance to the 1-row insert is the save's own work and
how much is ours. On PostgreSQL (`python -m bench.floor_variants --pg`) a first save is the app's
own two round trips: the link, then one statement writing the response, the invitation's status
and the answers.

DATABASE_URL names a database prepared by bench.prepare; the survey's first section is read once,
through the app, when the module loads. FLOOR_STORE (for `python -m bench.floor_variants`, not `make
bench`; SQLite only) stores the answers otherwise, to show what the rows cost: "document" writes
them as one JSON row per response and section (a table this app creates; nothing else reads it),
"nothing" writes nothing at all (the response is not even created).
"""
from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from datetime import datetime, timezone

from flask import Flask, abort, request
from flask_babel import Babel

from forms.respond import SectionAnswers
from survey_app.respond import csrf as link_csrf
from survey_app.services import tokens

DATABASE_URL = os.environ["DATABASE_URL"]
POSTGRES = DATABASE_URL.startswith("postgresql")
if not POSTGRES and not DATABASE_URL.startswith("sqlite:///"):
    raise SystemExit("the save floor runs on SQLite or PostgreSQL")
DATABASE = None if POSTGRES else DATABASE_URL.split("///", 1)[1]
SLUG = os.environ.get("BENCH_SURVEY", "bench-six")
STORE = os.environ.get("FLOOR_STORE", "rows")
if STORE not in {"rows", "document", "nothing"} or (POSTGRES and STORE == "document"):
    raise SystemExit(f"FLOOR_STORE={STORE}: rows, document (SQLite) or nothing")


def _first_section():
    """The survey's first section and the app's settings, read once through the app."""
    from survey_app import create_app
    from survey_app.services import surveys
    from survey_app.services.structure import survey_structure

    real = create_app()
    with real.app_context():
        structure = survey_structure(surveys.get_survey(SLUG))
    return structure.sections[0], len(structure.sections), real.config


SECTION, SECTIONS, _CONFIG = _first_section()
NEXT = "check" if SECTIONS == 1 else str(SECTION.number + 1)
app = Flask(__name__)
app.config.update(SECRET_KEY=_CONFIG["SECRET_KEY"], RESPOND_CSRF_MAX_AGE=_CONFIG["RESPOND_CSRF_MAX_AGE"])
Babel(app)
_local = threading.local()
_writers = threading.Lock()
# SQLite writers queue on a lock file, as the app's do; PostgreSQL's row locks need no help.
_writers_file = None if POSTGRES else open(DATABASE + "-floor-writers.lock", "a+b")  # noqa: SIM115

LINK = """
SELECT i.id, i.survey_id, i.completed_at, s.anonymous, p.language, p.country, p.cohort, r.id, r.status,
       s.status = 'open' AND (s.opens_at IS NULL OR s.opens_at <= :now) AND (s.closes_at IS NULL OR s.closes_at > :now)
FROM invitations i JOIN surveys s ON s.id = i.survey_id JOIN participants p ON p.id = i.participant_id
LEFT JOIN responses r ON r.invitation_id = i.id
WHERE i.token_hash = :token_hash
"""
NEW_RESPONSE = """
INSERT INTO responses (survey_id, invitation_id, language, status, started_at, updated_at, country, cohort,
                       last_section)
VALUES (?, ?, ?, 'partial', ?, ?, ?, ?, ?) RETURNING id
"""
MARK_STARTED = "UPDATE invitations SET status = 'started', started_at = ? WHERE id = ? AND completed_at IS NULL"
RESAVE = """
UPDATE responses SET updated_at = ?, last_section = {greatest}(last_section, ?) WHERE id = ? AND status = 'partial'
""".format(greatest="GREATEST" if POSTGRES else "MAX")
ANSWER = "(?, ?, ?, ?, ?, ?, FALSE)"
# On PostgreSQL the three writes of a first save are the app's own statement (one round trip), compiled
# to psycopg's placeholders: the floor is the app's SQL with nothing around it.
FIRST_SAVE_POSTGRESQL = None
if POSTGRES:  # the same statements in psycopg's placeholders
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    from survey_app.services.responses import _FIRST_SAVE_POSTGRESQL

    FIRST_SAVE_POSTGRESQL = str(_FIRST_SAVE_POSTGRESQL.statement.compile(dialect=PGDialect_psycopg()))
    LINK = LINK.replace(":now", "%(now)s").replace(":token_hash", "%(token_hash)s")
    NEW_RESPONSE, MARK_STARTED, RESAVE, ANSWER = (sql.replace("?", "%s") for sql in (NEW_RESPONSE, MARK_STARTED,
                                                                                      RESAVE, ANSWER))


def connection():
    """One connection per worker thread, in autocommit: SQLite with the app's pragmas, or psycopg."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        if POSTGRES:
            import psycopg

            conn = psycopg.connect(DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        else:
            conn = sqlite3.connect(DATABASE, timeout=30, isolation_level=None)
            for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
                conn.execute(f"PRAGMA {pragma}")
            if STORE == "document":
                conn.execute("CREATE TABLE IF NOT EXISTS floor_documents (response_id INTEGER NOT NULL, section "
                             "INTEGER NOT NULL, answers TEXT NOT NULL, PRIMARY KEY (response_id, section)) "
                             "WITHOUT ROWID")
        _local.conn = conn
    return conn


def _stamp(moment: datetime, anonymous: bool) -> datetime | str:
    """The time as the app stores it (only the day for anonymous surveys): aware, or SQLite's text."""
    if anonymous:
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment if POSTGRES else moment.strftime("%Y-%m-%d %H:%M:%S.%f")


@app.post("/s/<token>/<int:number>")
def save(token: str, number: int):
    if number != SECTION.number or not tokens.looks_like_token(token):
        abort(404)
    conn = connection()
    now = datetime.now(timezone.utc)
    row = conn.execute(LINK, {"now": _stamp(now, False), "token_hash": tokens.hash_token(token)}).fetchone()
    if row is None:
        abort(404)
    invitation_id, survey_id, completed_at, anonymous, language, country, cohort, response_id, status, is_open = row
    if completed_at is not None or status == "complete":
        return "", 303, {"Location": f"/s/{token}/done"}
    if not is_open:
        abort(409)
    form = SectionAnswers(SECTION, request.form)
    if not (form.validate() and link_csrf.is_valid("s", token, request.form.get("csrf_token"))):
        abort(400)
    answers = [(a.question_id, a.item_code, a.option_code, a.number, a.text) for a in form.answer_rows()]
    if STORE == "nothing":
        return "", 303, {"Location": f"/s/{token}/{NEXT}"}
    stamp = _stamp(now, bool(anonymous))
    first = None if response_id is not None else (survey_id, invitation_id, language or "en", stamp, stamp,
                                                  None if anonymous else country, None if anonymous else cohort)
    if POSTGRES:
        stored = _store_postgresql(conn, first, invitation_id, response_id, number, stamp, answers)
    else:
        with _writers:
            fcntl.flock(_writers_file, fcntl.LOCK_EX)  # writers queue here, not in SQLite's busy loop
            try:
                stored = _store(conn, first, invitation_id, response_id, number, stamp, answers)
            finally:
                fcntl.flock(_writers_file, fcntl.LOCK_UN)
    return "", 303, {"Location": f"/s/{token}/{NEXT if stored else 'done'}"}


def _store_postgresql(conn, first: tuple | None, invitation_id: int, response_id: int | None, number: int,
                      stamp: datetime, answers: list[tuple]) -> bool:
    """A first save in one statement (autocommit); a lost race or a later save as _store does it."""
    if first is not None:
        import psycopg

        columns = [list(column) for column in zip(*answers)] if answers else [[]] * 5
        survey_id, _invitation, language, started, updated, country, cohort = first
        try:
            conn.execute(FIRST_SAVE_POSTGRESQL, {
                "survey_id": survey_id, "invitation_id": invitation_id, "language": language, "status": "partial",
                "started_at": started, "updated_at": updated, "country": country, "cohort": cohort,
                "last_section": number, **dict(zip(("question_ids", "item_codes", "option_codes", "numbers", "texts"),
                                                   columns))})
            return True
        except psycopg.errors.UniqueViolation:  # another first save won: save into its response
            (response_id,) = conn.execute("SELECT id FROM responses WHERE invitation_id = %s",
                                          (invitation_id,)).fetchone()
    with conn.transaction():
        return _store(conn, None, invitation_id, response_id, number, stamp, answers, framed=False)


def _store(conn, first: tuple | None, invitation_id: int, response_id: int | None, number: int, stamp,
           answers: list[tuple], framed: bool = True) -> bool:
    """Write one section in one transaction; False when the response was submitted meanwhile.

    framed: begin and end the transaction here (SQLite); else the caller holds it (psycopg).
    """
    if framed:
        conn.execute("BEGIN IMMEDIATE")
    try:
        if first is not None:
            try:
                (response_id,) = conn.execute(NEW_RESPONSE, (*first, number)).fetchone()
            except sqlite3.IntegrityError:  # another first save of this invitation won: save into its response
                (response_id,) = conn.execute("SELECT id FROM responses WHERE invitation_id = ?",
                                              (invitation_id,)).fetchone()
                first = None
            else:
                conn.execute(MARK_STARTED, (stamp, invitation_id))
        if first is None:
            if conn.execute(RESAVE, (stamp, number, response_id)).rowcount == 0:
                if framed:
                    conn.execute("ROLLBACK")
                return False
            codes = [q.id for q in SECTION.questions]
            mark = "%s" if POSTGRES else "?"
            conn.execute(f"DELETE FROM answers WHERE response_id = {mark} AND question_id IN "  # nosec B608
                         f"({', '.join([mark] * len(codes))})", (response_id, *codes))
        if STORE == "document":
            conn.execute("INSERT OR REPLACE INTO floor_documents VALUES (?, ?, ?)",
                         (response_id, number, json.dumps(answers)))
        elif answers:
            conn.execute("INSERT INTO answers (response_id, question_id, item_code, option_code, number, text, "
                         "quote_approved) VALUES " + ", ".join([ANSWER] * len(answers)),  # nosec B608
                         tuple(value for answer in answers for value in (response_id, *answer)))
        if framed:
            conn.execute("COMMIT")
        return True
    except BaseException:
        if framed and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
