"""Database set-up: SQLite pragmas and the one-transaction-per-request boundary."""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from .extensions import db


def _sqlite_pragmas(app: Flask, engine: Engine) -> None:
    synchronous = app.config["SQLITE_SYNCHRONOUS"]
    busy = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy}")
        cur.close()


def _psycopg2_under_eventlet() -> None:
    """Make psycopg2 wait through eventlet's hub, forgetting listeners libpq's sockets inherit.

    libpq opens its sockets in C, so eventlet never hears that a file descriptor number was
    recycled. When a websocket is closed while a green thread still waits on it (seen when many
    candidates disconnect at once), its listener stays registered under that number, and the next
    PostgreSQL connection that gets the number failed with "Second simultaneous read on fileno".
    A listener found on our connection's descriptor before we wait is such a leftover: no other
    green thread may use this connection. ``mark_as_reopened`` is eventlet's own remedy for this.
    """
    import psycopg2
    from eventlet import hubs
    from eventlet.hubs.hub import READ, WRITE
    from psycopg2 import extensions

    def wait(conn: Any, timeout: float = -1) -> None:
        while True:
            state = conn.poll()
            if state == extensions.POLL_OK:
                return
            fd, hub = conn.fileno(), hubs.get_hub()
            if fd in hub.listeners[READ] or fd in hub.listeners[WRITE]:
                hub.mark_as_reopened(fd)
            if state == extensions.POLL_READ:
                hubs.trampoline(fd, read=True)
            elif state == extensions.POLL_WRITE:
                hubs.trampoline(fd, write=True)
            else:
                raise psycopg2.OperationalError(f"Bad result from poll: {state!r}")

    extensions.set_wait_callback(wait)


def _green() -> bool:
    """Running in an eventlet server (gunicorn -k eventlet), not merely with eventlet imported."""
    patcher = sys.modules.get("eventlet.patcher")
    return patcher is not None and bool(patcher.is_monkey_patched("socket"))


def _pooled(uri: str) -> bool:
    """Whether SQLAlchemy gives this database a pool of connections (an in-memory SQLite
    database has one connection, and its pool takes no pool options)."""
    url = make_url(uri)
    memory = not url.database or url.database == ":memory:" or "mode=memory" in uri
    return not (url.get_backend_name() == "sqlite" and memory)


def init_app(app: Flask) -> None:
    """Bind the database; services only flush, the request commits once or rolls back."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if _pooled(uri):
        # The connection returned last is handed out next. SQLite drops a connection's page
        # cache whenever another connection has written, and the pool's default order (first
        # in, first out) rotated requests over every idle connection, so at the start of an
        # exam each request began with a cold cache. PostgreSQL's spare connections go idle.
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("pool_use_lifo", True)
    db.init_app(app)
    if uri.startswith("sqlite"):
        with app.app_context():
            _sqlite_pragmas(app, db.engine)
    elif uri.startswith("postgresql") and _green():
        _psycopg2_under_eventlet()

    @app.after_request
    def commit_request(response: Response) -> Response:
        # A request that committed itself (before acknowledging) has no transaction left: a
        # commit now would begin an empty one only to end it, at every candidate request.
        if not db.session().in_transaction():
            return response
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response
