"""Plan use cases: plans and their sessions, rooms, staff and life cycle.

States: draft → published → in_progress → closed. Candidates register while a plan is a draft;
publishing seats everyone, fixes ticket numbers and gives every candidate a frozen paper, so a
published plan's roster and papers no longer change. Services flush; the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from ..assembly.models import Blueprint
from ..assembly.services import AssemblyProblems, freeze_papers
from ..auth.models import User, utcnow
from ..auth.roles import Role
from ..catalog.models import Certificate, CertificateLevel
from ..catalog.scheme_rules import Scheme
from ..catalog.services import scheme_spec
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..registration.fees import check_fees
from ..sites.models import Room
from .models import STAFF_ROLES, ExamPlan, PlanRoom, PlanSession, StaffAssignment

STATE_NAMES = {
    "draft": "草稿",
    "published": "已发布",
    "in_progress": "进行中",
    "closed": "已结束",
}
# Next states an admin may move a plan to; publishing has its own use case (publish below).
TRANSITIONS = {"published": ("in_progress",), "in_progress": ("closed",)}
CANDIDATES_PER_INVIGILATOR = 30


# ---- who sees what ---------------------------------------------------------------------------


def plans_of(user: User) -> list[ExamPlan]:
    """Plans of the organization (admin), of rooms at one's site (site admin), or staffed."""
    query = select(ExamPlan).order_by(ExamPlan.id.desc())
    roles = user.role_set
    if Role.ORG_ADMIN in roles:
        query = query.where(ExamPlan.organization_id == user.organization_id)
    elif Role.SITE_ADMIN in roles and user.site_id is not None:
        query = query.where(
            ExamPlan.id.in_(select(PlanRoom.plan_id).join(Room).where(Room.site_id == user.site_id))
        )
    else:
        query = query.where(
            ExamPlan.id.in_(
                select(StaffAssignment.plan_id).where(StaffAssignment.user_id == user.id)
            )
        )
    return list(db.session.scalars(query))


def can_see(user: User, plan: ExamPlan) -> bool:
    roles = user.role_set
    if Role.ORG_ADMIN in roles and plan.organization_id == user.organization_id:
        return True
    if Role.SITE_ADMIN in roles and user.site_id in {pr.room.site_id for pr in plan.rooms}:
        return True
    return any(s.user_id == user.id for s in plan.staff)


def is_manager(user: User, plan: ExamPlan) -> bool:
    return Role.ORG_ADMIN in user.role_set and plan.organization_id == user.organization_id


def get_plan(user: User, plan_id: int) -> ExamPlan:
    plan = db.session.get(ExamPlan, plan_id)
    if plan is None or not can_see(user, plan):
        raise NotFound("考核计划不存在或与您无关")
    return plan


def managed_plan(user: User, plan_id: int) -> ExamPlan:
    plan = get_plan(user, plan_id)
    if not is_manager(user, plan):
        raise NotFound("考核计划不存在或不由您管理")
    return plan


def levels_of(user: User) -> list[CertificateLevel]:
    """Levels of the user's organization that have an exam scheme (a plan needs one)."""
    return [
        level
        for level in db.session.scalars(
            select(CertificateLevel)
            .join(Certificate)
            .where(Certificate.organization_id == user.organization_id)
            .order_by(Certificate.id, CertificateLevel.rank)
        )
        if level.scheme is not None
    ]


def plan_scheme(plan: ExamPlan) -> Scheme:
    if plan.level.scheme is None:
        raise DomainError(f"{plan.level.title} 还没有考核方案：请先导入考核方案")
    return scheme_spec(plan.level.scheme)


def plan_fees(plan: ExamPlan) -> dict[str, Decimal]:
    return {kind: Decimal(value) for kind, value in (plan.fees or {}).items()}


def require_state(plan: ExamPlan, *states: str) -> None:
    if plan.state not in states:
        allowed = "、".join(STATE_NAMES[s] for s in states)
        raise Conflict(
            f"计划「{plan.batch}」当前为{STATE_NAMES[plan.state]}，此操作只能在{allowed}时进行"
        )


# ---- plans and sessions ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanData:
    level_id: int
    batch: str
    starts: dict[str, datetime]  # part kind → start (site-local time)
    fees: dict[str, str]  # part kind → 元, as typed
    credit_outages: bool = True  # give back time lost in room-wide outages (invigilation)


def save_plan(user: User, data: PlanData, plan: ExamPlan | None = None) -> ExamPlan:
    """Create or change a draft plan; durations come from the scheme, fees must keep the caps."""
    level = next((lv for lv in levels_of(user) if lv.id == data.level_id), None)
    if level is None:
        raise DomainError("请选择本机构有考核方案的证书等级")
    if not data.batch.strip():
        raise DomainError("考核批次名称不能为空，例如「2026 年第 4 批」")
    if plan is not None:
        require_state(plan, "draft")
        if plan.registrations and plan.level_id != level.id:
            raise Conflict("已有考生报名，不能更换证书等级")
    scheme = scheme_spec(level.scheme)
    problems: list[str] = []
    fees = _fees(data.fees, scheme, problems)
    missing = [p.name for p in scheme.parts if p.kind not in data.starts]
    problems += [f"{name}：请填写开考时间" for name in missing]
    if not problems:
        problems += check_fees(scheme.parts, fees)
    if problems:
        raise DomainError("考核计划有误", problems)
    if plan is None:
        plan = ExamPlan(organization_id=user.organization_id, created_by_id=user.id)
        db.session.add(plan)
    plan.level_id = level.id
    plan.level = level
    plan.batch = data.batch.strip()
    plan.fees = {kind: str(fee) for kind, fee in fees.items()}
    plan.credit_outages = data.credit_outages
    # Change sessions in place: new rows for the same part would clash with (plan, part) unique.
    existing = {s.part_kind: s for s in plan.sessions}
    sessions = []
    for p in scheme.parts:
        session = existing.get(p.kind) or PlanSession(part_kind=p.kind)
        session.part_name = p.name
        session.starts_at = data.starts[p.kind]
        session.duration_minutes = p.duration_minutes
        sessions.append(session)
    plan.sessions = sessions
    _check_sessions(plan)
    db.session.flush()
    return plan


def _fees(typed: dict[str, str], scheme: Scheme, problems: list[str]) -> dict[str, Decimal]:
    fees: dict[str, Decimal] = {}
    for part in scheme.parts:
        text = (typed.get(part.kind) or "").strip()
        try:
            fees[part.kind] = Decimal(text or "0")
        except InvalidOperation:
            problems.append(f"{part.name}考核费「{text}」不是数字：请填写元，例如 150")
    return fees


def _overlaps(a: PlanSession, b: PlanSession) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def _when(s: PlanSession) -> str:
    return f"{s.starts_at:%Y-%m-%d %H:%M}–{s.ends_at:%H:%M}"


def _check_sessions(plan: ExamPlan) -> None:
    """A candidate cannot sit two parts at once, nor a room host two plans at once."""
    sessions = plan.sessions
    for i, a in enumerate(sessions):
        for b in sessions[i + 1 :]:
            if _overlaps(a, b):
                raise Conflict(f"{a.part_name}（{_when(a)}）与{b.part_name}（{_when(b)}）时间重叠")
    for pr in plan.rooms:
        _check_room_free(plan, pr.room)


def _check_room_free(plan: ExamPlan, room: Room) -> None:
    others = db.session.scalars(
        select(ExamPlan)
        .join(PlanRoom)
        .where(PlanRoom.room_id == room.id, ExamPlan.id != plan.id, ExamPlan.state != "closed")
    ).all()
    for other in others:
        for mine in plan.sessions:
            clash = next((s for s in other.sessions if _overlaps(mine, s)), None)
            if clash is not None:
                raise Conflict(
                    f"考场「{room.title}」在 {_when(clash)} 已安排计划「{other.title}」的"
                    f"{clash.part_name}，与本计划{mine.part_name}（{_when(mine)}）重叠：请换考场或调整时间"
                )


# ---- rooms and staff -------------------------------------------------------------------------


def add_room(plan: ExamPlan, room_id: int) -> PlanRoom:
    require_state(plan, "draft")
    room = db.session.get(Room, room_id)
    if room is None or room.site.organization_id != plan.organization_id:
        raise NotFound("考场不存在或不属于本机构的考核站点")
    if any(pr.room_id == room.id for pr in plan.rooms):
        raise Conflict(f"考场「{room.title}」已在本计划中")
    _check_room_free(plan, room)
    link = PlanRoom(room=room)
    plan.rooms.append(link)
    db.session.flush()
    return link


def remove_room(plan: ExamPlan, room_id: int) -> None:
    require_state(plan, "draft")
    link = next((pr for pr in plan.rooms if pr.room_id == room_id), None)
    if link is None:
        raise NotFound("该考场不在本计划中")
    site_rooms = [pr for pr in plan.rooms if pr.room.site_id == link.room.site_id]
    if len(site_rooms) == 1 and any(r.site_id == link.room.site_id for r in plan.registrations):
        raise Conflict(f"考点「{link.room.site.name}」已有考生报名，至少保留它的一个考场")
    for reg in plan.registrations:
        if reg.room_id == room_id:
            reg.room_id, reg.seat, reg.ticket_number = None, None, None
    plan.rooms.remove(link)
    db.session.flush()


def assign_staff(plan: ExamPlan, user_id: int, role: str, room_id: int | None) -> StaffAssignment:
    """An invigilator for one room of the plan, or a rater for the whole plan."""
    if role not in STAFF_ROLES:
        raise DomainError(f"人员角色「{role}」无效，应为监考员（invigilator）或考评员（rater）")
    require_state(plan, "draft", "published", "in_progress")
    person = db.session.get(User, user_id)
    needed = Role.INVIGILATOR if role == "invigilator" else Role.RATER
    if person is None or needed not in person.role_set or not person.active:
        raise DomainError(f"所选账号不是在用的{'监考员' if role == 'invigilator' else '考评员'}")
    if role == "invigilator":
        if room_id is None or all(pr.room_id != room_id for pr in plan.rooms):
            raise DomainError("监考员必须分配到本计划的一个考场")
    else:
        room_id = None
    if any(s.user_id == user_id and s.role == role and s.room_id == room_id for s in plan.staff):
        raise Conflict(
            f"{person.display_name} 已是该{'考场的监考员' if room_id else '计划的考评员'}"
        )
    assignment = StaffAssignment(user_id=user_id, role=role, room_id=room_id)
    plan.staff.append(assignment)
    db.session.flush()
    return assignment


def remove_staff(plan: ExamPlan, assignment_id: int) -> None:
    require_state(plan, "draft", "published", "in_progress")
    assignment = next((s for s in plan.staff if s.id == assignment_id), None)
    if assignment is None:
        raise NotFound("该人员安排不存在")
    plan.staff.remove(assignment)
    db.session.flush()


def staff_candidates(plan: ExamPlan, role: str) -> list[User]:
    """Active accounts holding the role, in the plan's organization or at one of its sites."""
    from ..auth.models import UserRole

    site_ids = {pr.room.site_id for pr in plan.rooms}
    users = db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == role, User.active.is_(True))
    ).all()
    return [
        u
        for u in users
        if u.organization_id == plan.organization_id
        or (u.site_id is not None and u.site_id in site_ids)
    ]


def staff_warnings(plan: ExamPlan) -> list[str]:
    """Rooms short of invigilators (one per 30 candidates) and a practical part without raters."""
    warnings = []
    for pr in plan.rooms:
        seated = sum(1 for r in plan.registrations if r.room_id == pr.room_id)
        watching = sum(1 for s in plan.staff if s.role == "invigilator" and s.room_id == pr.room_id)
        needed = max(1, -(-seated // CANDIDATES_PER_INVIGILATOR))
        if watching < needed:
            warnings.append(
                f"考场「{pr.room.title}」：{seated} 名考生，监考员 {watching} 名，"
                f"至少需要 {needed} 名（每 30 名考生至少 1 名）"
            )
    if any(s.part_kind == "practical" for s in plan.sessions) and not any(
        s.role == "rater" for s in plan.staff
    ):
        warnings.append("本计划有实操考试，还没有安排考评员")
    return warnings


# ---- life cycle ------------------------------------------------------------------------------


def blueprints_for(plan: ExamPlan) -> list[Blueprint]:
    scheme = plan.level.scheme
    if scheme is None:
        return []
    return list(
        db.session.scalars(
            select(Blueprint).where(Blueprint.scheme_id == scheme.id).order_by(Blueprint.name)
        )
    )


def publish(plan: ExamPlan, blueprint_id: int, seed: str, actor: User) -> None:
    """Seat everyone, fix ticket numbers and give each candidate a paper of a feasible blueprint.

    Everything or nothing: any problem raises before the caller commits.
    """
    from .seats import auto_seat

    require_state(plan, "draft")
    blueprint = next((b for b in blueprints_for(plan) if b.id == blueprint_id), None)
    if blueprint is None:
        raise DomainError("请选择本证书等级考核方案的一份细目表")
    problems = []
    if not plan.rooms:
        problems.append("还没有为计划安排考场")
    if not plan.registrations:
        problems.append("还没有考生报名")
    if problems:
        raise DomainError("计划还不能发布", problems)
    auto_seat(plan)
    registrations = sorted(plan.registrations, key=lambda r: r.ticket_number or "")
    try:
        paper_set = freeze_papers(blueprint, len(registrations), seed, actor)
    except AssemblyProblems as exc:
        raise DomainError(
            f"细目表「{blueprint.name}」不能为 {len(registrations)} 名考生组卷", exc.problems
        ) from exc
    for registration, paper in zip(registrations, paper_set.papers, strict=True):
        registration.paper_id = paper.id
    plan.blueprint_id = blueprint.id
    plan.paper_set_id = paper_set.id
    plan.state = "published"
    plan.published_at = utcnow()
    db.session.flush()


def advance(plan: ExamPlan, state: str) -> None:
    if state not in TRANSITIONS.get(plan.state, ()):
        raise Conflict(
            f"计划当前为{STATE_NAMES[plan.state]}，不能改为{STATE_NAMES.get(state, state)}"
        )
    plan.state = state
    db.session.flush()
