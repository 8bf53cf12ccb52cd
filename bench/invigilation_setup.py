"""The invigilation benchmark's exam: bench.delivery's database (``delivery_setup.build``: one
site, rooms of 38 seats, N candidates in a published plan) plus one invigilator per room, each a
staff user assigned to the room (``StaffAssignment(role="invigilator")``), as 计划 → 人员 does.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from examsvc.auth.roles import Role
from examsvc.auth.services import create_user
from examsvc.extensions import db
from examsvc.plans.models import StaffAssignment
from examsvc.registration.models import Registration

from .delivery_setup import Seat, build, make_app

PASSWORD = "bench-invigilator-password"


@dataclass(frozen=True)
class Watch:
    """A board: the invigilator who signs in and the room the board watches."""

    username: str
    plan_id: int
    room_id: int
    candidates: int


def build_with_invigilators(path: Path, count: int) -> tuple[list[Seat], list[Watch], dict]:
    """The delivery database at ``path`` with an invigilator for every room that has
    candidates; the seats, the boards and each registration's ``(plan_id, room_id)``."""

    seats = build(path, count)
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        rows = db.session.execute(
            select(Registration.id, Registration.plan_id, Registration.room_id)
        ).all()
        where = {reg_id: (plan_id, room_id) for reg_id, plan_id, room_id in rows}
        per_room = Counter(where.values())
        org_id = db.session.get(Registration, rows[0][0]).plan.organization_id
        watches = []
        for k, ((plan_id, room_id), n) in enumerate(sorted(per_room.items()), start=1):
            username = f"inv{k:03d}"
            user = create_user(username, PASSWORD, f"监考员 {k}", {Role.INVIGILATOR}, org_id)
            db.session.add(
                StaffAssignment(
                    plan_id=plan_id, user_id=user.id, role="invigilator", room_id=room_id
                )
            )
            watches.append(Watch(username, plan_id, room_id, n))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    with sqlite3.connect(path) as conn:  # one file to copy: the WAL folded in
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return seats, watches, where
