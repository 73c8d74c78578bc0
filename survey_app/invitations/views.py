"""Staff invitations pages: texts and preview, send and remind, batch progress, outbox, one person."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from forms.invitations import InvitationTextsForm, ScheduleForm, SendForm, SendTestForm
from forms.participants import ConfirmForm

from ..i18n import LANGUAGE_NAMES, text_direction
from ..lookups import participant_or_gone
from ..lookups import survey_or_404 as _survey
from ..models import DeliveryKind, Survey
from ..services import invitations as invitation_service
from ..services import participants as participant_service
from ..services.mail import outbox as mail_outbox

bp = Blueprint("invitations", __name__, url_prefix="/staff/surveys/<slug>/invitations")


@bp.route("")
def index(slug: str):
    survey = _survey(slug)
    schedule = ScheduleForm(enabled=survey.reminders_scheduled, min_days=survey.reminder_min_days,
                            max_count=survey.reminder_max_count)
    return render_template(
        "invitations/index.html", survey=survey, counts=invitation_service.status_counts(survey.id),
        deliveries=invitation_service.delivery_counts(survey.id),
        batches=invitation_service.recent_batches(survey.id), schedule=schedule,
        to_invite=invitation_service.count_recipients(survey, DeliveryKind.INVITATION.value),
        to_remind=invitation_service.count_recipients(survey, DeliveryKind.REMINDER.value))


def _text_language(survey: Survey, asked: str | None) -> str:
    """The language whose texts are being edited: ?text_lang= (never ?lang=, which is the interface's)."""
    language = asked or survey.base_language
    if language not in invitation_service.survey_languages(survey):
        abort(404)
    return language


def _texts_form(survey: Survey, language: str, posted: bool = True) -> InvitationTextsForm:
    """The editor's fields, starting from the texts a fellow in this language gets now."""
    current = {key: item.text for key, item in invitation_service.editable_texts(survey, language).items()}
    return InvitationTextsForm(data=current) if posted else InvitationTextsForm(formdata=None, data=current)


def _texts_page(survey: Survey, language: str, form: InvitationTextsForm, test_form: SendTestForm):
    languages = invitation_service.survey_languages(survey)
    test_form.language.choices = [SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in languages]
    if test_form.language.data not in languages:
        test_form.language.data = language
    return render_template(
        "invitations/texts.html", survey=survey, form=form, test_form=test_form, lang=language,
        languages=languages, language_names=LANGUAGE_NAMES, field_dir=text_direction(language),
        base_dir=text_direction(survey.base_language),
        texts=invitation_service.editable_texts(survey, language), states=invitation_service.text_states(survey),
        previews={kind: invitation_service.preview(survey, kind, language) for kind in ("invitation", "reminder")})


@bp.route("/texts", methods=["GET", "POST"])
def texts(slug: str):
    survey = _survey(slug)
    language = _text_language(survey, request.args.get("text_lang"))
    form = _texts_form(survey, language)
    if form.validate_on_submit():
        changed = invitation_service.save_texts(
            survey, language, {key: getattr(form, key).data or "" for key in invitation_service.TEXT_KEYS},
            reviewed=form.reviewed.data or [], actor=current_user)
        if changed:
            flash(_("The %(language)s texts are saved. Check the preview below.",
                    language=LANGUAGE_NAMES.get(language, language)), "success")
        else:
            flash(_("Nothing changed."), "success")
        return redirect(url_for(".texts", slug=slug, text_lang=language) + "#preview")
    return _texts_page(survey, language, form, SendTestForm())


@bp.route("/texts/test", methods=["POST"])
def send_test(slug: str):
    """Send the chosen message to the signed-in staff member: a test, never in the ledger."""
    survey = _survey(slug)
    test_form = SendTestForm()
    test_form.language.choices = [SelectChoice(code) for code in invitation_service.survey_languages(survey)]
    if not test_form.validate_on_submit():
        language = _text_language(survey, request.args.get("text_lang"))
        return _texts_page(survey, language, _texts_form(survey, language, posted=False), test_form), 400
    language = test_form.language.data
    link = current_app.config["BASE_URL"] + url_for("staff.survey", slug=slug)
    invitation_service.send_test(survey, test_form.kind.data, language, link, actor=current_user)
    flash(_("A test of this message in %(language)s is on its way to %(email)s.",
            language=LANGUAGE_NAMES.get(language, language), email=current_user.email), "success")
    if not current_app.config.get("MAIL_SERVER"):
        flash(_("No mail server is configured: the test is written to the outbox as an .eml file."), "success")
    return redirect(url_for(".texts", slug=slug, text_lang=language))


def _confirm_send(survey: Survey, kind: str):
    """Show how many will be sent; on confirmation queue the batch (round = idempotency key)."""
    round_ = 0 if kind == DeliveryKind.INVITATION.value else invitation_service.next_reminder_round(survey)
    form = SendForm(round=str(round_))
    if form.validate_on_submit():
        try:
            posted_round = int(form.round.data)
        except ValueError:
            abort(400)
        if kind == DeliveryKind.INVITATION.value:
            batch = invitation_service.send_invitations(survey, actor=current_user)
        else:
            batch = invitation_service.send_reminders(survey, posted_round, actor=current_user)
        if batch is None:
            flash(_("Nothing was sent: everyone concerned already has this message queued or sent."), "success")
            return redirect(url_for(".index", slug=survey.slug))
        return redirect(url_for(".batch", slug=survey.slug, batch_id=batch.id))
    count = invitation_service.count_recipients(survey, kind, round_)
    return render_template("invitations/confirm_send.html", survey=survey, form=form, kind=kind, count=count,
                           round=round_)


@bp.route("/send", methods=["GET", "POST"])
def send(slug: str):
    return _confirm_send(_survey(slug), DeliveryKind.INVITATION.value)


@bp.route("/remind", methods=["GET", "POST"])
def remind(slug: str):
    return _confirm_send(_survey(slug), DeliveryKind.REMINDER.value)


@bp.route("/schedule", methods=["POST"])
def schedule(slug: str):
    survey = _survey(slug)
    form = ScheduleForm()
    if form.validate_on_submit():
        invitation_service.save_schedule(survey, form.enabled.data, form.min_days.data, form.max_count.data or 0,
                                         actor=current_user)
        flash(_("Reminder schedule saved."), "success")
    else:
        flash(_("The reminder schedule was not saved: %(errors)s",
                errors="; ".join(m for f in form for m in f.errors)), "error")
    return redirect(url_for(".index", slug=slug))


@bp.route("/batches/<int:batch_id>")
def batch(slug: str, batch_id: int):
    survey = _survey(slug)
    found = invitation_service.get_batch(survey.id, batch_id)
    if found is None:
        abort(404)
    return render_template("invitations/batch.html", survey=survey,
                           progress=invitation_service.batch_progress(found))


def _gone(slug: str, message: str):
    flash(message, "error")
    return redirect(url_for("participants.index", slug=slug))


@bp.route("/participants/<int:participant_id>/resend", methods=["POST"])
def resend(slug: str, participant_id: int):
    survey = _survey(slug)
    participant = participant_or_gone(survey, participant_id)
    gone = _("This participant has been removed or erased, so nothing was sent.")
    if participant is None:
        return _gone(slug, gone)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        batch = invitation_service.resend(participant, actor=current_user)
    except participant_service.ParticipantGone:
        return _gone(slug, gone)
    if batch is None:
        flash(_("Nothing to resend: a message is already on its way, or the person opted out."), "error")
    else:
        flash(_("The message has been queued again."), "success")
    return redirect(url_for("participants.edit", slug=slug, participant_id=participant_id))


@bp.route("/participants/<int:participant_id>/delete-data", methods=["GET", "POST"])
def delete_data(slug: str, participant_id: int):
    survey = _survey(slug)
    participant = participant_or_gone(survey, participant_id)
    gone = _("This participant has been removed or erased, so there is no invitation data left to delete.")
    if participant is None:
        return _gone(slug, gone)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            invitation_service.delete_invitation_data(participant, actor=current_user)
        except participant_service.ParticipantGone:
            return _gone(slug, gone)
        flash(_("Invitation data deleted; the old personal link no longer works."), "success")
        return redirect(url_for("participants.edit", slug=slug, participant_id=participant_id))
    return render_template("invitations/delete_data.html", survey=survey, participant=participant, form=form)


@bp.route("/outbox")
def outbox(slug: str):
    survey = _survey(slug)
    outbox = mail_outbox.outbox_page(survey.id, request.args.get("page", 1, type=int))
    return render_template("invitations/outbox.html", survey=survey, outbox=outbox)


@bp.route("/outbox/<name>")
def outbox_message(slug: str, name: str):
    survey = _survey(slug)
    if request.args.get("download"):
        data = mail_outbox.read_outbox(survey.id, name)
        if data is None:
            abort(404)
        return Response(data, mimetype="message/rfc822",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    message = mail_outbox.read_message(survey.id, name)
    if message is None:
        abort(404)
    language = message.language if message.language in LANGUAGE_NAMES else ""
    return render_template("invitations/outbox_message.html", survey=survey, name=name, message=message,
                           message_lang=language, message_dir=text_direction(language) if language else "")
