"""The API token page: staff create a token for their institution's system, or revoke one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.roles import REGISTRARS, roles_required
from .tokens import create_token, revoke, tokens_of

bp = Blueprint("tokens", __name__, url_prefix="/tokens")


@bp.route("/", methods=["GET", "POST"])
@roles_required(REGISTRARS)
def index() -> ResponseReturnValue:
    """Your API tokens; a new token's secret is shown on this answer only."""
    secret = None
    if request.method == "POST":
        if request.form.get("revoke"):
            revoke(current_user, request.form.get("revoke", type=int) or 0)
            flash(_("Token revoked."), "ok")
            return redirect(url_for("tokens.index"))
        _row, secret = create_token(current_user, request.form.get("name", ""))
    return render_template(
        "api/tokens.html",
        tokens=tokens_of(current_user),
        secret=secret,
        openapi_url=url_for("api.openapi", _external=True),
    )
