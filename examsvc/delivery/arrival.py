"""A candidate's arrival at the exam, in Core statements: check-in in the waiting room, then
the start of a part.

Every candidate of a hall does both within the same minute, so they take the Core way as the
answer does (``autosave.py``): the sittings come from the one read of ``signed.py``, the state
machine (``lifecycle.py``) and the start's checks (``services.check_start``) judge, and each
moved sitting is one guarded update, the events one insert. An update finds its row only in the
state it was read in: a second tab, or the invigilator, that moved it meanwhile makes this
request fail with ``bad_state`` instead of writing over what they did.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, update

from ..extensions import db
from .models import Sitting, stored_deadline
from .services import (
    DeliveryError,
    Event,
    _entering,
    _record,
    _step,
    check_start,
    made,
    part_of,
)
from .signed import SignedIn, SittingRow

_SITTING = Sitting.__table__
# One sitting moved on, only from the state it was read in, its deadline stored with the state
# as the ORM's ``before_update`` hook stores it (models.stored_deadline).
MOVE = (
    update(_SITTING)
    .where(_SITTING.c.id == bindparam("b_id"), _SITTING.c.state == bindparam("b_from"))
    .values(
        state=bindparam("b_to"),
        started_at=bindparam("b_started", type_=_SITTING.c.started_at.type),
        deadline_at=bindparam("b_deadline", type_=_SITTING.c.deadline_at.type),
    )
)


def enter(reg: SignedIn) -> tuple[list[SittingRow], bool]:
    """The candidate reaches the waiting room: each part is checked in and admitted. The
    sittings in session order, and whether any moved."""
    sittings = made(reg)
    before = [s.state for s in sittings]
    events = [event for sitting in sittings for event in _entering(sitting)]
    _store(sittings, before, events)
    return sittings, bool(events)


def start(reg: SignedIn, part: str, now: datetime) -> SittingRow:
    """The candidate starts ``part``: as ``services.start`` does for a candidate's own start,
    with the room's start control from the read."""
    sittings = made(reg)
    sitting: SittingRow = part_of(sittings, part)
    held = reg.needs_authorization
    check_start(reg.plan.sessions, sittings, sitting, now, held, reg.authorized)
    before = sitting.state
    events = [*_entering(sitting), _step(sitting, "start", "candidate")]
    sitting.started_at = now
    _store([sitting], [before], events)
    return sitting


def _store(sittings: list[SittingRow], before: list[str], events: list[Event]) -> None:
    conn = db.session.connection()
    for sitting, state in zip(sittings, before, strict=True):
        if sitting.state == state:
            continue
        moved = conn.execute(
            MOVE,
            {
                "b_id": sitting.id,
                "b_from": state,
                "b_to": sitting.state,
                "b_started": sitting.started_at,
                "b_deadline": stored_deadline(sitting),
            },
        )
        if moved.rowcount != 1:
            raise DeliveryError("bad_state", "考试状态刚刚发生了变化：请刷新页面后重试", 409)
    _record(*events)
