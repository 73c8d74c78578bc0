"""The public opt-out page, and the RFC 8058 one-click opt-out that mail programs POST to."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from forms.participants import ConfirmForm

from ..extensions import csrf
from ..models import Invitation
from ..security import public
from ..services import invitations as invitation_service
from . import throttle

bp = Blueprint("optout", __name__)


def _invitation_or_404(token: str) -> Invitation:
    """Resolve an opt-out token, counting unknown ones in the address's one budget for link guesses."""
    throttle.refuse_when_exhausted()
    invitation = invitation_service.find_by_optout_token(token)
    if invitation is None:
        throttle.count_unknown_link()
        abort(404)
    return invitation


@bp.route("/optout/<token>", methods=["GET", "POST"])
@public
def optout(token: str):
    invitation = _invitation_or_404(token)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        invitation_service.opt_out(invitation)
        return render_template("respond/optout_done.html")
    return render_template("respond/optout.html", form=form,
                           already=invitation.participant.opted_out_at is not None)


@bp.route("/optout/<token>/one-click", methods=["GET", "POST"])
@public
@csrf.exempt
def one_click(token: str):
    """RFC 8058: mail programs POST "List-Unsubscribe=One-Click" without a CSRF token (the
    128-bit token in the address is the credential); a GET only shows the confirmation page."""
    invitation = _invitation_or_404(token)
    if request.method == "GET":
        return render_template("respond/optout.html", form=ConfirmForm(),
                               already=invitation.participant.opted_out_at is not None)
    if request.form.get("List-Unsubscribe") != "One-Click":
        abort(400)
    invitation_service.opt_out(invitation)
    return render_template("respond/optout_done.html")
