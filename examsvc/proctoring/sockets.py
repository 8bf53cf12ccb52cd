"""The invigilators' protocol over Socket.IO, namespace ``/invigilation`` (docs/invigilation.md).

Staff connect with their signed-in session. ``watch`` joins a room's board channel after the
server has checked the user may watch that room, and returns the whole board; ``act`` carries
out an action after checking the user may act there. Thin handlers, as in delivery/sockets.py:
parse, call the service, commit, then push and acknowledge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask_login import current_user
from flask_socketio import ConnectionRefusedError, SocketIO, join_room, leave_room

from ..errors import DomainError
from ..extensions import db
from ..registration.models import Registration
from . import services
from .actions import ActionError, parse_action
from .pushes import NAMESPACE, board_room, emit

log = logging.getLogger(__name__)
Ack = dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC)


def connect(auth: object = None) -> None:
    try:
        if not current_user.is_authenticated or not current_user.is_active:
            raise ConnectionRefusedError(
                "unauthenticated", {"error": "unauthenticated", "message": "请先登录工作人员账号"}
            )
    finally:
        db.session.remove()


def _guarded(work: Callable[[], Ack], name: str) -> Ack:
    """Refusals as acknowledgements; nothing half-done is committed; the socket stays open."""
    try:
        return work()
    except (DomainError, ActionError) as exc:
        db.session.rollback()
        code = "forbidden" if isinstance(exc, services.AccessDenied) else "refused"
        return {"ok": False, "error": code, "message": str(exc)}
    except Exception:
        db.session.rollback()
        log.exception("invigilation %s failed", name)
        return {"ok": False, "error": "server_error", "message": "服务器出错，操作未执行：请重试"}
    finally:
        db.session.remove()


def _ids(payload: object) -> tuple[int, int]:
    plan_id = payload.get("plan_id") if isinstance(payload, dict) else None
    room_id = payload.get("room_id") if isinstance(payload, dict) else None
    if type(plan_id) is not int or type(room_id) is not int:
        raise ActionError('请指明考场：{"plan_id": 计划编号, "room_id": 考场编号}')
    return plan_id, room_id


def watch(payload: object = None, *extra: object) -> Ack:
    """Join a room's board channel; the whole board and its action log."""

    def work() -> Ack:
        plan_id, room_id = _ids(payload)
        plan, room = services.room_for(current_user, plan_id, room_id)
        level = services.access(current_user, plan, room_id)
        data = services.board(plan, room, _now())
        log_entries = [services.audit_entry(a) for a in services.actions_in(plan, room_id)]
        db.session.commit()  # the room's control row may have been made just now
        join_room(board_room(plan_id, room_id))
        return {"ok": True, "access": level, "board": data, "log": log_entries}

    return _guarded(work, "watch")


def unwatch(payload: object = None, *extra: object) -> Ack:
    def work() -> Ack:
        plan_id, room_id = _ids(payload)
        leave_room(board_room(plan_id, room_id))
        return {"ok": True}

    return _guarded(work, "unwatch")


def act(payload: object = None, *extra: object) -> Ack:
    """An action on the room or on chosen candidates, with its reason; see docs/invigilation.md."""
    pushes: list[Callable[[], None]] = []

    def work() -> Ack:
        plan_id, room_id = _ids(payload)
        plan, room = services.room_for(current_user, plan_id, room_id, need="act")
        request = parse_action(payload, tuple(s.part_kind for s in plan.sessions))
        now = _now()
        outcome = services.act(current_user, request, now)
        pushes.extend(outcome.pushes)
        touched = outcome.applied + [s["registration_id"] for s in outcome.skipped]
        regs = [r for r in (db.session.get(Registration, i) for i in touched) if r is not None]
        for seat in services.seats(regs, room, now):
            pushes.append(lambda seat=seat: emit("seat", seat, plan_id, room_id))
        entry = services.audit_entry(outcome.record)
        db.session.commit()
        pushes.append(lambda: emit("action", entry, plan_id, room_id))
        return {
            "ok": True,
            "applied": outcome.applied,
            "skipped": outcome.skipped,
            "data": outcome.record.data,
        }

    ack = _guarded(work, "act")
    for push in pushes if ack.get("ok") else ():
        try:
            push()
        except Exception:
            log.exception("push failed")
    return ack


def init_app(sio: SocketIO) -> None:
    sio.on_event("connect", connect, namespace=NAMESPACE)
    sio.on_event("watch", watch, namespace=NAMESPACE)
    sio.on_event("unwatch", unwatch, namespace=NAMESPACE)
    sio.on_event("act", act, namespace=NAMESPACE)
