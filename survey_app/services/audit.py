"""The audit log: who did what to which survey, recorded in the same commit as the action."""
from __future__ import annotations

from typing import Any

from flask_login import current_user

from ..extensions import db
from ..models import AuditEvent, StaffUser


def record(action: str, survey_id: int | None = None, actor: StaffUser | None = None, actor_label: str = "cli",
           **detail: Any) -> None:
    """Add an audit event to the session; the caller's commit stores it with the action itself.

    detail holds counts, ids and formats only, never names, addresses, answers or tokens.
    actor defaults to the signed-in staff member; CLI actions pass None and are logged as "cli",
    the service's own actions (a sign-in alert) as their actor_label.
    """
    if actor is None:
        try:
            actor = current_user if current_user and current_user.is_authenticated else None
        except RuntimeError:  # outside a request (CLI, worker)
            actor = None
    db.session.add(AuditEvent(
        action=action,
        survey_id=survey_id,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else actor_label,
        detail=detail,
    ))
