"""Sign-in and sign-out, staff accounts of an organization, and password changes."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import DomainError
from ..extensions import limiter
from ..sites.models import Site
from ..sites.services import sites_of
from .forms import LoginForm, NewUserForm, PasswordForm, RolesForm
from .models import User
from .roles import ALL_STAFF, Role, public, roles_required
from .services import (
    authenticate,
    change_password,
    create_user,
    organization_users,
    set_roles,
)

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


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.ORG_ADMIN)
def users() -> ResponseReturnValue:
    """The organization's staff, and a form to add a colleague with roles and a site."""
    sites = sites_of(current_user)
    form = NewUserForm()
    form.offer_sites(sites)
    if form.validate_on_submit():
        user = create_user(
            form.username.data or "",
            form.password.data or "",
            form.display_name.data or "",
            {Role(r) for r in form.roles.data or []},
            current_user.organization_id,
        )
        user.site_id = form.site_id
        flash(_("Account created."), "success")
        return redirect(url_for("auth.users"))
    status = 422 if request.method == "POST" else 200
    rows = [(u, _roles_form(u, sites)) for u in organization_users(current_user)]
    site_names = {s.id: f"{s.number:03d} {s.name}" for s in sites}
    return render_template("auth/users.html", form=form, rows=rows, site_names=site_names), status


def _roles_form(user: User, sites: list[Site]) -> RolesForm:
    form = RolesForm(prefix=f"u{user.id}", formdata=None)
    form.offer_sites(sites)
    form.roles.data = sorted(str(r) for r in user.role_set)
    form.site.data = str(user.site_id) if user.site_id else ""
    form.active.data = user.active
    return form


@bp.route("/users/<int:user_id>", methods=["POST"])
@roles_required(Role.ORG_ADMIN)
def update_user(user_id: int) -> ResponseReturnValue:
    """Change a colleague's roles or site, or deactivate the account."""
    form = RolesForm(prefix=f"u{user_id}")
    form.offer_sites(sites_of(current_user))
    if not form.validate_on_submit():
        # A site admin or invigilator without a site says so; anything else is a stale form.
        raise DomainError(
            str(form.site.errors[0]) if form.site.errors else "表单无效，请刷新页面后重试"
        )
    roles = {Role(r) for r in form.roles.data or []}
    user = set_roles(current_user, user_id, roles, bool(form.active.data))
    user.site_id = form.site_id
    flash(_("Saved."), "success")
    return redirect(url_for("auth.users"))


@bp.route("/password", methods=["GET", "POST"])
@roles_required(ALL_STAFF)
def password() -> ResponseReturnValue:
    """Let any staff member change their own password."""
    form = PasswordForm()
    if form.validate_on_submit():
        change_password(current_user, form.current.data or "", form.new.data or "")
        flash(_("Password changed."), "success")
        return redirect(url_for("core.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status
