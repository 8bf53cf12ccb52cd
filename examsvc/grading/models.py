"""Grading tables: per-plan settings, senior raters, scripts and their markings, part scores and
results, key corrections, appeals and the append-only grading audit log.

Raters reach a script (one candidate's answer to one practical item) only by its marking number;
the link to the registration is kept here and shown to organization staff only. Markings and the
audit log are append-only: the ORM refuses to change or delete a row once written.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User, utcnow
from ..bank.models import ItemVersion
from ..extensions import append_only, db
from ..plans.models import ExamPlan
from ..registration.models import Registration


class GradingSettings(db.Model):  # type: ignore[name-defined,misc]
    """How one plan is graded; made with the defaults (and the scheme's multiple-choice policy)
    the first time grading needs it, and released with its results."""

    __tablename__ = "grading_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("exam_plan.id", ondelete="CASCADE"), unique=True
    )
    mc_policy: Mapped[str] = mapped_column(String(20), default="all_or_nothing")
    mc_partial_ratio: Mapped[Decimal] = mapped_column(Numeric(4, 3), default=Decimal("0.5"))
    threshold_ratio: Mapped[Decimal] = mapped_column(Numeric(4, 3), default=Decimal("0.15"))
    arbitrated_rule: Mapped[str] = mapped_column(String(20), default="arbiter")
    rubric_step: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("0.5"))
    retake_months: Mapped[int] = mapped_column(default=12)
    appeal_days: Mapped[int] = mapped_column(default=7)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    plan: Mapped[ExamPlan] = relationship()


class SeniorRater(db.Model):  # type: ignore[name-defined,misc]
    """A rater of the plan who arbitrates (高级考评员, 第三评)."""

    __tablename__ = "grading_senior_rater"
    __table_args__ = (UniqueConstraint("plan_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    user: Mapped[User] = relationship()


class KeyCorrection(db.Model):  # type: ignore[name-defined,misc]
    """A corrected key of an objective item for one plan; bank versions never change."""

    __tablename__ = "grading_key_correction"
    __table_args__ = (UniqueConstraint("plan_id", "item_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id", ondelete="CASCADE"))
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"))
    answer: Mapped[str] = mapped_column(String(20))
    corrected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class Script(db.Model):  # type: ignore[name-defined,misc]
    """One candidate's answer to one practical item, known to raters by its marking number."""

    __tablename__ = "grading_script"
    __table_args__ = (
        UniqueConstraint("plan_id", "marking_number"),
        UniqueConstraint("registration_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]  # the item's position in the candidate's paper
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    marking_number: Mapped[str] = mapped_column(String(11))
    blank: Mapped[bool] = mapped_column(default=False)  # unanswered: 0, marked by nobody
    first_rater_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    second_rater_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Needs a third, senior rater: the two differ by more than the threshold, or staff sent it.
    arbitration: Mapped[bool] = mapped_column(default=False)
    arbiter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    final: Mapped[Decimal | None] = mapped_column(Numeric(8, 3))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    registration: Mapped[Registration] = relationship()
    version: Mapped[ItemVersion] = relationship()
    markings: Mapped[list[Marking]] = relationship(
        back_populates="script", order_by="Marking.id", cascade="all, delete-orphan"
    )


class Marking(db.Model):  # type: ignore[name-defined,misc]
    """One rater's scores and comments on a script, per rubric criterion; never changed."""

    __tablename__ = "grading_marking"
    __table_args__ = (UniqueConstraint("script_id", "rater_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("grading_script.id", ondelete="CASCADE"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    role: Mapped[str] = mapped_column(String(10))  # first | second | arbiter
    scores: Mapped[list[str]] = mapped_column(JSON)  # per criterion, decimals as text
    comments: Mapped[list[str]] = mapped_column(JSON)
    total: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    script: Mapped[Script] = relationship(back_populates="markings")
    rater: Mapped[User] = relationship()


class PartScore(db.Model):  # type: ignore[name-defined,misc]
    """One part of one registration's result: state, score of record on 100, and its source."""

    __tablename__ = "grading_part_score"
    __table_args__ = (UniqueConstraint("registration_id", "part_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    part_kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # pending | scored | absent | voided
    score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))  # of record, on 100
    raw: Mapped[Decimal | None] = mapped_column(Numeric(8, 3))  # points earned
    paper_points: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    pass_line: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal(60))  # on 100
    items: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # position → points
    reason: Mapped[str] = mapped_column(Text, default="")  # why voided
    taken_on: Mapped[date] = mapped_column(Date)
    carried: Mapped[bool] = mapped_column(default=False)  # kept from an earlier plan (补考)
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("grading_part_score.id"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    registration: Mapped[Registration] = relationship()


class Result(db.Model):  # type: ignore[name-defined,misc]
    """A registration's overall result (总评) and when it was released to the candidate."""

    __tablename__ = "grading_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20))  # pending | passed | failed | absent | voided
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    registration: Mapped[Registration] = relationship()


class Appeal(db.Model):  # type: ignore[name-defined,misc]
    """A candidate's request for review of one part (成绩复核), its review and outcome."""

    __tablename__ = "grading_appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True
    )
    part_kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open | reviewing | closed
    outcome: Mapped[str] = mapped_column(String(20), default="")  # upheld | changed
    note: Mapped[str] = mapped_column(Text, default="")  # the reply to the candidate
    old_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    new_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    registration: Mapped[Registration] = relationship()
    decided_by: Mapped[User | None] = relationship()


class GradingEvent(db.Model):  # type: ignore[name-defined,misc]
    """The grading audit log: scoring runs, regrades, releases, appeals and every score change
    after release, with who and why. Append-only."""

    __tablename__ = "grading_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the system
    action: Mapped[str] = mapped_column(String(30))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE")
    )
    script_id: Mapped[int | None] = mapped_column(
        ForeignKey("grading_script.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
    registration: Mapped[Registration | None] = relationship()


append_only(Marking, "评分记录 #{id} 提交后不能修改或删除：请申请仲裁")
append_only(GradingEvent, "成绩记录 #{id} 只能追加，不能修改或删除")
