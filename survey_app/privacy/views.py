"""A survey's privacy page (retention, anonymity) and per-person access and erasure."""
from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.privacy import EraseForm, RetentionForm

from ..lookups import participant_or_404 as _participant_or_404
from ..lookups import participant_or_gone
from ..lookups import survey_or_404 as _survey_or_404
from ..services import privacy

bp = Blueprint("privacy", __name__, url_prefix="/staff/surveys/<slug>")


@bp.route("/privacy", methods=["GET", "POST"])
def survey(slug: str):
    survey = _survey_or_404(slug)
    form = RetentionForm(days=survey.retention_days)
    if form.validate_on_submit():
        privacy.set_retention(survey, form.days.data, current_user)
        flash(_("The retention setting has been saved."), "success")
        return redirect(url_for("privacy.survey", slug=slug))
    query = request.args.get("q", "")
    return render_template("privacy/survey.html", survey=survey, form=form, query=query,
                           matches=privacy.find_participants(survey.id, query),
                           due=privacy.retention_due(survey)), 400 if form.errors else 200


@bp.route("/participants/<int:participant_id>/privacy")
def participant(slug: str, participant_id: int):
    survey = _survey_or_404(slug)
    person = _participant_or_404(survey, participant_id)
    return render_template("privacy/participant.html", survey=survey, person=person,
                           held=privacy.participant_summary(person))


@bp.route("/participants/<int:participant_id>/data")
def download(slug: str, participant_id: int):
    survey = _survey_or_404(slug)
    person = _participant_or_404(survey, participant_id)
    data = privacy.participant_data(person.id)
    privacy.record_export(person, current_user)
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    filename = f"{survey.slug}-participant-{person.id}.json"
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    })


@bp.route("/participants/<int:participant_id>/erase", methods=["GET", "POST"])
def erase(slug: str, participant_id: int):
    survey = _survey_or_404(slug)
    person = participant_or_gone(survey, participant_id)
    already = _("This person has already been erased or removed; there was nothing left to erase.")
    if person is None:
        flash(already, "error")
        return redirect(url_for("privacy.survey", slug=slug))
    form = EraseForm()
    if form.validate_on_submit():
        try:
            privacy.erase_participant(person.id, current_user)
        except privacy.ParticipantGone:
            flash(already, "error")
            return redirect(url_for("privacy.survey", slug=slug))
        except privacy.PrivacyError as exc:
            flash(_("Nothing was erased: %(reason)s", reason=str(exc)), "error")
            return redirect(url_for("privacy.participant", slug=slug, participant_id=participant_id))
        flash(_("The person and everything linked to them in this survey have been erased, including "
                "copies of their e-mails in the outbox and any pending import file listing them."), "success")
        return redirect(url_for("privacy.survey", slug=slug))
    return render_template("privacy/erase.html", survey=survey, person=person, form=form,
                           held=privacy.participant_summary(person))
