"""Plan documents: seating board, admission tickets (准考证), exports and the door check-in page.

Who may do what (``plans.documents`` scopes every answer):

* the seating board, seat moves, tickets and exports: the organization admin for the whole plan,
  a site admin for the candidates and rooms of their own site (others' rooms and candidates are
  404, as are plans the user has nothing to do with);
* the door check-in page a ticket's QR code opens: invigilators staffed on the plan, site admins
  of the candidate's site and the organization admin, signed in.
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.roles import REGISTRARS, Role, roles_required
from ..errors import DomainError
from ..extensions import db
from ..registration.services import registrations_of
from . import documents, exports
from .services import STATE_NAMES, get_plan

bp = Blueprint("plan_docs", __name__, url_prefix="/plans")
DOOR = frozenset({Role.INVIGILATOR, Role.SITE_ADMIN, Role.ORG_ADMIN})
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def _font() -> Path:
    return documents.cjk_font(current_app.config.get("EXAMSVC_CJK_FONT"))


def _send(data: bytes, mimetype: str, name: str, attachment: bool = True) -> ResponseReturnValue:
    return send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=attachment, download_name=name
    )


def _signing() -> tuple[str, str]:
    return request.host_url, str(current_app.config["SECRET_KEY"])


# ---- seating board ---------------------------------------------------------------------------


@bp.route("/<int:plan_id>/seating")
@roles_required(REGISTRARS)
def seating(plan_id: int) -> ResponseReturnValue:
    """Each room as a grid, front (讲台) at the top; auto-seat and move while a draft."""
    plan = get_plan(current_user, plan_id)
    rooms = documents.rooms_of(plan, current_user)
    grids = [documents.seat_grid(plan, room) for room in rooms]
    regs = registrations_of(plan, current_user)
    return render_template(
        "plan_docs/seating.html",
        plan=plan,
        grids=grids,
        rooms=rooms,
        summary=documents.board_summary(plan, current_user, grids),
        registrations=sorted(regs, key=lambda r: (r.ticket_number or "~", r.candidate.name)),
        unseated=[r for r in regs if r.seat is None],
        state_name=STATE_NAMES[plan.state],
    )


@bp.route("/<int:plan_id>/seating/auto", methods=["POST"])
@roles_required(REGISTRARS)
def auto_seat(plan_id: int) -> ResponseReturnValue:
    plan = get_plan(current_user, plan_id)
    seated = documents.seat_unseated(plan, current_user)
    db.session.commit()
    flash(_("%(n)s candidates seated.", n=seated), "success")
    return redirect(url_for("plan_docs.seating", plan_id=plan.id))


@bp.route("/<int:plan_id>/seating/move", methods=["POST"])
@roles_required(REGISTRARS)
def move_seat(plan_id: int) -> ResponseReturnValue:
    """Move a candidate to a free seat; a taken, spare or blocked seat is a 409 saying why."""
    plan = get_plan(current_user, plan_id)
    registration_id = request.form.get("registration_id", type=int)
    room_id = request.form.get("room_id", type=int)
    seat = request.form.get("seat", type=int)
    if registration_id is None or room_id is None or seat is None:
        raise DomainError("请选择考生和考场，并填写座位号（数字）")
    reg = documents.move(plan, current_user, registration_id, room_id, seat)
    db.session.commit()
    flash(_("%(name)s moved.", name=reg.candidate.name), "success")
    return redirect(url_for("plan_docs.seating", plan_id=plan.id))


# ---- admission tickets -----------------------------------------------------------------------


@bp.route("/<int:plan_id>/tickets/<int:registration_id>.png")
@roles_required(REGISTRARS)
def ticket_png(plan_id: int, registration_id: int) -> ResponseReturnValue:
    plan = get_plan(current_user, plan_id)
    reg = documents.registration_of(plan, current_user, registration_id)
    data = documents.ticket_png(reg, *_signing(), _font())
    name = f"准考证-{reg.ticket_number}-{reg.candidate.name}.png"
    return _send(data, "image/png", name, attachment=False)


@bp.route("/<int:plan_id>/tickets/<int:registration_id>.pdf")
@roles_required(REGISTRARS)
def ticket_pdf(plan_id: int, registration_id: int) -> ResponseReturnValue:
    plan = get_plan(current_user, plan_id)
    reg = documents.registration_of(plan, current_user, registration_id)
    data = documents.tickets_pdf([reg], *_signing(), _font())
    return _send(data, PDF, f"准考证-{reg.ticket_number}-{reg.candidate.name}.pdf")


@bp.route("/<int:plan_id>/tickets.pdf")
@roles_required(REGISTRARS)
def tickets_pdf(plan_id: int) -> ResponseReturnValue:
    """Every ticket of the plan, or of one room (?room=<id>), one A4 page each."""
    plan = get_plan(current_user, plan_id)
    room_id = request.args.get("room", type=int)
    regs = documents.ticketed(plan, current_user, room_id)
    room = documents.room_of(plan, current_user, room_id) if room_id is not None else None
    data = documents.tickets_pdf(regs, *_signing(), _font())
    return _send(data, PDF, documents.file_name(plan, "准考证", ".pdf", room))


# ---- exports ---------------------------------------------------------------------------------


@bp.route("/<int:plan_id>/rooms/<int:room_id>/sign-in.pdf")
@roles_required(REGISTRARS)
def sign_in_pdf(plan_id: int, room_id: int) -> ResponseReturnValue:
    plan = get_plan(current_user, plan_id)
    room = documents.room_of(plan, current_user, room_id)
    sheets = documents.room_sheets(plan, current_user, room.id)
    data = exports.sign_in_sheet_pdf(sheets, _font())
    return _send(data, PDF, documents.file_name(plan, "签到表", ".pdf", room))


@bp.route("/<int:plan_id>/rooms/<int:room_id>/sign-in.xlsx")
@roles_required(REGISTRARS)
def sign_in_xlsx(plan_id: int, room_id: int) -> ResponseReturnValue:
    plan = get_plan(current_user, plan_id)
    room = documents.room_of(plan, current_user, room_id)
    data = exports.sign_in_sheet_xlsx(documents.room_sheets(plan, current_user, room.id))
    return _send(data, XLSX, documents.file_name(plan, "签到表", ".xlsx", room))


@bp.route("/<int:plan_id>/rooms/<int:room_id>/seat-plan.xlsx")
@roles_required(REGISTRARS)
def seat_plan_xlsx(plan_id: int, room_id: int) -> ResponseReturnValue:
    plan = get_plan(current_user, plan_id)
    room = documents.room_of(plan, current_user, room_id)
    data = exports.seat_plan_xlsx(
        room.title,
        room.rows,
        room.columns,
        documents.seat_plan(plan, room),
        room.spare_seats or (),
        room.blocked_seats or (),
    )
    return _send(data, XLSX, documents.file_name(plan, "座位表", ".xlsx", room))


@bp.route("/<int:plan_id>/candidates.<any(xlsx, csv):fmt>")
@roles_required(REGISTRARS)
def candidates(plan_id: int, fmt: str) -> ResponseReturnValue:
    """The candidate list (考生名单): the plan's, or a site admin's own site's."""
    plan = get_plan(current_user, plan_id)
    rows = documents.candidate_rows(plan, current_user)
    if fmt == "csv":
        return _send(
            exports.candidate_list_csv(rows), CSV, documents.file_name(plan, "考生名单", ".csv")
        )
    return _send(
        exports.candidate_list_xlsx(rows), XLSX, documents.file_name(plan, "考生名单", ".xlsx")
    )


@bp.route("/<int:plan_id>/platform.<any(xlsx, csv):fmt>")
@roles_required(REGISTRARS)
def platform(plan_id: int, fmt: str) -> ResponseReturnValue:
    """The registration file for the national 1+X platform (see exports.PLATFORM_COLUMNS)."""
    plan = get_plan(current_user, plan_id)
    rows = documents.candidate_rows(plan, current_user)
    name = documents.file_name(plan, "平台报名信息", f".{fmt}")
    if fmt == "csv":
        return _send(exports.platform_export_csv(rows), CSV, name)
    return _send(exports.platform_export_xlsx(rows), XLSX, name)


# ---- door check-in ---------------------------------------------------------------------------


@bp.route("/checkin/<ticket_number>")
@roles_required(DOOR)
def checkin(ticket_number: str) -> ResponseReturnValue:
    """What an invigilator at the door sees after scanning a ticket's QR code.

    Nothing is stored here: attendance (到考/缺考) belongs to invigilation, which records it
    per session; this page only shows who the ticket belongs to and where they sit.
    """
    try:
        reg = documents.checkin(
            current_user, ticket_number, request.args.get("s", ""), _signing()[1]
        )
    except documents.InvalidCheckin as exc:
        return render_template(
            "plan_docs/checkin.html", reg=None, message=exc.message, number=ticket_number
        ), exc.status
    return render_template(
        "plan_docs/checkin.html",
        reg=reg,
        number=ticket_number,
        masked_id=documents.mask_id(reg.candidate.id_number),
        photo=documents.photo_data_uri(reg.candidate.photo),
        seat=reg.room.seatmap.label(reg.seat) if reg.room and reg.seat else "",
    )
