"""Where each fellow and each batch stands: statuses from opt-out, the latest ledger row and the link."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import Subquery, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ...extensions import db
from ...models import Delivery, DeliveryState, Invitation, InvitationStatus, MailBatch, Participant
from .. import paging
from .ledger import ACTIVE_STATES


class ParticipantStatus(enum.StrEnum):
    """What staff see per fellow, derived from opt-out, the latest ledger row and the link."""

    NOT_INVITED = "not_invited"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    OPENED = "opened"
    STARTED = "started"
    COMPLETED = "completed"
    OPTED_OUT = "opted_out"


STATUS_ORDER = [s.value for s in ParticipantStatus]


def _status_subquery(survey_id: int) -> tuple[Subquery, ColumnElement[str]]:
    latest = (select(Delivery.state).where(Delivery.participant_id == Participant.id)
              .order_by(Delivery.id.desc()).limit(1).correlate(Participant).scalar_subquery())
    base = (select(Participant.id, Participant.name, Participant.email, Participant.country, Participant.cohort,
                   Participant.language, Participant.opted_out_at, Invitation.status.label("link_status"),
                   latest.label("delivery_state"))
            .outerjoin(Invitation, Invitation.participant_id == Participant.id)
            .where(Participant.survey_id == survey_id)).subquery()
    status = case(
        (base.c.opted_out_at.is_not(None), ParticipantStatus.OPTED_OUT.value),
        (base.c.link_status == InvitationStatus.COMPLETED.value, ParticipantStatus.COMPLETED.value),
        (base.c.link_status == InvitationStatus.STARTED.value, ParticipantStatus.STARTED.value),
        (base.c.link_status == InvitationStatus.OPENED.value, ParticipantStatus.OPENED.value),
        (base.c.delivery_state.in_(ACTIVE_STATES), ParticipantStatus.QUEUED.value),
        (base.c.delivery_state == DeliveryState.SENT.value, ParticipantStatus.SENT.value),
        (base.c.delivery_state == DeliveryState.FAILED.value, ParticipantStatus.FAILED.value),
        (base.c.delivery_state == DeliveryState.UNCERTAIN.value, ParticipantStatus.UNCERTAIN.value),
        else_=ParticipantStatus.NOT_INVITED.value,
    )
    return base, status


def status_counts(survey_id: int) -> dict[str, int]:
    """Participants per status, every status present (zero when none)."""
    base, status = _status_subquery(survey_id)
    counts: dict[str, int] = dict(db.session.execute(
        select(status, func.count()).select_from(base).group_by(status)).tuples().all())
    return {s: counts.get(s, 0) for s in STATUS_ORDER}


def delivery_counts(survey_id: int) -> dict[str, dict[str, int]]:
    """Ledger rows per kind and state (what `flask invitations status` prints)."""
    rows = db.session.execute(
        select(Delivery.kind, Delivery.state, func.count(Delivery.id)).where(Delivery.survey_id == survey_id)
        .group_by(Delivery.kind, Delivery.state)
    ).all()
    result: dict[str, dict[str, int]] = {}
    for kind, state, count in rows:
        result.setdefault(kind, {s.value: 0 for s in DeliveryState})[state] = count
    return result


@dataclass(frozen=True)
class ParticipantRow:
    id: int
    name: str
    email: str
    country: str | None
    cohort: int | None
    language: str | None
    status: str


@dataclass(frozen=True)
class ParticipantPage:
    rows: list[ParticipantRow]
    total: int
    page: int
    pages: int


def list_participants(survey_id: int, status: str | None = None, search: str | None = None,
                      country: str | None = None, page: int = 1, per_page: int = 50) -> ParticipantPage:
    """One page of the participants table, filtered by status, country and a name/e-mail search."""
    base, status_expr = _status_subquery(survey_id)
    query = select(base.c.id, base.c.name, base.c.email, base.c.country, base.c.cohort, base.c.language,
                   status_expr.label("status")).select_from(base)
    if status in STATUS_ORDER:
        query = query.where(status_expr == status)
    if country:
        query = query.where(base.c.country == country.upper())
    if search:
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(base.c.name).like(pattern, escape="\\"),
                                base.c.email.like(pattern, escape="\\")))
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page, pages, offset = paging.window(total, page, per_page)
    rows = db.session.execute(query.order_by(func.lower(base.c.name), base.c.id)
                              .limit(per_page).offset(offset)).all()
    return ParticipantPage([ParticipantRow(*row) for row in rows], total, page, pages)


def participant_deliveries(participant_id: int) -> list[Delivery]:
    return list(db.session.execute(select(Delivery).where(Delivery.participant_id == participant_id)
                                   .order_by(Delivery.id)).scalars())


@dataclass(frozen=True)
class BatchProgress:
    batch: MailBatch
    total: int
    sent: int
    failed: int
    uncertain: int
    cancelled: int
    pending: int

    @property
    def done(self) -> bool:
        return self.pending == 0

    @property
    def percent(self) -> int:
        return int(100 * (self.total - self.pending) / self.total) if self.total else 100


def batch_progress(batch: MailBatch) -> BatchProgress:
    counts: dict[str, int] = dict(db.session.execute(
        select(Delivery.state, func.count(Delivery.id)).where(Delivery.batch_id == batch.id).group_by(Delivery.state)
    ).tuples().all())
    pending = sum(counts.get(s, 0) for s in ACTIVE_STATES)
    total = sum(counts.values())
    return BatchProgress(batch, total, counts.get("sent", 0), counts.get("failed", 0), counts.get("uncertain", 0),
                         counts.get("cancelled", 0), pending)


def recent_batches(survey_id: int, limit: int = 10) -> list[BatchProgress]:
    batches = db.session.execute(select(MailBatch).where(MailBatch.survey_id == survey_id)
                                 .order_by(MailBatch.id.desc()).limit(limit)).scalars().all()
    return [batch_progress(b) for b in batches]


def get_batch(survey_id: int, batch_id: int) -> MailBatch | None:
    batch = db.session.get(MailBatch, batch_id)
    return batch if batch is not None and batch.survey_id == survey_id else None
