"""Staff sign-in and sign-out."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from forms.auth import ChangePasswordForm, LoginForm

from ..extensions import db, limiter
from ..security import public, safe_redirect_target
from ..services import staff as staff_service
from .sessions import revoke_all_sessions, revoke_session, start_session

bp = Blueprint("auth", __name__, url_prefix="/staff")


def _login_key() -> str:
    """Throttle per account as well as per address: the key is the e-mail tried."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:320]


def _login_limit() -> str:
    return current_app.config["LOGIN_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"], error_message="Too many sign-in attempts")
@limiter.limit(_login_limit, key_func=_login_key, methods=["POST"], error_message="Too many sign-in attempts")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = staff_service.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session at sign-in: nothing carried over from before
            start_session(user)
            db.session.commit()
            login_user(user)
            return redirect(safe_redirect_target(request.args.get("next"), url_for("staff.home")))
        form.form_errors.append(_("The e-mail address or password is not right."))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    revoke_session(getattr(current_user, "session_token", None))
    db.session.commit()
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
            revoke_all_sessions(current_user.id, keep=current_user.session_token)
            db.session.commit()
            flash(_("Your password has been changed. Other sessions have been signed out."), "success")
            return redirect(url_for("staff.home"))
    return render_template("auth/password.html", form=form)
