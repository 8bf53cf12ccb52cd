"""Assembly tables: blueprints (双向细目表) per exam scheme and frozen sets of generated papers.

A paper set keeps everything needed to regenerate it: the blueprint text as it was, the seed,
the number of papers, the engine version and the item versions that formed the pool, in the
order the engine saw them. Its papers reference item versions, which never change once used.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User, utcnow
from ..bank.models import ItemVersion
from ..catalog.models import ExamScheme
from ..extensions import db


class Blueprint(db.Model):  # type: ignore[name-defined,misc]
    """A blueprint of one exam scheme, kept as the YAML staff edit; parsed on use."""

    __tablename__ = "blueprint"
    __table_args__ = (UniqueConstraint("scheme_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("exam_scheme.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    scheme: Mapped[ExamScheme] = relationship()
    updated_by: Mapped[User | None] = relationship()
    paper_sets: Mapped[list[PaperSet]] = relationship(
        back_populates="blueprint", order_by="PaperSet.id.desc()"
    )


class PaperSet(db.Model):  # type: ignore[name-defined,misc]
    """A frozen batch of papers generated from one blueprint, pool and seed."""

    __tablename__ = "paper_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    blueprint_id: Mapped[int] = mapped_column(ForeignKey("blueprint.id"))
    blueprint_document: Mapped[str] = mapped_column(Text)  # the blueprint as it was used
    seed: Mapped[str] = mapped_column(String(100))
    count: Mapped[int]
    engine_version: Mapped[str] = mapped_column(String(20))
    pool_digest: Mapped[str] = mapped_column(String(64))
    pool: Mapped[list[int]] = mapped_column(JSON)  # item_version ids, in the engine's order
    stats: Mapped[dict[str, Any]] = mapped_column(JSON)  # per-part spread, exposure, duplicates
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    blueprint: Mapped[Blueprint] = relationship(back_populates="paper_sets")
    created_by: Mapped[User | None] = relationship()
    papers: Mapped[list[Paper]] = relationship(
        back_populates="paper_set", order_by="Paper.number", cascade="all, delete-orphan"
    )


class Paper(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "paper"
    __table_args__ = (UniqueConstraint("paper_set_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    paper_set_id: Mapped[int] = mapped_column(ForeignKey("paper_set.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1-based within its set

    paper_set: Mapped[PaperSet] = relationship(back_populates="papers")
    items: Mapped[list[PaperItem]] = relationship(
        back_populates="paper", order_by="PaperItem.position", cascade="all, delete-orphan"
    )


class PaperItem(db.Model):  # type: ignore[name-defined,misc]
    """One item of a paper; ``position`` runs through the whole paper, parts in blueprint order."""

    __tablename__ = "paper_item"
    __table_args__ = (UniqueConstraint("paper_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper.id", ondelete="CASCADE"))
    part_kind: Mapped[str] = mapped_column(String(20))  # theory | practical
    position: Mapped[int]
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_version.id"), index=True)
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    option_order: Mapped[str] = mapped_column(String(8), default="")  # e.g. "CADB"; "" for none

    paper: Mapped[Paper] = relationship(back_populates="items")
    version: Mapped[ItemVersion] = relationship()
