"""The exam protocol over Socket.IO, namespace ``/exam`` (docs/protocol.md).

Thin handlers: parse the event, call the service, commit, return the acknowledgement. An
acknowledgement therefore leaves only after the change is durable; it goes straight back over
the client's own connection, never through the message queue. Pushes (``state``, ``time_up``,
anomalies for the invigilators) are emits, which do go through the queue when several processes
serve, so a client on one process hears what another process did.

Every event runs with a fresh database session that is removed afterwards, so a long-lived
connection never carries a session (or a failed transaction) from one event to the next. A
refusal is an acknowledgement ``{"ok": false, "error": CODE, "message": TEXT}``; the connection
stays open and healthy whatever the client sends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial, wraps
from typing import Any

from flask import request, session
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

from ..extensions import db, socketio
from ..proctoring import pushes as board
from ..proctoring import services as presence
from ..proctoring.pushes import Seated
from ..registration.models import Registration
from . import arrival, autosave, services, signed
from .answers import PART_KINDS
from .routes import SESSION_KEY
from .services import DeliveryError
from .signed import SignedIn

NAMESPACE = "/exam"
log = logging.getLogger(__name__)

Ack = dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC)


def reg_room(registration_id: int) -> str:
    return f"reg-{registration_id}"


def exam_room(room_id: int) -> str:
    return f"room-{room_id}"


def login_room(login_id: int) -> str:
    """The sockets of one sign-in (one PC): cut off when the invigilator approves a switch."""
    return f"login-{login_id}"


# ---- pushes (usable from HTTP views and the scheduler too) ------------------------------------


def push_state(registration_id: int, part: dict[str, Any]) -> None:
    """Every connection of the candidate learns the part's new state (all processes)."""
    socketio.emit("state", part, to=reg_room(registration_id), namespace=NAMESPACE)


def push_time_up(registration_id: int, part_kind: str) -> None:
    socketio.emit("time_up", {"part": part_kind}, to=reg_room(registration_id), namespace=NAMESPACE)


def push_anomaly(anomaly: dict[str, Any]) -> None:
    """Tell the invigilators of the candidate's room (namespace ``/invigilation``)."""
    board.emit("anomaly", anomaly, anomaly["plan_id"], anomaly.get("room_id"))


def push_notice(room_id: int | None, registration_id: int | None, text: str) -> None:
    """An invigilator's message to the whole room or to one candidate."""
    to = exam_room(room_id) if room_id is not None else reg_room(registration_id or 0)
    socketio.emit("notice", {"text": text}, to=to, namespace=NAMESPACE)


def push_signed_out(login_id: int, reason: str) -> None:
    """The PC of an old sign-in is cut off (its next event would be refused anyway)."""
    socketio.emit("signed_out", {"reason": reason}, to=login_room(login_id), namespace=NAMESPACE)


def push_voided(registration_id: int) -> None:
    payload = {"reason": "voided"}
    socketio.emit("signed_out", payload, to=reg_room(registration_id), namespace=NAMESPACE)


# ---- connection ---------------------------------------------------------------------------------


def connect(auth: object = None) -> None:
    """Accept only a live candidate sign-in; join the candidate's and the exam room's rooms."""
    try:
        login_id = session.get(SESSION_KEY)
        reg = signed.by_login(login_id)
        if reg is None:
            if services.login_state(login_id) == "pending":
                _refuse("pending", "您已在另一台电脑登录：请等待监考员确认换机")
            _refuse("unauthenticated", "请先用准考证号和身份证号登录")
        assert reg is not None and login_id is not None
        join_room(reg_room(reg.id))
        join_room(login_room(login_id))
        if reg.room_id is not None:
            join_room(exam_room(reg.room_id))
        now = _now()
        presence.opened(reg, request.sid, request.remote_addr or "", now)  # type: ignore[attr-defined]
        pushes = [push_state_later(reg, s, now) for s in presence.credit_outages(reg, now)]
        pushes.append(board.seat_push(reg))
        services.commit()
        _push(pushes)
        _check_ip(reg)
    except ConnectionRefusedError:
        services.rollback()
        raise
    except Exception:
        services.rollback()
        log.exception("exam connect failed")
        _refuse("server_error", "服务器出错，请稍后重试或联系监考员")
    finally:
        db.session.remove()


def push_state_later(reg: Registration, sitting: Any, now: datetime) -> Callable[[], None]:
    reg_id, part = reg.id, services.part_state(sitting, now)
    return lambda: push_state(reg_id, part)


def start_pushes(reg: Seated, part: str, snapshot: dict[str, Any]) -> list[Callable[[], None]]:
    """What a start tells the candidate's other tabs and the board. The part's state is taken
    from the snapshot the start answers with: computing it again read the whole paper a second
    time, a third of a start."""
    reg_id, started = reg.id, next(p for p in snapshot["parts"] if p["part"] == part)
    return [lambda: push_state(reg_id, started), board.seat_push(reg)]


def submit_pushes(reg: Registration, sitting: Any, now: datetime) -> list[Callable[[], None]]:
    """What a submit tells the candidate's other tabs (the part's new state) and the board."""
    return [push_state_later(reg, sitting, now), board.seat_push(reg)]


def disconnect(reason: object = None) -> None:
    """The socket is gone: close its presence record and tell the board at once."""
    try:
        now = _now()
        reg_id = presence.closed(request.sid, now)  # type: ignore[attr-defined]
        seat = presence.seat_of(reg_id) if reg_id is not None else None
        push = board.seat_push(seat) if seat is not None else None
        services.commit()
        if push is not None:
            _push([push])
    except Exception:
        services.rollback()
        log.exception("exam disconnect failed")
    finally:
        db.session.remove()


def beat(payload: object = None, *extra: object) -> Ack:
    """The browser's heartbeat (every 15 s): presence on the board comes from these."""
    try:
        presence.beat(request.sid, _now())  # type: ignore[attr-defined]
        services.commit()
    except Exception:
        services.rollback()
        log.exception("exam beat failed")
        return {"ok": False, "error": "server_error", "message": "服务器出错"}
    finally:
        db.session.remove()
    return {"ok": True}


def _refuse(code: str, message: str) -> None:
    """Refuse the connection: the client's connect error has ``message`` = the code and
    ``data`` = ``{"error": code, "message": text}`` (socket.io-client: ``err.message``,
    ``err.data``)."""
    raise ConnectionRefusedError(code, {"error": code, "message": message})


def _check_ip(reg: SignedIn) -> None:
    """An IP other than the sign-in's is an anomaly for the invigilators (stored and pushed)."""
    here, signed_in_from = request.remote_addr or "", reg.ip
    if not signed_in_from or not here or signed_in_from == here:
        return
    detail = f"登录 IP {signed_in_from}，连接 IP {here}"
    found = services.registration_of(reg)
    anomaly = services.record_anomaly(found, "ip_change", None, detail, _now(), "system")
    services.commit()
    push_anomaly(anomaly)


# ---- requests ---------------------------------------------------------------------------------


Action = Callable[[SignedIn, dict[str, Any], datetime, list[Callable[[], None]]], Ack]
EVENTS: dict[str, Callable[..., Ack]] = {}


def _event(name: str) -> Callable[[Action], Action]:
    """Make ``action(reg, payload, now, pushes)`` the handler of ``name``: sign-in check, commit
    before the acknowledgement, refusals as acknowledgements; ``pushes`` run after the commit."""

    def register(action: Action) -> Action:
        @wraps(action)
        def handle(payload: object = None, *extra: object) -> Ack:
            def run(pushes: list[Callable[[], None]]) -> Ack:
                reg = services.live(session.get(SESSION_KEY))
                return action(reg, _object(payload, extra), _now(), pushes)

            return _respond(name, run)

        EVENTS[name] = handle
        return action

    return register


def _object(payload: object, extra: tuple[object, ...]) -> dict[str, Any]:
    if extra or not isinstance(payload, dict):
        raise DeliveryError("malformed", "消息应为一个 JSON 对象：请刷新页面")
    return payload


def _respond(
    name: str, run: Callable[[list[Callable[[], None]]], Ack], commits: bool = False
) -> Ack:
    """Run one request: commit before the acknowledgement (unless ``run`` ``commits`` itself),
    refusals as acknowledgements, a fresh database session each time, and the pushes ``run``
    collects sent after the commit."""
    pushes: list[Callable[[], None]] = []
    try:
        ack = run(pushes)
        if not commits:
            services.commit()
    except DeliveryError as exc:
        services.rollback()
        return _refusal(exc)
    except Exception:
        services.rollback()
        log.exception("exam event %s failed", name)
        return {
            "ok": False,
            "error": "server_error",
            "message": "服务器出错，未保存：请稍后重试，如仍失败请联系监考员",
        }
    finally:
        db.session.remove()
    _push(pushes)
    return ack


def _refusal(exc: DeliveryError) -> Ack:
    return {"ok": False, "error": exc.code, "message": exc.message}


def _push(pushes: list[Callable[[], None]]) -> None:
    """Pushes are best effort and follow the commit: the change is stored, the ack still goes."""
    for push in pushes:
        try:
            push()
        except Exception:
            log.exception("push failed")


def _part_of(payload: dict[str, Any]) -> str:
    part = payload.get("part")
    if not isinstance(part, str) or not part:
        raise DeliveryError("malformed", '消息缺少考试部分 part，如 "theory"')
    if part not in PART_KINDS:
        raise DeliveryError(
            "unknown_part", f"没有考试部分「{part[:20]}」：应为 theory 或 practical"
        )
    return part


def _only(payload: dict[str, Any], *fields: str) -> None:
    unknown = sorted(str(k) for k in payload if k not in fields)
    if unknown:
        raise DeliveryError("malformed", f"消息含未知字段 {'、'.join(unknown)}")


@_event("hello")
def hello(reg: SignedIn, payload: dict[str, Any], now: datetime, pushes: list[Any]) -> Ack:
    """The whole state, on every (re)connect."""
    return {"ok": True} | services.snapshot(reg, now)


def ping(payload: object = None, *extra: object) -> Ack:
    """The server's time for the browser's clock offset; no database."""
    client_sent = payload.get("client_sent") if isinstance(payload, dict) else None
    if extra or not services.is_ms(client_sent):
        message = 'ping 应为 {"client_sent": 浏览器时间毫秒数}'
        return {"ok": False, "error": "malformed", "message": message}
    return {"ok": True, "client_sent": client_sent, "server_time": services.ms(_now())}


@_event("start")
def start(reg: SignedIn, payload: dict[str, Any], now: datetime, pushes: list[Any]) -> Ack:
    _only(payload, "part")
    part = _part_of(payload)
    arrival.start(reg, part, now)
    body = {"ok": True} | services.snapshot(reg, now)
    pushes += start_pushes(reg, part, body)
    return body


def answer(server: Any, sid: str, payload: object = None, *extra: object) -> Ack:
    """One change ``{part, seq, position, value, flagged}``, acknowledged once committed.

    The one event every candidate sends every few seconds, so it skips what Flask-SocketIO does
    around an event: no request context (whose opening decodes the session cookie again), only
    the app's context; the sign-in is the one the connection was accepted with, and the change's
    own read (autosave.py) checks that it is still live.
    """
    environ = server.get_environ(sid, namespace=NAMESPACE)
    if environ is None:  # a socket already gone; without a sign-in, save_change refuses
        return _refusal(services.signed_out())
    login_id = environ.get("saved_session", {}).get(SESSION_KEY)

    def run(pushes: list[Callable[[], None]]) -> Ack:
        change = dict(_object(payload, extra))
        part = _part_of(change)
        del change["part"]
        ack, seat = autosave.save_change(login_id, part, change, _now())
        if seat is not None:
            pushes.append(board.progress_push(seat, part, ack["answered"]))
        return ack

    with environ["flask.app"].app_context():
        return _respond("answer", run, commits=True)


@_event("submit")
def submit(signed_in: SignedIn, payload: dict[str, Any], now: datetime, pushes: list[Any]) -> Ack:
    _only(payload, "part")
    reg = services.registration_of(signed_in)
    sitting = services.sitting_of(reg, _part_of(payload))
    services.submit(sitting, now)
    pushes += submit_pushes(reg, sitting, now)
    return {"ok": True, "state": sitting.state}


@_event("anomaly")
def anomaly(reg: SignedIn, payload: dict[str, Any], now: datetime, pushes: list[Any]) -> Ack:
    """A browser-observed anomaly ``{kind, at, detail}``: stored, then pushed to invigilators."""
    kind, at, detail = services.parse_anomaly(payload)
    found = services.record_anomaly(services.registration_of(reg), kind, at, detail, now)
    pushes.append(lambda: push_anomaly(found))
    return {"ok": True}


def init_app(sio: SocketIO) -> None:
    """Register the handlers on the server ``sio.init_app`` has just made (each create_app makes
    a new one, so handlers are registered here rather than by decorators at import)."""
    sio.on_event("connect", connect, namespace=NAMESPACE)
    sio.on_event("disconnect", disconnect, namespace=NAMESPACE)
    sio.on_event("ping", ping, namespace=NAMESPACE)
    sio.on_event("beat", beat, namespace=NAMESPACE)
    for name, handle in EVENTS.items():
        sio.on_event(name, handle, namespace=NAMESPACE)
    sio.server.on("answer", partial(answer, sio.server), namespace=NAMESPACE)
