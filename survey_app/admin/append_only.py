"""Refuse, in every session, any change to an audit event once it is written."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..models import AuditEvent


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


def _refuse_changes(session: Session, _context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")


def _refuse_bulk(state) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is AuditEvent:
        raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")


def protect_audit_log() -> None:
    """Install the guards once per process, on every ORM session."""
    if not event.contains(Session, "before_flush", _refuse_changes):
        event.listen(Session, "before_flush", _refuse_changes)
        event.listen(Session, "do_orm_execute", _refuse_bulk)
