"""A survey's report cover (organisation, logo, accent colour) and its public web version, set by staff."""
from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from ..extensions import db
from ..models import ReportSettings, StaffUser, Survey
from ..models.base import utcnow
from ..models.report import ORGANISATION_MAX
from . import audit, tokens

LOGO_MAX_BYTES = 1024 * 1024  # 1 MB uploaded
LOGO_MAX_SIDE = 3000  # pixels, either side, checked from the header before decoding
LOGO_FORMATS = {"PNG", "JPEG"}  # recognised by content, never by the file's name
TOKEN_PURPOSE = "report"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# Accent text on white must reach WCAG's 4.5:1, so headings drawn in it stay readable.
MIN_CONTRAST = 4.5


class ReportSettingsError(ValueError):
    """A setting was refused; the message says why, for the person who entered it."""


@dataclass(frozen=True)
class Logo:
    png: bytes
    width: int
    height: int


def settings_for(survey: Survey) -> ReportSettings:
    """The survey's settings, or unsaved defaults when staff have set nothing yet."""
    row = db.session.get(ReportSettings, survey.id)
    return row if row is not None else ReportSettings(survey_id=survey.id, organisation="")


def _stored(survey: Survey) -> ReportSettings:
    row = db.session.get(ReportSettings, survey.id)
    if row is None:
        row = ReportSettings(survey_id=survey.id, organisation="")
        db.session.add(row)
    return row


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(colour: str) -> float:
    return 1.05 / (_luminance(colour) + 0.05)


def check_colour(value: str) -> str | None:
    """A "#RRGGBB" colour dark enough for text on white, in lower case; None for no colour."""
    value = value.strip()
    if not value:
        return None
    if not _COLOUR.match(value):
        raise ReportSettingsError(_("Enter the colour as # followed by six hexadecimal digits, like #1d4f91."))
    if contrast_with_white(value) < MIN_CONTRAST:
        raise ReportSettingsError(_("Choose a darker colour: text in it must stand out against white "
                                    "(a contrast of at least 4.5 to 1)."))
    return value.lower()


def check_logo(data: bytes) -> Logo:
    """Accept a PNG or JPEG by its content, within the size limits, and re-encode it as a plain PNG.

    Pillow reads the header first, so a huge or malformed image is refused before it is decoded;
    the stored PNG is Pillow's own encoding of the pixels, without the upload's metadata or any
    bytes hidden after the image.
    """
    if not data:
        raise ReportSettingsError(_("The logo file is empty."))
    if len(data) > LOGO_MAX_BYTES:
        raise ReportSettingsError(_("The logo must be a file of at most 1 MB."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=sorted(LOGO_FORMATS)) as image:
                width, height = image.size
                if width > LOGO_MAX_SIDE or height > LOGO_MAX_SIDE:
                    raise ReportSettingsError(_("The logo must be at most 3000 pixels wide and high."))
                image.load()
                has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                pixels = image.convert("RGBA" if has_alpha else "RGB")
    except ReportSettingsError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise ReportSettingsError(_("The logo must be a PNG or JPEG image.")) from None
    out = io.BytesIO()
    pixels.save(out, format="PNG", optimize=True)
    return Logo(out.getvalue(), width, height)


def save_cover(survey: Survey, organisation: str, accent_colour: str, logo: bytes | None, remove_logo: bool,
               actor: StaffUser | None) -> ReportSettings:
    """Save the cover settings; refuse a bad colour or logo before anything changes. Commit."""
    organisation = " ".join(organisation.split())
    if len(organisation) > ORGANISATION_MAX:
        raise ReportSettingsError(_("The organisation's name can be at most 200 characters."))
    colour = check_colour(accent_colour)
    checked = check_logo(logo) if logo else None
    row = _stored(survey)
    row.organisation = organisation
    row.accent_colour = colour
    if checked is not None:
        row.logo_png, row.logo_width, row.logo_height = checked.png, checked.width, checked.height
    elif remove_logo:
        row.logo_png = row.logo_width = row.logo_height = None
    audit.record("report.cover_saved", survey.id, actor=actor, logo=row.logo_png is not None,
                 accent=colour is not None)
    db.session.commit()
    return row


def public_token(settings: ReportSettings) -> str | None:
    """The public link's token, derived from the stored seed and the secret key (never stored)."""
    if settings.public_seed is None:
        return None
    return tokens.token_from_seed(settings.public_seed, purpose=TOKEN_PURPOSE)


def public_url(settings: ReportSettings) -> str | None:
    """The web version's full address under BASE_URL, or None while it is not published."""
    token = public_token(settings)
    if token is None:
        return None
    path = current_app.url_map.bind("localhost").build("public_report.report_page", {"token": token})
    return current_app.config["BASE_URL"].rstrip("/") + path


def publish(survey: Survey, actor: StaffUser | None) -> ReportSettings:
    """Publish the web version at a new unguessable address (kept while it stays published). Commit."""
    row = _stored(survey)
    if row.public_seed is None:
        seed = tokens.new_seed()
        row.public_seed = seed
        row.public_token_hash = tokens.hash_token(tokens.token_from_seed(seed, purpose=TOKEN_PURPOSE))
        row.published_at = utcnow()
        audit.record("report.published", survey.id, actor=actor)
    db.session.commit()
    return row


def unpublish(survey: Survey, actor: StaffUser | None) -> None:
    """Take the web version down: its address answers 404 from now on, and is never reused. Commit."""
    row = db.session.get(ReportSettings, survey.id)
    if row is not None and row.public_seed is not None:
        row.public_seed = row.public_token_hash = row.published_at = None
        audit.record("report.unpublished", survey.id, actor=actor)
    db.session.commit()


def find_published(token: str) -> Survey | None:
    """The survey whose published web version this token opens, or None."""
    if not tokens.looks_like_token(token):
        return None
    survey_id = db.session.execute(
        select(ReportSettings.survey_id).where(ReportSettings.public_token_hash == tokens.hash_token(token))
    ).scalar_one_or_none()
    return db.session.get(Survey, survey_id) if survey_id is not None else None
