"""Build a benchmark database: the six-question survey, invitation pools and ready-to-submit responses.

Run as `python -m bench.prepare OUT_JSON --save N --submit N` with DATABASE_URL, INSTANCE_PATH and
SECRET_KEY in the environment (the same values the gunicorn under test gets), so the tokens derived
here from the stored seeds are the ones the server accepts.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sqlalchemy import func, insert, select

HERE = Path(__file__).resolve().parent
SURVEY_FILE = HERE / "data" / "bench-survey.yaml"

# One complete, valid answer to the section, as a browser posts it (CSRF token added by the caller).
FORM_FIELDS: list[tuple[str, str]] = [
    ("role", "curator"),
    ("activities", "exhibition"), ("activities", "training"),
    ("useful", "a"),
    ("contact__fellows", "monthly"), ("contact__bm", "yearly"), ("contact__partners", "never"),
    ("contact__local", "weekly"),
    ("priorities__collections", "1"), ("priorities__audiences", "2"), ("priorities__digital", "3"),
    ("priorities__leadership", "4"), ("priorities__fundraising", "5"),
    ("comments", "The programme changed how our museum works with its communities."),
    ("action", "continue"),
]


def _invitations(survey_id: int, count: int, prefix: str) -> list[tuple[int, str]]:
    """Insert `count` participants with invitations in bulk; return (invitation id, token) pairs."""
    from survey_app.extensions import db
    from survey_app.models import Invitation, Participant
    from survey_app.services import tokens

    start = (db.session.execute(select(func.max(Participant.id))).scalar() or 0) + 1
    participants, invitations, made = [], [], []
    for n in range(count):
        pid = start + n
        seed = tokens.new_seed()
        token = tokens.token_from_seed(seed)
        participants.append({"id": pid, "survey_id": survey_id, "name": f"Bench Fellow {prefix}{n}",
                             "email": f"{prefix}{n}@bench.invalid", "country": "KE", "cohort": 2015,
                             "language": "en", "attributes": {}})
        invitations.append({"id": pid, "survey_id": survey_id, "participant_id": pid, "token_seed": seed,
                            "token_hash": tokens.hash_token(token)})
        made.append((pid, token))
    for chunk in range(0, count, 5000):
        db.session.execute(insert(Participant), participants[chunk:chunk + 5000])
        db.session.execute(insert(Invitation), invitations[chunk:chunk + 5000])
    return made


def _answer_all(survey_id: int, section, invitation_ids: list[int]) -> None:
    """Give each invitation a partial response with the whole section answered (ready to submit)."""
    from survey_app.extensions import db
    from survey_app.models import Answer, Response

    start = (db.session.execute(select(func.max(Response.id))).scalar() or 0) + 1
    by_code = {q.code: q.id for q in section.questions}
    rows, answers = [], []
    for n, invitation_id in enumerate(invitation_ids):
        rid = start + n
        rows.append({"id": rid, "survey_id": survey_id, "invitation_id": invitation_id, "language": "en",
                     "country": "KE", "cohort": 2015, "last_section": 1})
        for name, value in FORM_FIELDS:
            code, _, item = name.partition("__")
            if code not in by_code:
                continue
            answer = {"response_id": rid, "question_id": by_code[code], "item_code": "", "option_code": "",
                      "number": None, "text": None}
            if code == "priorities":
                answer.update(item_code=item, number=int(value))
            elif code == "contact":
                answer.update(item_code=item, option_code=value)
            elif code == "comments":
                answer.update(text=value)
            else:
                answer.update(option_code=value)
            answers.append(answer)
    # render_nulls: rows whose None columns differ in place stay one batch (otherwise the ORM splits
    # them into runs of a few rows, one round trip each: minutes on PostgreSQL).
    for chunk in range(0, len(rows), 5000):
        db.session.execute(insert(Response).execution_options(render_nulls=True), rows[chunk:chunk + 5000])
    for chunk in range(0, len(answers), 20000):
        db.session.execute(insert(Answer).execution_options(render_nulls=True), answers[chunk:chunk + 20000])


def prepare(out: Path, save: int, submit: int) -> dict:
    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.services import surveys as survey_service
    from survey_app.services.structure import survey_structure

    app = create_app()
    with app.app_context():
        db.create_all()
        survey = survey_service.load_survey_file(SURVEY_FILE).survey
        survey_id = survey.id
        section = survey_structure(survey).sections[0]
        page = _invitations(survey_id, 1, "page")
        save_pool = _invitations(survey_id, save, "save")
        submit_pool = _invitations(survey_id, submit, "submit")
        _answer_all(survey_id, section, [page[0][0]] + [i for i, _ in submit_pool])
        db.session.commit()
        _fix_sequences(db)
        # Each fellow's form carries a CSRF token bound to their link, as their page would give it.
        from survey_app.respond import csrf as link_csrf

        info = {"survey_id": survey_id, "slug": survey.slug, "questions": len(section.questions),
                "page_token": page[0][1], "save_tokens": [t for _, t in save_pool],
                "submit_tokens": [t for _, t in submit_pool],
                "csrf": {t: link_csrf.issue("s", t) for _, t in [*save_pool, *submit_pool]}}
        db.engine.dispose()
    out.write_text(json.dumps(info))
    return info


def _fix_sequences(db) -> None:
    """Explicit ids leave PostgreSQL sequences behind; move them past the rows written here."""
    if db.engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with db.engine.begin() as conn:
        for table in ("participants", "invitations", "responses", "answers"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"COALESCE((SELECT MAX(id) FROM {table}), 1))"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--save", type=int, default=1000)
    parser.add_argument("--submit", type=int, default=1000)
    args = parser.parse_args(argv)
    info = prepare(args.out, args.save, args.submit)
    print(f"prepared survey {info['slug']}: {len(info['save_tokens'])} save, "
          f"{len(info['submit_tokens'])} submit invitations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
