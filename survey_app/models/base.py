"""The models' base class and shared column helpers."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Dialect, TypeDecorator

from ..extensions import db

if TYPE_CHECKING:
    from typing import ClassVar

    from sqlalchemy import Table
    from sqlalchemy.orm import DeclarativeBase

    class Model(DeclarativeBase):
        """What db.Model is to the type checker: mypy cannot follow a base class held in an attribute."""

        __table__: ClassVar[Table]  # each model maps one table (DeclarativeBase allows any FromClause)

else:
    Model = db.Model


def utcnow() -> datetime:
    """Return an aware UTC timestamp, the only kind stored."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store UTC timestamps and read them back timezone-aware on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use survey_app.models.base.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value
