"""Server-side staff sessions: the cookie holds a random id whose hash must match a live row."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from ..extensions import db
from ..models import StaffSession, StaffUser
from ..models.base import utcnow

# Write last_seen_at at most this often, so a busy staff page is not a write per request.
_TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(user: StaffUser) -> str:
    """Start a server-side session for a fresh sign-in and return its cookie token. Commit."""
    token = secrets.token_urlsafe(32)
    db.session.add(StaffSession(token_hash=_hash(token), user_id=user.id))
    user.last_login_at = utcnow()
    user.session_token = token
    db.session.commit()
    return token


def sign_out(token: str | None) -> None:
    """End one session on the server, so a copied cookie stops working. Commit."""
    if token:
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == _hash(token), StaffSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    db.session.commit()


def revoke_all_sessions(user_id: int, keep: str | None = None) -> None:
    """End every session of a user (password change, account disabled), except keep; the caller commits."""
    stmt = update(StaffSession).where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(StaffSession.token_hash != _hash(keep))
    db.session.execute(stmt.values(revoked_at=utcnow()))


def user_for_session(token: str) -> StaffUser | None:
    """Return the user of a live session, enforcing the idle and absolute limits.

    Activity keeps a session alive: its last_seen_at is written (and committed) at most once a minute.
    """
    row = db.session.execute(
        select(StaffSession).where(StaffSession.token_hash == _hash(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if now - row.created_at > current_app.config["STAFF_ABSOLUTE_TIMEOUT"]:
        return None
    if now - row.last_seen_at > current_app.config["STAFF_IDLE_TIMEOUT"]:
        return None
    user = db.session.get(StaffUser, row.user_id)
    if user is None or not user.active:
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    user.session_token = token
    return user
