"""Staff pages for participants: the table with statuses, one person, and the CSV import."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.participants import ConfirmForm, ImportConfirmForm, ImportUploadForm, ParticipantForm

from ..i18n import LANGUAGE_NAMES, current_language
from ..lookups import participant_or_gone
from ..lookups import survey_or_404 as _survey
from ..models import Participant, Survey
from ..services import invitations as invitation_service
from ..services import participants as participant_service

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
    """Validate with the import's rules and save; return the participant or None with form errors set.

    ParticipantGone passes through: the view says so instead of showing the form again.
    """
    def text(field) -> str:  # a field missing from a POST keeps the stored value, which may be an int
        return "" if field.data is None else str(field.data)

    try:
        person = participant_service.validate_participant(
            survey, text(form.name), text(form.email), text(form.country), text(form.cohort), text(form.language))
        if participant is None:
            return participant_service.add_participant(survey, person, actor=current_user)
        return participant_service.update_participant(participant, person, actor=current_user)
    except participant_service.ParticipantError as exc:
        for field_name, message in exc.errors.items():
            getattr(form, field_name).errors = [message[0].upper() + message[1:]]
    return None


def _gone(slug: str, message: str):
    """Answer an action on someone removed or erased meanwhile: say so and show the list."""
    flash(message, "error")
    return redirect(url_for(".index", slug=slug))


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
    participant = participant_or_gone(survey, participant_id)
    if participant is None:
        return _gone(slug, _("This participant has been removed or erased, so your changes were not saved."))
    form = ParticipantForm(obj=participant)
    form.language.choices = _language_choices(survey)
    if form.validate_on_submit():
        try:
            saved = _save(survey, form, participant)
        except participant_service.ParticipantGone:
            return _gone(slug, _("This participant has been removed or erased, so your changes were not saved."))
        if saved is not None:
            flash(_("Participant updated."), "success")
            return redirect(url_for(".edit", slug=slug, participant_id=participant_id))
    return render_template("participants/form.html", survey=survey, form=form, participant=participant,
                           deliveries=invitation_service.participant_deliveries(participant.id),
                           action_form=ConfirmForm())


@bp.route("/<int:participant_id>/remove", methods=["GET", "POST"])
def remove(slug: str, participant_id: int):
    survey = _survey(slug)
    participant = participant_or_gone(survey, participant_id)
    already = _("This participant has already been removed or erased; there was nothing left to remove.")
    if participant is None:
        return _gone(slug, already)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            participant_service.remove_participant(participant, actor=current_user)
        except participant_service.ParticipantGone:
            return _gone(slug, already)
        flash(_("Participant removed."), "success")
        return redirect(url_for(".index", slug=slug))
    return render_template("participants/remove.html", survey=survey, participant=participant, form=form)


@bp.route("/import", methods=["GET", "POST"])
def upload(slug: str):
    survey = _survey(slug)
    form = ImportUploadForm()
    if form.validate_on_submit():
        import_id = participant_service.stash_upload(survey.id, current_user.id, form.file.data.read())
        return redirect(url_for(".preview", slug=slug, import_id=import_id))
    return render_template("participants/upload.html", survey=survey, form=form)


@bp.route("/import/template.csv")
def template(slug: str):
    """The template CSV: the columns the import reads and two example rows (UTF-8 with a BOM, for Excel)."""
    survey = _survey(slug)
    return Response(participant_service.template_csv(survey), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{participant_service.template_filename(survey)}"',
        "Cache-Control": "no-store"})


def _upload_again(survey: Survey, message: str, status: int):
    form = ImportUploadForm()
    form.file.errors = [message]
    return render_template("participants/upload.html", survey=survey, form=form), status


@bp.route("/import/<import_id>", methods=["GET", "POST"])
def preview(slug: str, import_id: str):
    survey = _survey(slug)
    data = participant_service.load_upload(survey.id, import_id)
    if data is None:
        return _upload_again(survey, _("This upload is no longer available: it was imported or cancelled, replaced "
                                       "by a newer upload, or is more than a day old. Choose the file again."), 404)
    try:
        result = participant_service.preview_import(survey, data)
    except participant_service.CsvFileError as exc:
        participant_service.discard_upload(survey.id, import_id)
        return _upload_again(survey, _("Nothing was imported: %(reason)s", reason=str(exc)), 422)
    form = ImportConfirmForm(import_id=import_id)
    if form.validate_on_submit() and form.import_id.data == import_id:
        try:
            outcome = participant_service.apply_import(survey, result, actor=current_user)
        except participant_service.ImportConflict:
            flash(_("Someone changed the participants while this import ran, so nothing was imported. "
                    "The figures below are up to date: check them and confirm again."), "error")
            return redirect(url_for(".preview", slug=slug, import_id=import_id))
        participant_service.discard_upload(survey.id, import_id)
        return render_template("participants/imported.html", survey=survey, outcome=outcome, preview=result)
    return render_template("participants/preview.html", survey=survey, preview=result, form=form,
                           cancel_form=ConfirmForm(), names=participant_service.DisplayNames(current_language()))


@bp.route("/import/<import_id>/cancel", methods=["POST"])
def cancel_import(slug: str, import_id: str):
    survey = _survey(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    participant_service.discard_upload(survey.id, import_id)
    flash(_("Import cancelled: the uploaded file has been deleted and nothing was imported."), "success")
    return redirect(url_for(".upload", slug=slug))
