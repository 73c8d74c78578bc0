"""Statements executed on the session, where the type checker needs help to follow SQLAlchemy."""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db


def insert_with_conflicts(target: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can say ON CONFLICT DO NOTHING or DO UPDATE.

    The one statement whose spelling differs between our two databases: each dialect has its own
    insert() construct for it, with the same methods.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


def rows_changed(statement: Executable) -> int:
    """Execute an UPDATE or DELETE on the session and return how many rows it matched.

    The session types every result as Result; for these statements it is a CursorResult, which
    carries the rowcount.
    """
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount
