"""Staff pages for participants: the table with statuses, one person, and the CSV import."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from forms.participants import ConfirmForm, ImportConfirmForm, ImportUploadForm, ParticipantForm

from ..i18n import LANGUAGE_NAMES
from ..models import Participant, Survey
from ..services import invitations as invitation_service
from ..services import participants as participant_service
from ..staff.lookup import survey_or_404 as _survey
from ..staff.lookup import participant_or_404 as _participant

bp = Blueprint("participants", __name__, url_prefix="/staff/surveys/<slug>/participants")


@bp.route("")
def index(slug: str):
    survey = _survey(slug)
    status = request.args.get("status") or None
    page = invitation_service.list_participants(
        survey.id, status=status, search=(request.args.get("q") or "").strip()[:100] or None,
        country=(request.args.get("country") or "").strip()[:2] or None, page=request.args.get("page", 1, type=int))
    return render_template("participants/index.html", survey=survey, page=page, status=status,
                           counts=invitation_service.status_counts(survey.id),
                           statuses=invitation_service.STATUS_ORDER)


def _language_choices(survey: Survey) -> list[tuple[str, str]]:
    return [("", _("The survey's main language"))] + [
        (code, LANGUAGE_NAMES.get(code, code)) for code in (survey.languages or [survey.base_language])]


def _save(survey: Survey, form: ParticipantForm, participant: Participant | None):
    """Validate with the import's rules and save; return the participant or None with form errors set."""
    try:
        person = participant_service.validate_participant(
            survey, form.name.data or "", form.email.data or "", form.country.data or "",
            form.cohort.data or "", form.language.data or "")
        if participant is None:
            return participant_service.add_participant(survey, person)
        return participant_service.update_participant(participant, person)
    except participant_service.ParticipantError as exc:
        for field_name, message in exc.errors.items():
            getattr(form, field_name).errors = [message[0].upper() + message[1:]]
    return None


@bp.route("/add", methods=["GET", "POST"])
def add(slug: str):
    survey = _survey(slug)
    form = ParticipantForm()
    form.language.choices = _language_choices(survey)
    if form.validate_on_submit() and _save(survey, form, None) is not None:
        flash(_("Participant added."), "success")
        return redirect(url_for(".index", slug=slug))
    return render_template("participants/form.html", survey=survey, form=form, participant=None)


@bp.route("/<int:participant_id>", methods=["GET", "POST"])
def edit(slug: str, participant_id: int):
    survey = _survey(slug)
    participant = _participant(survey, participant_id)
    form = ParticipantForm(obj=participant)
    form.language.choices = _language_choices(survey)
    if form.validate_on_submit() and _save(survey, form, participant) is not None:
        flash(_("Participant updated."), "success")
        return redirect(url_for(".edit", slug=slug, participant_id=participant_id))
    return render_template("participants/form.html", survey=survey, form=form, participant=participant,
                           deliveries=invitation_service.participant_deliveries(participant.id),
                           action_form=ConfirmForm())


@bp.route("/<int:participant_id>/remove", methods=["GET", "POST"])
def remove(slug: str, participant_id: int):
    survey = _survey(slug)
    participant = _participant(survey, participant_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        participant_service.remove_participant(participant)
        flash(_("Participant removed."), "success")
        return redirect(url_for(".index", slug=slug))
    return render_template("participants/remove.html", survey=survey, participant=participant, form=form)


@bp.route("/import", methods=["GET", "POST"])
def upload(slug: str):
    survey = _survey(slug)
    form = ImportUploadForm()
    if form.validate_on_submit():
        import_id = participant_service.stash_upload(form.file.data.read())
        return redirect(url_for(".preview", slug=slug, import_id=import_id))
    return render_template("participants/upload.html", survey=survey, form=form)


@bp.route("/import/<import_id>", methods=["GET", "POST"])
def preview(slug: str, import_id: str):
    survey = _survey(slug)
    data = participant_service.load_upload(import_id)
    if data is None:
        abort(404)
    try:
        result = participant_service.preview_import(survey, data)
    except participant_service.CsvFileError as exc:
        participant_service.discard_upload(import_id)
        form = ImportUploadForm()
        form.file.errors = [_("Nothing was imported: %(reason)s", reason=str(exc))]
        return render_template("participants/upload.html", survey=survey, form=form), 422
    form = ImportConfirmForm(import_id=import_id)
    if form.validate_on_submit() and form.import_id.data == import_id:
        outcome = participant_service.apply_import(survey, result)
        participant_service.discard_upload(import_id)
        return render_template("participants/imported.html", survey=survey, outcome=outcome, preview=result)
    return render_template("participants/preview.html", survey=survey, preview=result, form=form)
