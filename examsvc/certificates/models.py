"""Certificate tables: issuer settings, per-level credits and validity, layouts, the counters
that number certificates without gaps, the issued certificates and their append-only audit log.

Keys are not here: they live in the folder ``CERT_KEYS_DIR`` (see ``keystore``). A certificate
row keeps what was signed (the token, its check code, the status-list slot) and a copy of what
was printed (name, certificate, level, issuer), so a later rename in the catalog or the roster
never changes a certificate already issued.
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
from ..catalog.models import Certificate, CertificateLevel, Organization
from ..extensions import append_only, db
from ..plans.models import ExamPlan
from ..registration.models import Registration
from ..sites.models import Site


class IssuerSettings(db.Model):  # type: ignore[name-defined,misc]
    """Positions 1–7 of an organization's certificate numbers: body type, body code, province."""

    __tablename__ = "cert_issuer"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), unique=True)
    body_type: Mapped[str] = mapped_column(String(1), default="S")
    body_code: Mapped[int] = mapped_column(default=0)
    province: Mapped[str] = mapped_column(String(2))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    organization: Mapped[Organization] = relationship()


class SiteSettings(db.Model):  # type: ignore[name-defined,misc]
    """Positions 6–13 for one site when they differ from the defaults: the province of the site
    (default: the organization's) and the serial the province assigned (default: the site's
    number)."""

    __tablename__ = "cert_site"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(
        ForeignKey("exam_site.id", ondelete="CASCADE"), unique=True
    )
    province: Mapped[str | None] = mapped_column(String(2))
    serial: Mapped[int | None]

    site: Mapped[Site] = relationship()


class LevelSettings(db.Model):  # type: ignore[name-defined,misc]
    """Per certificate level: the credit recommendation (学分) for the national credit bank and
    how long a certificate stays valid (empty: for life)."""

    __tablename__ = "cert_level"

    id: Mapped[int] = mapped_column(primary_key=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("certificate_level.id"), unique=True)
    credits: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    validity_years: Mapped[int | None]

    level: Mapped[CertificateLevel] = relationship()


class LayoutSettings(db.Model):  # type: ignore[name-defined,misc]
    """The printed layout of one certificate: the fields of ``render.CertificateLayout`` that
    differ from its defaults."""

    __tablename__ = "cert_layout"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    certificate: Mapped[Certificate] = relationship()


class Counter(db.Model):  # type: ignore[name-defined,misc]
    """A named counter, incremented inside the transaction that uses its values: serials per
    number prefix and year, indexes per status list, and issuing runs per plan (the run counter
    row doubles as the plan's issuing lock). A rolled-back transaction takes its values back."""

    __tablename__ = "cert_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(80), unique=True)
    value: Mapped[int] = mapped_column(default=0)


class IssuedCertificate(db.Model):  # type: ignore[name-defined,misc]
    """One certificate: at most one per registration (the overall pass it was issued for)."""

    __tablename__ = "cert_issued"
    __table_args__ = (UniqueConstraint("status_list", "status_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("exam_plan.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    level_id: Mapped[int] = mapped_column(ForeignKey("certificate_level.id"))
    number: Mapped[str] = mapped_column(String(22), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    id_last4: Mapped[str] = mapped_column(String(4))
    certificate_code: Mapped[str] = mapped_column(String(40))
    certificate_name: Mapped[str] = mapped_column(String(200))
    level_name: Mapped[str] = mapped_column(String(20))  # 初级 | 中级 | 高级
    level_digit: Mapped[int]  # national level 5 | 4 | 3
    issuer_name: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    status_list: Mapped[str] = mapped_column(String(40))
    status_index: Mapped[int]
    kid: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    token: Mapped[str] = mapped_column(Text)
    check_code: Mapped[str] = mapped_column(String(9))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    registration: Mapped[Registration] = relationship()
    plan: Mapped[ExamPlan] = relationship()
    organization: Mapped[Organization] = relationship()
    level: Mapped[CertificateLevel] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class CertificateEvent(db.Model):  # type: ignore[name-defined,misc]
    """The certificates' audit log: issuing runs, revocations and settings changes, with who,
    when and why. Append-only."""

    __tablename__ = "cert_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: a command
    action: Mapped[str] = mapped_column(String(20))  # issue | revoke | issuer | level | layout
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("exam_plan.id"))
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("cert_issued.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
    certificate: Mapped[IssuedCertificate | None] = relationship()


append_only(CertificateEvent, "证书记录 #{id} 只能追加，不能修改或删除")


def audit(
    organization_id: int,
    action: str,
    actor: User | None,
    *,
    plan_id: int | None = None,
    certificate_id: int | None = None,
    reason: str = "",
    **data: Any,
) -> CertificateEvent:
    """Append an event to the certificates' audit log (flushed with the rest)."""
    row = CertificateEvent(
        organization_id=organization_id,
        actor_id=actor.id if actor else None,
        action=action,
        plan_id=plan_id,
        certificate_id=certificate_id,
        reason=reason,
        data=data,
    )
    db.session.add(row)
    return row
