"""Invigilation use cases: who may watch and act in a room, the board, the actions, presence.

Every action is authorized here, on the server, for the room it names; the board only shows
buttons. An action is applied to each targeted sitting it can reach; those it cannot (already
submitted, not started, …) are listed as skipped with the reason, and the whole request is one
row of the append-only audit log with its reason, actor and time.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, bindparam, func, select, update

from ..assembly.models import PaperItem
from ..auth.models import User
from ..auth.roles import Role
from ..delivery import services as delivery
from ..delivery.lifecycle import STATE_NAMES
from ..delivery.models import CandidateLogin, RoomControl, Sitting, SittingEvent
from ..delivery.services import ANOMALY_KINDS, ANOMALY_NAMES, DeliveryError, aware, clock_of
from ..delivery.signed import SITTING_COLUMNS, SignedIn, SittingRow
from ..errors import DomainError
from ..extensions import db
from ..kept import keep, per_app
from ..plans.models import ExamPlan
from ..plans.services import plans_of
from ..registration.models import Candidate, Registration
from ..sites.models import Room
from . import presence as pure
from .actions import ActionRequest, Reason
from .models import Connection, ProctorAction
from .pushes import Seat

LIVE_PLAN_STATES = ("published", "in_progress")
TOGGLES = ("start_code", "require_authorization")  # their audit rows say on or off
Push = Callable[[], None]


class AccessDenied(DomainError):
    """The user may not watch or act in this room."""


# ---- who may do what ---------------------------------------------------------------------------


def access(user: User, plan: ExamPlan, room_id: int) -> str | None:
    """``act`` for the room's invigilators and its site's admin (主考), ``view`` for the plan's
    organization admin, None for everybody else."""
    plan_room = next((pr for pr in plan.rooms if pr.room_id == room_id), None)
    if plan_room is None or not user.is_active:
        return None
    roles = user.role_set
    if Role.INVIGILATOR in roles and any(
        s.user_id == user.id and s.role == "invigilator" and s.room_id == room_id
        for s in plan.staff
    ):
        return "act"
    if Role.SITE_ADMIN in roles and user.site_id == plan_room.room.site_id:
        return "act"
    if Role.ORG_ADMIN in roles and user.organization_id == plan.organization_id:
        return "view"
    return None


def room_for(user: User, plan_id: int, room_id: int, need: str = "view") -> tuple[ExamPlan, Room]:
    """The plan and room if ``user`` may ``need`` (view or act) there, else AccessDenied."""
    plan = db.session.get(ExamPlan, plan_id)
    level = access(user, plan, room_id) if plan is not None else None
    if plan is None or level is None or (need == "act" and level != "act"):
        what = "操作" if need == "act" else "查看"
        raise AccessDenied(f"您不能{what}这个考场：只有本考场的监考员和本考点的主考可以操作")
    room = db.session.get(Room, room_id)
    assert room is not None
    return plan, room


def rooms_of(user: User) -> list[tuple[ExamPlan, Room, str]]:
    """The rooms of live plans the user may watch, with the access level, newest plan first."""
    out = []
    for plan in plans_of(user):
        if plan.state not in LIVE_PLAN_STATES:
            continue
        for pr in sorted(plan.rooms, key=lambda pr: (pr.room.site.number, pr.room.number)):
            level = access(user, plan, pr.room_id)
            if level is not None:
                out.append((plan, pr.room, level))
    return out


# ---- room control: start code and authorization ------------------------------------------------


def control_of(plan_id: int, room_id: int) -> RoomControl:
    control = db.session.scalar(
        select(RoomControl).where(RoomControl.plan_id == plan_id, RoomControl.room_id == room_id)
    )
    if control is None:
        control = RoomControl(plan_id=plan_id, room_id=room_id, authorized={})
        db.session.add(control)
        db.session.flush()
    return control


# ---- the board -----------------------------------------------------------------------------------


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else delivery.ms(moment)


def registrations_in(plan: ExamPlan, room_id: int) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.plan_id == plan.id, Registration.room_id == room_id)
            .order_by(Registration.seat)
        )
    )


@dataclass
class _RoomFacts:
    """Everything the seats of a room need, read with a handful of queries for the whole room
    (mostly columns: a whole board, and every round of the seat feed, reads them)."""

    totals: dict[int, dict[str, int]] = field(default_factory=dict)  # paper → part → items
    links: dict[int, list[pure.Link]] = field(default_factory=dict)
    anomalies: dict[int, list[Row[Any]]] = field(default_factory=dict)  # (kind, at), oldest first
    warnings: dict[int, int] = field(default_factory=dict)  # sitting id → warnings given
    pending: dict[int, Row[Any]] = field(default_factory=dict)  # (id, ip, created_at)
    ips: dict[int, str] = field(default_factory=dict)
    sittings: dict[int, dict[str, SittingRow]] = field(default_factory=dict)  # reg → part
    names: dict[int, str] = field(default_factory=dict)  # candidate id → name


# Items per part of each paper, kept per app (a process): a paper never changes once frozen
# (assembling again makes new papers), and counting them for every seat pushed was one query
# of each sign-in, start and connect.
TOTALS = "examsvc.paper_totals"
TOTALS_SIZE = 20_000


def _totals(papers: set[int]) -> dict[int, dict[str, int]]:
    kept: dict[int, dict[str, int]] = per_app(TOTALS)
    found = {p: kept[p] for p in papers if p in kept}
    missing = papers - found.keys()
    if missing:
        counted: dict[int, dict[str, int]] = {p: {} for p in missing}
        rows = db.session.execute(
            select(PaperItem.paper_id, PaperItem.part_kind, func.count())
            .where(PaperItem.paper_id.in_(missing))
            .group_by(PaperItem.paper_id, PaperItem.part_kind)
        )
        for paper, part, count in rows:
            counted[paper][part] = count
        for paper, parts in counted.items():
            found[paper] = keep(kept, paper, parts, TOTALS_SIZE)
    return found


def _links(ids: list[int]) -> dict[int, list[pure.Link]]:
    links: dict[int, list[pure.Link]] = {}
    rows = db.session.execute(
        select(
            Connection.registration_id,
            Connection.opened_at,
            Connection.last_seen,
            Connection.closed_at,
        ).where(Connection.registration_id.in_(ids))
    )
    for reg_id, opened_at, last_seen, closed_at in rows:
        opened, seen = aware(opened_at), aware(last_seen)
        assert opened is not None and seen is not None
        links.setdefault(reg_id, []).append(pure.Link(opened, seen, aware(closed_at)))
    return links


def _facts(regs: list[Registration]) -> _RoomFacts:
    ids = [r.id for r in regs]
    facts = _RoomFacts(_totals({r.paper_id for r in regs if r.paper_id is not None}), _links(ids))
    # The anomalies and the invigilators' warnings in one query (a warning is not an anomaly).
    events = db.session.execute(
        select(Sitting.registration_id, SittingEvent.sitting_id, SittingEvent.kind, SittingEvent.at)
        .select_from(SittingEvent)
        .join(Sitting, SittingEvent.sitting_id == Sitting.id)
        .where(Sitting.registration_id.in_(ids), SittingEvent.kind.in_((*ANOMALY_KINDS, "warn")))
        .order_by(SittingEvent.id)
    )
    for e in events:
        if e.kind == "warn":
            facts.warnings[e.sitting_id] = facts.warnings.get(e.sitting_id, 0) + 1
        elif e.kind != "focus_back":  # coming back is not an anomaly, only the end of one
            facts.anomalies.setdefault(e.registration_id, []).append(e)
    logins = db.session.execute(
        select(
            CandidateLogin.registration_id,
            CandidateLogin.id,
            CandidateLogin.state,
            CandidateLogin.ip,
            CandidateLogin.created_at,
        )
        .where(CandidateLogin.registration_id.in_(ids))
        .order_by(CandidateLogin.id)
    )
    for login in logins:
        if login.state == "pending":
            facts.pending[login.registration_id] = login
        elif login.state == "live":
            facts.ips[login.registration_id] = login.ip
    # Sittings and names as columns (the session's execute still flushes an action's changes
    # first): loading them as ORM objects was most of a board round.
    for reg_id, *columns in db.session.execute(
        select(Sitting.registration_id, *(Sitting.__table__.c[c] for c in SITTING_COLUMNS)).where(
            Sitting.registration_id.in_(ids)
        )
    ):
        sitting = SittingRow(*columns)
        facts.sittings.setdefault(reg_id, {})[sitting.part_kind] = sitting
    facts.names = dict(
        db.session.execute(
            select(Candidate.id, Candidate.name).where(
                Candidate.id.in_([r.candidate_id for r in regs])
            )
        ).all()
    )
    return facts


def board(plan: ExamPlan, room: Room, now: datetime) -> dict[str, Any]:
    """The whole board of a room: plan, room layout, control, parts and every seat."""
    regs = registrations_in(plan, room.id)
    facts = _facts(regs)
    control = control_of(plan.id, room.id)
    return {
        "plan": {"id": plan.id, "batch": plan.batch},
        "room": {
            "id": room.id,
            "title": room.title,
            "rows": room.rows,
            "columns": room.columns,
        },
        "control": {
            "start_code": control.start_code,
            "needs_authorization": control.needs_authorization,
            "authorized": control.authorized or {},
        },
        "parts": [
            {
                "part": s.part_kind,
                "name": s.part_name,
                "starts_at": s.starts_at.isoformat(timespec="minutes"),
                "duration_minutes": s.duration_minutes,
            }
            for s in plan.sessions
        ],
        "server_time": _ms(now),
        "seats": [_seat(reg, room, facts, now) for reg in regs],
    }


def seat(reg: Registration, now: datetime) -> dict[str, Any]:
    """One seat of the board, as pushed when something about the candidate changes."""
    room = db.session.get(Room, reg.room_id) if reg.room_id is not None else None
    assert room is not None
    return seats([reg], room, now)[0]


def seats(regs: list[Registration], room: Room, now: datetime) -> list[dict[str, Any]]:
    """Seats of one room, their facts read together (an action on the whole room touches them
    all: one query per kind of fact, not per candidate)."""
    facts = _facts(regs)
    return [_seat(reg, room, facts, now) for reg in regs]


def _seat(reg: Registration, room: Room, facts: _RoomFacts, now: datetime) -> dict[str, Any]:
    here = pure.presence(facts.links.get(reg.id, ()), now)
    anomalies = facts.anomalies.get(reg.id, [])
    latest = anomalies[-1] if anomalies else None
    pending = facts.pending.get(reg.id)
    sittings = _shown_sittings(reg, facts.sittings.get(reg.id, {}))
    return {
        "registration_id": reg.id,
        "seat": reg.seat,
        "seat_label": room.seatmap.label(reg.seat) if reg.seat else "",
        "name": facts.names.get(reg.candidate_id, ""),
        "ticket_number": reg.ticket_number,
        "ip": facts.ips.get(reg.id, ""),
        "presence": here.status,
        "presence_since": _ms(here.since),
        "parts": [_part(s, reg, facts, now) for s in sittings],
        "anomalies": {
            "count": len(anomalies),
            "latest": None
            if latest is None
            else {
                "kind": latest.kind,
                "text": ANOMALY_NAMES.get(latest.kind, latest.kind),
                "at": _ms(aware(latest.at)),
            },
        },
        "warnings": sum(facts.warnings.get(s.id, 0) for s in sittings),
        "pending_switch": None
        if pending is None
        else {"login_id": pending.id, "ip": pending.ip, "at": _ms(aware(pending.created_at))},
    }


def _shown_sittings(reg: Registration, have: dict[str, SittingRow]) -> list[SittingRow]:
    """The candidate's parts in session order; a part whose sitting is not made yet (the
    candidate has not signed in) as the sign-in will make it. A board only reads."""
    return [
        have.get(session.part_kind)
        or SittingRow(0, session.part_kind, "registered", session.duration_minutes)
        for session in reg.plan.sessions
        if reg.parts is None or session.part_kind in reg.parts
    ]


def _part(s: SittingRow, reg: Registration, facts: _RoomFacts, now: datetime) -> dict[str, Any]:
    clock = clock_of(s)
    return {
        "part": s.part_kind,
        "state": s.state,
        "state_name": STATE_NAMES[s.state],
        "answered": s.answered,
        "total": facts.totals.get(reg.paper_id or 0, {}).get(s.part_kind, 0),
        "deadline": _ms(clock.deadline(now)),
        "remaining_ms": int(clock.remaining(now).total_seconds() * 1000),
        "paused": clock.paused_at(now),
        "extended_minutes": sum(s.extensions or ()) // 60,
    }


# ---- actions -------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What an action did: the audit row, the candidates reached, and pushes to send after the
    commit (state changes to candidates, seats to boards)."""

    record: ProctorAction
    applied: list[int] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def act(user: User, request: ActionRequest, now: datetime) -> Outcome:
    """Carry out an invigilator's action in a room they may act in; one audit row for it."""
    plan, room = room_for(user, request.plan_id, request.room_id, need="act")
    if plan.state not in LIVE_PLAN_STATES:
        raise DomainError(f"考核计划「{plan.batch}」不在考试期间：不能操作")
    regs = registrations_in(plan, room.id)
    if request.targets is not None:
        by_id = {r.id: r for r in regs}
        strangers = [t for t in request.targets if t not in by_id]
        if strangers:
            raise AccessDenied(
                f"报名号 {'、'.join(map(str, strangers))} 不在本考场：只能操作本考场的考生"
            )
        regs = [by_id[t] for t in request.targets]
    record = ProctorAction(
        plan_id=plan.id,
        room_id=room.id,
        actor_kind="invigilator",
        actor_id=user.id,
        action=request.action,
        part_kind=request.part or "",
        scope=request.scope,
        reason_category=request.reason.category,
        reason_code=request.reason.code,
        reason_text=request.reason.text,
        data={},
    )
    outcome = Outcome(record)
    HANDLERS[request.action](request, plan, room, regs, user, now, outcome)
    record.applied = outcome.applied
    record.skipped = outcome.skipped
    record.data = {
        **outcome.data,
        **({"enabled": request.enabled} if request.action in TOGGLES else {}),
        **({"minutes": request.minutes} if request.minutes else {}),
        **({"message": request.message} if request.message else {}),
    }
    record.at = now
    db.session.add(record)
    db.session.flush()
    return outcome


Handler = Callable[
    [ActionRequest, ExamPlan, Room, list[Registration], User, datetime, Outcome], None
]


def _each_sitting(
    request: ActionRequest,
    regs: list[Registration],
    outcome: Outcome,
    apply: Callable[[Sitting], None],
) -> None:
    """Apply to the named part of each candidate; a refusal skips that candidate only."""
    for reg in regs:
        sitting = next(
            (s for s in delivery.sittings_of(reg) if s.part_kind == request.part),
            None,
        )
        try:
            if sitting is None:
                raise DeliveryError("unknown_part", "没有这一考试部分")
            apply(sitting)
        except DeliveryError as exc:
            outcome.skipped.append({"registration_id": reg.id, "message": exc.message})
            continue
        outcome.applied.append(reg.id)
        _push_part(outcome, sitting)


def _push_part(outcome: Outcome, sitting: Sitting) -> None:
    from ..delivery.sockets import push_state

    reg_id = sitting.registration_id
    part = delivery.part_state(sitting, datetime.now(UTC))
    outcome.pushes.append(lambda: push_state(reg_id, part))


def _note(sitting: Sitting, kind: str, user: User, reason: Reason, data: dict[str, Any]) -> None:
    sitting.events.append(
        SittingEvent(
            kind=kind,
            actor_kind="invigilator",
            actor_id=user.id,
            reason=reason.label,
            data=data,
        )
    )


def _authorize(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    if request.targets is None:
        control = control_of(plan.id, room.id)
        control.authorized = {**(control.authorized or {}), request.part: now.isoformat()}
        outcome.applied.extend(r.id for r in regs)
        from ..delivery.sockets import push_notice

        outcome.pushes.append(
            lambda: push_notice(room.id, None, "监考员已授权开考：请点击开始答题")
        )
        return

    def start(sitting: Sitting) -> None:
        delivery.start(sitting, now, actor_kind="invigilator", actor_id=user.id, authorized=True)

    _each_sitting(request, regs, outcome, start)


def _pause(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    _each_sitting(
        request, regs, outcome, lambda s: delivery.pause(s, now, user.id, request.reason.label)
    )


def _resume(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    _each_sitting(
        request, regs, outcome, lambda s: delivery.resume(s, now, user.id, request.reason.label)
    )


def _extend(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    _each_sitting(
        request,
        regs,
        outcome,
        lambda s: delivery.extend(
            s, timedelta(minutes=request.minutes), "invigilator", user.id, request.reason.label
        ),
    )


def _force_submit(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    def submit(sitting: Sitting) -> None:
        delivery.submit(sitting, now, "invigilator", actor_id=user.id, reason=request.reason.label)

    _each_sitting(request, regs, outcome, submit)


def _switch(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    from ..delivery.sockets import push_signed_out

    approve = request.action == "approve_switch"
    (reg,) = regs
    try:
        old = delivery.decide_switch(reg, approve, user.id, now, request.reason.label)
    except DeliveryError as exc:
        outcome.skipped.append({"registration_id": reg.id, "message": exc.message})
        return
    outcome.applied.append(reg.id)
    if old is not None:
        outcome.pushes.append(lambda: push_signed_out(old, "replaced"))


def _warn(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    from ..delivery.sockets import push_notice

    text = request.message or f"违纪警告：{request.reason.label}"
    for reg in regs:
        sittings = delivery.sittings_of(reg)
        current = next((s for s in sittings if s.state in ("in_progress", "paused")), sittings[0])
        _note(current, "warn", user, request.reason, {"message": text})
        outcome.applied.append(reg.id)
        outcome.pushes.append(lambda reg_id=reg.id: push_notice(None, reg_id, text))


def _void(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    from ..delivery.sockets import push_voided

    for reg in regs:
        voided = [
            s.part_kind
            for s in delivery.sittings_of(reg)
            if delivery.void(s, now, user.id, request.reason.label)
        ]
        if not voided:
            outcome.skipped.append({"registration_id": reg.id, "message": "成绩已取消"})
            continue
        outcome.applied.append(reg.id)
        outcome.pushes.append(lambda reg_id=reg.id: push_voided(reg_id))


def _broadcast(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    from ..delivery.sockets import push_notice

    outcome.applied.extend(r.id for r in regs)
    if request.targets is None:
        outcome.pushes.append(lambda: push_notice(room.id, None, request.message))
    else:
        for reg in regs:
            outcome.pushes.append(lambda reg_id=reg.id: push_notice(None, reg_id, request.message))


def _start_code(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    control = control_of(plan.id, room.id)
    # Six digits from the OS's randomness: read aloud and typed, never guessed.
    control.start_code = f"{secrets.randbelow(10**6):06d}" if request.enabled else None
    outcome.data["start_code"] = control.start_code


def _hold(request, plan, room, regs, user, now, outcome) -> None:  # type: ignore[no-untyped-def]
    control_of(plan.id, room.id).needs_authorization = request.enabled


HANDLERS: dict[str, Handler] = {
    "authorize": _authorize,
    "pause": _pause,
    "resume": _resume,
    "extend": _extend,
    "approve_switch": _switch,
    "refuse_switch": _switch,
    "force_submit": _force_submit,
    "warn": _warn,
    "void": _void,
    "broadcast": _broadcast,
    "start_code": _start_code,
    "require_authorization": _hold,
}


def actions_in(plan: ExamPlan, room_id: int) -> list[ProctorAction]:
    """The room's audit log, oldest first (the board's log and the room record)."""
    return list(
        db.session.scalars(
            select(ProctorAction)
            .where(ProctorAction.plan_id == plan.id, ProctorAction.room_id == room_id)
            .order_by(ProctorAction.id)
        )
    )


def audit_entry(record: ProctorAction) -> dict[str, Any]:
    from .actions import ACTIONS, Reason

    reason = Reason(record.reason_category, record.reason_code, record.reason_text)
    return {
        "id": record.id,
        "at": _ms(aware(record.at)),
        "actor": record.actor.display_name if record.actor else "系统",
        "action": record.action,
        "name": ACTIONS[record.action][0],
        "part": record.part_kind,
        "scope": record.scope,
        "applied": record.applied,
        "skipped": record.skipped,
        "reason": reason.label,
        "data": record.data,
    }


# ---- presence ------------------------------------------------------------------------------------


def opened(reg: Registration, sid: str, ip: str, now: datetime) -> None:
    # A Core insert: every candidate connects at the start, and nothing here reads the row
    # back as an object (the ORM's flush of one new object cost more than the insert).
    row = {
        "registration_id": reg.id,
        "sid": sid[:64],
        "ip": ip[:64],
        "opened_at": now,
        "last_seen": now,
    }
    db.session.connection().execute(Connection.__table__.insert(), row)


def beat(sid: str, now: datetime) -> None:
    # One update through the sid's index: every candidate beats every 15 s all exam long.
    db.session.connection().execute(_BEAT, {"b_sid": sid, "b_now": now})


def closed(sid: str, now: datetime) -> int | None:
    """Close the socket's record; the registration it belonged to (for the board)."""
    found = db.session.connection().execute(_CLOSE, {"b_sid": sid, "b_now": now}).first()
    return None if found is None else int(found[0])


def seat_of(reg_id: int) -> Seat | None:
    """Where a registration sits, as a seat push needs it (three columns, no ORM object)."""
    reg = Registration.__table__
    row = (
        db.session.connection()
        .execute(select(reg.c.id, reg.c.plan_id, reg.c.room_id).where(reg.c.id == reg_id))
        .first()
    )
    return None if row is None else Seat(row.id, row.plan_id, row.room_id)


_LINK = Connection.__table__
_OPEN = and_(_LINK.c.sid == bindparam("b_sid"), _LINK.c.closed_at.is_(None))
_NOW = bindparam("b_now", type_=_LINK.c.last_seen.type)
_BEAT = update(_LINK).where(_OPEN).values(last_seen=_NOW)
_CLOSE = (
    update(_LINK)
    .where(_OPEN)
    .values(closed_at=_NOW, last_seen=_NOW)
    .returning(_LINK.c.registration_id)
)


def _was_away(reg: SignedIn, now: datetime) -> bool:
    """Whether the candidate's own connections left a gap in a part that is running: without
    one there is nothing to credit (every candidate's first connect, most reconnects)."""
    running = [s for s in reg.found if s.state in ("in_progress", "paused") and s.started_at]
    if not running:
        return False
    links = _links([reg.id]).get(reg.id, ())
    return any(pure.gaps(links, aware(s.started_at), now, now) for s in running)  # type: ignore[arg-type]


def credit_outages(reg: Registration | SignedIn, now: datetime) -> list[Sitting]:
    """Give back time the candidate lost in site-wide outages of their room (plan option), once:
    what is already credited is subtracted, so a call after every reconnect is safe."""
    if not reg.plan.credit_outages or reg.room_id is None:
        return []
    if isinstance(reg, SignedIn):  # a connect's read: the ORM only for a candidate who was away
        if not _was_away(reg, now):
            return []
        reg = delivery.registration_of(reg)
    changed = []
    for sitting in delivery.sittings_of(reg):
        if sitting.state not in ("in_progress", "paused") or sitting.started_at is None:
            continue
        started = aware(sitting.started_at)
        assert started is not None
        own = pure.gaps(_links([reg.id]).get(reg.id, ()), started, now, now)
        if not own:
            continue  # never away: the common case, without reading the whole room
        room_regs = registrations_in(reg.plan, reg.room_id)
        facts = _facts(room_regs)
        gaps = {
            r.id: pure.gaps(facts.links.get(r.id, ()), started, now, now)
            for r in room_regs
            if facts.links.get(r.id)
        }
        due = pure.credit(gaps.get(reg.id, []), pure.outages(list(gaps.values())))
        given = sum(e.data.get("seconds", 0) for e in sitting.events if e.kind == "outage_credit")
        more = int(due.total_seconds()) - given
        if more >= 1:
            delivery.extend(
                sitting,
                timedelta(seconds=more),
                "system",
                None,
                "断电或断网：自动补时",
                kind="outage_credit",
            )
            changed.append(sitting)
    return changed
