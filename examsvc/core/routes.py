"""Health check and the staff landing page."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from .. import __version__
from ..auth.roles import ALL_STAFF, public, roles_required
from ..extensions import db

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """Report liveness and whether the database answers, for load balancers and monitoring."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any driver error means the database is unreachable
        database = "unreachable"
    status = 200 if database == "ok" else 503
    body = {"status": "ok" if status == 200 else "degraded", "database": database}
    return jsonify(body | {"version": __version__}), status


@bp.route("/")
@roles_required(ALL_STAFF)
def index() -> ResponseReturnValue:
    """Staff landing page: what the signed-in user can do."""
    return render_template("core/index.html")
