"""Registration tables: candidates (考生), their registrations for a plan, eligibility rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..assembly.models import Paper
from ..auth.models import User, utcnow
from ..extensions import db
from ..plans.models import ExamPlan
from ..sites.models import Room, Site


class Candidate(db.Model):  # type: ignore[name-defined,misc]
    """A person, known by the resident ID number; sits any number of plans."""

    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str] = mapped_column(String(20), default="")
    # A 360×480 JPEG of some 30 kB: read only where it is shown (tickets, the door, the exam
    # page's own request for it), not with every candidate a sign-in, a page or the board reads.
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    has_photo: Mapped[bool] = column_property(photo.column.is_not(None))

    registrations: Mapped[list[Registration]] = relationship(back_populates="candidate")


class Registration(db.Model):  # type: ignore[name-defined,misc]
    """A candidate registered for one plan at one site, with what eligibility and fees saw."""

    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("plan_id", "candidate_id"),
        # A room serves many plans over time: a seat is taken once per plan, not forever.
        UniqueConstraint("plan_id", "room_id", "seat", name="uq_registration_plan_room_seat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("exam_site.id"))
    institution: Mapped[str] = mapped_column(String(200))
    major: Mapped[str] = mapped_column(String(100), default="")
    class_name: Mapped[str] = mapped_column(String(100), default="")
    education: Mapped[str] = mapped_column(String(10), default="")
    certificates: Mapped[str] = mapped_column(String(300), default="")  # 、-separated
    years_in_trade: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal(0))
    trained: Mapped[bool] = mapped_column(default=False)
    graduating: Mapped[bool] = mapped_column(default=False)
    poor_family: Mapped[bool] = mapped_column(default=False)  # 建档立卡: no exam fee
    eligibility_route: Mapped[str] = mapped_column(Text, default="")
    fee: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal(0))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("exam_room.id"))
    seat: Mapped[int | None]
    ticket_number: Mapped[str | None] = mapped_column(String(15), unique=True)
    paper_id: Mapped[int | None] = mapped_column(ForeignKey("paper.id"))
    # The parts to sit; None is every part of the plan. A retake (补考) sits only the part
    # without a valid earlier pass.
    parts: Mapped[list[str] | None] = mapped_column(JSON)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    plan: Mapped[ExamPlan] = relationship(back_populates="registrations")
    candidate: Mapped[Candidate] = relationship(back_populates="registrations")
    site: Mapped[Site] = relationship()
    room: Mapped[Room | None] = relationship()
    paper: Mapped[Paper | None] = relationship()
    registered_by: Mapped[User | None] = relationship()


class EligibilityRules(db.Model):  # type: ignore[name-defined,misc]
    """The eligibility rules (报考条件) of one certificate, kept as the YAML staff edit."""

    __tablename__ = "eligibility_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), unique=True)
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
