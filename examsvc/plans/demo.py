"""The demo's exam day: a site with two rooms, a Web 前端开发 初级 plan open today, 30 candidates.

Candidates are registered through the same use cases as a real roster, so eligibility, fees,
seating, ticket numbers and papers are all real. Idempotent: an existing demo plan is kept.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from ..assembly.models import Blueprint
from ..auth.models import User
from ..catalog.models import Organization
from ..catalog.services import find_level
from ..extensions import db
from ..registration.identity import iso7064_mod11_2
from ..registration.roster_format import RosterRow
from ..registration.services import register
from ..sites.models import Room, Site
from .models import SITE_TZ, ExamPlan
from .services import PlanData, add_room, assign_staff, publish, save_plan

BATCH = "演示批次"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = [
    "子涵",
    "浩然",
    "欣怡",
    "宇轩",
    "梓萱",
    "俊杰",
    "诗琪",
    "明哲",
    "雨桐",
    "嘉怡",
    "思远",
    "佳琪",
]
CLASSES = ["软件 2401 班", "软件 2402 班", "网络 2401 班"]


def demo_id_number(n: int) -> str:
    """A valid-looking ID of a 2006-born student in 南京 (320102); not a real person's."""
    born = date(2006, 1, 1) + timedelta(days=17 * n)
    body = f"320102{born:%Y%m%d}{100 + n:03d}"
    return body + iso7064_mod11_2(body)


def _site(org: Organization, institution: Organization) -> Site:
    site = db.session.scalar(select(Site).where(Site.number == 1))
    if site is None:
        site = Site(
            number=1,
            name="示范职业技术学院考点",
            address="江苏省南京市玄武区示范路 1 号 实训楼",
            organization_id=org.id,
            institution_id=institution.id,
        )
        site.rooms = [
            Room(number=1, name="机房 101", rows=5, columns=7, spare_seats=[34, 35]),
            Room(number=2, name="机房 102", rows=5, columns=7, spare_seats=[34, 35]),
        ]
        db.session.add(site)
        db.session.flush()
    return site


def _start_today() -> datetime:
    """Theory from the start of the current quarter hour (site time), so that right after
    ``make run`` a demo candidate can sign in and start it."""
    here = datetime.now(SITE_TZ).replace(tzinfo=None, second=0, microsecond=0)
    return here - timedelta(minutes=here.minute % 15)


def load_demo_plan(owner_code: str, institution_code: str) -> list[str]:
    org = db.session.scalar(select(Organization).where(Organization.code == owner_code))
    institution = db.session.scalar(
        select(Organization).where(Organization.code == institution_code)
    )
    if org is None or institution is None:
        return []
    site = _site(org, institution)
    users = {u.username: u for u in db.session.scalars(select(User))}
    for name in ("siteadmin", "invigilator"):
        if name in users and users[name].site_id is None:
            users[name].site_id = site.id
    existing = db.session.scalar(select(ExamPlan).where(ExamPlan.batch == BATCH))
    if existing is not None:
        return [f"考核计划 {BATCH}: 已有，未改动", *_candidate_line(existing)]
    admin = users["admin"]
    level = find_level("web-frontend", "junior")
    theory = _start_today()
    plan = save_plan(
        admin,
        PlanData(
            level_id=level.id,
            batch=BATCH,
            starts={"theory": theory, "practical": theory + timedelta(hours=2)},
            fees={"theory": "150", "practical": "230"},
        ),
    )
    for room in site.rooms:
        add_room(plan, room.id)
    rng = random.Random(2026)
    for n in range(30):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        number = demo_id_number(n)
        row = RosterRow(
            row=n + 2,
            name=name,
            id_number=number,
            gender="男" if int(number[16]) % 2 else "女",
            institution=institution.name,
            major="软件技术" if n % 3 < 2 else "计算机网络技术",
            class_name=CLASSES[n % 3],
            phone=f"1390000{n:04d}",
            poor_family=n % 10 == 7,
            level=level.name,
            certificates=(),
            years_in_trade=Decimal(0),
            education="高职",
            trained=True,
            graduating=True,
        )
        register(plan, site, row, admin)
    for room in site.rooms:
        if "invigilator" in users:
            assign_staff(plan, users["invigilator"].id, "invigilator", room.id)
    for name in ("rater", "rater2"):
        if name in users:
            assign_staff(plan, users[name].id, "rater", None)
    blueprint = db.session.scalar(
        select(Blueprint).where(Blueprint.scheme_id == level.scheme.id).order_by(Blueprint.id)
    )
    if blueprint is not None:
        publish(plan, blueprint.id, "demo", admin)
    lines = [
        f"考核计划 {plan.title}: 新增，30 名考生，理论 {theory:%Y-%m-%d %H:%M} 开考"
        + ("，已发布" if plan.state == "published" else "")
    ]
    return lines + _candidate_line(plan)


def _candidate_line(plan: ExamPlan) -> list[str]:
    """How to sign in as the first demo candidate, once the plan has ticket numbers."""
    seated = [r for r in plan.registrations if r.ticket_number]
    if not seated:
        return []
    first = min(seated, key=lambda r: r.ticket_number or "")
    return [
        f"演示考生（/exam/login）：准考证号 {first.ticket_number}，"
        f"身份证号 {first.candidate.id_number}（{first.candidate.name}）"
    ]
