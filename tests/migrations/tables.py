"""Rows written as the schema stood at the first revisions, for tests that migrate data forward."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, column, insert, table

from survey_app.extensions import db
from survey_app.models.base import UTCDateTime, utcnow

# The responses table of the initial schema: today's model has columns that did not exist yet.
RESPONSES_THEN = table(
    "responses", column("id", Integer), column("survey_id", Integer), column("invitation_id", Integer),
    column("resume_token_hash", String), column("status", String), column("language", String),
    column("country", String), column("cohort", Integer), column("last_section", Integer),
    column("started_at", UTCDateTime()), column("updated_at", UTCDateTime()), column("submitted_at", UTCDateTime()),
)


def insert_response_then(**values: Any) -> int:
    """Insert a response with the initial schema's columns; return its id."""
    now = utcnow()
    row = {"status": "partial", "language": "en", "last_section": 0, "started_at": now, "updated_at": now, **values}
    return db.session.execute(insert(RESPONSES_THEN).values(row).returning(RESPONSES_THEN.c.id)).scalar_one()
