"""/api/v1: an institution's own system registers candidates and reads seat assignments;
anyone's system verifies a certificate's QR token (public, rate-limited).

Requests authenticate with ``Authorization: Bearer <token>`` only (see auth.setup: session
cookies are ignored under /api/), which is why the blueprint needs no CSRF token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..auth.roles import REGISTRARS, public, roles_required
from ..certificates.verification import check_token
from ..certificates.verify_routes import PRIVATE, verification_json, verify_limit
from ..errors import DomainError
from ..extensions import limiter
from ..plans.models import ExamPlan
from ..plans.services import STATE_NAMES, get_plan, plans_of
from ..registration.models import Registration
from ..registration.roster_format import row_from_fields
from ..registration.services import RosterProblems, register, registrations_of, site_for, withdraw
from .openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _plan(plan: ExamPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "certificate": plan.level.certificate.name,
        "level": plan.level.name,
        "batch": plan.batch,
        "state": plan.state,
        "state_name": STATE_NAMES[plan.state],
        "sessions": [
            {
                "part": s.part_kind,
                "name": s.part_name,
                "starts_at": s.starts_at.isoformat(timespec="minutes"),
                "ends_at": s.ends_at.isoformat(timespec="minutes"),
            }
            for s in plan.sessions
        ],
        # One entry per site, however many of its rooms the plan uses.
        "sites": [
            {"id": site.id, "name": site.name}
            for site in sorted({pr.room.site for pr in plan.rooms}, key=lambda s: s.id)
        ],
        "fees": plan.fees,
    }


def _registration(reg: Registration) -> dict[str, Any]:
    return {
        "id": reg.id,
        "name": reg.candidate.name,
        "id_number": reg.candidate.id_number,
        "institution": reg.institution,
        "class_name": reg.class_name,
        "site_id": reg.site_id,
        "room": reg.room.name if reg.room else None,
        "seat": reg.seat,
        "ticket_number": reg.ticket_number,
        "fee": str(reg.fee),
        "exempt": reg.poor_family,
    }


@bp.route("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(document(request.host_url.rstrip("/") + url_for("api.plans")))


@bp.route("/verify/<token>")
@public
@limiter.limit(verify_limit)
def verify(token: str) -> ResponseReturnValue:
    """The verdict on a certificate's QR token, for machines; never an error for a bad token."""
    return jsonify(verification_json(check_token(token, datetime.now(UTC)))), 200, PRIVATE


@bp.route("/plans")
@roles_required(REGISTRARS)
def plans() -> ResponseReturnValue:
    return jsonify([_plan(p) for p in plans_of(current_user)])


@bp.route("/plans/<int:plan_id>")
@roles_required(REGISTRARS)
def plan(plan_id: int) -> ResponseReturnValue:
    return jsonify(_plan(get_plan(current_user, plan_id)))


@bp.route("/plans/<int:plan_id>/registrations")
@roles_required(REGISTRARS)
def registrations(plan_id: int) -> ResponseReturnValue:
    row = get_plan(current_user, plan_id)
    return jsonify([_registration(r) for r in registrations_of(row, current_user)])


@bp.route("/plans/<int:plan_id>/registrations", methods=["POST"])
@roles_required(REGISTRARS)
def create_registration(plan_id: int) -> ResponseReturnValue:
    """Register one candidate; every problem is listed in ``details`` and nothing is stored."""
    row = get_plan(current_user, plan_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise DomainError("请求体应为 JSON 对象，字段见 /api/v1/openapi.json 的 Registration")
    site = site_for(row, current_user, body.get("site_id"))
    applicant, problems = row_from_fields(body)
    if applicant is None:
        raise RosterProblems("考生信息有误", problems)
    reg = register(row, site, applicant, current_user)
    location = url_for("api.registrations", plan_id=row.id)
    return jsonify(_registration(reg)), 201, {"Location": location}


@bp.route("/plans/<int:plan_id>/registrations/<int:registration_id>", methods=["DELETE"])
@roles_required(REGISTRARS)
def delete_registration(plan_id: int, registration_id: int) -> ResponseReturnValue:
    withdraw(get_plan(current_user, plan_id), registration_id, current_user)
    return "", 204
