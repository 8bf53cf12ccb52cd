"""The ceiling of this stack for the delivery benchmark: a bare Flask-SocketIO app that, on an
``answer`` event on ``/exam``, upserts one row into SQLite, commits and acknowledges.

Run under the same server as the product: ``gunicorn -k eventlet -w 1 bench.delivery_bare:app``
with ``BARE_DATABASE=/path/to/file.sqlite3``. It keeps the product's SQLite settings (WAL,
``synchronous`` from ``SQLITE_SYNCHRONOUS``, default NORMAL) and its Socket.IO message limit, and
nothing else: no sign-in check, no paper, no validation. A client names its registration in the
connect's ``auth`` (``{"reg": id}``); the highest ``seq`` per item wins, as in the product.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, request
from flask_socketio import SocketIO

NS = "/exam"
UPSERT = """
INSERT INTO answer (registration, position, seq, value, flagged, saved_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (registration, position) DO UPDATE SET
    seq = excluded.seq, value = excluded.value, flagged = excluded.flagged,
    saved_at = excluded.saved_at
WHERE excluded.seq > answer.seq
"""


def open_database(path: str) -> sqlite3.Connection:
    """One connection for the worker: sqlite3 never yields to another greenlet mid-statement."""
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={os.environ.get('SQLITE_SYNCHRONOUS', 'NORMAL')}")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS answer (registration INTEGER, position INTEGER, "
        "seq INTEGER, value TEXT, flagged INTEGER, saved_at TEXT, "
        "PRIMARY KEY (registration, position))"
    )
    conn.commit()
    return conn


def create_app() -> Flask:
    app = Flask(__name__)
    database = open_database(os.environ["BARE_DATABASE"])
    registrations: dict[str, int] = {}  # Socket.IO sid → registration
    mode = "eventlet" if "eventlet" in sys.modules else "threading"
    sio = SocketIO(app, async_mode=mode, max_http_buffer_size=2_000_000)

    def connect(auth: Any = None) -> None:
        registrations[request.sid] = int((auth or {}).get("reg", 0))  # type: ignore[attr-defined]

    def disconnect(*_: Any) -> None:
        registrations.pop(request.sid, None)  # type: ignore[attr-defined]

    def answer(change: dict[str, Any]) -> dict[str, Any]:
        row = (
            registrations[request.sid],  # type: ignore[attr-defined]
            change["position"],
            change["seq"],
            json.dumps(change["value"]),
            bool(change.get("flagged")),
            datetime.now(UTC).isoformat(),
        )
        written = database.execute(UPSERT, row).rowcount
        database.commit()
        outcome = "saved" if written else "stale"
        return {
            "ok": True,
            "seq": change["seq"],
            "position": change["position"],
            "outcome": outcome,
        }

    sio.on_event("connect", connect, namespace=NS)
    sio.on_event("disconnect", disconnect, namespace=NS)
    sio.on_event("answer", answer, namespace=NS)
    return app


app = create_app() if "BARE_DATABASE" in os.environ else None
