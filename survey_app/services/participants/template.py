"""The template CSV staff download to fill in: the columns the importer reads, and two example rows.

It is UTF-8 with a byte-order mark and CRLF line ends: Excel on Windows opens a file without the
mark as the system's code page and shows "JosÃ©" for "José"; with it, names in any script open
as written, and the importer reads the mark (and Excel's other encodings) back.
"""
from __future__ import annotations

import codecs
import csv
import io

from ...models import Survey
from .csv_files import COLUMNS

# A column the importer does not know is kept as an attribute of the person: the template shows one.
EXAMPLE_ATTRIBUTE = "museum"


def template_filename(survey: Survey) -> str:
    return f"{survey.slug}-participants-template.csv"


def template_csv(survey: Survey) -> bytes:
    """The header row and two example fellows, in languages this survey offers."""
    base = survey.base_language
    offered = list(survey.languages or [base])
    other = "es" if "es" in offered else next((code for code in offered if code != base), base)
    rows = [
        [*COLUMNS, EXAMPLE_ATTRIBUTE],
        ["Amina Okafor", "amina.okafor@example.org", "NG", "2015", base, "National Museum, Lagos"],
        ["José Quispe Mamani", "jose.quispe@example.org", "PE", "2019", other, "Museo de Arte de Lima"],
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
