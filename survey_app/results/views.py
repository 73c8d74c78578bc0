"""Staff results: dashboard with filters, free-text review, exports, the PDF and its HTML preview."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from forms.results import (
    BulkReviewForm,
    CategoryForm,
    CoverForm,
    FindingsForm,
    PublishForm,
    QuoteForm,
    translation_form,
)

from ..i18n import LANGUAGE_NAMES, current_language
from ..lookups import survey_or_404 as _survey
from ..models import Survey
from ..pdf.images import SIZES
from ..services import bursts, chart_downloads, exports, findings, report, report_settings
from ..services import results as results_service
from ..services.results.progress import progress_figures

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
    filter_ = _filter_from_args()
    results = results_service.summarise(survey, filter_, current_language())
    progress = [] if results.withheld else progress_figures(survey.id, filter_, current_language())
    return render_template("results/dashboard.html", survey=survey, results=results, progress=progress,
                           choices=results_service.filter_choices(survey, current_language()), burst_rule=bursts.RULE,
                           image_sizes=SIZES)


def _organisation(survey: Survey) -> str | None:
    """The organisation the survey's report names on its cover, when staff have set one."""
    return report_settings.settings_for(survey).organisation or None


@bp.route("/charts/<code>/<int:index>")
def chart_download(slug: str, code: str, index: int):
    """One chart as SVG or PNG, wide or square, in any of the survey's languages, for a blog post."""
    survey = _survey(slug)
    fmt, size = request.args.get("format", "png"), SIZES.get(request.args.get("size", "wide"))
    lang = request.args.get("chart_lang") or current_language()
    if fmt not in chart_downloads.FORMATS or size is None:
        abort(404)
    try:
        chart = chart_downloads.find_chart(survey, code, index, _filter_from_args(), lang, _organisation(survey))
    except chart_downloads.ChartUnavailable:
        abort(404)
    headers = {"Content-Disposition": f'attachment; filename="{chart.filename}-{size.name}.{fmt}"'}
    if fmt == "svg":
        with force_locale(lang):
            body = render_template("results/chart.svg", figure=chart.figure, caption=chart.caption, size=size,
                                   lang=lang)
        return Response(body, mimetype="image/svg+xml", headers=headers)
    return Response(chart_downloads.png_bytes(chart, size), mimetype="image/png", headers=headers)


def _report_language(survey: Survey) -> str:
    """The report language asked for (?language=), else the page's, else the survey's base language."""
    languages = report.report_languages(survey)
    for lang in (request.args.get("language"), current_language()):
        if lang in languages:
            return lang
    return survey.base_language


def _languages(survey: Survey) -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in report.report_languages(survey)]


@bp.route("/preview")
def preview(slug: str):
    survey = _survey(slug)
    content = report.build_content(survey, _report_language(survey))
    with force_locale(content.language):  # the report in its language, the staff page around it in theirs
        # Markup: the output of an autoescaped template, placed whole inside the staff page
        body = Markup(render_template("results/_report_page.html", content=content, survey=survey))  # nosec B704
    return render_template("results/preview.html", survey=survey, languages=_languages(survey), content=content,
                           body=body)


@bp.route("/report.pdf")
def pdf(slug: str):
    survey = _survey(slug)
    lang = _report_language(survey)
    data = report.render_pdf_bytes(survey, lang)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{survey.slug}-results-{lang}-{stamp}.pdf"'})


@bp.route("/report")
def report_page(slug: str):
    """The published report: its cover, key findings per language, the web version, the downloads."""
    survey = _survey(slug)
    settings = report_settings.settings_for(survey)
    form = CoverForm(organisation=settings.organisation, accent_colour=settings.accent_colour or "")
    return render_template("results/report.html", survey=survey, settings=settings, form=form,
                           publish_form=PublishForm(), languages=_languages(survey),
                           public_url=report_settings.public_url(settings), lang=_report_language(survey))


@bp.route("/report/cover", methods=["POST"])
def report_cover(slug: str):
    survey = _survey(slug)
    form = CoverForm()
    settings = report_settings.settings_for(survey)
    if form.validate_on_submit():
        upload = form.logo.data
        try:
            report_settings.save_cover(survey, form.organisation.data or "", form.accent_colour.data or "",
                                       upload.read(report_settings.LOGO_MAX_BYTES + 1) if upload else None,
                                       bool(form.remove_logo.data), current_user)
        except report_settings.ReportSettingsError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("The report’s cover is saved."), "success")
            return redirect(url_for("results.report_page", slug=slug))
    return render_template("results/report.html", survey=survey, settings=settings, form=form,
                           publish_form=PublishForm(), languages=_languages(survey),
                           public_url=report_settings.public_url(settings), lang=_report_language(survey)), 400


@bp.route("/report/publish", methods=["POST"])
def report_publish(slug: str):
    survey = _survey(slug)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    if form.publish.data == "1":
        report_settings.publish(survey, current_user)
        flash(_("The web version is published at the address below."), "success")
    else:
        report_settings.unpublish(survey, current_user)
        flash(_("The web version is no longer published: its address now answers “page not found”."), "success")
    return redirect(url_for("results.report_page", slug=slug))


@bp.route("/report/findings", methods=["GET", "POST"])
def report_findings(slug: str):
    """Edit or leave out each generated key finding, in one report language."""
    survey = _survey(slug)
    lang = _report_language(survey)
    content = report.build_content(survey, lang)
    current = findings.findings(survey, content.results) if not content.results.withheld else []
    form = FindingsForm()
    if request.method == "POST":
        if form.validate_on_submit():
            changes = [findings.FindingChange(entry.key.data or "", entry.text.data or "", bool(entry.remove.data))
                       for entry in form.findings.entries]
            findings.save_edits(survey, content.results, changes, current_user)
            flash(_("The key findings are saved."), "success")
            return redirect(url_for("results.report_findings", slug=slug, language=lang))
        status = 400
    else:
        form = FindingsForm(data={"language": lang, "findings": [
            {"key": f.key, "text": f.text if f.edited else f.generated, "remove": f.removed} for f in current]})
        status = 200
    return render_template("results/findings.html", survey=survey, form=form, lang=lang, findings=current,
                           languages=_languages(survey)), status


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


def _review_args() -> dict[str, Any]:
    """The review page's filters, to come back to the same view after an action."""
    return {k: v for k, v in request.args.items() if k in ("question", "page", "other", "state", "language") and v}


@bp.route("/text")
def text_review(slug: str):
    survey = _survey(slug)
    question = request.args.get("question") or None
    state = request.args.get("state") if request.args.get("state") in results_service.STATES else None
    language = request.args.get("language") if request.args.get("language") in survey.languages else None
    page = request.args.get("page", 1, type=int)
    texts = results_service.list_free_text(survey, question, page, lang=current_language(),
                                           only_other=request.args.get("other") == "1", state=state,
                                           language=language)
    return render_template("results/text_review.html", survey=survey, texts=texts, question=question,
                           state=state, language=language, languages=_languages(survey),
                           questions=results_service.reviewable_questions(survey),
                           categories=results_service.known_categories(survey), bulk_form=BulkReviewForm(),
                           quote_form=QuoteForm(), category_form=CategoryForm(), review_args=_review_args())


def _refusal(reason: str, count: int) -> str:
    messages = {
        "not_found": ngettext("%(num)d answer was not found in this survey.",
                              "%(num)d answers were not found in this survey.", count),
        "not_quotable": ngettext("%(num)d answer is not to a question that can be quoted.",
                                 "%(num)d answers are not to a question that can be quoted.", count),
        "no_consent": ngettext("%(num)d answer was not approved: the fellow did not agree to be quoted.",
                               "%(num)d answers were not approved: the fellows did not agree to be quoted.", count),
        "not_other": ngettext("%(num)d answer is not an “Other – please specify” answer, so it has no category.",
                              "%(num)d answers are not “Other – please specify” answers, so they have no category.",
                              count),
        "no_suggestion": ngettext("%(num)d answer has no suggested category yet.",
                                  "%(num)d answers have no suggested category yet.", count),
        "unchanged": ngettext("%(num)d answer was not marked as needing a translation.",
                              "%(num)d answers were not marked as needing a translation.", count),
    }
    return messages[reason]


@bp.route("/text/bulk", methods=["POST"])
def bulk_review(slug: str):
    """Approve, reject, categorise or flag every ticked answer with one action."""
    survey = _survey(slug)
    form = BulkReviewForm()
    ids = [int(value) for value in request.form.getlist("answer") if value.isdigit()][:500]
    if not form.validate_on_submit():
        flash(_("Choose what to do with the selected answers."), "error")
    elif not ids:
        flash(_("Select at least one answer first."), "error")
    else:
        try:
            outcome = results_service.bulk_review(survey, ids, form.action.data, form.category.data or "",
                                                  current_user)
        except results_service.ResultsError:
            flash(_("Choose what to do with the selected answers."), "error")
        else:
            flash(ngettext("%(num)d answer changed.", "%(num)d answers changed.", outcome.changed), "success")
            for reason, count in outcome.refused.items():
                flash(_refusal(reason, count), "error")
    return redirect(url_for("results.text_review", slug=slug, **_review_args()))


@bp.route("/text/<int:answer_id>/translation", methods=["GET", "POST"])
def translation(slug: str, answer_id: int):
    """Enter an approved quote's translation into each report language, printed beside the original."""
    survey = _survey(slug)
    try:
        quote = results_service.quote_for_translation(survey, answer_id, current_language())
    except results_service.ResultsError:
        abort(404)
    languages = [(code, name) for code, name in _languages(survey) if code != quote.language]
    form = translation_form(languages, quote.translations)
    if form.validate_on_submit():
        texts = {code: form[f"text_{code}"].data or "" for code, _name in languages}
        results_service.save_translations(survey, answer_id, texts, current_user)
        flash(_("The translations are saved."), "success")
        return redirect(url_for("results.text_review", slug=slug, **_review_args()))
    return render_template("results/translation.html", survey=survey, quote=quote, form=form,
                           languages=languages, review_args=_review_args()), 400 if request.method == "POST" else 200


def _back_to_review(slug: str):
    return redirect(url_for("results.text_review", slug=slug, **_review_args()))


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
