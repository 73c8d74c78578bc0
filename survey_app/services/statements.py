"""Statements executed on the session, where the type checker needs help to follow SQLAlchemy."""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable

from ..extensions import db


def rows_changed(statement: Executable) -> int:
    """Execute an UPDATE or DELETE on the session and return how many rows it matched.

    The session types every result as Result; for these statements it is a CursorResult, which
    carries the rowcount.
    """
    return cast(CursorResult[Any], db.session.execute(statement)).rowcount
