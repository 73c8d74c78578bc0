"""Staff accounts: creation, password checks and sign-in."""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..auth.passwords import password_problems
from ..extensions import db
from ..models import Role, StaffUser

# Compared against when the e-mail is unknown, so both answers take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000", method="scrypt")


class StaffError(ValueError):
    """A staff account request that cannot be carried out, with a message for the user."""


@dataclass(frozen=True)
class NewStaff:
    email: str
    name: str
    role: str


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(password, method=method)


def create_staff(email: str, name: str, password: str, role: str = Role.STAFF.value) -> StaffUser:
    """Create a staff account after checking the password policy; commit."""
    email = normalise_email(email)
    if role not in {r.value for r in Role}:
        raise StaffError(f"role must be one of {', '.join(r.value for r in Role)}")
    problems = password_problems(password, email=email, name=name)
    if problems:
        raise StaffError("; ".join(problems))
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
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def staff_count() -> int:
    return db.session.execute(select(func.count(StaffUser.id))).scalar_one()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def change_password(user: StaffUser, current: str, new: str) -> None:
    """Change a password after checking the current one and the policy (caller commits)."""
    if not check_password_hash(user.password_hash, current):
        raise StaffError("The current password is not right")
    problems = password_problems(new, email=user.email, name=user.name)
    if problems:
        raise StaffError("; ".join(problems))
    user.password_hash = hash_password(new)
