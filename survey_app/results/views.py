"""Staff results: dashboard with filters, free-text review, exports, the PDF and its HTML preview."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.results import CategoryForm, QuoteForm

from ..i18n import current_language
from ..lookups import survey_or_404 as _survey
from ..services import bursts, exports, report
from ..services import results as results_service

bp = Blueprint("results", __name__, url_prefix="/staff/surveys/<slug>/results")


def _filter_from_args() -> results_service.ResultFilter:
    args = request.args
    return results_service.ResultFilter.from_values(
        countries=args.getlist("country"), regions=args.getlist("region"),
        cohorts=args.getlist("cohort"), languages=args.getlist("language"), channels=args.getlist("channel"),
    )


@bp.route("/")
def dashboard(slug: str):
    survey = _survey(slug)
    results = results_service.summarise(survey, _filter_from_args(), current_language())
    return render_template("results/dashboard.html", survey=survey, results=results,
                           choices=results_service.filter_choices(survey), burst_rule=bursts.RULE)


@bp.route("/preview")
def preview(slug: str):
    survey = _survey(slug)
    return render_template("results/preview.html", survey=survey,
                           content=report.build_content(survey, current_language()))


@bp.route("/report.pdf")
def pdf(slug: str):
    survey = _survey(slug)
    data = report.render_pdf_bytes(survey, current_language())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{survey.slug}-results-{stamp}.pdf"'})


@bp.route("/export.<fmt>")
def export(slug: str, fmt: str):
    survey = _survey(slug)
    if fmt not in exports.FORMATS:
        abort(404)
    lang = current_language()
    label_headers = request.args.get("headers") == "labels"
    channel = exports.channel_or_none(request.args.get("channel"))
    name = exports.filename(survey, fmt, datetime.now(UTC).strftime("%Y-%m-%d"), channel)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        chunks = exports.iter_csv(survey, lang, label_headers, channel=channel)
        exports.record_export(survey, fmt, channel, actor=current_user)
        return Response(stream_with_context(chunks), mimetype="text/csv", headers=headers)
    path = exports.xlsx_tempfile(survey, lang, channel=channel)
    exports.record_export(survey, fmt, channel, actor=current_user)
    return Response(exports.iter_file(path), headers=headers,
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/text")
def text_review(slug: str):
    survey = _survey(slug)
    question = request.args.get("question") or None
    page = request.args.get("page", 1, type=int)
    texts = results_service.list_free_text(survey, question, page, lang=current_language(),
                                           only_other=request.args.get("other") == "1")
    return render_template("results/text_review.html", survey=survey, texts=texts, question=question,
                           questions=results_service.reviewable_questions(survey),
                           categories=results_service.known_categories(survey),
                           quote_form=QuoteForm(), category_form=CategoryForm())


def _back_to_review(slug: str):
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("question", "page", "other")}
    return redirect(url_for("results.text_review", slug=slug, **args))


@bp.route("/text/<int:answer_id>/quote", methods=["POST"])
def quote(slug: str, answer_id: int):
    survey = _survey(slug)
    form = QuoteForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        results_service.set_quote_approval(survey, answer_id, form.approve.data == "1", actor=current_user)
    except results_service.ResultsError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Quote approved.") if form.approve.data == "1" else _("Quote approval withdrawn."), "success")
    return _back_to_review(slug)


@bp.route("/text/<int:answer_id>/category", methods=["POST"])
def category(slug: str, answer_id: int):
    survey = _survey(slug)
    form = CategoryForm()
    if not form.validate_on_submit():
        flash(_("A category can be at most 100 characters."), "error")
        return _back_to_review(slug)
    try:
        results_service.set_category(survey, answer_id, form.category.data or "", actor=current_user)
    except results_service.ResultsError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Category saved."), "success")
    return _back_to_review(slug)
