"""Invigilation pages over HTTP: the rooms one may watch, the board's shell, the room record as a
page and as a PDF, the site overview, and who gets what (another room's invigilator gets 404, a
candidate's sign-in gets nothing)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.delivery import services as delivery
from examsvc.extensions import db
from examsvc.plans.models import ExamPlan
from examsvc.plans.services import assign_staff
from examsvc.proctoring import services
from examsvc.proctoring.actions import ACTIONS, REASONS, parse_action
from examsvc.registration.models import Registration
from examsvc.sites.models import Room
from tests.conftest import open_demo_plan
from tests.e2e.conftest import client_of

POWER_CUT = {"category": "environment", "code": "power_cut", "text": "配电箱跳闸"}
MISCONDUCT = {"category": "candidate", "code": "misconduct", "text": "偷看手机"}


@dataclass
class Exam:
    """The demo plan, open: rooms 101 and 102 of site 1 with their staff."""

    plan_id: int
    admin: User
    site_admin: User
    invigilator: User  # of both rooms, as the demo staffs it
    other: User  # invigilator of room 102 only

    @property
    def plan(self) -> ExamPlan:
        plan = db.session.get(ExamPlan, self.plan_id)
        assert plan is not None
        return plan

    def room(self, number: int) -> Room:
        return next(pr.room for pr in self.plan.rooms if pr.room.number == number)

    def regs(self, number: int) -> list[Registration]:
        return services.registrations_in(self.plan, self.room(number).id)

    def act(self, action: str, targets: Any = "room", **extra: Any) -> services.Outcome:
        request = parse_action(
            {
                "action": action,
                "plan_id": self.plan_id,
                "room_id": self.room(1).id,
                "targets": targets,
                "reason": extra.pop("reason", POWER_CUT),
                **extra,
            },
            ("theory", "practical"),
        )
        outcome = services.act(self.invigilator, request, datetime.now(UTC))
        delivery.commit()
        return outcome


@pytest.fixture
def exam(catalog: dict[str, Organization], make_user: Callable[..., User]) -> Exam:
    admin = make_user(Role.ORG_ADMIN, username="admin")
    site_admin = make_user(Role.SITE_ADMIN, org="college", username="siteadmin")
    invigilator = make_user(Role.INVIGILATOR, org="college", username="invigilator")
    plan = open_demo_plan()
    other = make_user(Role.INVIGILATOR, org="college")
    room102 = next(pr.room for pr in plan.rooms if pr.room.number == 2)
    assign_staff(plan, other.id, "invigilator", room102.id)
    db.session.commit()
    return Exam(plan.id, admin, site_admin, invigilator, other)


def _client(app: Flask, user: User) -> FlaskClient:
    return client_of(app, user)


def _board_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="board-data">(.*?)</script>', html, re.S)
    assert found, "the board page carries its data block"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _start(reg: Registration, part: str = "theory") -> None:
    delivery.start(delivery.sitting_of(reg, part), datetime.now(UTC))
    delivery.commit()


def _sign_in(reg: Registration) -> None:
    delivery.sign_in(str(reg.ticket_number), reg.candidate.id_number, "10.0.1.5", "test")
    delivery.commit()


# ---- the list of rooms ------------------------------------------------------------------------


def test_the_list_shows_the_rooms_one_may_watch_by_plan(
    app: Flask, exam: Exam, make_user: Callable[..., User]
) -> None:
    plan_id, r101, r102 = exam.plan_id, exam.room(1), exam.room(2)
    board = f"/invigilation/{plan_id}/"
    page = _client(app, exam.invigilator).get("/invigilation/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert exam.plan.title in html and r101.title in html and r102.title in html
    for room in (r101, r102):
        assert f'href="{board}{room.id}"' in html
        assert f'href="{board}{room.id}/record"' in html
        assert f'href="{board}{room.id}/record.pdf"' in html
    assert f'href="{board}site"' not in html  # the overview is for site and plan admins
    assert 'href="/invigilation/"' in html  # the navigation link

    mine = _client(app, exam.other).get("/invigilation/").get_data(as_text=True)
    assert f'href="{board}{r102.id}"' in mine and f'href="{board}{r101.id}"' not in mine

    site = _client(app, exam.site_admin).get("/invigilation/").get_data(as_text=True)
    assert f'href="{board}site"' in site and f'href="{board}{r101.id}"' in site

    nobody = _client(app, make_user(Role.INVIGILATOR)).get("/invigilation/")
    assert nobody.status_code == 200 and board not in nobody.get_data(as_text=True)


# ---- the board's shell --------------------------------------------------------------------------


def test_the_board_shell_carries_what_the_client_needs(app: Flask, exam: Exam) -> None:
    room = exam.room(1)
    page = _client(app, exam.invigilator).get(f"/invigilation/{exam.plan_id}/{room.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = _board_data(html)
    assert (data["plan_id"], data["room_id"], data["access"]) == (exam.plan_id, room.id, "act")
    assert (data["room"]["rows"], data["room"]["columns"]) == (room.rows, room.columns)
    assert data["room"]["spare"] == sorted(room.spare_seats)
    assert data["room"]["labels"]["1"] == room.seatmap.label(1)
    assert [r["category"] for r in data["reasons"]] == list(REASONS)
    environment = data["reasons"][0]
    assert {"code": "power_cut", "name": "断电"} in environment["codes"]
    assert {"code": "other", "name": "其他"} in environment["codes"]
    assert set(data["actions"]) == set(ACTIONS)
    assert data["actions"]["void"] == {"name": "取消成绩", "scopes": ["candidates"], "part": False}
    assert data["actions"]["pause"]["part"] is True
    assert [p["part"] for p in data["parts"]] == ["theory", "practical"]
    assert data["urls"]["record"] == f"/invigilation/{exam.plan_id}/{room.id}/record"
    assert data["strings"] and all(isinstance(v, str) and v for v in data["strings"].values())
    assert "{n}" in data["strings"]["offline_for"]
    assert 'id="action-bar"' in html and 'id="act-dialog"' in html
    assert "/static/vendor/socket.io.min.js" in html and "/static/js/board.js" in html
    assert "cdn" not in html.lower()

    # the site admin acts too; the plan's organization admin only watches: no action bar
    site = _client(app, exam.site_admin).get(f"/invigilation/{exam.plan_id}/{room.id}")
    assert _board_data(site.get_data(as_text=True))["access"] == "act"
    viewer = _client(app, exam.admin).get(f"/invigilation/{exam.plan_id}/{room.id}")
    assert viewer.status_code == 200
    html = viewer.get_data(as_text=True)
    assert _board_data(html)["access"] == "view"
    assert 'id="action-bar"' not in html and 'id="act-dialog"' not in html


# ---- who gets what --------------------------------------------------------------------------------


def test_another_rooms_invigilator_and_strangers_get_404(
    app: Flask, exam: Exam, make_user: Callable[..., User]
) -> None:
    r101, r102 = exam.room(1).id, exam.room(2).id
    other = _client(app, exam.other)
    for url in (
        f"/invigilation/{exam.plan_id}/{r101}",
        f"/invigilation/{exam.plan_id}/{r101}/record",
        f"/invigilation/{exam.plan_id}/{r101}/record.pdf",
        f"/invigilation/{exam.plan_id + 99}/{r102}",
    ):
        answer = other.get(url)
        assert answer.status_code == 404, url
        assert "只有本考场的监考员和本考点的主考" in answer.get_data(as_text=True), url
    assert other.get(f"/invigilation/{exam.plan_id}/{r102}").status_code == 200
    assert other.get(f"/invigilation/{exam.plan_id}/site").status_code == 403

    elsewhere = make_user(Role.SITE_ADMIN)  # a site admin of no site of this plan
    client = _client(app, elsewhere)
    assert client.get(f"/invigilation/{exam.plan_id}/{r101}").status_code == 404
    assert client.get(f"/invigilation/{exam.plan_id}/site").status_code == 404
    outsider = _client(app, make_user(Role.ORG_ADMIN, org="cflp"))
    assert outsider.get(f"/invigilation/{exam.plan_id}/{r101}/record").status_code == 404


def test_a_candidates_sign_in_reaches_nothing(app: Flask, exam: Exam) -> None:
    reg = exam.regs(1)[0]
    candidate = app.test_client()
    answer = candidate.post(
        "/exam/login",
        data={"ticket_number": reg.ticket_number, "id_number": reg.candidate.id_number},
    )
    assert answer.status_code == 302 and answer.location.endswith("/exam/")
    room = exam.room(1).id
    for url in (
        "/invigilation/",
        f"/invigilation/{exam.plan_id}/{room}",
        f"/invigilation/{exam.plan_id}/{room}/record",
        f"/invigilation/{exam.plan_id}/{room}/record.pdf",
        f"/invigilation/{exam.plan_id}/site",
    ):
        answer = candidate.get(url)
        assert answer.status_code == 302 and "/auth/login" in answer.location, url
        assert reg.candidate.name not in answer.get_data(as_text=True)


# ---- the room record ------------------------------------------------------------------------------


def _eventful_room(exam: Exam) -> dict[str, Registration]:
    """Room 101 after a morning: two candidates answering, one copying three times, a power
    cut (pause and resume), ten minutes more for one, a warning, a voided result, a forced
    submission; the others never came."""
    regs = exam.regs(1)
    a, b, c, d = regs[:4]
    for reg in (a, b, c, d):
        _sign_in(reg)
    for reg in (a, b, c):
        _start(reg)
    for _ in range(3):
        delivery.record_anomaly(a, "copy", None, "", datetime.now(UTC))
    delivery.record_anomaly(b, "focus_lost", None, "", datetime.now(UTC))
    delivery.commit()
    exam.act("pause", part="theory")
    exam.act("resume", part="theory")
    exam.act("extend", [b.id], part="theory", minutes=10, reason=POWER_CUT)
    exam.act("warn", [a.id], reason=MISCONDUCT, message="请把手机交给监考员")
    exam.act("void", [c.id], reason=MISCONDUCT)
    exam.act("force_submit", [b.id, d.id], part="theory", reason=POWER_CUT)
    exam.act(
        "broadcast",
        message="还有十分钟",
        reason={"category": "administrative", "code": "instruction", "text": ""},
    )
    return {"copier": a, "extended": b, "voided": c, "idle": d}


def test_the_room_record_page_tells_what_happened(app: Flask, exam: Exam) -> None:
    who = _eventful_room(exam)
    room = exam.room(1)
    regs = exam.regs(1)
    page = _client(app, exam.invigilator).get(f"/invigilation/{exam.plan_id}/{room.id}/record")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert exam.plan.title in html and room.name in html
    assert exam.invigilator.display_name in html  # the invigilators, from the plan's staff
    for reg in regs:
        assert reg.candidate.name in html and str(reg.ticket_number) in html
    # attendance: four signed in, the others absent, named
    absent = re.findall(r'<span class="absentee">(.*?)</span>', html)
    assert len(absent) == len(regs) - 4
    assert all(any(r.candidate.name in x for r in regs[4:]) for x in absent)
    assert not any(who["idle"].candidate.name in x for x in absent)
    # incidents grouped per candidate, with times
    incidents = html[html.index('class="grid record-incidents"') :]
    copier_row = incidents[incidents.index(who["copier"].candidate.name) :].split("</tr>")[0]
    assert copier_row.count("尝试复制") == 3 and re.search(r"\d\d:\d\d:\d\d", copier_row)
    assert "离开考试页面" in incidents
    # violations with reasons
    violations = html[html.index('class="grid record-violations"') :].split("</table>")[0]
    assert "违纪警告" in violations and "取消成绩" in violations
    assert "考生 · 违纪：偷看手机" in violations and "请把手机交给监考员" in violations
    # every action with time, actor, reason and who it reached
    actions = html[html.index('class="grid record-actions"') :].split("</table>")[0]
    rows = re.findall(r'<tr class="action-(\w+)">(.*?)</tr>', actions, re.S)
    assert [name for name, _ in rows] == [
        "pause", "resume", "extend", "warn", "void", "force_submit", "broadcast",
    ]  # fmt: skip
    pause = rows[0][1]
    assert "暂停" in pause and "环境 · 断电：配电箱跳闸" in pause
    assert exam.invigilator.display_name in pause and "整个考场" in pause
    extend = rows[2][1]
    assert "+10 分钟" in extend and who["extended"].candidate.name in extend
    forced = rows[5][1]
    # the idle candidate never started: skipped, and the record says why
    assert who["extended"].candidate.name in forced and "不能强制交卷" in forced
    assert "还有十分钟" in rows[6][1]


def test_the_room_record_pdf_has_the_candidates_and_the_actions_as_text(
    app: Flask, exam: Exam
) -> None:
    who = _eventful_room(exam)
    room = exam.room(1)
    answer = _client(app, exam.site_admin).get(f"/invigilation/{exam.plan_id}/{room.id}/record.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert (
        "考场情况记录表" in answer.headers["Content-Disposition"]
        or "filename*" in (answer.headers["Content-Disposition"])
    )
    text = _pdf_text(answer.data)
    assert "考场情况记录表" in text and room.name in text
    for reg in exam.regs(1):
        assert reg.candidate.name in text and str(reg.ticket_number) in text
    assert f"应到 {len(exam.regs(1))} 人" in text and "缺考" in text
    assert "暂停" in text and "继续" in text and "延长时间" in text and "强制交卷" in text
    assert "环境 · 断电：配电箱跳闸" in text.replace("\n", "")
    assert "违纪警告" in text and "取消成绩" in text and "偷看手机" in text
    assert "尝试复制" in text and who["copier"].candidate.name in text
    assert "签名" in text and "主考签名" in text and exam.invigilator.display_name in text


def test_the_record_of_a_quiet_room(app: Flask, exam: Exam) -> None:
    room = exam.room(2)
    client = _client(app, exam.admin)  # the organization admin may read it too
    page = client.get(f"/invigilation/{exam.plan_id}/{room.id}/record")
    assert page.status_code == 200
    assert len(re.findall('class="absentee"', page.get_data(as_text=True))) == len(exam.regs(2))
    pdf = client.get(f"/invigilation/{exam.plan_id}/{room.id}/record.pdf")
    assert pdf.status_code == 200 and "应到" in _pdf_text(pdf.data)


# ---- the site overview -----------------------------------------------------------------------------


def _counts(html: str, room_id: int) -> dict[str, int]:
    row = html[html.index(f'id="room-{room_id}"') :].split("</tr>")[0]
    return {k: int(v) for k, v in re.findall(r'data-count="([\w-]+)">(\d+)<', row)}


def test_the_site_overview_counts_every_room(app: Flask, exam: Exam) -> None:
    r101, r102 = exam.room(1), exam.room(2)
    a, b, c = exam.regs(1)[:3]
    for reg in (a, b, c):
        _sign_in(reg)
        _start(reg)
    services.opened(a, "sid-a", "10.0.1.5", datetime.now(UTC))
    delivery.record_anomaly(a, "paste", None, "", datetime.now(UTC))
    delivery.commit()
    exam.act("pause", [b.id], part="theory")
    delivery.submit(delivery.sitting_of(c, "theory"), datetime.now(UTC))
    delivery.commit()

    page = _client(app, exam.site_admin).get(f"/invigilation/{exam.plan_id}/site")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="/invigilation/{exam.plan_id}/{r101.id}"' in html
    assert f'href="/invigilation/{exam.plan_id}/{r102.id}"' in html
    assert _counts(html, r101.id) == {
        "registered": len(exam.regs(1)),
        "online": 1,
        "answering": 1,
        "paused": 1,
        "submitted-theory": 1,
        "submitted-practical": 0,
        "offline": 0,
        "anomalies": 1,
        "switches": 0,
    }
    assert _counts(html, r102.id)["registered"] == len(exam.regs(2))
    assert _counts(html, r102.id)["answering"] == 0
    # the organization admin sees the same rooms (watching only)
    assert _client(app, exam.admin).get(f"/invigilation/{exam.plan_id}/site").status_code == 200
