"""Domain errors and the one place that turns any error into an HTML or JSON answer."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from .auth.setup import wants_json

bp = Blueprint("errors", __name__)


class DomainError(Exception):
    """A rule of the domain was broken; the message says what and how to fix it."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


def _answer(status: int, code: str, message: str, details: list[str]) -> ResponseReturnValue:
    if wants_json():
        return jsonify(error=code, message=message, details=details), status
    return (
        render_template("errors/error.html", status=status, message=message, details=details),
        status,
    )


@bp.app_errorhandler(DomainError)
def handle_domain_error(error: DomainError) -> ResponseReturnValue:
    """Answer a broken domain rule with its message; the request's transaction is rolled back."""
    return _answer(error.status, error.code, error.message, error.details)


@bp.app_errorhandler(HTTPException)
def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    """Answer HTTP errors (403, 404, 413, 429 …) in the language and format the client reads."""
    messages = {
        400: _("The request was malformed or its form expired; reload the page and try again."),
        403: _("You do not have permission for this page."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        413: _("The upload is too large."),
        429: _("Too many attempts; wait a minute and try again."),
    }
    status = error.code or 500
    message = messages.get(status, error.description or "")
    return _answer(status, error.name.lower().replace(" ", "_"), message, [])
