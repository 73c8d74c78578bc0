"""Staff accounts: creation, sign-in checks, password changes, and the admins' management of accounts."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import Role, StaffUser
from . import audit
from .passwords import hash_password, password_matches, password_problems
from .sessions import revoke_all_sessions

__all__ = [
    "StaffError", "account_key", "authenticate", "change_password", "change_role", "create_account",
    "create_staff", "deactivate", "find_account", "get_account", "hash_password", "list_accounts", "normalise_email",
    "reactivate", "reset_password", "staff_count",
    "set_language",
]


class StaffError(ValueError):
    """A staff account request that cannot be carried out, with a message for the user."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def account_key(email: str) -> str:
    """A keyed hash of an e-mail as typed at sign-in, so throttling counters and alerts never hold the address."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"sign-in-account:" + normalise_email(email).encode(), hashlib.sha256).hexdigest()[:32]


def _check_role(role: str) -> None:
    if role not in {r.value for r in Role}:
        raise StaffError(f"role must be one of {', '.join(r.value for r in Role)}")


def _check_password(password: str, user_email: str, user_name: str) -> None:
    problems = password_problems(password, email=user_email, name=user_name)
    if problems:
        raise StaffError("; ".join(problems))


def create_staff(email: str, name: str, password: str, role: str = Role.STAFF.value) -> StaffUser:
    """Create a staff account after checking the password policy. Commit."""
    email = normalise_email(email)
    _check_role(role)
    _check_password(password, email, name)
    if db.session.execute(select(StaffUser.id).where(StaffUser.email == email)).first():
        raise StaffError(f"a staff account for {email} already exists")
    user = StaffUser(email=email, name=name.strip(), role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> StaffUser | None:
    """Return the active user with these credentials, doing equal work for unknown e-mails."""
    user = db.session.execute(
        select(StaffUser).where(StaffUser.email == normalise_email(email))
    ).scalar_one_or_none()
    if not password_matches(user.password_hash if user is not None else None, password):
        return None
    return user if user is not None and user.active else None


def staff_count() -> int:
    return db.session.execute(select(func.count(StaffUser.id))).scalar_one()


def change_password(user: StaffUser, current: str, new: str) -> None:
    """Change one's own password after checking the current one and the policy; end one's other sessions. Commit."""
    if not password_matches(user.password_hash, current):
        raise StaffError("The current password is not right")
    _check_password(new, user.email, user.name)
    user.password_hash = hash_password(new)
    revoke_all_sessions(user.id, keep=getattr(user, "session_token", None))
    db.session.commit()


def set_language(user: StaffUser, language: str) -> None:
    """Remember the staff interface's language on one's own account, for every session to come. Commit."""
    if language not in current_app.config["LANGUAGES"]:
        raise StaffError(f"language must be one of {', '.join(current_app.config['LANGUAGES'])}")
    user.language = language
    db.session.commit()


# --- the admins' pages -------------------------------------------------------------------------

def list_accounts() -> list[StaffUser]:
    """Every staff account, active ones first, then by name."""
    return list(db.session.execute(
        select(StaffUser).order_by(StaffUser.active.desc(), func.lower(StaffUser.name), StaffUser.id)
    ).scalars())


def get_account(user_id: int) -> StaffUser | None:
    return db.session.get(StaffUser, user_id)


def find_account(email: str) -> StaffUser | None:
    """The account with this e-mail address (as typed: case and spaces do not matter), or None."""
    return db.session.execute(
        select(StaffUser).where(StaffUser.email == normalise_email(email))).scalar_one_or_none()


def create_account(actor: StaffUser, email: str, name: str, password: str, role: str) -> StaffUser:
    """Create an account through the password policy, then log who created it.

    create_staff() commits the account itself; the audit event follows in its own commit.
    """
    user = create_staff(email, name, password, role)
    audit.record("staff.created", None, actor, staff_user_id=user.id, role=user.role)
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
    _check_role(role)
    if user.role == role:
        return False
    if role != Role.ADMIN.value:
        _guard_last_admin(user)
    previous, user.role = user.role, role
    audit.record("staff.role_changed", None, actor, staff_user_id=user.id, previous_role=previous, role=role)
    db.session.commit()
    return True


def deactivate(actor: StaffUser, user: StaffUser) -> None:
    """Stop an account from signing in and end its live sessions at once. Commit."""
    if not user.active:
        return
    _guard_last_admin(user)
    user.active = False
    revoke_all_sessions(user.id)
    audit.record("staff.deactivated", None, actor, staff_user_id=user.id)
    db.session.commit()


def reactivate(actor: StaffUser, user: StaffUser) -> None:
    """Let a deactivated account sign in again (with its existing password). Commit."""
    if user.active:
        return
    user.active = True
    audit.record("staff.reactivated", None, actor, staff_user_id=user.id)
    db.session.commit()


def reset_password(actor: StaffUser | None, user: StaffUser, password: str) -> None:
    """Set a new password that meets the policy and sign the account out everywhere. Commit.

    An admin resetting their own password keeps the session they are using; actor None is
    `flask staff set-password`, which ends every session of the account.
    """
    _check_password(password, user.email, user.name)
    user.password_hash = hash_password(password)
    keep = getattr(actor, "session_token", None) if actor is not None and actor.id == user.id else None
    revoke_all_sessions(user.id, keep=keep)
    audit.record("staff.password_reset", None, actor, staff_user_id=user.id)
    db.session.commit()
