"""Invigilation tables: the append-only audit log of invigilator actions, socket connections
(presence from real heartbeats). Per-room exam control lives with delivery (RoomControl),
which reads it at every sign-in and start.

The audit log is append-only by construction: the ORM refuses to update or delete a row, so a
record that stands up later cannot be edited after the fact through the application.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User, utcnow
from ..extensions import append_only, db


class ProctorAction(db.Model):  # type: ignore[name-defined,misc]
    """One invigilator action on a room or on some candidates, with its reason."""

    __tablename__ = "proctor_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("exam_room.id"))
    actor_kind: Mapped[str] = mapped_column(String(20), default="invigilator")  # or system
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(30))
    part_kind: Mapped[str] = mapped_column(String(20), default="")
    scope: Mapped[str] = mapped_column(String(20))  # room | candidates
    # The registrations the action reached, and those it skipped with the reason why.
    applied: Mapped[list[int]] = mapped_column(JSON, default=list)
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reason_category: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str] = mapped_column(String(30))
    reason_text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # minutes, message, …

    actor: Mapped[User | None] = relationship()


append_only(ProctorAction, "监考记录 #{id} 只能追加，不能修改或删除")


class Connection(db.Model):  # type: ignore[name-defined,misc]
    """One live socket of a candidate's browser: opened, last heartbeat, closed."""

    __tablename__ = "candidate_connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    sid: Mapped[str] = mapped_column(String(64), index=True)  # each heartbeat finds its row
    ip: Mapped[str] = mapped_column(String(64), default="")
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
