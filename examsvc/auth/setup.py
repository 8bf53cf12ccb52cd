"""Sign-in plumbing and the default-deny authorization check run before every request."""

from __future__ import annotations

from flask import Flask, Request, abort, current_app, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db, login
from ..i18n import per_locale
from .models import User


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" or request.path.startswith("/api/")


def authorize_request() -> ResponseReturnValue | None:
    """Let a request through only if its view is public or the user holds one of its roles.

    A view with no annotation is refused: forgetting to mark a route must never open it.
    """
    if request.endpoint is None:
        return None
    if request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is None or getattr(view, "public", False):
        return None
    allowed = getattr(view, "allowed_roles", None)
    if not current_user.is_authenticated:
        if wants_json():
            if request.path.startswith("/api/"):
                message = "需要 API 令牌：请在请求头加上 Authorization: Bearer <令牌>"
                return jsonify(error="unauthorized", message=message), 401
            return jsonify(error="unauthorized", message="请先登录。"), 401
        return redirect(url_for("auth.login", next=request.full_path))
    if allowed is None or not current_user.has_any(allowed):
        abort(403)
    return None


def init_app(app: Flask) -> None:
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = _l("Please sign in to continue.")

    @login.user_loader
    def load_user(user_id: str) -> User | None:
        # The API answers to tokens only: a browser's session cookie must not authorize a
        # cross-site request there, which is what lets /api/ go without CSRF tokens.
        if request.path.startswith("/api/"):
            return None
        return db.session.get(User, int(user_id))

    @login.request_loader
    def load_token_user(req: Request) -> User | None:
        if not req.path.startswith("/api/"):
            return None
        from ..api.tokens import user_for

        return user_for(req.headers.get("Authorization"))

    app.before_request(authorize_request)

    @app.context_processor
    def names() -> dict[str, object]:
        return per_locale(
            "auth_names", lambda: {"ROLE_NAMES": role_names(), "EVENT_NAMES": event_names()}
        )

    @app.template_filter("reject_page")
    def reject_page(args: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in args.items() if k != "page"}


def role_names() -> dict[str, str]:
    return {
        "org_admin": _("Organization admin"),
        "author": _("Item author"),
        "reviewer": _("Item reviewer"),
        "site_admin": _("Site admin"),
        "invigilator": _("Invigilator"),
        "rater": _("Rater"),
    }


def event_names() -> dict[str, str]:
    return {
        "created": _("created"),
        "edited": _("edited"),
        "new_version": _("new version"),
        "submitted": _("submitted for review"),
        "approved": _("approved"),
        "returned": _("returned to author"),
        "retired": _("retired"),
        "imported": _("imported"),
    }
