"""Background jobs (Huey). Jobs take ids, never ORM objects, and run inside an app context."""
from __future__ import annotations
