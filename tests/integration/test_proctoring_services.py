"""Invigilation against a real database: who may act where, each action's effect on the
candidate's state and deadline, the audit log, PC switches, start codes, presence, outage credit.
Every refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from examsvc.assembly.models import PaperItem
from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.delivery import services as delivery
from examsvc.delivery import signed
from examsvc.delivery.models import CandidateLogin
from examsvc.extensions import db
from examsvc.plans.models import ExamPlan
from examsvc.plans.services import assign_staff
from examsvc.proctoring import services
from examsvc.proctoring.actions import ActionError, parse_action
from examsvc.proctoring.models import ProctorAction
from examsvc.registration.models import Registration
from examsvc.sites.models import Room
from tests.conftest import open_demo_plan

REASON = {"category": "environment", "code": "power_cut", "text": "配电箱跳闸"}
T0 = datetime.now(UTC).replace(microsecond=0)


class Room101:
    """The demo plan's first room, its invigilator, and its candidates."""

    def __init__(self, plan: ExamPlan, invigilator: User) -> None:
        self.plan = plan
        self.room: Room = plan.rooms[0].room
        self.invigilator = invigilator
        self.regs = services.registrations_in(plan, self.room.id)

    def act(self, action: str, targets: Any = "room", user: User | None = None, **extra: Any):  # type: ignore[no-untyped-def]
        now = extra.pop("now", T0)
        request = parse_action(
            {
                "action": action,
                "plan_id": self.plan.id,
                "room_id": self.room.id,
                "targets": targets,
                "reason": extra.pop("reason", REASON),
                **extra,
            },
            ("theory", "practical"),
        )
        outcome = services.act(user or self.invigilator, request, now)
        delivery.commit()
        return outcome


@pytest.fixture
def room(catalog: dict[str, Organization], make_user: Callable[..., User]) -> Room101:
    make_user(Role.ORG_ADMIN, username="admin")
    invigilator = make_user(Role.INVIGILATOR, username="invigilator")
    return Room101(open_demo_plan(), invigilator)


def _start(reg: Registration, at: datetime = T0) -> None:
    delivery.start(delivery.sitting_of(reg, "theory"), at)
    delivery.commit()


def _deadline(reg: Registration, now: datetime) -> datetime:
    deadline = delivery.clock_of(delivery.sitting_of(reg, "theory")).deadline(now)
    assert deadline is not None
    return deadline


def _audit_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ProctorAction)) or 0


def test_only_the_rooms_own_invigilator_and_the_site_admin_may_act(
    room: Room101, make_user: Callable[..., User]
) -> None:
    plan, room_id = room.plan, room.room.id
    other_room = plan.rooms[1].room.id
    stranger = make_user(Role.INVIGILATOR)
    stranger.site_id = room.room.site_id
    assign_staff(plan, stranger.id, "invigilator", other_room)
    site_admin = make_user(Role.SITE_ADMIN)
    site_admin.site_id = room.room.site_id
    org_admin = db.session.scalar(select(User).where(User.username == "admin"))
    outsider = make_user(Role.ORG_ADMIN, org="cflp")
    db.session.commit()
    assert services.access(room.invigilator, plan, room_id) == "act"
    assert services.access(stranger, plan, room_id) is None
    assert services.access(stranger, plan, other_room) == "act"
    assert services.access(site_admin, plan, room_id) == "act"
    assert services.access(org_admin, plan, room_id) == "view"
    assert services.access(outsider, plan, room_id) is None
    with pytest.raises(services.AccessDenied, match="只有本考场的监考员"):
        room.act("broadcast", message="请保持安静", user=stranger)
    with pytest.raises(services.AccessDenied):
        room.act("broadcast", message="请保持安静", user=org_admin)
    assert _audit_rows() == 0
    listed = {(p.id, r.id, level) for p, r, level in services.rooms_of(stranger)}
    assert listed == {(plan.id, other_room, "act")}


def test_targets_outside_the_room_are_refused_as_a_whole(room: Room101) -> None:
    elsewhere = services.registrations_in(room.plan, room.plan.rooms[1].room.id)[0]
    _start(room.regs[0])
    with pytest.raises(services.AccessDenied, match=str(elsewhere.id)):
        room.act("pause", [room.regs[0].id, elsewhere.id], part="theory")
    assert delivery.sitting_of(room.regs[0], "theory").state == "in_progress"
    assert _audit_rows() == 0


def test_pause_stops_the_clock_and_resume_credits_the_paused_time(room: Room101) -> None:
    reg, idle = room.regs[0], room.regs[1]
    _start(reg)
    before = _deadline(reg, T0)
    paused = room.act("pause", part="theory", now=T0 + timedelta(minutes=10))
    assert reg.id in paused.applied
    skipped = {s["registration_id"]: s["message"] for s in paused.skipped}
    assert "不能暂停" in skipped[idle.id]  # not started yet: nothing to pause
    sitting = delivery.sitting_of(reg, "theory")
    assert sitting.state == "paused"
    assert delivery.clock_of(sitting).remaining(T0 + timedelta(hours=5)) == before - (
        T0 + timedelta(minutes=10)
    )
    room.act("resume", part="theory", now=T0 + timedelta(minutes=15))
    assert delivery.sitting_of(reg, "theory").state == "in_progress"
    assert _deadline(reg, T0 + timedelta(minutes=15)) == before + timedelta(minutes=5)
    pause_event = next(e for e in sitting.events if e.kind == "pause")
    assert pause_event.actor_id == room.invigilator.id and "断电" in pause_event.reason


def test_extend_moves_the_deadline_and_is_kept_apart_from_the_base_time(room: Room101) -> None:
    reg = room.regs[0]
    _start(reg)
    before = _deadline(reg, T0)
    outcome = room.act("extend", [reg.id], part="theory", minutes=10)
    assert outcome.applied == [reg.id]
    sitting = delivery.sitting_of(reg, "theory")
    assert _deadline(reg, T0) == before + timedelta(minutes=10)
    assert sitting.extensions == [600] and sitting.duration_minutes == 90
    record = db.session.get(ProctorAction, outcome.record.id)
    assert (record.action, record.applied, record.data["minutes"]) == ("extend", [reg.id], 10)
    assert (record.reason_category, record.reason_code) == ("environment", "power_cut")


def test_force_submit_the_room_reaches_only_running_sittings(room: Room101) -> None:
    running, idle = room.regs[0], room.regs[1]
    _start(running)
    outcome = room.act("force_submit", part="theory")
    assert outcome.applied == [running.id]
    assert delivery.sitting_of(running, "theory").state == "submitted"
    assert delivery.sitting_of(idle, "theory").state in ("registered", "waiting", "checked_in")


def test_void_cancels_even_a_submitted_result_and_warn_is_recorded(room: Room101) -> None:
    reg = room.regs[0]
    _start(reg)
    delivery.submit(delivery.sitting_of(reg, "theory"), T0 + timedelta(minutes=30))
    delivery.commit()
    misconduct = {"category": "candidate", "code": "misconduct", "text": "夹带纸条"}
    warned = room.act("warn", [reg.id], reason=misconduct, message="请把纸条交给监考员")
    assert warned.applied == [reg.id]
    voided = room.act("void", [reg.id], reason=misconduct)
    assert voided.applied == [reg.id]
    assert {s.state for s in delivery.sittings_of(reg)} == {"voided"}
    again = room.act("void", [reg.id], reason=misconduct)
    assert again.applied == [] and again.skipped[0]["message"] == "成绩已取消"
    kinds = [e.kind for s in delivery.sittings_of(reg) for e in s.events]
    assert "warn" in kinds and kinds.count("void") == 2


def test_a_pc_switch_waits_for_approval_and_cuts_the_old_pc_off(room: Room101) -> None:
    reg = room.regs[0]
    ticket, number = reg.ticket_number or "", reg.candidate.id_number
    first = delivery.sign_in(ticket, number, "10.0.0.5", "A")
    second = delivery.sign_in(ticket, number, "10.0.0.6", "B")
    delivery.commit()
    assert services.board(room.plan, room.room, T0)["seats"][0]["pending_switch"]["ip"] == (
        "10.0.0.6"
    )
    pc = {"category": "technical", "code": "pc_failure", "text": "显示器黑屏"}
    outcome = room.act("approve_switch", [reg.id], reason=pc)
    assert outcome.applied == [reg.id]
    assert db.session.get(CandidateLogin, first.id).state == "replaced"
    assert db.session.get(CandidateLogin, second.id).state == "live"
    assert delivery.live_registration(first.id) is None
    assert delivery.live_registration(second.id) is reg
    none_left = room.act("refuse_switch", [reg.id], reason=pc)
    assert none_left.applied == [] and "没有等待批准" in none_left.skipped[0]["message"]
    third = delivery.sign_in(ticket, number, "10.0.0.7", "C")
    delivery.commit()
    room.act("refuse_switch", [reg.id], reason=pc)
    assert db.session.get(CandidateLogin, third.id).state == "refused"
    assert db.session.get(CandidateLogin, second.id).state == "live"


def test_a_start_code_is_needed_to_sign_in_while_it_is_on(room: Room101) -> None:
    reg = room.regs[0]
    ticket, number = reg.ticket_number or "", reg.candidate.id_number
    admin = {"category": "administrative", "code": "schedule", "text": ""}
    code = room.act("start_code", enabled=True, reason=admin).record.data["start_code"]
    assert len(code) == 6 and code.isdigit()
    with pytest.raises(delivery.DeliveryError) as wrong:
        delivery.sign_in(ticket, number, "", "", start_code="")
    assert wrong.value.code == "bad_start_code" and "开考码" in wrong.value.message
    assert delivery.sign_in(ticket, number, "", "", start_code=code).state == "live"
    room.act("start_code", enabled=False, reason=admin)
    assert delivery.sign_in(ticket, number, "", "").state == "pending"  # no code, second PC


def test_a_held_room_starts_only_when_the_invigilator_authorizes(room: Room101) -> None:
    reg, late = room.regs[0], room.regs[1]
    admin = {"category": "administrative", "code": "schedule", "text": ""}
    room.act("require_authorization", enabled=True, reason=admin)
    with pytest.raises(delivery.DeliveryError) as held:
        _start(reg)
    assert held.value.code == "not_authorized"
    delivery.rollback()
    room.act("authorize", part="theory", reason=admin)
    _start(reg)
    assert delivery.sitting_of(reg, "theory").state == "in_progress"
    lateness = {"category": "candidate", "code": "late", "text": "交通延误"}
    outcome = room.act("authorize", [late.id], part="theory", reason=lateness)
    assert outcome.applied == [late.id]
    sitting = delivery.sitting_of(late, "theory")
    assert sitting.state == "in_progress"
    assert sitting.events[-1].actor_kind == "invigilator"


def test_bad_requests_name_what_is_wrong() -> None:
    base = {"plan_id": 1, "room_id": 1, "targets": "room", "reason": REASON}
    cases = [
        ({**base, "action": "teleport"}, "未知操作"),
        ({**base, "action": "pause"}, "需要指明考试部分"),
        ({**base, "action": "extend", "part": "theory", "minutes": 0}, "正整数"),
        ({**base, "action": "extend", "part": "theory", "minutes": 500}, "最多延长"),
        ({**base, "action": "void"}, "只能针对选定的考生"),
        ({**base, "action": "broadcast", "message": "  "}, "请填写通知内容"),
        ({**base, "action": "broadcast", "message": "x", "reason": None}, "写明原因"),
        (
            {**base, "action": "broadcast", "message": "x", "reason": {"category": "x"}},
            "原因类别",
        ),
        (
            {**base, "action": "broadcast", "message": "x", "reason": REASON | {"code": "other"}}
            | {"reason": {"category": "environment", "code": "other", "text": ""}},
            "请填写原因说明",
        ),
        (
            {**base, "action": "broadcast", "message": "x", "reason": REASON | {"code": "flood"}},
            "「环境」类原因应为",
        ),
        ({**base, "action": "approve_switch", "targets": [1, 2]}, "每次只处理一名考生"),
        ({**base, "action": "warn", "targets": [0]}, "正整数"),
        ({**base, "action": "broadcast", "message": "x", "extra": 1}, "未知字段"),
    ]
    for payload, message in cases:
        with pytest.raises(ActionError, match=message):
            parse_action(payload, ("theory", "practical"))


def test_the_audit_log_is_append_only(room: Room101) -> None:
    record = room.act("broadcast", message="还有 15 分钟").record
    row = db.session.get(ProctorAction, record.id)
    row.reason_text = "改过的原因"
    with pytest.raises(PermissionError, match="只能追加"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ProctorAction, record.id))
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(ProctorAction, record.id).reason_text == "配电箱跳闸"


def test_the_board_shows_progress_presence_and_anomalies(room: Room101) -> None:
    reg = room.regs[0]
    _start(reg)
    services.opened(reg, "sid-1", "10.0.0.5", T0)
    delivery.record_anomaly(reg, "copy", None, "", T0 + timedelta(seconds=5))
    delivery.commit()
    board = services.board(room.plan, room.room, T0 + timedelta(seconds=10))
    seat = next(s for s in board["seats"] if s["registration_id"] == reg.id)
    assert seat["presence"] == "online" and seat["name"] == reg.candidate.name
    theory = seat["parts"][0]
    assert theory["state"] == "in_progress" and theory["total"] >= 50
    assert seat["anomalies"]["count"] == 1 and seat["anomalies"]["latest"]["text"] == "尝试复制"
    assert len(board["seats"]) == len(room.regs)
    services.closed("sid-1", T0 + timedelta(seconds=20))
    delivery.commit()
    later = services.seat(reg, T0 + timedelta(seconds=50))
    assert later["presence"] == "offline"
    assert later["presence_since"] == int((T0 + timedelta(seconds=20)).timestamp() * 1000)


def test_answered_counts_follow_every_write(room: Room101) -> None:
    reg = room.regs[0]
    _start(reg)
    single = next(i for i in delivery.paper_items(reg) if i.view.item_type == "single")
    position, label = single.view.position, single.view.labels[0]

    def save(seq: int, value: Any) -> dict[str, Any]:
        change = {"seq": seq, "position": position, "value": value}
        ack = delivery.save_answer(reg, "theory", change, T0)
        delivery.commit()
        return ack

    other = single.view.labels[1]
    assert save(1, label)["answered"] == 1
    assert save(2, other)["answered"] == 1  # a new choice for the same item
    assert save(3, None)["answered"] == 0
    assert delivery.sitting_of(reg, "theory").answered == 0


def test_time_lost_in_a_room_wide_outage_is_credited_once(room: Room101) -> None:
    a, b, c = room.regs[:3]
    for reg in (a, b, c):
        _start(reg)
        services.opened(reg, f"sid-{reg.id}", "", T0)
    delivery.commit()
    cut, back = T0 + timedelta(minutes=5), T0 + timedelta(minutes=8)
    for reg in (a, b):  # two of the three connected candidates lose the network together
        services.closed(f"sid-{reg.id}", cut)
        services.opened(reg, f"sid2-{reg.id}", "", back)
    services.beat(f"sid-{c.id}", back)
    delivery.commit()
    before = _deadline(a, back)
    changed = services.credit_outages(a, back)
    delivery.commit()
    assert [s.part_kind for s in changed] == ["theory"]
    assert _deadline(a, back) == before + timedelta(minutes=3)
    assert services.credit_outages(a, back) == []  # already given
    assert services.credit_outages(c, back) == []  # never away
    event = delivery.sitting_of(a, "theory").events[-1]
    assert (event.kind, event.data["seconds"], event.actor_kind) == ("outage_credit", 180, "system")


def test_a_connects_core_read_credits_the_outage_as_the_orm_path_does(
    room: Room101, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket's connect hands credit_outages a ``SignedIn`` (one Core read): a candidate
    who was away is credited through the ORM path; one never away never loads it."""
    a, b, c = room.regs[:3]
    logins = {}
    for reg in (a, b, c):
        logins[reg.id] = delivery.sign_in(
            str(reg.ticket_number), reg.candidate.id_number, "", ""
        ).id
        _start(reg)
        services.opened(reg, f"sid-{reg.id}", "", T0)
    delivery.commit()
    cut, back = T0 + timedelta(minutes=5), T0 + timedelta(minutes=8)
    for reg in (a, b):
        services.closed(f"sid-{reg.id}", cut)
        services.opened(reg, f"sid2-{reg.id}", "", back)
    services.beat(f"sid-{c.id}", back)
    delivery.commit()
    loaded = []
    real = delivery.registration_of
    monkeypatch.setattr(delivery, "registration_of", lambda r: loaded.append(r.id) or real(r))
    never_away = signed.by_login(logins[c.id])
    assert never_away is not None and services.credit_outages(never_away, back) == []
    assert loaded == []  # nothing to credit: the ORM registration was never loaded
    before = _deadline(a, back)
    away = signed.by_login(logins[a.id])
    assert away is not None
    assert [s.part_kind for s in services.credit_outages(away, back)] == ["theory"]
    delivery.commit()
    assert loaded == [a.id]
    assert _deadline(a, back) == before + timedelta(minutes=3)


def test_a_candidate_alone_offline_gets_no_credit(room: Room101) -> None:
    a, b, c = room.regs[:3]
    for reg in (a, b, c):
        _start(reg)
        services.opened(reg, f"sid-{reg.id}", "", T0)
    services.closed(f"sid-{a.id}", T0 + timedelta(minutes=5))
    services.opened(a, "again", "", T0 + timedelta(minutes=8))
    for reg in (b, c):
        services.beat(f"sid-{reg.id}", T0 + timedelta(minutes=8))
    delivery.commit()
    assert services.credit_outages(a, T0 + timedelta(minutes=8)) == []


def test_a_pushed_seat_equals_the_boards_and_counts_warnings_apart_from_anomalies(
    room: Room101,
) -> None:
    reg, other = room.regs[0], room.regs[1]
    _start(reg)
    delivery.record_anomaly(reg, "focus_lost", None, "", T0 + timedelta(seconds=5))
    delivery.record_anomaly(reg, "focus_back", None, "", T0 + timedelta(seconds=6))
    delivery.commit()
    misconduct = {"category": "candidate", "code": "misconduct", "text": "交头接耳"}
    room.act("warn", [reg.id], reason=misconduct)
    room.act("warn", [reg.id], reason=misconduct)
    room.act("warn", [other.id], reason=misconduct)
    now = T0 + timedelta(seconds=10)
    seat = services.seat(reg, now)
    assert seat["warnings"] == 2 and services.seat(other, now)["warnings"] == 1
    assert seat["anomalies"]["count"] == 1  # leaving the page; coming back and warnings are not
    assert seat["anomalies"]["latest"]["kind"] == "focus_lost"
    board = services.board(room.plan, room.room, now)
    assert next(s for s in board["seats"] if s["registration_id"] == reg.id) == seat
    # the items per part are the paper's, counted once and kept for every later seat
    counts = dict(
        db.session.execute(
            select(PaperItem.part_kind, func.count())
            .where(PaperItem.paper_id == reg.paper_id)
            .group_by(PaperItem.part_kind)
        ).all()
    )
    assert {p["part"]: p["total"] for p in seat["parts"]} == counts
    statements: list[str] = []
    listen = event.listens_for(db.engine, "before_cursor_execute")
    listen(lambda *args: statements.append(args[2]))
    assert services.seat(reg, now) == seat
    assert not any("paper_item" in s for s in statements)  # the totals are kept
