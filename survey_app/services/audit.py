"""The audit log: who did what to which survey, recorded in the same commit as the action."""
from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditEvent, StaffUser


def record(action: str, survey_id: int | None, actor: StaffUser | None, *, actor_label: str = "cli",
           **detail: Any) -> None:
    """Add an audit event to the session; the caller's commit stores it with the action itself.

    actor is the staff member who acted, handed down by the view; None for an action nobody signed in
    took, logged as actor_label: "cli" for commands, "system" for the worker's own, "fellow" for a
    fellow's opt-out. detail holds counts, ids and formats only, never names, addresses, answers or tokens.
    """
    db.session.add(AuditEvent(
        action=action,
        survey_id=survey_id,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor.email if actor is not None else actor_label,
        detail=detail,
    ))
