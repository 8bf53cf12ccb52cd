"""The delivery benchmark's exam: a fresh database with N candidates through the product's own
use cases (catalog load, bank import, blueprint, plan, rooms, roster import, publish), and the
answers stored afterwards, read back to find lost ones.

The plan is the demo's (Web 前端开发 初级) scaled up: one site with rooms of 38 seats, a roster
of N candidates imported from an Excel workbook like an institution's, papers assembled and
frozen at publish. Its theory part opens at the current minute, so every candidate can start.
"""

from __future__ import annotations

import io
import json
import os
import random
import sqlite3
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from openpyxl import Workbook
from sqlalchemy import select

from examsvc import create_app
from examsvc.assembly.models import Blueprint
from examsvc.assembly.services import MAX_PAPERS, load_blueprint_file
from examsvc.auth.roles import Role
from examsvc.auth.services import create_user
from examsvc.bank.services import import_bank
from examsvc.bank.yaml_format import read_bank_dir
from examsvc.catalog.services import ensure_organization, find_level
from examsvc.config import ROOT
from examsvc.delivery.answers import display_value
from examsvc.delivery.models import Answer, Sitting
from examsvc.delivery.services import paper_items
from examsvc.demo import OWNERS, load_catalog
from examsvc.extensions import db
from examsvc.plans.demo import GIVEN, SURNAMES
from examsvc.plans.models import SITE_TZ
from examsvc.plans.services import PlanData, add_room, publish, save_plan
from examsvc.registration.identity import iso7064_mod11_2
from examsvc.registration.models import Registration
from examsvc.registration.roster_format import HEADERS, SHEET
from examsvc.registration.services import import_roster
from examsvc.sites.models import Room, Site

SECRET = "delivery-bench"
ROWS, COLUMNS, SPARE = 5, 8, [39, 40]  # 38 seats a room
ROOMS_PER_SITE = 90


@dataclass(frozen=True)
class Seat:
    """One registered candidate, as a client needs it: sign-in and the single-choice items of
    the theory part (position → the labels shown)."""

    reg_id: int
    ticket: str
    id_number: str
    singles: list[tuple[int, str]]


def make_app(url: str) -> Flask:
    os.environ.setdefault("SECRET_KEY", SECRET)  # not the instance folder's key

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "RATELIMIT_ENABLED": False}
    )


def id_number(n: int) -> str:
    """A valid-looking ID of a 2004–2006-born student in 南京; unique for n < 900,000."""

    born = date(2004, 1, 1) + timedelta(days=n % 900)
    body = f"320102{born:%Y%m%d}{100 + n // 900:03d}"
    return body + iso7064_mod11_2(body)


def roster(count: int, institution: str, first: int) -> bytes:
    """An Excel roster (报名表) of ``count`` eligible candidates, as an institution uploads it."""

    rng = random.Random(2026 + first)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    ws.append(list(HEADERS))
    for n in range(first, first + count):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        klass = f"软件 24{n // 40 % 60:02d} 班"
        phone = f"139{n:08d}"
        cells = [name, id_number(n), "", institution, "软件技术", klass, phone, "否", "初级"]
        ws.append([*cells, "", "0", "高职", "是", "是"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def build(path: Path, count: int) -> list[Seat]:
    """Create ``path`` (SQLite) with a published plan of ``count`` candidates; their seats."""

    app = make_app(f"sqlite:///{path}")
    banks = ROOT / "question_banks"
    with app.app_context():
        upgrade()
        owner = ensure_organization("miit-eec", "工业和信息化部教育与考试中心")
        college = ensure_organization("college", "示范职业技术学院", "institution")
        load_catalog(banks, OWNERS | {"*": "miit-eec"})
        admin = create_user("admin", "bench-password", "管理员", {Role.ORG_ADMIN}, owner.id)
        data, _ = read_bank_dir(banks / "web-frontend-junior", banks)
        import_bank(data, None)
        load_blueprint_file(banks / "blueprints" / "web-frontend-junior.yaml")
        level = find_level("web-frontend", "junior")
        blueprint = db.session.scalar(
            select(Blueprint).where(Blueprint.scheme_id == level.scheme.id)
        )
        assert blueprint is not None
        now = datetime.now(SITE_TZ).replace(tzinfo=None, second=0, microsecond=0)
        seats = ROWS * COLUMNS - len(SPARE)
        # A plan assembles at most MAX_PAPERS papers: a bigger day is several plans, each
        # with sites of its own (a room serves one plan at a time).
        plans = -(-count // MAX_PAPERS)
        sites, done, registrations = 0, 0, []
        for p in range(plans):
            in_plan = (count - done) // (plans - p)
            plan = save_plan(
                admin,
                PlanData(
                    level_id=level.id,
                    batch=f"性能测试 {p + 1}",
                    starts={"theory": now, "practical": now + timedelta(hours=3)},
                    fees={"theory": "150", "practical": "230"},
                ),
            )
            rooms = -(-in_plan // seats)
            placed = 0
            while placed < in_plan:
                in_site = min(ROOMS_PER_SITE, rooms)
                rooms -= in_site
                sites += 1
                site = _site(sites, in_site, owner.id, college.id)
                for room in site.rooms:
                    add_room(plan, room.id)
                here = min(in_plan - placed, in_site * seats)
                data = roster(here, college.name, done + placed)
                import_roster(plan, site, data, "报名表.xlsx", admin)
                placed += here
            publish(plan, blueprint.id, "bench", admin)
            registrations += plan.registrations
            done += in_plan
        db.session.commit()
        out = [_seat(reg) for reg in sorted(registrations, key=lambda r: r.id)]
        db.session.remove()
        db.engine.dispose()
    with sqlite3.connect(path) as conn:  # one file to copy: the WAL folded in
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return out


def _site(number: int, rooms: int, owner_id: int, college_id: int) -> Any:

    site = Site(number=number, name=f"考点 {number}", organization_id=owner_id)
    site.institution_id = college_id
    site.rooms = [
        Room(number=r + 1, name=f"机房 {r + 1:02d}", rows=ROWS, columns=COLUMNS, spare_seats=SPARE)
        for r in range(rooms)
    ]
    db.session.add(site)
    db.session.flush()
    return site


def _seat(reg: Any) -> Seat:

    singles = [
        (i.view.position, "ABCDEFGH"[: i.view.option_count])
        for i in paper_items(reg)
        if i.view.part == "theory" and i.view.item_type == "single"
    ]
    return Seat(reg.id, reg.ticket_number or "", reg.candidate.id_number, singles)


def save_seats(path: Path, seats: list[Seat]) -> None:
    path.write_text(json.dumps([asdict(s) for s in seats]))


def load_seats(path: Path) -> list[Seat]:
    return [
        Seat(s["reg_id"], s["ticket"], s["id_number"], [tuple(x) for x in s["singles"]])
        for s in json.loads(path.read_text())
    ]


# ---- what was stored ----------------------------------------------------------------------------

Stored = dict[tuple[int, int], tuple[int, Any]]  # (registration, position) → (seq, shown value)


def product_answers(url: str) -> Stored:
    """Every stored theory answer, its value as the candidate's labels show it."""

    app = make_app(url)
    out: Stored = {}
    with app.app_context():
        rows = db.session.execute(
            select(Sitting.registration_id, Answer).join(Answer, Answer.sitting_id == Sitting.id)
        ).all()
        views: dict[int, dict[int, Any]] = {}
        for reg_id, answer in rows:
            if reg_id not in views:
                reg = db.session.get(Registration, reg_id)
                views[reg_id] = {i.view.position: i.view for i in paper_items(reg)}
            shown = display_value(views[reg_id][answer.position], answer.value)
            out[(reg_id, answer.position)] = (answer.seq, shown)
        db.session.remove()
        db.engine.dispose()
    return out


def bare_answers(path: Path) -> Stored:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT registration, position, seq, value FROM answer").fetchall()
    return {(r, p): (s, json.loads(v)) for r, p, s, v in rows}
