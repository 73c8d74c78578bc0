"""Template hygiene that protects every page."""
from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_no_template_rebinds_the_gettext_function():
    """`{% set _ = ... %}` hides _() for the rest of the scope, and the next translated string fails."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in TEMPLATES.rglob("*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"{%-?\s*set\s+_\s*=", line)
    ]
    assert offenders == []
