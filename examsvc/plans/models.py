"""Plan tables: exam plans (考核计划), their sessions, rooms and staff."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from sqlalchemy import JSON, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..assembly.models import Blueprint, PaperSet
from ..auth.models import User, utcnow
from ..catalog.models import CertificateLevel, Organization
from ..extensions import db
from ..sites.models import Room

if TYPE_CHECKING:
    from ..registration.models import Registration

PLAN_STATES = ("draft", "published", "in_progress", "closed")
# Session times are the sites' wall-clock time; China keeps one zone and no daylight saving.
SITE_TZ = timezone(timedelta(hours=8), "UTC+8")
STAFF_ROLES = ("invigilator", "rater")


class ExamPlan(db.Model):  # type: ignore[name-defined,misc]
    """One exam batch of a certificate level; draft → published → in progress → closed."""

    __tablename__ = "exam_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    level_id: Mapped[int] = mapped_column(ForeignKey("certificate_level.id"))
    batch: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    # 元 per part kind as strings ({"theory": "150", "practical": "230"}), checked against caps.
    fees: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    blueprint_id: Mapped[int | None] = mapped_column(ForeignKey("blueprint.id"))
    paper_set_id: Mapped[int | None] = mapped_column(ForeignKey("paper_set.id"))
    # Give back time lost in site-wide outages (a room mostly offline at once) automatically.
    credit_outages: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organization: Mapped[Organization] = relationship()
    level: Mapped[CertificateLevel] = relationship()
    blueprint: Mapped[Blueprint | None] = relationship()
    paper_set: Mapped[PaperSet | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    sessions: Mapped[list[PlanSession]] = relationship(
        back_populates="plan", order_by="PlanSession.starts_at", cascade="all, delete-orphan"
    )
    rooms: Mapped[list[PlanRoom]] = relationship(
        back_populates="plan", order_by="PlanRoom.id", cascade="all, delete-orphan"
    )
    staff: Mapped[list[StaffAssignment]] = relationship(
        back_populates="plan", order_by="StaffAssignment.id", cascade="all, delete-orphan"
    )
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="plan", order_by="Registration.id", cascade="all, delete-orphan"
    )

    @property
    def title(self) -> str:
        return f"{self.level.title} · {self.batch}"


class PlanSession(db.Model):  # type: ignore[name-defined,misc]
    """The sitting of one exam part; its duration is copied from the scheme when planned."""

    __tablename__ = "plan_session"
    __table_args__ = (UniqueConstraint("plan_id", "part_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id", ondelete="CASCADE"))
    part_kind: Mapped[str] = mapped_column(String(20))  # theory | practical
    part_name: Mapped[str] = mapped_column(String(100))
    # Local wall-clock time of the site: every site of a plan is in China (UTC+8).
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int]

    plan: Mapped[ExamPlan] = relationship(back_populates="sessions")

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def opens_at(self) -> datetime:
        """The start as an aware instant, to compare with the server clock."""
        return self.starts_at.replace(tzinfo=SITE_TZ)


class PlanRoom(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "plan_room"
    __table_args__ = (UniqueConstraint("plan_id", "room_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id", ondelete="CASCADE"))
    room_id: Mapped[int] = mapped_column(ForeignKey("exam_room.id"))

    plan: Mapped[ExamPlan] = relationship(back_populates="rooms")
    room: Mapped[Room] = relationship()


class StaffAssignment(db.Model):  # type: ignore[name-defined,misc]
    """An invigilator of one room or a rater of the whole plan (room_id empty)."""

    __tablename__ = "plan_staff"
    __table_args__ = (UniqueConstraint("plan_id", "user_id", "role", "room_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    role: Mapped[str] = mapped_column(String(20))  # invigilator | rater
    room_id: Mapped[int | None] = mapped_column(ForeignKey("exam_room.id"))

    plan: Mapped[ExamPlan] = relationship(back_populates="staff")
    user: Mapped[User] = relationship()
    room: Mapped[Room | None] = relationship()
