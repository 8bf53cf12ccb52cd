"""What the boards hear: seats, progress, anomalies and actions, emitted to the room's board
channel in namespace ``/invigilation`` (through the message queue when several processes serve).

A seat is marked after the change's commit and read and emitted by the seat feed
(``seat_feed``), with the other seats marked at the same moment: a board never shows what was
not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..extensions import socketio

NAMESPACE = "/invigilation"
Push = Callable[[], None]


class Seated(Protocol):
    """Where a registration sits: a Registration, or the few columns the answer path reads."""

    @property
    def id(self) -> int: ...
    @property
    def plan_id(self) -> int: ...
    @property
    def room_id(self) -> int | None: ...


@dataclass(frozen=True)
class Seat:
    """Where a registration sits, read as three columns (an answer, a disconnect)."""

    id: int
    plan_id: int
    room_id: int | None


def board_room(plan_id: int, room_id: int) -> str:
    return f"board-{plan_id}-{room_id}"


def emit(event: str, data: dict[str, Any], plan_id: int, room_id: int | None) -> None:
    if room_id is not None:
        socketio.emit(event, data, to=board_room(plan_id, room_id), namespace=NAMESPACE)


def seat_push(reg: Seated) -> Push:
    """The candidate's seat changed: once committed, the feed reads and emits it."""
    from .seat_feed import seat_feed

    reg_id, plan_id, room_id = reg.id, reg.plan_id, reg.room_id
    if room_id is None:
        return lambda: None
    feed = seat_feed()  # the change's app: the push may run where no app context is
    return lambda: feed.mark(reg_id, plan_id, room_id)


def progress_push(reg: Seated, part: str, answered: int) -> Push:
    """An answer was stored: only the count changes, so no seat is computed (every ack)."""
    data = {"registration_id": reg.id, "part": part, "answered": answered}
    plan_id, room_id = reg.plan_id, reg.room_id
    return lambda: emit("progress", data, plan_id, room_id)
