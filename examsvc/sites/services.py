"""Site use cases: sites of an organization, rooms and their seat maps.

An organization admin manages every site of the organization; a site admin sees and changes only
the one site named on the account. Services flush; the request commits once or rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..auth.models import User
from ..auth.roles import Role
from ..catalog.models import Organization
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from .models import Room, Site
from .seatmap import SeatMap, validate_seatmap


def sites_of(user: User) -> list[Site]:
    """The sites a user may see: the organization's for its admin, one's own for a site admin."""
    if Role.ORG_ADMIN in user.role_set:
        query = select(Site).where(Site.organization_id == user.organization_id)
    elif user.site_id is not None:
        query = select(Site).where(Site.id == user.site_id)
    else:
        return []
    return list(db.session.scalars(query.order_by(Site.number)))


def can_manage(user: User, site: Site) -> bool:
    if Role.ORG_ADMIN in user.role_set and site.organization_id == user.organization_id:
        return True
    return Role.SITE_ADMIN in user.role_set and user.site_id == site.id


def get_site(user: User, site_id: int) -> Site:
    """A site the user manages; others answer 404 so their existence is not revealed."""
    site = db.session.get(Site, site_id)
    if site is None or not can_manage(user, site):
        raise NotFound("考核站点不存在或不由您管理")
    return site


def get_room(user: User, room_id: int) -> Room:
    room = db.session.get(Room, room_id)
    if room is None or not can_manage(user, room.site):
        raise NotFound("考场不存在或不由您管理")
    return room


@dataclass(frozen=True)
class SiteData:
    number: int
    name: str
    address: str = ""
    institution: str = ""  # the institution's name; created as an institution when new


def save_site(user: User, data: SiteData, site: Site | None = None) -> Site:
    """Create (organization admins only) or change a site; numbers are unique nationwide."""
    if not 1 <= data.number <= 999:
        raise DomainError(f"站点编号 {data.number} 无效：应为 1–999（准考证号中占 3 位）")
    if not data.name.strip():
        raise DomainError("站点名称不能为空")
    clash = db.session.scalar(select(Site).where(Site.number == data.number))
    if clash is not None and clash is not site:
        raise Conflict(f"站点编号 {data.number} 已由「{clash.name}」使用，请换一个编号")
    if site is None:
        if Role.ORG_ADMIN not in user.role_set:
            raise DomainError("只有评价组织管理员可以新建考核站点")
        site = Site(organization_id=user.organization_id)
        db.session.add(site)
    site.number = data.number
    site.name = data.name.strip()
    site.address = data.address.strip()
    site.institution_id = _institution(data.institution).id if data.institution.strip() else None
    db.session.flush()
    return site


def _institution(name: str) -> Organization:
    name = name.strip()
    org = db.session.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        count = db.session.scalar(select(func.count()).select_from(Organization)) or 0
        org = Organization(code=f"INST{count + 1:05d}", name=name, kind="institution")
        db.session.add(org)
        db.session.flush()
    return org


@dataclass(frozen=True)
class RoomData:
    number: int
    name: str
    rows: int
    columns: int
    spare: frozenset[int] = frozenset()
    blocked: frozenset[int] = frozenset()


def save_room(site: Site, data: RoomData, room: Room | None = None) -> Room:
    """Add or change a room; a seat map that would unseat a registered candidate is refused."""
    if not 1 <= data.number <= 99:
        raise DomainError(f"考场编号 {data.number} 无效：应为 1–99（准考证号中占 2 位）")
    if not data.name.strip():
        raise DomainError("考场名称不能为空")
    seatmap = SeatMap(data.rows, data.columns, data.spare, data.blocked)
    problems = validate_seatmap(seatmap)
    if problems:
        raise DomainError("座位图有误", problems)
    clash = next((r for r in site.rooms if r.number == data.number and r is not room), None)
    if clash is not None:
        raise Conflict(f"本站点已有编号为 {data.number} 的考场「{clash.name}」")
    if room is not None:
        _keep_seated(room, seatmap)
    else:
        room = Room(site=site)
        db.session.add(room)
    room.number = data.number
    room.name = data.name.strip()
    room.rows, room.columns = data.rows, data.columns
    room.spare_seats = sorted(data.spare)
    room.blocked_seats = sorted(data.blocked)
    db.session.flush()
    return room


def _keep_seated(room: Room, seatmap: SeatMap) -> None:
    from ..registration.models import Registration

    seats = db.session.scalars(
        select(Registration.seat).where(Registration.room_id == room.id)
    ).all()
    usable = set(seatmap.assignable())
    lost = sorted(s for s in seats if s is not None and s not in usable)
    if lost:
        labels = "、".join(str(s) for s in lost[:10])
        raise Conflict(f"座位 {labels} 已安排考生，新座位图不能去掉它们：请先调整座位")


def delete_room(room: Room) -> None:
    from ..plans.models import PlanRoom

    used = db.session.scalar(select(func.count()).where(PlanRoom.room_id == room.id))
    if used:
        raise Conflict(f"考场「{room.name}」已用于 {used} 个考核计划，不能删除")
    db.session.delete(room)
    db.session.flush()
