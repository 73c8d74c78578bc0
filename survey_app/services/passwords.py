"""Staff passwords: the policy (at least 12 characters, not a commonly used one) and hashing."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
# Checked against when there is no account, so an unknown e-mail takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000", method="scrypt")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(
        line.strip().lower() for line in _COMMON_FILE.read_text(encoding="utf-8").splitlines() if line.strip()
    )


def password_problems(password: str, email: str = "", name: str = "") -> list[str]:
    """Return why a password is refused, or an empty list when it is acceptable."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Password must be at least {MIN_LENGTH} characters long")
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) < 4:
        problems.append("Password is too common or too easy to guess; choose another")
    local = email.split("@", 1)[0].lower()
    if local and len(local) >= 4 and local in lowered:
        problems.append("Password must not contain your e-mail address")
    return problems


def hash_password(password: str) -> str:
    """Hash with PASSWORD_HASH_METHOD: scrypt, except the fast method TestingConfig sets."""
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))


def password_matches(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (no such account), do the same work and answer False."""
    if password_hash is None:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)
