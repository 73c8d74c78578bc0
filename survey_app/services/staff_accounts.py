"""Admin management of staff accounts: create, change role, deactivate, reactivate, reset password."""
from __future__ import annotations

from sqlalchemy import func, select

from ..auth.passwords import password_problems
from ..auth.sessions import revoke_all_sessions
from ..extensions import db
from ..models import Role, StaffUser
from . import audit
from .staff import StaffError, create_staff, hash_password


def list_accounts() -> list[StaffUser]:
    """Every staff account, active ones first, then by name."""
    return list(db.session.execute(
        select(StaffUser).order_by(StaffUser.active.desc(), func.lower(StaffUser.name), StaffUser.id)
    ).scalars())


def get_account(user_id: int) -> StaffUser | None:
    return db.session.get(StaffUser, user_id)


def create_account(actor: StaffUser, email: str, name: str, password: str, role: str) -> StaffUser:
    """Create an account through the password policy, then log who created it.

    create_staff() commits the account itself; the audit event follows in its own commit.
    """
    user = create_staff(email, name, password, role)
    audit.record("staff.created", None, actor=actor, staff_user_id=user.id, role=user.role)
    db.session.commit()
    return user


def _other_active_admins(user: StaffUser) -> int:
    """Count the active admins besides this one, locking their rows so two demotions cannot race."""
    ids = db.session.execute(
        select(StaffUser.id)
        .where(StaffUser.role == Role.ADMIN.value, StaffUser.active.is_(True), StaffUser.id != user.id)
        .with_for_update()
    ).scalars().all()
    return len(ids)


def _guard_last_admin(user: StaffUser) -> None:
    if user.role == Role.ADMIN.value and user.active and _other_active_admins(user) == 0:
        raise StaffError("This is the last active admin account. Make another account an admin first.")


def change_role(actor: StaffUser, user: StaffUser, role: str) -> bool:
    """Give an account another role, never leaving the service without an active admin. Commit.

    Return False when the role was already that one.
    """
    if role not in {r.value for r in Role}:
        raise StaffError(f"role must be one of {', '.join(r.value for r in Role)}")
    if user.role == role:
        return False
    if role != Role.ADMIN.value:
        _guard_last_admin(user)
    previous, user.role = user.role, role
    audit.record("staff.role_changed", None, actor=actor, staff_user_id=user.id, previous_role=previous,
                 role=role)
    db.session.commit()
    return True


def deactivate(actor: StaffUser, user: StaffUser) -> None:
    """Stop an account from signing in and end its live sessions at once. Commit."""
    if not user.active:
        return
    _guard_last_admin(user)
    user.active = False
    revoke_all_sessions(user.id)
    audit.record("staff.deactivated", None, actor=actor, staff_user_id=user.id)
    db.session.commit()


def reactivate(actor: StaffUser, user: StaffUser) -> None:
    """Let a deactivated account sign in again (with its existing password). Commit."""
    if user.active:
        return
    user.active = True
    audit.record("staff.reactivated", None, actor=actor, staff_user_id=user.id)
    db.session.commit()


def reset_password(actor: StaffUser, user: StaffUser, password: str) -> None:
    """Set a new password that meets the policy and sign the account out everywhere. Commit.

    An admin resetting their own password keeps the session they are using.
    """
    problems = password_problems(password, email=user.email, name=user.name)
    if problems:
        raise StaffError("; ".join(problems))
    user.password_hash = hash_password(password)
    keep = getattr(actor, "session_token", None) if actor.id == user.id else None
    revoke_all_sessions(user.id, keep=keep)
    audit.record("staff.password_reset", None, actor=actor, staff_user_id=user.id)
    db.session.commit()
