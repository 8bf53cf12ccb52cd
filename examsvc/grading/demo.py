"""The demo's finished exam: a Web 前端开发 初级 plan sat six weeks ago, graded and released.

Twenty-four candidates sit in their own room (机房 201) so the plan never competes with the open
demo plan for seats. Their answers are written as delivery stores them (original option keys,
practical text), then graded through the real use cases: theory scored against the keys,
practical scripts under marking numbers marked twice by ``rater`` and ``rater2``, the gaps
arbitrated by the senior rater ``arbiter``, results released. Some candidates pass, some fail
one part, two are absent and one was voided, so results, statistics, exports and appeals all
have something to show. Idempotent: an existing plan is kept.

The answer helpers are used by the tests too.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import select

from ..assembly.models import Blueprint, PaperItem
from ..auth.models import User, utcnow
from ..auth.roles import Role
from ..auth.services import create_user
from ..bank.models import Item, ItemVersion
from ..catalog.models import Organization
from ..catalog.services import find_level
from ..delivery import services as delivery
from ..delivery.models import Answer, Sitting, SittingEvent
from ..extensions import db
from ..plans.demo import CLASSES, GIVEN, SURNAMES, demo_id_number
from ..plans.models import SITE_TZ, ExamPlan
from ..plans.services import PlanData, add_room, advance, assign_staff, publish, save_plan
from ..registration.models import Registration
from ..registration.roster_format import RosterRow
from ..registration.services import register
from ..sites.models import Room, Site
from . import practical, services
from .models import Script, SeniorRater

BATCH = "演示批次（已结束）"
ARBITER = ("arbiter", "高级考评员 钱坤")
CANDIDATES = 24
# Per candidate: theory items answered correctly (of 50, 2 points each) and the share of each
# rubric criterion the raters give; None = absent from that part; "void" = voided practical.
PROFILES: list[tuple[int | None, float | str | None]] = [
    (46, 0.9), (43, 0.8), (41, 0.85), (38, 0.7), (36, 0.75), (34, 0.66), (33, 0.62),
    (31, 0.64), (30, 0.61), (40, 0.45), (35, 0.5), (29, 0.8), (27, 0.7), (44, 0.9),
    (39, 0.68), (32, 0.72), (25, 0.4), (45, None), (None, None), (None, None), (37, "void"),
    (42, 0.78), (30, 0.6), (28, 0.55),
]  # fmt: skip


# ---- answers as delivery stores them ---------------------------------------------------------


def _wrong(version: ItemVersion, kind: str) -> Any:
    if kind == "truefalse":
        return version.answer != "true"
    keys = [k for k, _ in version.options]
    wrong = next(k for k in keys if k not in version.answer)
    return wrong if kind == "single" else [wrong]


def _right(version: ItemVersion, kind: str) -> Any:
    if kind == "truefalse":
        return version.answer == "true"
    return version.answer if kind == "single" else sorted(version.answer)


def _items(reg: Registration, part: str) -> list[tuple[int, ItemVersion, str]]:
    return [
        (position, version, kind)
        for position, version, kind in db.session.execute(
            select(PaperItem.position, ItemVersion, Item.type)
            .join(ItemVersion, PaperItem.item_version_id == ItemVersion.id)
            .join(Item, ItemVersion.item_id == Item.id)
            .where(PaperItem.paper_id == reg.paper_id, PaperItem.part_kind == part)
            .order_by(PaperItem.position)
        )
    ]


def _hand_in(reg: Registration, part: str, values: dict[int, Any], at: datetime) -> Sitting:
    sitting = next(s for s in delivery.sittings_of(reg) if s.part_kind == part)
    for seq, (position, value) in enumerate(values.items(), 1):
        db.session.add(Answer(sitting_id=sitting.id, position=position, value=value, seq=seq))
    sitting.state, sitting.started_at, sitting.ended_at = "submitted", at, at
    sitting.last_seq = sitting.answered = len(values)
    db.session.flush()
    return sitting


def sit_theory(reg: Registration, correct: int, at: datetime, blank: int = 0) -> Sitting:
    """The theory part handed in: the first ``correct`` items right, ``blank`` items at the end
    unanswered, the rest wrong."""
    items = _items(reg, "theory")
    values = {
        position: _right(version, kind) if n < correct else _wrong(version, kind)
        for n, (position, version, kind) in enumerate(items[: len(items) - blank])
    }
    return _hand_in(reg, "theory", values, at)


def sit_practical(reg: Registration, at: datetime, texts: Sequence[str] | None = None) -> Sitting:
    """The practical part handed in with a text answer to each item (empty: unanswered)."""
    items = _items(reg, "practical")
    chosen = (
        list(texts) if texts is not None else [f"<main>作答 {n}</main>" for n in range(len(items))]
    )
    values = {
        position: {"text": text}
        for (position, _, _), text in zip(items, chosen, strict=False)
        if text
    }
    return _hand_in(reg, "practical", values, at)


def void_part(reg: Registration, part: str, at: datetime, reason: str) -> Sitting:
    """A part voided by the invigilator (违纪), as the invigilation log records it."""
    sitting = next(s for s in delivery.sittings_of(reg) if s.part_kind == part)
    sitting.events.append(
        SittingEvent(kind="void", from_state=sitting.state, to_state="voided",
                     actor_kind="invigilator", reason=reason, at=at)
    )  # fmt: skip
    sitting.state, sitting.started_at, sitting.ended_at = "voided", at, at
    db.session.flush()
    return sitting


def marks_for(script: Script, share: float, step: Decimal = Decimal("0.5")) -> list[str]:
    """Scores giving about ``share`` of each criterion's points, in steps of ``step``."""
    rubric = practical.rubric_of(script.version, step)
    out = []
    for criterion in rubric.criteria:
        raw = (criterion.points * Decimal(str(share)) / step).to_integral_value(ROUND_DOWN)
        out.append(services._plain(min(raw * step, criterion.points)))
    return out


# ---- the finished demo plan ------------------------------------------------------------------


def _room(site: Site) -> Room:
    room = next((r for r in site.rooms if r.number == 3), None)
    if room is None:
        room = Room(number=3, name="机房 201", rows=5, columns=6, spare_seats=[29, 30])
        site.rooms.append(room)
        db.session.flush()
    return room


def _arbiter(org: Organization, password: str) -> User:
    user = db.session.scalar(select(User).where(User.username == ARBITER[0]))
    if user is None:
        user = create_user(ARBITER[0], password, ARBITER[1], {Role.RATER}, org.id)
    return user


def _register(plan: ExamPlan, site: Site, institution: str, admin: User) -> None:
    rng = random.Random(2025)
    level = plan.level
    for n in range(CANDIDATES):
        number = demo_id_number(40 + n)
        row = RosterRow(
            row=n + 2,
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            id_number=number,
            gender="男" if int(number[16]) % 2 else "女",
            institution=institution,
            major="软件技术" if n % 3 < 2 else "计算机网络技术",
            class_name=CLASSES[n % 3],
            phone=f"1390001{n:04d}",
            poor_family=n % 10 == 3,
            level=level.name,
            certificates=(),
            years_in_trade=Decimal(0),
            education="高职",
            trained=True,
            graduating=True,
        )
        register(plan, site, row, admin)


def _sit(plan: ExamPlan, at: datetime) -> None:
    regs = sorted(plan.registrations, key=lambda r: r.ticket_number or "")
    for reg, (theory, share) in zip(regs, PROFILES, strict=True):
        if theory is not None:
            sit_theory(reg, theory, at)
        if share == "void":
            void_part(reg, "practical", at + timedelta(hours=3), "夹带资料，经监考员核实")
        elif share is not None:
            sit_practical(reg, at + timedelta(hours=3))


def _mark(plan: ExamPlan, now: datetime) -> None:
    shares = {
        r.id: share
        for r, (_, share) in zip(
            sorted(plan.registrations, key=lambda r: r.ticket_number or ""), PROFILES, strict=True
        )
    }
    users = {u.id: u for u in db.session.scalars(select(User))}
    scripts = db.session.scalars(
        select(Script).where(Script.plan_id == plan.id, Script.blank.is_(False)).order_by(Script.id)
    ).all()
    for n, script in enumerate(scripts):
        share = shares[script.registration_id]
        assert isinstance(share, float)
        gap = 0.35 if n % 9 == 4 else 0.04  # now and then the raters disagree: arbitration
        first, second = share, max(0.0, share - gap)
        for rater_id, given in ((script.first_rater_id, first), (script.second_rater_id, second)):
            assert rater_id is not None
            practical.record_marking(users[rater_id], script.id, marks_for(script, given), [], now)
        if script.arbitration and script.arbiter_id is not None:
            practical.record_marking(
                users[script.arbiter_id], script.id, marks_for(script, share - 0.02),
                ["两位考评员分差较大，按评分细则逐项复核"], now,
            )  # fmt: skip


def load_demo_results(owner_code: str, institution_code: str, password: str) -> list[str]:
    """Add the finished, graded and released demo plan (once); the lines to print."""
    org = db.session.scalar(select(Organization).where(Organization.code == owner_code))
    institution = db.session.scalar(
        select(Organization).where(Organization.code == institution_code)
    )
    site = db.session.scalar(select(Site).where(Site.number == 1))
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    if org is None or institution is None or site is None or admin is None:
        return []
    arbiter = _arbiter(org, password)
    existing = db.session.scalar(select(ExamPlan).where(ExamPlan.batch == BATCH))
    if existing is not None:
        return [f"考核计划 {BATCH}: 已有，未改动", *_lookup_line(existing)]
    level = find_level("web-frontend", "junior")
    if level.scheme is None:
        return []
    blueprint = db.session.scalar(
        select(Blueprint).where(Blueprint.scheme_id == level.scheme.id).order_by(Blueprint.id)
    )
    if blueprint is None:
        return []
    day = (datetime.now(SITE_TZ) - timedelta(days=42)).replace(
        tzinfo=None, hour=9, minute=0, second=0, microsecond=0
    )
    plan = save_plan(
        admin,
        PlanData(
            level_id=level.id,
            batch=BATCH,
            starts={"theory": day, "practical": day + timedelta(hours=2, minutes=30)},
            fees={"theory": "150", "practical": "230"},
        ),
    )
    add_room(plan, _room(site).id)
    _register(plan, site, institution.name, admin)
    raters = [
        u for u in db.session.scalars(select(User).where(User.username.in_(("rater", "rater2"))))
    ]
    for user in [*raters, arbiter]:
        assign_staff(plan, user.id, "rater", None)
    db.session.add(SeniorRater(plan_id=plan.id, user_id=arbiter.id))
    publish(plan, blueprint.id, "demo-results", admin)
    advance(plan, "in_progress")
    _sit(plan, day.replace(tzinfo=SITE_TZ) + timedelta(hours=1))
    now = utcnow()
    services.score_theory(plan, admin, now)
    practical.prepare_marking(plan, admin, now)
    _mark(plan, now)
    services.release(plan, admin, now)
    advance(plan, "closed")
    counts: dict[str, int] = {}
    for _, result, _ in services.results_of(plan):
        counts[result.status] = counts.get(result.status, 0) + 1
    return [
        f"考核计划 {plan.title}: 新增，{CANDIDATES} 名考生已评分并发布成绩（合格 {counts.get('passed', 0)}，"
        f"不合格 {counts.get('failed', 0)}，缺考 {counts.get('absent', 0)}，"
        f"取消成绩 {counts.get('voided', 0)}）",
        *_lookup_line(plan),
    ]


def _lookup_line(plan: ExamPlan) -> list[str]:
    """One candidate who passed one part only, to try the result lookup (/results/) with."""
    for reg, result, _ in services.results_of(plan):
        if result.status == "failed" and result.theory.passed:
            return [
                f"演示成绩查询（/results/）：准考证号 {reg.ticket_number}，"
                f"身份证号 {reg.candidate.id_number}（{reg.candidate.name}）"
            ]
    return []
