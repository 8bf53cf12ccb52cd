"""The plan a candidate sits, kept by the process for a moment between candidate requests.

Every candidate request reads its registration's plan, the plan's sessions, its certificate
level and certificate, and its room: the same rows for every candidate of the plan, loaded as
ORM objects again in each request (up to five statements with their loading, a fifth of the
storm's database work). At the start of an exam that is 2,000 candidates asking for the same
few rows. A process keeps one copy of them per plan, loaded again when it is older than
``KEEP_SECONDS``, and puts it into the request's session with ``Session.merge(load=False)``,
SQLAlchemy's way of bringing cached objects into a session without SQL: ``reg.plan``,
``reg.plan.sessions``, ``reg.plan.level.certificate`` and ``reg.room`` then read no rows.

What that costs: a change made by another process (an administrator closing the plan, moving a
session) reaches candidate requests up to ``KEEP_SECONDS`` late. A change this process flushes
drops every copy at once, and so does the rollback of a transaction that flushed one. Only the
candidate requests bring the copy in, and they never write these rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..catalog.models import Certificate, CertificateLevel
from ..extensions import db
from ..kept import keep, per_app
from ..plans.models import ExamPlan, PlanRoom, PlanSession
from ..sites.models import Room

KEEP_SECONDS = 1.0
KEPT = "examsvc.delivery.kept_plans"
KEPT_PLANS = 64  # plans sat at once in one process: a site's whole exam day, many times over
# A flush of any of these drops the copies: they are what a copy holds.
HELD = (ExamPlan, PlanSession, PlanRoom, CertificateLevel, Certificate, Room)
_TOUCHED = "examsvc.delivery.kept_plan_touched"
_HELD_BY_SESSION = "examsvc.delivery.kept_plan_objects"


@dataclass(frozen=True)
class Copy:
    """A plan with its sessions, level and certificate, and its rooms: detached, read-only."""

    plan: ExamPlan
    rooms: dict[int, Room]
    loaded: float
    generation: int


class _Generation:
    """Bumped by every flush of a held row: a copy made before is dropped."""

    value = 0


def bring(plan_id: int, room_id: int | None) -> None:
    """Put the plan (its sessions, level and certificate) and the room into the request's
    session from the process's copy, loading the copy first when it is missing or old."""
    found = copy(plan_id)
    if found is None:
        return
    # The session holds clean objects weakly: unreferenced, the merged copy would leave its
    # identity map at once and ``reg.plan`` would be read again.
    held = db.session.info.setdefault(_HELD_BY_SESSION, [])
    held.append(db.session.merge(found.plan, load=False))
    room = found.rooms.get(room_id) if room_id is not None else None
    if room is not None:
        held.append(db.session.merge(room, load=False))


def copy(plan_id: int) -> Copy | None:
    """The process's copy of the plan, loaded first when it is missing or old; None if there
    is no such plan. Its objects are detached: read them, never change or add them."""
    kept = per_app(KEPT)
    found: Copy | None = kept.get(plan_id)
    now = time.monotonic()
    if found is None or found.generation != _Generation.value or now - found.loaded > KEEP_SECONDS:
        found = _load(plan_id, now)
        if found is None:
            return None
        keep(kept, plan_id, found, KEPT_PLANS)
    return found


def _load(plan_id: int, now: float) -> Copy | None:
    # A session of its own on the request's connection: it sees what the request's transaction
    # sees, and closing it leaves the objects detached with everything loaded, as merge needs.
    generation = _Generation.value
    with Session(bind=db.session.connection()) as side:
        plan = side.scalar(
            select(ExamPlan)
            .where(ExamPlan.id == plan_id)
            .options(
                selectinload(ExamPlan.sessions),
                joinedload(ExamPlan.level).joinedload(CertificateLevel.certificate),
            )
        )
        if plan is None:
            return None
        rooms = side.scalars(
            select(Room)
            .join(PlanRoom, PlanRoom.room_id == Room.id)
            .where(PlanRoom.plan_id == plan_id)
            .options(joinedload(Room.site))
        ).all()
    return Copy(plan, {room.id: room for room in rooms}, now, generation)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, context: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, HELD) for obj in changed):
        session.info[_TOUCHED] = True
        _Generation.value += 1


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _ended(session: Session) -> None:
    # A copy loaded inside the transaction that changed the rows would keep the change even if
    # it is rolled back; one loaded after the commit is right, but so cheap to redo.
    if session.info.pop(_TOUCHED, False):
        _Generation.value += 1
