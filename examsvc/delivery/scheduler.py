"""Deadlines without a browser: submit every part at its deadline, in exactly one process.

The state lives only in the database (``services.submit_overdue(now)`` finds the running
sittings whose deadline plus grace has passed), so a restarted server simply carries on. Every
second the loop asks for the leader lease and, only while it holds it, submits the overdue
sittings, commits, and pushes ``time_up`` and ``state`` to each candidate's room (through the
message queue, so a candidate connected to another process hears it too).

The lease — one leader however many processes serve:

- **PostgreSQL**: ``pg_try_advisory_lock(LOCK_KEY)`` on a dedicated connection kept for as long
  as the process lives. PostgreSQL releases the lock when that connection ends, including when
  the process is killed, and another process takes over at its next tick. If the connection
  breaks, the lease is dropped and asked for again.
- **SQLite**: an exclusive ``flock`` on ``<database file>.scheduler.lock``. SQLite means one
  machine (it is the embedded, single-process default), where the kernel releases the lock when
  the process dies. An in-memory database has a single process by definition.

Submitting is idempotent besides: the sittings are locked (``FOR UPDATE SKIP LOCKED``) and
their state re-read before the transition, so even two schedulers could not submit one sitting
twice or overwrite a candidate's own submit.

Started from ``create_app`` only when ``DELIVERY_SCHEDULER`` is true, which the server entry
(``wsgi.py``) makes the default; never as an import side effect, never in tests unless asked.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Connection

from ..extensions import db, socketio
from ..proctoring.pushes import Push, seat_push
from . import services
from .models import Sitting
from .sockets import push_state, push_time_up

LOCK_KEY = 0x65786D73  # "exms": this app's advisory lock number
EXTENSION = "delivery_scheduler"
log = logging.getLogger(__name__)


class Lease:
    """The leader lease of one app (one process); ``held()`` asks for it if not yet held."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.conn: Connection | None = None
        self.file: IO[str] | None = None
        self.url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])

    def held(self) -> bool:
        if self.url.get_backend_name() == "postgresql":
            return self._postgres()
        return self._sqlite()

    def _postgres(self) -> bool:
        if self.conn is not None:
            try:  # still ours while the connection lives
                self.conn.execute(sa.text("SELECT 1"))
                return True
            except sa.exc.DBAPIError:
                log.warning("scheduler: lease connection lost; asking for the lease again")
                self._close_connection()
        conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})
            if got.scalar():
                self.conn = conn
                log.info("scheduler: this process (pid %s) is the leader", os.getpid())
                return True
        except sa.exc.DBAPIError:
            log.warning("scheduler: could not ask for the lease", exc_info=True)
        conn.close()
        return False

    def _sqlite(self) -> bool:
        if self.file is not None:
            return True
        database = self.url.database
        if not database or database == ":memory:":
            return True  # one process by definition
        path = Path(database).with_name(Path(database).name + ".scheduler.lock")
        file = path.open("a")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.close()
            return False
        self.file = file
        log.info("scheduler: this process (pid %s) is the leader", os.getpid())
        return True

    def _close_connection(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self.conn.close()
            self.conn = None

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self.conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            self._close_connection()
        if self.file is not None:
            self.file.close()  # closing the file releases the flock
            self.file = None


def lease_of(app: Flask) -> Lease:
    lease = app.extensions.get(EXTENSION)
    if lease is None:
        lease = app.extensions[EXTENSION] = Lease(app)
    return lease


def release(app: Flask) -> None:
    """Give the lease up (tests, shutdown); another process takes over at its next tick."""
    lease = app.extensions.get(EXTENSION)
    if lease is not None:
        with app.app_context():
            lease.release()


def run_once(app: Flask, now: datetime | None = None) -> list[int]:
    """One round: if this process holds the lease, submit every overdue sitting, commit, push.

    Returns the ids of the sittings submitted (empty when another process is the leader).
    """
    with app.app_context():
        try:
            if not lease_of(app).held():
                return []
            now = now or datetime.now(UTC)
            done = services.submit_overdue(now)
            services.commit()
            pushes = [_pushes(sitting_id, now) for sitting_id in done]
        except Exception:
            services.rollback()
            raise
        finally:
            db.session.remove()
    for reg_id, part_kind, part, seat in pushes:
        try:
            push_time_up(reg_id, part_kind)
            push_state(reg_id, part)
            seat()  # the board shows the part submitted
        except Exception:  # the submission is stored; the browser also learns it on hello
            log.exception("scheduler: push to reg-%s failed", reg_id)
    if done:
        log.info("scheduler: auto-submitted %d sitting(s): %s", len(done), done)
    return done


def _pushes(sitting_id: int, now: datetime) -> tuple[int, str, dict[str, Any], Push]:
    """Who to tell: the registration, the part and its state, and the board's seat."""
    sitting = db.session.get(Sitting, sitting_id)
    assert sitting is not None
    reg = sitting.registration
    return reg.id, sitting.part_kind, services.part_state(sitting, now), seat_push(reg)


def _loop(app: Flask, interval: float) -> None:
    log.info("scheduler: started in pid %s, every %.1f s", os.getpid(), interval)
    while True:
        try:
            run_once(app)
        except Exception:  # never let one bad round stop the deadlines
            log.exception("scheduler: round failed; trying again")
        socketio.sleep(interval)


def start(app: Flask) -> None:
    """Run the loop in the server's own concurrency (an eventlet green thread under gunicorn)."""
    socketio.start_background_task(_loop, app, float(app.config["DELIVERY_SCHEDULER_INTERVAL"]))
