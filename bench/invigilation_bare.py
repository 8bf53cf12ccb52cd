"""The ceiling of this stack for the invigilation benchmark: a bare Flask-SocketIO app in which
an ``answer`` on ``/exam`` is broadcast as ``progress`` to a room of ``/invigilation`` and
acknowledged — the bare cost of one push hop beside the bare echo round trip.

Run under the same server as the product: ``gunicorn -k eventlet -w 1
bench.invigilation_bare:app``. A candidate names its registration and room in the connect's
``auth`` (``{"reg": id, "plan": id, "room": id}``); a board sends ``watch {plan_id, room_id}``
and joins that room. No sign-in, no database, no validation: the answered count is a set of
positions in memory. With ``INVIGILATION_QUEUE`` (a Redis URL) and ``INVIGILATION_CHANNEL``
the emits go through the message queue, as the product's do with ``SOCKETIO_MESSAGE_QUEUE``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from flask import Flask, request
from flask_socketio import SocketIO, join_room

EXAM, BOARD = "/exam", "/invigilation"


def board_room(plan_id: Any, room_id: Any) -> str:
    return f"board-{plan_id}-{room_id}"


def create_app() -> Flask:
    app = Flask(__name__)
    mode = "eventlet" if "eventlet" in sys.modules else "threading"
    sio = SocketIO(
        app,
        async_mode=mode,
        max_http_buffer_size=2_000_000,
        message_queue=os.environ.get("INVIGILATION_QUEUE") or None,
        channel=os.environ.get("INVIGILATION_CHANNEL") or "flask-socketio",
    )
    seats: dict[str, tuple[int, str]] = {}  # Socket.IO sid → registration, its board room
    answered: dict[int, set[int]] = {}  # registration → positions answered

    @app.get("/")
    def index() -> str:
        return "bare"

    def connect(auth: Any = None) -> None:
        auth = auth or {}
        room = board_room(auth.get("plan"), auth.get("room"))
        seats[request.sid] = (int(auth.get("reg", 0)), room)  # type: ignore[attr-defined]

    def disconnect(*_: Any) -> None:
        seats.pop(request.sid, None)  # type: ignore[attr-defined]

    def answer(change: dict[str, Any]) -> dict[str, Any]:
        reg, room = seats[request.sid]  # type: ignore[attr-defined]
        done = answered.setdefault(reg, set())
        done.add(change["position"])
        data = {"registration_id": reg, "part": change["part"], "answered": len(done)}
        sio.emit("progress", data, to=room, namespace=BOARD)
        return {"ok": True, "seq": change["seq"], "position": change["position"],
                "outcome": "saved", "answered": len(done)}  # fmt: skip

    def watch(payload: Any = None) -> dict[str, Any]:
        join_room(board_room(payload["plan_id"], payload["room_id"]), namespace=BOARD)
        return {"ok": True, "access": "act"}

    sio.on_event("connect", connect, namespace=EXAM)
    sio.on_event("disconnect", disconnect, namespace=EXAM)
    sio.on_event("answer", answer, namespace=EXAM)
    sio.on_event("watch", watch, namespace=BOARD)
    return app


app = create_app()
