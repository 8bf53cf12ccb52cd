"""Delivery tables: sittings (one exam part of one candidate), their event log, answers and
candidate sign-ins. Everything the clock and the answers depend on is here, never only in
memory, so a restarted server resumes every sitting where it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from ..auth.models import User, utcnow
from ..extensions import db
from ..registration.models import Registration
from .clock import DEFAULT_GRACE, Clock


class Sitting(db.Model):  # type: ignore[name-defined,misc]
    """One part (theory or practical) of one registration, with its clock."""

    __tablename__ = "sitting"
    __table_args__ = (
        UniqueConstraint("registration_id", "part_kind"),
        Index("ix_sitting_state_deadline_at", "state", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    part_kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="registered")
    duration_minutes: Mapped[int]  # from the plan's session, copied when the sitting is made
    extra_ratio: Mapped[Decimal] = mapped_column(Numeric(3, 2), default=Decimal(0))
    # Seconds granted by invigilators, one entry per grant (the reasons are in the events).
    extensions: Mapped[list[int]] = mapped_column(JSON, default=list)
    # [start, end or null] in ISO 8601 UTC: paused time is credited back to the candidate.
    pauses: Mapped[list[list[str | None]]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seq: Mapped[int] = mapped_column(default=0)  # the highest change number stored
    # Items with an answer, kept with each write so the invigilators' board needs no count.
    answered: Mapped[int] = mapped_column(default=0)
    # The clock's deadline while the part is in progress (None otherwise), derived from the
    # columns above on every flush: an answer is checked, and the scheduler finds the overdue
    # sittings through an index, without building every running sitting's clock.
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    registration: Mapped[Registration] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="sitting", order_by="Answer.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[SittingEvent]] = relationship(
        back_populates="sitting", order_by="SittingEvent.id", cascade="all, delete-orphan"
    )

    def clock(self, grace: timedelta = DEFAULT_GRACE) -> Clock:
        return sitting_clock(self, grace)


class ClockColumns(Protocol):
    """What a sitting's clock is made of: an ORM ``Sitting`` or a Core ``SittingRow``."""

    duration_minutes: int
    started_at: datetime | None
    extensions: list[int]
    extra_ratio: Decimal
    pauses: list[list[str | None]]


def sitting_clock(sitting: ClockColumns, grace: timedelta = DEFAULT_GRACE) -> Clock:
    """The clock of a sitting from its stored columns."""
    return Clock(
        duration=timedelta(minutes=sitting.duration_minutes),
        started_at=aware(sitting.started_at),
        extensions=tuple(timedelta(seconds=s) for s in sitting.extensions or ()),
        extra_ratio=sitting.extra_ratio if sitting.extra_ratio is not None else Decimal(0),
        pauses=tuple(
            (_parse(start), _parse(end) if end else None) for start, end in sitting.pauses or ()
        ),
        grace=grace,
    )


def aware(moment: datetime | None) -> datetime | None:
    """A stored time as UTC: SQLite gives back naive datetimes of what was stored as UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _parse(text: str | None) -> datetime:
    moment = datetime.fromisoformat(text or "")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@event.listens_for(Sitting, "before_insert")
@event.listens_for(Sitting, "before_update")
def _keep_deadline(_mapper: Mapper[Sitting], _connection: object, sitting: Sitting) -> None:
    # Whatever changed the clock (start, pause, resume, an extension, a test moving the start),
    # the stored deadline follows it in the same statement.
    sitting.deadline_at = stored_deadline(sitting)


def stored_deadline(sitting: Sitting | Any) -> datetime | None:
    """The deadline stored with a sitting (``deadline_at``): its clock's while it is in
    progress, none otherwise. An ORM ``Sitting`` or a Core ``SittingRow``."""
    return sitting.clock().running_deadline() if sitting.state == "in_progress" else None


class SittingEvent(db.Model):  # type: ignore[name-defined,misc]
    """Every transition and anomaly of a sitting, with its time and who caused it."""

    __tablename__ = "sitting_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(
        ForeignKey("sitting.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))  # an event of lifecycle.py or an anomaly
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20), default="")
    actor_kind: Mapped[str] = mapped_column(String(20))  # candidate | invigilator | system
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    sitting: Mapped[Sitting] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Answer(db.Model):  # type: ignore[name-defined,misc]
    """The newest stored answer to one item of a sitting; ``seq`` is the change that wrote it."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("sitting_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id", ondelete="CASCADE"))
    position: Mapped[int]  # the item's position in the candidate's paper
    value: Mapped[Any] = mapped_column(JSON, nullable=True)  # original option keys, bool or text
    flagged: Mapped[bool] = mapped_column(default=False)
    seq: Mapped[int]
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    sitting: Mapped[Sitting] = relationship(back_populates="answers")


class CandidateLogin(db.Model):  # type: ignore[name-defined,misc]
    """A candidate's sign-in on one PC. Only one is live; another waits for the invigilator."""

    __tablename__ = "candidate_login"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(20))  # live | pending | replaced | refused
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    registration: Mapped[Registration] = relationship()


class RoomControl(db.Model):  # type: ignore[name-defined,misc]
    """What the invigilator controls for a room in a plan: the start code and authorizations."""

    __tablename__ = "room_control"
    __table_args__ = (UniqueConstraint("plan_id", "room_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id", ondelete="CASCADE"))
    room_id: Mapped[int] = mapped_column(ForeignKey("exam_room.id"))
    # Six digits written on the board; candidates of the room must type it to sign in.
    start_code: Mapped[str | None] = mapped_column(String(12))
    # Candidates wait for the invigilator's start (开考) instead of the planned time alone.
    needs_authorization: Mapped[bool] = mapped_column(default=False)
    # part kind → ISO time the invigilator authorized the room to start it.
    authorized: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class AnswerFile(db.Model):  # type: ignore[name-defined,misc]
    """A file the candidate uploaded as (part of) a practical answer; the same name replaces."""

    __tablename__ = "answer_file"
    __table_args__ = (UniqueConstraint("sitting_id", "position", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("sitting.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # In the database, so a file is as durable as the answers and acknowledged the same way.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
