"""Synthetic participants and responses with realistic answers, written with bulk inserts."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import func, select, text

from ..extensions import db
from ..models import Invitation, InvitationStatus, Participant, Response, Survey
from ..questions.base import RandomSource, SampleTexts
from ..services import tokens, totals
from ..services.structure import survey_structure
from .personas import Persona, draw_persona, question_kind

CHUNK = 2000

# (country, weight, usual language): roughly the spread of ITP fellows since 2006. A usual language
# the survey does not offer (pt, el, tr …) falls back to the survey's base language for answering.
COUNTRIES: tuple[tuple[str, int, str], ...] = (
    ("EG", 14, "ar"), ("IN", 14, "en"), ("CN", 12, "zh"), ("KE", 8, "en"), ("NG", 8, "en"),
    ("SD", 7, "ar"), ("IQ", 7, "ar"), ("TR", 6, "tr"), ("UG", 6, "en"), ("GH", 6, "en"),
    ("ET", 5, "en"), ("PS", 5, "ar"), ("JO", 5, "ar"), ("LB", 4, "ar"), ("SA", 4, "ar"),
    ("PK", 5, "en"), ("BD", 4, "en"), ("NP", 3, "en"), ("LK", 3, "en"), ("MX", 4, "es"),
    ("BR", 4, "pt"), ("PE", 3, "es"), ("CO", 3, "es"), ("AR", 2, "es"), ("RU", 4, "ru"),
    ("GR", 3, "el"), ("GE", 3, "ru"), ("AM", 2, "ru"), ("IR", 3, "en"), ("AF", 2, "en"),
    ("MM", 3, "en"), ("TH", 2, "en"), ("ID", 3, "en"), ("PH", 2, "en"), ("JP", 2, "en"),
    ("KR", 2, "en"), ("MN", 2, "ru"), ("KZ", 2, "ru"), ("UZ", 2, "ru"), ("ZW", 3, "en"),
    ("TZ", 3, "en"), ("ZA", 3, "en"), ("ZM", 2, "en"), ("NA", 2, "en"), ("CM", 2, "fr"),
    ("SN", 2, "fr"), ("MA", 2, "fr"), ("TN", 2, "fr"), ("OM", 2, "ar"), ("YE", 2, "ar"),
)
# Fellows who answer in English although the survey offers their usual language.
ENGLISH_INSTEAD = 0.3
# Synthetic addresses are at this reserved domain (RFC 2606), which receives no mail.
SYNTHETIC_DOMAIN = "synthetic.example"


@dataclass
class GenerateResult:
    responses: int
    partial: int
    participants: int

    @property
    def not_answered(self) -> int:
        """Invited participants with no response at all."""
        return max(0, self.participants - self.responses - self.partial)


AnswerTuple = tuple[int, int, str, str, int | None, str | None]


class Answerer:
    """Each question's sampler (from its type), set up once, answering as the current synthetic fellow.

    The fellow (a Persona: country, role, platforms) leans each question's options their way; the
    profile answers (country, cohort) match the respondent, and the quoting consent question gets
    a yes more often than a no; the rest is up to each question's type.
    """

    def __init__(self, survey: Survey, rng: random.Random) -> None:
        self.rng = rng
        self.persona: Persona | None = None
        self.plans = []
        for q in survey_structure(survey).questions.values():
            kind = question_kind([o.code for o in (*q.choices, *q.rows)])
            texts = SampleTexts(other=partial(self._write_in, kind), free=partial(self._free_text, q.code),
                                leaning=partial(self._leaning, kind) if kind else None)
            self.plans.append((q, q.kind.sampler(q, rng, texts)))

    def _current(self) -> Persona:
        if self.persona is None:
            raise RuntimeError("answers() chooses the fellow before any sampler runs")
        return self.persona

    def _write_in(self, kind: str, rng: RandomSource) -> str:
        return self._current().write_in(rng, kind)

    def _free_text(self, question_code: str, rng: RandomSource, lang: str) -> str:
        return self._current().free_text(rng, question_code)

    def _leaning(self, kind: str, item: str, option: str) -> float:
        return self._current().leaning(kind, item, option)

    def answers(self, response_id: int, country: str, cohort: int | None, lang: str,
                fraction: float = 1.0, persona: Persona | None = None) -> list[AnswerTuple]:
        """Answer rows (response_id, question_id, item_code, option_code, number, text)."""
        rng = self.rng
        self.persona = persona or draw_persona(rng, country, lang, lang)
        out: list[AnswerTuple] = []
        for q, sample in self.plans[: max(1, int(len(self.plans) * fraction))]:
            consent = bool(q.settings.get("quote_consent"))
            if not q.required and not consent and rng.random() < 0.15:
                continue
            profile = q.settings.get("profile")
            if profile == "country" and country.lower() in q.choice_codes:
                out.append((response_id, q.id, "", country.lower(), None, None))
            elif profile == "cohort" and cohort is not None and str(cohort) in q.choice_codes:
                out.append((response_id, q.id, "", str(cohort), None, None))
            elif consent:
                roll = rng.random()
                if roll < 0.9:
                    out.append((response_id, q.id, "", "yes" if roll < 0.6 else "no", None, None))
            else:
                out += [(response_id, q.id, *answer) for answer in sample(rng, lang)]
        return out


def _next_id(model) -> int:
    return (db.session.execute(select(func.max(model.id))).scalar() or 0) + 1


# Written out in full: table names cannot be bound parameters, and no text is built at run time.
_SEQUENCE_FIXES = (
    "SELECT setval(pg_get_serial_sequence('participants', 'id'), (SELECT COALESCE(MAX(id), 1) FROM participants))",
    "SELECT setval(pg_get_serial_sequence('invitations', 'id'), (SELECT COALESCE(MAX(id), 1) FROM invitations))",
    "SELECT setval(pg_get_serial_sequence('responses', 'id'), (SELECT COALESCE(MAX(id), 1) FROM responses))",
)


_ANSWER_INSERT_QMARK = ("INSERT INTO answers (response_id, question_id, item_code, option_code, number, text, "
                        "quote_approved) VALUES (?, ?, ?, ?, ?, ?, false)")
# Per DBAPI paramstyle; the statement has no other "?" or "%", so the placeholders swap safely.
_ANSWER_INSERT = {
    "qmark": _ANSWER_INSERT_QMARK,
    "format": _ANSWER_INSERT_QMARK.replace("?", "%s"),
    "pyformat": _ANSWER_INSERT_QMARK.replace("?", "%s"),
}


def _fix_sequences() -> None:
    """Explicit ids leave PostgreSQL sequences behind; move them past the new rows."""
    if db.engine.dialect.name != "postgresql":
        return
    for statement in _SEQUENCE_FIXES:
        db.session.execute(text(statement))


def generate(survey: Survey, responses: int, *, invitations: bool = True, extra_invited: float = 0.35,
             partial: float = 0.05, seed: int | None = None, country: str | None = None,
             language: str | None = None, days: int = 60) -> GenerateResult:
    """Add synthetic complete (and some partial) responses to a survey, in bulk. Commit."""
    rng = random.Random(seed)  # nosec B311 - synthetic data, not security
    answerer = Answerer(survey, rng)
    codes = [c for c, _w, _l in COUNTRIES]
    weights = [w for _c, w, _l in COUNTRIES]
    usual = {c: lang for c, _w, lang in COUNTRIES}
    allowed = set(survey.languages or ["en"])
    n_partial = int(responses * partial)
    n_invited = int((responses + n_partial) * (1 + extra_invited)) if invitations else 0
    now = datetime.now(UTC)
    end = min(survey.closes_at, now) if survey.closes_at else now
    start = end - timedelta(days=days)
    if survey.opens_at and survey.opens_at < end:
        start = max(start, survey.opens_at)
        days = max(1, (end - start).days)
    next_participant, next_invitation, next_response = _next_id(Participant), _next_id(Invitation), _next_id(Response)
    made = done_partial = 0
    total = max(responses + n_partial, n_invited)
    for chunk_start in range(0, total, CHUNK):
        participants, invites, response_rows, answer_rows = [], [], [], []
        for index in range(chunk_start, min(total, chunk_start + CHUNK)):
            where = country or rng.choices(codes, weights)[0]
            own = language or usual.get(where, "en")
            lang = own if (rng.random() >= ENGLISH_INSTEAD or language) else "en"
            lang = lang if lang in allowed else survey.base_language
            cohort = rng.randint(2006, 2025)
            invitation_id = None
            is_response = index < responses + n_partial
            is_complete = index < responses
            if invitations and index < n_invited:
                pid, iid = next_participant, next_invitation
                next_participant += 1
                next_invitation += 1
                participants.append({"id": pid, "survey_id": survey.id, "name": f"Synthetic Fellow {pid}",
                                     "email": f"fellow{pid}@{SYNTHETIC_DOMAIN}", "country": where,
                                     "cohort": cohort, "language": lang, "attributes": {}})
                seed_bytes = tokens.new_seed()
                status = (InvitationStatus.COMPLETED if is_complete else
                          InvitationStatus.STARTED if is_response else
                          InvitationStatus.OPENED if rng.random() < 0.3 else InvitationStatus.CREATED)
                invites.append({"id": iid, "survey_id": survey.id, "participant_id": pid,
                                "token_seed": seed_bytes,
                                "token_hash": tokens.hash_token(tokens.token_from_seed(seed_bytes)),
                                "status": status.value,
                                "opened_at": start if status != InvitationStatus.CREATED else None,
                                "started_at": start if is_response else None,
                                "completed_at": None, "created_at": start})
                invitation_id = iid
            if not is_response:
                continue
            rid = next_response
            next_response += 1
            began = start + timedelta(seconds=rng.randint(0, days * 86400 - 3600))
            finished = began + timedelta(minutes=rng.randint(3, 40)) if is_complete else None
            if invites and invitation_id == invites[-1]["id"] and finished:
                invites[-1]["completed_at"] = finished
            response_rows.append({
                "id": rid, "survey_id": survey.id, "invitation_id": invitation_id, "resume_token_hash": None,
                "status": "complete" if is_complete else "partial", "language": lang, "country": where,
                "cohort": cohort, "last_section": len(survey.sections) if is_complete else 1,
                "started_at": began, "updated_at": finished or began, "submitted_at": finished,
                "channel": "personal" if invitation_id is not None else "open",
            })
            answer_rows.extend(answerer.answers(rid, where, cohort, lang, 1.0 if is_complete else 0.4,
                                                persona=draw_persona(rng, where, lang, own)))
            made += is_complete
            done_partial += not is_complete
        # Core executemany on the tables: the ORM bulk path costs several times more per row.
        connection = db.session.connection()
        if participants:
            connection.execute(Participant.__table__.insert(), participants)
            connection.execute(Invitation.__table__.insert(), invites)
        if response_rows:
            connection.execute(Response.__table__.insert(), response_rows)
        if answer_rows:
            # Millions of rows: plain DBAPI executemany, without SQLAlchemy's per-row processing.
            connection.exec_driver_sql(_ANSWER_INSERT[connection.dialect.paramstyle], answer_rows)
    _fix_sequences()
    totals.rebuild(survey.id)
    db.session.commit()
    return GenerateResult(responses=made, partial=done_partial, participants=n_invited)
