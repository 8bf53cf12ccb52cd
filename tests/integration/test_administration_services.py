"""Exam administration against a real database: plans, rooms, rosters, eligibility, fees,
seating and publishing, each rule refusing bad input without storing any part of it."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from examsvc.assembly.services import load_blueprint_file
from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.bank.services import import_bank
from examsvc.bank.yaml_format import read_bank_dir
from examsvc.catalog.models import Organization
from examsvc.catalog.services import find_level
from examsvc.config import ROOT
from examsvc.errors import DomainError
from examsvc.extensions import db
from examsvc.plans.demo import demo_id_number
from examsvc.plans.models import ExamPlan
from examsvc.plans.seats import move_seat, seating_quality
from examsvc.plans.services import PlanData, add_room, publish, save_plan, staff_warnings
from examsvc.plans.ticket_number import parse_ticket_number
from examsvc.registration.models import Candidate, Registration
from examsvc.registration.roster_format import RosterRow, roster_template, row_from_fields
from examsvc.registration.services import (
    fee_summary,
    import_roster,
    load_rules_file,
    register,
)
from examsvc.sites.models import Room, Site

BANKS = ROOT / "question_banks"
NINE = datetime(2026, 12, 5, 9, 0)


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ORG_ADMIN)


@pytest.fixture
def site(catalog: dict[str, Organization]) -> Site:
    row = Site(number=7, name="示范考点", organization_id=catalog["miit-eec"].id)
    row.rooms = [
        Room(number=1, name="机房 101", rows=2, columns=3, spare_seats=[6]),
        Room(number=2, name="机房 102", rows=2, columns=3, blocked_seats=[1]),
    ]
    db.session.add(row)
    db.session.commit()
    return row


def _plan(admin: User, batch: str = "第一批", start: datetime = NINE, **fees: str) -> ExamPlan:
    level = find_level("web-frontend", "junior")
    data = PlanData(
        level_id=level.id,
        batch=batch,
        starts={"theory": start, "practical": start + timedelta(hours=3)},
        fees=fees or {"theory": "150", "practical": "230"},
    )
    return save_plan(admin, data)


def _row(n: int, **changes: object) -> RosterRow:
    fields: dict[str, object] = {
        "name": f"考生{n:02d}",
        "id_number": demo_id_number(n),
        "institution": "示范职业技术学院",
        "class_name": f"软件 240{n % 2 + 1} 班",
        "level": "初级",
        "education": "高职",
    }
    row, problems = row_from_fields(fields | changes)
    assert row is not None, problems
    return row


def test_a_fee_above_the_cap_is_refused_and_nothing_stored(admin: User) -> None:
    with pytest.raises(DomainError) as caught:
        _plan(admin, theory="200", practical="250")
    assert any("上限 400" in p for p in caught.value.details), caught.value.details
    db.session.rollback()
    assert _count(ExamPlan) == 0


def test_overlapping_sessions_in_one_room_are_refused(admin: User, site: Site) -> None:
    first = _plan(admin)
    add_room(first, site.rooms[0].id)
    second = _plan(admin, "第二批", NINE + timedelta(hours=1))
    with pytest.raises(DomainError, match="重叠"):
        add_room(second, site.rooms[0].id)
    add_room(second, site.rooms[1].id)  # the other room is free then


def test_registration_computes_fees_and_refuses_duplicates_and_a_full_site(
    admin: User, site: Site
) -> None:
    plan = _plan(admin)
    add_room(plan, site.rooms[0].id)  # 6 seats, one spare: 5 candidates fit
    register(plan, site, _row(1), admin)
    register(plan, site, _row(2, poor_family=True), admin)
    with pytest.raises(DomainError) as caught:
        register(plan, site, _row(1), admin)
    assert "已在本计划报名" in caught.value.details[0]
    for n in (3, 4, 5):
        register(plan, site, _row(n), admin)
    with pytest.raises(DomainError) as full:
        register(plan, site, _row(6), admin)
    assert "坐满" in full.value.details[0]
    fees = {r.candidate.name: r.fee for r in plan.registrations}
    assert fees["考生01"] == Decimal("380.00") and fees["考生02"] == Decimal("0.00")
    (summary,) = fee_summary(plan, admin)
    assert (summary.candidates, summary.exempt, summary.total) == (5, 1, Decimal("1520.00"))


def _roster(rows: list[list[object]]) -> bytes:
    wb = load_workbook(io.BytesIO(roster_template()))
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            ws.cell(row=r, column=c, value=value)
    assert headers[:2] == ["姓名", "身份证号"]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _line(n: int, id_number: str | None = None, gender: str = "") -> list[object]:
    return [
        f"考生{n:02d}", id_number or demo_id_number(n), gender, "示范职业技术学院", "软件技术",
        "软件 2401 班", "", "否", "初级", "", 0, "高职", "否", "是",
    ]  # fmt: skip


def test_a_roster_with_one_bad_row_imports_nothing(admin: User, site: Site) -> None:
    plan = _plan(admin)
    add_room(plan, site.rooms[0].id)
    bad_check = demo_id_number(3)[:-1] + ("0" if demo_id_number(3)[-1] != "0" else "1")
    data = _roster([_line(1), _line(2), _line(3, bad_check), _line(4, demo_id_number(1))])
    with pytest.raises(DomainError) as caught:
        import_roster(plan, site, data, "报名表.xlsx", admin)
    details = "\n".join(caught.value.details)
    assert "第 4 行「身份证号」" in details and "校验码" in details
    assert "第 5 行「身份证号」" in details and "第 2 行" in details  # the duplicate
    db.session.rollback()
    assert _count(Registration) == 0 and _count(Candidate) == 0


def test_a_good_roster_registers_everyone(admin: User, site: Site) -> None:
    plan = _plan(admin)
    add_room(plan, site.rooms[0].id)
    regs = import_roster(plan, site, _roster([_line(n) for n in (1, 2, 3)]), "a.xlsx", admin)
    assert [r.candidate.name for r in regs] == ["考生01", "考生02", "考生03"]
    assert all(r.fee == Decimal("380.00") for r in regs)


def test_more_rows_than_seats_imports_nothing(admin: User, site: Site) -> None:
    plan = _plan(admin)
    add_room(plan, site.rooms[0].id)
    data = _roster([_line(n) for n in range(1, 8)])
    with pytest.raises(DomainError) as caught:
        import_roster(plan, site, data, "a.xlsx", admin)
    assert any("只剩 5 个座位" in p for p in caught.value.details)


def test_logistics_eligibility_refuses_with_the_reason(
    admin: User, site: Site, make_user: Callable[..., User]
) -> None:
    load_rules_file(BANKS / "eligibility" / "logistics.yaml")
    cflp = make_user(Role.ORG_ADMIN, org="cflp")
    site.organization_id = cflp.organization_id
    level = find_level("logistics", "junior")
    plan = save_plan(
        cflp,
        PlanData(level.id, "物流一批", {"theory": NINE, "practical": NINE + timedelta(hours=3)},
                 {"theory": "100", "practical": "100"}),
    )  # fmt: skip
    add_room(plan, site.rooms[0].id)
    ok = _row(1, education="中职", major="现代物流管理", graduating=True)
    register(plan, site, ok, cflp)
    with pytest.raises(DomainError) as caught:
        register(plan, site, _row(2, education="高中", major="会计", years_in_trade=0.5), cflp)
    reasons = "".join(caught.value.details)
    assert "不符合" in reasons and "1 年" in reasons, reasons


def test_publish_seats_everyone_and_gives_each_a_paper(
    admin: User, site: Site, make_user: Callable[..., User]
) -> None:
    data, _ = read_bank_dir(BANKS / "web-frontend-junior", BANKS)
    import_bank(data, None)
    blueprint, _created = load_blueprint_file(BANKS / "blueprints" / "web-frontend-junior.yaml")
    assert blueprint is not None
    plan = _plan(admin)
    for room in site.rooms:
        add_room(plan, room.id)
    for n in range(1, 9):
        register(plan, site, _row(n), admin)
    assert staff_warnings(plan)  # no invigilators, no raters yet
    publish(plan, blueprint.id, "s1", admin)
    db.session.commit()
    regs = plan.registrations
    assert plan.state == "published" and plan.paper_set is not None
    assert len({r.paper_id for r in regs}) == 8 and None not in {r.paper_id for r in regs}
    assert len({(r.room_id, r.seat) for r in regs}) == 8
    assert all(r.seat not in r.room.spare_seats + r.room.blocked_seats for r in regs)
    for r in regs:
        parts = parse_ticket_number(r.ticket_number or "")
        assert (parts.site, parts.room, parts.seat) == (7, r.room.number, r.seat)
    assert seating_quality(plan).unseated == 0
    with pytest.raises(DomainError, match="草稿"):
        register(plan, site, _row(20), admin)
    with pytest.raises(DomainError, match="草稿"):
        move_seat(plan, regs[0].id, regs[0].room_id or 0, 2)
