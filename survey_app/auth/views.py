"""Staff sign-in and sign-out, and each member's own settings: password and interface language."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_timedelta, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException
from wtforms.fields.choices import SelectChoice

from forms.auth import ChangePasswordForm, InterfaceLanguageForm, LoginForm

from ..i18n import LANGUAGE_NAMES, use_staff_language
from ..security import public, safe_redirect_target
from ..services import sessions, sign_in_alerts
from ..services import staff as staff_service
from . import throttle

bp = Blueprint("auth", __name__, url_prefix="/staff")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    form = LoginForm()
    if form.validate_on_submit():
        refused = throttle.refusal(form.email.data)
        if refused is not None:
            return _refused(form, refused)
        user = staff_service.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session at sign-in: nothing carried over from before
            sessions.sign_in(user)
            login_user(user)
            throttle.record_success(form.email.data)
            response = redirect(safe_redirect_target(request.args.get("next"), url_for("staff.home")))
            throttle.remember_browser(response, form.email.data)
            return response
        failures = throttle.record_failure(form.email.data)
        if throttle.alert_due(form.email.data, failures):
            sign_in_alerts.queue_alert(form.email.data, failures)
        form.form_errors.append(_("The e-mail address or password is not right."))
    return render_template("auth/login.html", form=form)


def _refused(form: LoginForm, refused: throttle.Refusal):
    """The sign-in page again, saying how long to wait; the password was not checked."""
    wait = format_timedelta(refused.retry_after, threshold=1)
    if refused.account_wait:
        message = _("There have been many unsuccessful sign-ins to this account, so sign-ins from "
                    "browsers not used with it before are slowed down. Try again in %(wait)s.", wait=wait)
    else:
        message = _("There have been too many unsuccessful sign-ins from your connection. "
                    "Try again in %(wait)s.", wait=wait)
    form.form_errors.append(message)
    return render_template("auth/login.html", form=form), 429, {"Retry-After": str(refused.retry_after)}


@bp.route("/logout", methods=["POST"])
def logout():
    sessions.sign_out(getattr(current_user, "session_token", None))
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            staff_service.change_password(current_user, form.current_password.data, form.new_password.data)
        except staff_service.StaffError as exc:
            form.new_password.errors.append(str(exc))
        else:
            flash(_("Your password has been changed. Other sessions have been signed out."), "success")
            return redirect(url_for("staff.home"))
    return render_template("auth/password.html", form=form)


@bp.route("/language", methods=["POST"])
def language():
    """Switch one's staff interface to another language, remembered on the account (the header's form)."""
    form = InterfaceLanguageForm()
    form.language.choices = [SelectChoice(code, LANGUAGE_NAMES.get(code, code))
                             for code in current_app.config["LANGUAGES"]]
    back = _page_to_return_to(form.next.data)
    if not form.validate_on_submit():
        flash(_("Choose one of the languages in the list."), "error")
        return redirect(back)
    staff_service.set_language(current_user, form.language.data)
    use_staff_language(form.language.data)
    refresh()  # this response's message already in the new language
    flash(_("Language of the staff pages: %(language)s.", language=LANGUAGE_NAMES.get(form.language.data)), "success")
    return redirect(back)


def _page_to_return_to(target: str | None) -> str:
    """The staff page the switcher was on, if a GET can show it again; else the staff home.

    A page shown in answer to a POST (a form with errors) names a URL that only takes POSTs.
    """
    home = url_for("staff.home")
    target = safe_redirect_target(target, home)
    try:
        current_app.url_map.bind("localhost").match(urlsplit(target).path, method="GET")
    except HTTPException:
        return home
    return target
