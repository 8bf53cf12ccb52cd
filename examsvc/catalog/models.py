"""Catalog tables: organizations, certificates, levels, standards and exam schemes."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Organization(db.Model):  # type: ignore[name-defined,misc]
    """An evaluation organization (培训评价组织) or a pilot institution (试点院校)."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="evaluation")  # evaluation | institution


class Certificate(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))

    organization: Mapped[Organization] = relationship()
    levels: Mapped[list[CertificateLevel]] = relationship(
        back_populates="certificate", order_by="CertificateLevel.rank"
    )


class CertificateLevel(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "certificate_level"
    __table_args__ = (UniqueConstraint("certificate_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"))
    level: Mapped[str] = mapped_column(String(20))  # junior | intermediate | senior
    rank: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(20))  # 初级 | 中级 | 高级

    certificate: Mapped[Certificate] = relationship(back_populates="levels")
    standard: Mapped[SkillStandard | None] = relationship(back_populates="level_ref")
    scheme: Mapped[ExamScheme | None] = relationship(back_populates="level_ref")

    @property
    def title(self) -> str:
        return f"{self.certificate.name}（{self.name}）"


class SkillStandard(db.Model):  # type: ignore[name-defined,misc]
    """The skill standard of one level; its tree is kept as the nodes below."""

    __tablename__ = "skill_standard"

    id: Mapped[int] = mapped_column(primary_key=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("certificate_level.id"), unique=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[str] = mapped_column(Text)  # the YAML it was loaded from, re-parsed on use

    level_ref: Mapped[CertificateLevel] = relationship(back_populates="standard")
    nodes: Mapped[list[StandardNode]] = relationship(
        back_populates="standard", order_by="StandardNode.position", cascade="all, delete-orphan"
    )


class StandardNode(db.Model):  # type: ignore[name-defined,misc]
    """One node of a standard tree: work field, task, skill or requirement."""

    __tablename__ = "standard_node"
    __table_args__ = (UniqueConstraint("standard_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("skill_standard.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # field | task | skill | requirement | knowledge
    code: Mapped[str] = mapped_column(String(40))  # fields get F1, F2 … in file order
    text: Mapped[str] = mapped_column(Text)
    depth: Mapped[int]

    standard: Mapped[SkillStandard] = relationship(back_populates="nodes")


class ExamScheme(db.Model):  # type: ignore[name-defined,misc]
    """The exam scheme (考核方案) of one certificate level."""

    __tablename__ = "exam_scheme"

    id: Mapped[int] = mapped_column(primary_key=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("certificate_level.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    mc_policy: Mapped[str] = mapped_column(String(20), default="all_or_nothing")
    mc_partial_ratio: Mapped[Decimal] = mapped_column(Numeric(4, 3), default=Decimal("0.5"))
    notes: Mapped[str] = mapped_column(Text, default="")

    level_ref: Mapped[CertificateLevel] = relationship(back_populates="scheme")
    parts: Mapped[list[SchemePart]] = relationship(
        back_populates="scheme", order_by="SchemePart.position", cascade="all, delete-orphan"
    )


class SchemePart(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "scheme_part"

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("exam_scheme.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # theory | practical
    name: Mapped[str] = mapped_column(String(100))
    duration_minutes: Mapped[int]
    total_points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    pass_line: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(60))
    exam_form: Mapped[str] = mapped_column(String(30))

    scheme: Mapped[ExamScheme] = relationship(back_populates="parts")
    sections: Mapped[list[SchemeSection]] = relationship(
        back_populates="part", order_by="SchemeSection.position", cascade="all, delete-orphan"
    )


class SchemeSection(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "scheme_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("scheme_part.id", ondelete="CASCADE"))
    position: Mapped[int]
    item_type: Mapped[str] = mapped_column(String(20))
    count_min: Mapped[int]
    count_max: Mapped[int]
    points_each: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))

    part: Mapped[SchemePart] = relationship(back_populates="sections")
