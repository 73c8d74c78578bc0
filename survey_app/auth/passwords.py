"""Password policy: at least 12 characters and not a commonly used password."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


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
