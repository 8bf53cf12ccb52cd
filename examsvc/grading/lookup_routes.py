"""The candidate's result lookup (成绩查询) and appeal (成绩复核申请), public.

A candidate types the ticket number and ID number, as at the exam, and sees only their own
result, once released. Nothing is kept in the session: the appeal form sends both numbers again,
so a shared PC shows nobody's result to the next person. Both forms are rate-limited like the
candidate sign-in (``LOGIN_RATE_LIMIT``), so ID numbers cannot be tried at speed.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..auth.roles import public
from ..errors import DomainError
from ..extensions import db, limiter
from ..registration.models import Registration
from . import appeals, services

bp = Blueprint("results", __name__, url_prefix="/results")


def _limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _mask(id_number: str) -> str:
    return id_number[:6] + "*" * max(len(id_number) - 10, 0) + id_number[-4:]


def _result_page(
    reg: Registration, status: int = 200, message: str = "", error: DomainError | None = None
) -> ResponseReturnValue:
    window = services.appeal_window(reg.plan)
    now = services.now_utc()
    return render_template(
        "results/lookup.html",
        reg=reg,
        masked_id=_mask(reg.candidate.id_number),
        result=services.candidate_result(reg),
        window=window,
        appeal_open=window is not None and window.is_open(now),
        appeals=appeals.appeals_of(reg),
        state_names=appeals.STATE_NAMES,
        outcome_names=appeals.OUTCOME_NAMES,
        ticket_number=request.form.get("ticket_number", ""),
        id_number=request.form.get("id_number", ""),
        message=message,
        error=error,
    ), status


@bp.route("/", methods=["GET", "POST"])
@public
@limiter.limit(_limit, methods=["POST"])
def lookup() -> ResponseReturnValue:
    """Look up one's own released result with ticket number and ID number."""
    if request.method == "GET":
        return render_template("results/lookup.html", reg=None, error=None)
    try:
        reg = services.lookup(
            request.form.get("ticket_number", ""), request.form.get("id_number", "")
        )
    except DomainError as exc:
        return render_template("results/lookup.html", reg=None, error=exc), exc.status
    return _result_page(reg)


@bp.route("/appeal", methods=["POST"])
@public
@limiter.limit(_limit)
def appeal() -> ResponseReturnValue:
    """Ask for a review of one part (成绩复核) within the window after release."""
    try:
        reg = services.lookup(
            request.form.get("ticket_number", ""), request.form.get("id_number", "")
        )
    except DomainError as exc:
        return render_template("results/lookup.html", reg=None, error=exc), exc.status
    try:
        appeals.submit_appeal(
            reg, request.form.get("part", ""), request.form.get("reason", ""), services.now_utc()
        )
    except DomainError as exc:
        db.session.rollback()
        return _result_page(reg, exc.status, error=exc)
    return _result_page(reg, message=_("Your request for review has been received."))
