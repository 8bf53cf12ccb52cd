"""Seats for the boards, gathered and read together after the changes are stored.

A candidate's sign-in, check-in, start, connect or submit changes their seat on the room's
board. Reading a seat takes the database several queries, and at the start of an exam a room's
candidates all change at once: read one by one in each change's own request, seats were a third
of the server's work in the start storm (bench/README.md). So a change only marks its seat,
after its commit, and a background task reads the marked seats of each room together (one query
per kind of fact, ``services.seats``) and emits them. On an idle server a board hears about
20 ms after the change; under load the marks of everything served meanwhile wait for the next
round, and a round reads many seats for the price of a few.

One feed per app, i.e. per process; with several processes each emits through the message
queue. A seat is read after the commit of the change that marked it, so a board never shows what
was not stored, and it shows the newest state when several changes came between two rounds.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from flask import Flask, current_app
from sqlalchemy import select

from ..extensions import db, socketio
from ..registration.models import Registration
from ..sites.models import Room

FEED = "examsvc.seat_feed"
GATHER_SECONDS = 0.02  # let the changes of one moment (a room's start) meet in one round
log = logging.getLogger(__name__)


class SeatFeed:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.marked: dict[tuple[int, int], set[int]] = {}  # (plan, room) → registrations
        self.running = False

    def mark(self, reg_id: int, plan_id: int, room_id: int) -> None:
        with self.lock:
            self.marked.setdefault((plan_id, room_id), set()).add(reg_id)
            if self.running:
                return
            self.running = True
        try:
            socketio.start_background_task(self._rounds)
        except BaseException:
            self.running = False  # the next mark tries again
            raise

    def _rounds(self) -> None:
        try:
            while True:
                socketio.sleep(GATHER_SECONDS)
                with self.lock:
                    batch, self.marked = self.marked, {}
                    if not batch:
                        # under the lock: a mark from now on starts a new task
                        self.running = False
                        return
                self.emit(batch)
        except BaseException:  # emit logs its own failures; this is the task itself failing
            with self.lock:
                self.running = False
            raise

    def emit(self, batch: dict[tuple[int, int], set[int]]) -> None:
        """Read and emit the seats of ``batch``; reads only (a failure loses no change)."""
        from ..delivery import kept_plan
        from .pushes import emit
        from .services import seats

        with self.app.app_context():
            try:
                now = datetime.now(UTC)
                for (plan_id, room_id), ids in batch.items():
                    # The plan (its sessions: each seat's parts) and the room from the copy
                    # the process keeps, as candidate requests take them: no rows read.
                    kept_plan.bring(plan_id, room_id)
                    room = db.session.get(Room, room_id)
                    regs = list(
                        db.session.scalars(
                            select(Registration)
                            .where(Registration.id.in_(ids), Registration.room_id == room_id)
                            .order_by(Registration.id)
                        )
                    )
                    if room is None or not regs:
                        continue
                    for seat in seats(regs, room, now):
                        emit("seat", seat, plan_id, room_id)
            except Exception:
                log.exception("board seats not pushed")
            finally:
                # Reading a seat may make a sitting not yet made; that is the candidate's
                # requests' to store, not the board's.
                db.session.rollback()
                db.session.remove()


def seat_feed() -> SeatFeed:
    """The current app's feed."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    feed: SeatFeed | None = app.extensions.get(FEED)
    if feed is None:
        feed = app.extensions[FEED] = SeatFeed(app)
    return feed
