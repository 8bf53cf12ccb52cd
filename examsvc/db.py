"""Database set-up: SQLite pragmas and the one-transaction-per-request boundary."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.engine import Engine

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


def init_app(app: Flask) -> None:
    """Bind the database; services only flush, the request commits once or rolls back."""
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _sqlite_pragmas(app, db.engine)

    @app.after_request
    def commit_request(response: Response) -> Response:
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response
