"""Fellows invited to a survey: one participant per survey and address, imported from CSV or added by hand.

Each module does one thing: csv_files.py (decoding the bytes and reading the header row),
validation.py (one person's details, by the same rules for a CSV row and the staff form),
imports.py (the preview of an import and applying it), uploads.py (files kept between checking
and confirming), records.py (one participant: add, edit, remove, lock), template.py (the template
CSV staff download) and names.py (countries and languages named in the staff member's language).
"""
from .csv_files import COLUMNS, MAX_COLUMNS, CsvFileError, decode_csv
from .imports import (
    MAX_ROWS,
    ImportConflict,
    ImportPreview,
    ImportResult,
    LanguageNotOffered,
    SkippedRow,
    apply_import,
    import_file,
    languages_not_offered,
    preview_import,
)
from .names import DisplayNames
from .records import (
    EMAIL_TAKEN,
    ParticipantGone,
    add_participant,
    get_participant,
    invitation_rows,
    lock_participant,
    lock_participant_or_raise,
    participant_survey_id,
    remove_participant,
    update_participant,
)
from .template import template_csv, template_filename
from .uploads import (
    IMPORT_ID_RE,
    UPLOAD_MAX_AGE_SECONDS,
    discard_upload,
    discard_uploads_holding,
    emails_in_upload,
    expire_uploads,
    load_upload,
    stash_upload,
)
from .validation import (
    COHORT_MAX,
    COHORT_MIN,
    MAX_ATTRIBUTE,
    MAX_NAME,
    ParticipantData,
    ParticipantError,
    parse_cohort,
    validate_participant,
)

__all__ = [
    "COHORT_MAX", "COHORT_MIN", "COLUMNS", "EMAIL_TAKEN", "IMPORT_ID_RE", "MAX_ATTRIBUTE", "MAX_COLUMNS",
    "MAX_NAME", "MAX_ROWS", "UPLOAD_MAX_AGE_SECONDS", "CsvFileError", "DisplayNames", "ImportConflict",
    "ImportPreview", "ImportResult", "LanguageNotOffered", "ParticipantData", "ParticipantError",
    "ParticipantGone", "SkippedRow", "add_participant", "apply_import", "decode_csv", "discard_upload",
    "discard_uploads_holding", "emails_in_upload", "expire_uploads", "get_participant", "import_file",
    "invitation_rows", "languages_not_offered", "load_upload", "lock_participant", "lock_participant_or_raise",
    "parse_cohort", "participant_survey_id", "preview_import", "remove_participant", "stash_upload", "template_csv",
    "template_filename", "update_participant", "validate_participant",
]
