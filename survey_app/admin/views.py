"""Staff accounts (admins only) and the audit log (every staff member may read, nobody may edit)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.admin import CreateStaffForm, ResetPasswordForm, RoleForm

from ..security import roles_required
from ..services import audit_log
from ..services import staff as accounts
from ..services.staff import StaffError
from .append_only import protect_audit_log

bp = Blueprint("admin", __name__, url_prefix="/staff")


@bp.record_once
def _install_guards(_state) -> None:
    protect_audit_log()


@bp.route("/audit")
def audit():
    action = request.args.get("action") or None
    survey_id = request.args.get("survey", type=int)
    page = audit_log.audit_page(request.args.get("page", 1, type=int), action=action, survey_id=survey_id)
    return render_template("admin/audit.html", page=page, action=action, survey_id=survey_id,
                           actions=audit_log.audit_actions(), surveys=audit_log.audit_surveys())


def _account_or_404(user_id: int):
    user = accounts.get_account(user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/admin/users")
@roles_required("admin")
def users():
    return render_template("admin/users.html", users=accounts.list_accounts())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user():
    form = CreateStaffForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_account(current_user, form.email.data, form.name.data, form.password.data,
                                           form.role.data)
        except StaffError as exc:
            target = form.email if "already exists" in str(exc) else form.password
            target.errors = [*target.errors, str(exc)]
        else:
            flash(_("Account created for %(email)s. Give them the initial password in person or by phone.",
                    email=user.email), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_new.html", form=form), 400 if form.errors else 200


@bp.route("/admin/users/<int:user_id>")
@roles_required("admin")
def user(user_id: int):
    account = _account_or_404(user_id)
    return render_template("admin/user.html", account=account, role_form=RoleForm(role=account.role))


@bp.route("/admin/users/<int:user_id>/role", methods=["POST"])
@roles_required("admin")
def change_role(user_id: int):
    account = _account_or_404(user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            if accounts.change_role(current_user, account, form.role.data):
                flash(_("%(email)s is now %(role)s.", email=account.email, role=account.role), "success")
            return redirect(url_for("admin.user", user_id=account.id))
        except StaffError as exc:
            form.role.errors = [str(exc)]
    return render_template("admin/user.html", account=account, role_form=form), 400


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["POST"])
@roles_required("admin")
def deactivate(user_id: int):
    account = _account_or_404(user_id)
    try:
        accounts.deactivate(current_user, account)
    except StaffError as exc:
        flash(str(exc), "error")
    else:
        flash(_("%(email)s can no longer sign in and has been signed out everywhere.", email=account.email),
              "success")
    return redirect(url_for("admin.user", user_id=account.id))


@bp.route("/admin/users/<int:user_id>/reactivate", methods=["POST"])
@roles_required("admin")
def reactivate(user_id: int):
    account = _account_or_404(user_id)
    accounts.reactivate(current_user, account)
    flash(_("%(email)s can sign in again.", email=account.email), "success")
    return redirect(url_for("admin.user", user_id=account.id))


@bp.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
@roles_required("admin")
def reset_password(user_id: int):
    account = _account_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(current_user, account, form.new_password.data)
        except StaffError as exc:
            form.new_password.errors = [*form.new_password.errors, str(exc)]
        else:
            flash(_("The password of %(email)s has been changed and their sessions ended.", email=account.email),
                  "success")
            return redirect(url_for("admin.user", user_id=account.id))
    return render_template("admin/user_password.html", account=account, form=form), 400 if form.errors else 200
