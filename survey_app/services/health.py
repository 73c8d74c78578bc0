"""Health check for load balancers: the database answers and the job queue is reachable."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from ..extensions import db, huey


@dataclass(frozen=True)
class HealthReport:
    database: bool
    queue: bool

    @property
    def ok(self) -> bool:
        return self.database and self.queue

    def as_dict(self) -> dict[str, str]:
        return {"status": "ok" if self.ok else "unavailable",
                "database": "ok" if self.database else "error",
                "queue": "ok" if self.queue else "error"}


def check_health() -> HealthReport:
    """Run one trivial query and ask the queue for its length; report what failed, never why."""
    try:
        db.session.execute(text("SELECT 1"))
        database = True
    except Exception:
        db.session.rollback()
        database = False
    try:
        huey.pending_count()
        queue = True
    except Exception:
        queue = False
    return HealthReport(database=database, queue=queue)
