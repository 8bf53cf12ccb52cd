"""Bank tables: banks, items, immutable-once-used versions, attachments and the review trail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User, utcnow
from ..catalog.models import CertificateLevel, Organization
from ..extensions import db


class QuestionBank(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "question_bank"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    level_id: Mapped[int] = mapped_column(ForeignKey("certificate_level.id"))
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    organization: Mapped[Organization] = relationship()
    level: Mapped[CertificateLevel] = relationship()
    items: Mapped[list[Item]] = relationship(back_populates="bank", order_by="Item.id")


class Item(db.Model):  # type: ignore[name-defined,misc]
    """An item's identity; its content lives in versions."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("bank_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_bank.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    bank: Mapped[QuestionBank] = relationship(back_populates="items")
    author: Mapped[User | None] = relationship()
    versions: Mapped[list[ItemVersion]] = relationship(
        back_populates="item", order_by="ItemVersion.number", cascade="all, delete-orphan"
    )
    events: Mapped[list[ItemEvent]] = relationship(
        back_populates="item", order_by="ItemEvent.id", cascade="all, delete-orphan"
    )

    @property
    def latest(self) -> ItemVersion:
        return self.versions[-1]

    @property
    def approved(self) -> ItemVersion | None:
        """The version papers may use now: the newest approved one."""
        ok = [v for v in self.versions if v.status == "approved"]
        return ok[-1] if ok else None


class ItemVersion(db.Model):  # type: ignore[name-defined,misc]
    """The content of an item at one point; once approved or used by a paper it never changes."""

    __tablename__ = "item_version"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    number: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(String(20), default="")
    explanation: Mapped[str] = mapped_column(Text, default="")
    difficulty: Mapped[int]
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    points: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    practical: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # title, kind, form, rubric
    used_count: Mapped[int] = mapped_column(default=0)  # papers referencing this version
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    item: Mapped[Item] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="version", order_by="Attachment.name", cascade="all, delete-orphan"
    )

    @property
    def frozen(self) -> bool:
        """Approved, retired or used versions are history: edits make a new version."""
        return self.status in ("approved", "retired", "superseded") or self.used_count > 0


class Attachment(db.Model):  # type: ignore[name-defined,misc]
    """A material, starter file or image of a version, kept in the database with its version."""

    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("version_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # material | image
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    version: Mapped[ItemVersion] = relationship(back_populates="attachments")


class ItemEvent(db.Model):  # type: ignore[name-defined,misc]
    """Append-only trail of what happened to an item: created, edited, submitted, approved …"""

    __tablename__ = "item_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    version_number: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    item: Mapped[Item] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
