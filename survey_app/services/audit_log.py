"""Reading the audit log: filtered, newest first, a page at a time. Nothing here writes."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import AuditEvent, StaffUser, Survey
from . import paging

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    survey_slug: str | None
    # Staff accounts named in the detail (staff_user_id), shown by e-mail for readability.
    subject_email: str | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    pages: int
    total: int


def audit_page(page: int = 1, action: str | None = None, survey_id: int | None = None,
               page_size: int = PAGE_SIZE) -> AuditPage:
    """Return one page of audit events, newest first, optionally for one action or survey."""
    conditions = []
    if action:
        conditions.append(AuditEvent.action == action)
    if survey_id is not None:
        conditions.append(AuditEvent.survey_id == survey_id)
    total = db.session.execute(select(func.count(AuditEvent.id)).where(*conditions)).scalar_one()
    page, pages, offset = paging.window(total, page, page_size)
    result = db.session.execute(
        select(AuditEvent, Survey.slug)
        .outerjoin(Survey, Survey.id == AuditEvent.survey_id)
        .where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(page_size).offset(offset)
    ).all()
    staff_ids = {e.detail.get("staff_user_id") for e, _ in result if isinstance(e.detail, dict)} - {None}
    emails: dict[int | None, str] = dict(db.session.execute(
        select(StaffUser.id, StaffUser.email).where(StaffUser.id.in_(staff_ids))
    ).tuples().all()) if staff_ids else {}
    rows = [AuditRow(event, slug, emails.get((event.detail or {}).get("staff_user_id"))) for event, slug in result]
    return AuditPage(rows, page, pages, total)


def audit_actions() -> list[str]:
    """The distinct actions recorded so far, for the filter."""
    return list(db.session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars())


def audit_surveys() -> list[tuple[int, str]]:
    return list(db.session.execute(select(Survey.id, Survey.slug).order_by(Survey.slug)).tuples())
