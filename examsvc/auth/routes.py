"""Sign-in and sign-out for staff."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from ..extensions import limiter
from .forms import LoginForm
from .roles import public
from .services import authenticate

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _safe_next(target: str | None) -> str:
    """Only follow relative redirects, so the sign-in page cannot send a user off-site."""
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("core.index")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"])
def login() -> ResponseReturnValue:
    """Show the sign-in form and sign a staff user in."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong username or password."), "error")
        return render_template("auth/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@public
@login_required
def logout() -> ResponseReturnValue:
    """Sign out (POST only, so a link on another site cannot sign anyone out)."""
    logout_user()
    return redirect(url_for("auth.login"))
