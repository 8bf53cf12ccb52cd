"""Invigilation pages: the rooms one may watch, the live board, the room record, the site overview.

Who may see what is decided by ``services.access`` as for the ``/invigilation`` namespace
(docs/invigilation.md): a room's invigilators and its site's admin act, the plan's organization
admin watches; anybody else gets 404 for the room, as if it did not exist. The board page is a
shell: ``static/js/board.js`` fills it over Socket.IO (``watch``, the pushes, ``act``) and the
server checks every request there again; hiding the action bar here is only a courtesy.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.roles import Role, roles_required
from ..delivery.lifecycle import FINAL_STATES
from ..errors import NotFound
from ..extensions import db
from ..plans.documents import cjk_font, file_name
from ..plans.models import ExamPlan
from ..sites.models import Room
from . import record as room_record
from . import services
from .actions import ACTIONS, MAX_EXTEND_MINUTES, MAX_TEXT, PART_ACTIONS, REASONS

bp = Blueprint("invigilation", __name__, url_prefix="/invigilation")
WATCHERS = frozenset({Role.INVIGILATOR, Role.SITE_ADMIN, Role.ORG_ADMIN})
OVERSEERS = frozenset({Role.SITE_ADMIN, Role.ORG_ADMIN})
# When the board raises an alert (docs/invigilation.md leaves it to the board).
ALERTS = {"offline_seconds": 30, "anomalies": 3, "minutes_left": 5}
SITE_UTC_OFFSET_MINUTES = 8 * 60  # every site is in China (plans.models.SITE_TZ)


def _now() -> datetime:
    return datetime.now(UTC)


def _room(plan_id: int, room_id: int) -> tuple[ExamPlan, Room, str]:
    """The plan, room and access level, or 404 for a room the user may not watch."""
    try:
        plan, room = services.room_for(current_user, plan_id, room_id)
    except services.AccessDenied as exc:
        raise NotFound(
            f"没有找到您可以查看的考场（计划 {plan_id}，考场 {room_id}）：{exc.message}"
        ) from exc
    level = services.access(current_user, plan, room_id)
    assert level is not None
    return plan, room, level


# ---- the rooms one may watch ------------------------------------------------------------------


@dataclass
class PlanRooms:
    plan: ExamPlan
    rooms: list[tuple[Room, str]] = field(default_factory=list)


@bp.route("/")
@roles_required(WATCHERS)
def index() -> ResponseReturnValue:
    """The rooms of live plans the user may watch, grouped by plan, newest plan first."""
    plans: dict[int, PlanRooms] = {}
    for plan, room, level in services.rooms_of(current_user):
        plans.setdefault(plan.id, PlanRooms(plan)).rooms.append((room, level))
    overview = bool(current_user.role_set & OVERSEERS)
    return render_template("invigilation/index.html", plans=list(plans.values()), overview=overview)


# ---- the live board ----------------------------------------------------------------------------


@bp.route("/<int:plan_id>/<int:room_id>")
@roles_required(WATCHERS)
def board(plan_id: int, room_id: int) -> ResponseReturnValue:
    """The board's shell; the seats come over Socket.IO (``watch``) and stay live."""
    plan, room, level = _room(plan_id, room_id)
    client = {
        "plan_id": plan.id,
        "room_id": room.id,
        "access": level,
        "room": {
            "title": room.title,
            "rows": room.rows,
            "columns": room.columns,
            "spare": sorted(room.spare_seats or ()),
            "blocked": sorted(room.blocked_seats or ()),
            "labels": {
                str(n): room.seatmap.label(n) for n in range(1, room.rows * room.columns + 1)
            },
        },
        "parts": [{"part": s.part_kind, "name": s.part_name} for s in plan.sessions],
        "reasons": [
            {
                "category": c,
                "name": name,
                "codes": [{"code": k, "name": v} for k, v in codes.items()],
            }
            for c, (name, codes) in REASONS.items()
        ],
        "actions": {
            a: {"name": name, "scopes": sorted(scopes), "part": a in PART_ACTIONS}
            for a, (name, scopes) in ACTIONS.items()
        },
        "limits": {"minutes": MAX_EXTEND_MINUTES, "text": MAX_TEXT},
        "alerts": ALERTS,
        "utc_offset_minutes": SITE_UTC_OFFSET_MINUTES,
        "urls": {
            "login": url_for(
                "auth.login", next=url_for(".board", plan_id=plan.id, room_id=room.id)
            ),
            "record": url_for(".record", plan_id=plan.id, room_id=room.id),
        },
        "strings": _strings(),
    }
    return render_template(
        "invigilation/board.html", plan=plan, room=room, access=level, client=client
    )


def _strings() -> dict[str, str]:
    """The board's UI text, through the catalog like every template string."""
    return {
        "connecting": _("Connecting…"),
        "online": _("Live"),
        "offline": _("Disconnected: reconnecting… (the seats shown may be out of date)"),
        "unauthenticated": _("Your sign-in has expired: sign in again"),
        "sign_in": _("Sign in"),
        "refused": _("The board could not be loaded"),
        "present": _("online"),
        "never": _("not signed in"),
        "offline_for": _("offline %(n)s s", n="{n}"),
        "offline_short": _("off %(n)s s", n="{n}"),
        "anomalies_n": _("%(n)s anomalies", n="{n}"),
        "warnings_n": _("%(n)s warnings", n="{n}"),
        "switch_pending": _("waiting to change PC"),
        "switch_from": _("New PC %(ip)s asks to take over since %(at)s", ip="{ip}", at="{at}"),
        "left": _("%(t)s left", t="{t}"),
        "extended": _("+%(n)s min", n="{n}"),
        "seat_spare": _("spare"),
        "seat_blocked": _("blocked"),
        "alert_offline": _("Offline for %(n)s s", n="{n}"),
        "alert_anomalies": _("%(n)s anomalies, latest: %(text)s", n="{n}", text="{text}"),
        "alert_time": _("%(part)s: %(t)s left", part="{part}", t="{t}"),
        "alert_switch": _("Asks to change PC (%(ip)s)", ip="{ip}"),
        "no_alerts": _("No alerts"),
        "selected_none": _("No candidate selected: actions apply to the whole room"),
        "selected_n": _("%(n)s selected: %(names)s", n="{n}", names="{names}"),
        "whole_room": _("The whole room (%(n)s candidates)", n="{n}"),
        "chosen": _("The %(n)s selected candidates", n="{n}"),
        "need_selection": _("Select the candidates first"),
        "need_one_switch": _("Select one candidate who asks to change PC"),
        "applied": _("Done for %(n)s candidates", n="{n}"),
        "applied_room": _("Done for the room"),
        "skipped": _("Not done for %(n)s:", n="{n}"),
        "sending": _("Sending…"),
        "no_answer": _("The server did not answer: check the network and try again"),
        "choose_reason": _("Choose a reason category and a reason"),
        "need_text": _("Describe the reason: it is required with “other”"),
        "need_message": _("Write the message to send"),
        "need_confirm": _("Tick the box to confirm cancelling the result"),
        "bad_minutes": _("Minutes must be a whole number from 1 to %(n)s", n=MAX_EXTEND_MINUTES),
        "authorized": _("authorized %(at)s", at="{at}"),
        "enable_code": _("Make a new start code"),
        "disable_code": _("Remove the start code"),
        "enable_hold": _("Candidates wait for my start"),
        "disable_hold": _("Candidates start at the planned time"),
        "room_scope": _("whole room"),
        "log_empty": _("No actions yet"),
        "anomalies_empty": _("No anomalies since the board was opened"),
        "by": _("by %(who)s", who="{who}"),
        "reason": _("Reason"),
        "not_reached": _("not done: %(n)s", n="{n}"),
        "and_more": _("%(names)s and others, %(n)s in all", names="{names}", n="{n}"),
        "ticket": _("Ticket number"),
        "ip": _("IP"),
        "presence": _("Connection"),
        "warnings": _("Warnings"),
        "anomalies": _("Anomalies"),
        "confirm_void": _(
            "I confirm: the results of every part of the selected candidates are cancelled"
        ),
        "close": _("Close"),
    }


# ---- the room record ---------------------------------------------------------------------------


@bp.route("/<int:plan_id>/<int:room_id>/record")
@roles_required(WATCHERS)
def record(plan_id: int, room_id: int) -> ResponseReturnValue:
    """The room record (考场情况记录表) to read and print (the page has print styles)."""
    plan, room, _level = _room(plan_id, room_id)
    return render_template(
        "invigilation/record.html", record=room_record.room_record(plan, room, _now())
    )


@bp.route("/<int:plan_id>/<int:room_id>/record.pdf")
@roles_required(WATCHERS)
def record_pdf(plan_id: int, room_id: int) -> ResponseReturnValue:
    plan, room, _level = _room(plan_id, room_id)
    data = room_record.record_pdf(room_record.room_record(plan, room, _now()), _font())
    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=file_name(plan, "考场情况记录表", ".pdf", room),
    )


def _font() -> Path:
    return cjk_font(current_app.config.get("EXAMSVC_CJK_FONT"))


# ---- the site overview -------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomCounts:
    room: Room
    access: str
    registered: int
    online: int
    answering: int
    paused: int
    submitted: dict[str, int]  # part → candidates who submitted it
    anomalies: int  # anomalies recorded in the room
    switches: int  # candidates asking to change PC
    offline: int  # candidates who were online and are not (while not finished)


def _counts(room: Room, level: str, board: dict[str, Any]) -> RoomCounts:
    seats = board["seats"]

    def running(seat: dict[str, Any]) -> bool:
        return any(p["state"] not in FINAL_STATES for p in seat["parts"])

    return RoomCounts(
        room=room,
        access=level,
        registered=len(seats),
        online=sum(1 for s in seats if s["presence"] == "online"),
        answering=sum(1 for s in seats if any(p["state"] == "in_progress" for p in s["parts"])),
        paused=sum(1 for s in seats if any(p["state"] == "paused" for p in s["parts"])),
        submitted={
            part["part"]: sum(
                1
                for s in seats
                for p in s["parts"]
                if p["part"] == part["part"] and p["state"] in ("submitted", "auto_submitted")
            )
            for part in board["parts"]
        },
        anomalies=sum(s["anomalies"]["count"] for s in seats),
        switches=sum(1 for s in seats if s["pending_switch"]),
        offline=sum(1 for s in seats if s["presence"] == "offline" and running(s)),
    )


@bp.route("/<int:plan_id>/site")
@roles_required(OVERSEERS)
def site(plan_id: int) -> ResponseReturnValue:
    """Every room of the plan the user oversees (a site admin: their site's) with live counts."""
    plan = db.session.get(ExamPlan, plan_id)
    rooms = []
    if plan is not None:
        for pr in sorted(plan.rooms, key=lambda pr: (pr.room.site.number, pr.room.number)):
            level = services.access(current_user, plan, pr.room_id)
            if level is not None:
                rooms.append((pr.room, level))
    if plan is None or not rooms:
        raise NotFound(
            f"没有找到您负责的考场（计划 {plan_id}）：只有本考点的主考和计划的组织方可以查看"
        )
    now = _now()
    counts = [_counts(room, level, services.board(plan, room, now)) for room, level in rooms]
    totals = {
        "registered": sum(c.registered for c in counts),
        "online": sum(c.online for c in counts),
        "answering": sum(c.answering for c in counts),
        "paused": sum(c.paused for c in counts),
        "anomalies": sum(c.anomalies for c in counts),
        "switches": sum(c.switches for c in counts),
        "offline": sum(c.offline for c in counts),
        "submitted": {
            s.part_kind: sum(c.submitted.get(s.part_kind, 0) for c in counts) for s in plan.sessions
        },
    }
    return render_template(
        "invigilation/site.html",
        plan=plan,
        counts=counts,
        totals=totals,
        checked_at=room_record.local(now),
    )
