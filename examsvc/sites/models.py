"""Site tables: exam sites (考核站点) at institutions and their rooms (考场) with seat maps."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Organization
from ..extensions import db
from .seatmap import SeatMap


class Site(db.Model):  # type: ignore[name-defined,misc]
    """A site approved by an evaluation organization at an institution (院校)."""

    __tablename__ = "exam_site"

    id: Mapped[int] = mapped_column(primary_key=True)
    # 1–999, unique: the site part of every ticket number (see plans.ticket_number).
    number: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))

    organization: Mapped[Organization] = relationship(foreign_keys=[organization_id])
    institution: Mapped[Organization | None] = relationship(foreign_keys=[institution_id])
    rooms: Mapped[list[Room]] = relationship(
        back_populates="site", order_by="Room.number", cascade="all, delete-orphan"
    )

    @property
    def capacity(self) -> int:
        return sum(len(room.seatmap.assignable()) for room in self.rooms)


class Room(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "exam_room"
    __table_args__ = (UniqueConstraint("site_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("exam_site.id", ondelete="CASCADE"))
    number: Mapped[int]  # 1–99 within the site, the room part of ticket numbers
    name: Mapped[str] = mapped_column(String(100))
    rows: Mapped[int]
    columns: Mapped[int]
    spare_seats: Mapped[list[int]] = mapped_column(JSON, default=list)
    blocked_seats: Mapped[list[int]] = mapped_column(JSON, default=list)

    site: Mapped[Site] = relationship(back_populates="rooms")

    @property
    def seatmap(self) -> SeatMap:
        return SeatMap(
            rows=self.rows,
            columns=self.columns,
            spare=frozenset(self.spare_seats or ()),
            blocked=frozenset(self.blocked_seats or ()),
        )

    @property
    def title(self) -> str:
        return f"{self.site.name} · {self.name}"
