"""Plan and registration pages through HTTP: plans with sessions and capped fees, rooms and staff,
rosters one by one and from Excel, eligibility, seats, publishing and who sees which plan."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
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
from examsvc.extensions import db
from examsvc.plans.demo import demo_id_number
from examsvc.plans.models import ExamPlan, StaffAssignment
from examsvc.registration.models import Candidate, Registration
from examsvc.registration.roster_format import roster_template
from examsvc.registration.services import load_rules_file
from examsvc.sites.models import Room, Site
from tests.conftest import sign_in

BANKS = ROOT / "question_banks"
NINE = datetime(2026, 12, 5, 9, 0)
MakeUser = Callable[..., User]


def _count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def _client(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user)
    return client


def _site(org: Organization, number: int, *rooms: tuple[int, int, list[int]]) -> Site:
    """A site with rooms of (rows, columns, spare seats)."""
    site = Site(number=number, name=f"考点{number}", organization_id=org.id)
    site.rooms = [
        Room(number=n, name=f"机房 {number}0{n}", rows=r, columns=c, spare_seats=spare)
        for n, (r, c, spare) in enumerate(rooms, 1)
    ]
    db.session.add(site)
    db.session.commit()
    return site


@pytest.fixture
def site(catalog: dict[str, Organization]) -> Site:
    """Two rooms: five seats (one of six is spare) and six seats."""
    return _site(catalog["miit-eec"], 7, (2, 3, [6]), (2, 3, []))


@pytest.fixture
def admin(app: Flask, make_user: MakeUser) -> FlaskClient:
    return _client(app, make_user(Role.ORG_ADMIN, username="planner"))


def _site_admin(app: Flask, make_user: MakeUser, site: Site) -> FlaskClient:
    user = make_user(Role.SITE_ADMIN, org="college")
    user.site_id = site.id
    db.session.commit()
    return _client(app, user)


def _plan_form(level: str = "web-frontend", batch: str = "第一批", start: datetime = NINE,
               gap: timedelta = timedelta(hours=3), theory: str = "150",
               practical: str = "230") -> dict[str, object]:  # fmt: skip
    return {
        "level_id": find_level(level, "junior").id,
        "batch": batch,
        "start-theory": start.strftime("%Y-%m-%dT%H:%M"),
        "start-practical": (start + gap).strftime("%Y-%m-%dT%H:%M"),
        "fee-theory": theory,
        "fee-practical": practical,
    }


def _create(client: FlaskClient, **changes: object) -> int:
    response = client.post("/plans/new", data=_plan_form(**changes))  # type: ignore[arg-type]
    assert response.status_code == 302, _text(response)[:3000]
    return int(response.headers["Location"].rsplit("/", 1)[-1])


def _plan_with_rooms(client: FlaskClient, site: Site, **changes: object) -> int:
    plan_id = _create(client, **changes)
    for room in site.rooms:
        response = client.post(f"/plans/{plan_id}/rooms", data={"room_id": room.id})
        assert response.status_code == 302, _text(response)[:3000]
    return plan_id


def _candidate(n: int, **changes: object) -> dict[str, object]:
    return {
        "name": f"考生{n:02d}",
        "id_number": demo_id_number(n),
        "institution": "示范职业技术学院",
        "class_name": "软件 2401 班",
        "level": "初级",
        "education": "高职",
        "graduating": "是",
    } | changes


def _line(n: int, id_number: str | None = None, gender: str = "", poor: str = "否") -> list[object]:
    return [
        f"考生{n:02d}", id_number or demo_id_number(n), gender, "示范职业技术学院", "软件技术",
        "软件 2401 班", "", poor, "初级", "", 0, "高职", "否", "是",
    ]  # fmt: skip


def _roster(rows: list[list[object]]) -> bytes:
    """A roster filled in on the downloadable template, as an institution would."""
    wb = load_workbook(io.BytesIO(roster_template()))
    ws = wb.worksheets[0]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            ws.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client: FlaskClient, plan_id: int, data: bytes) -> object:
    return client.post(
        f"/plans/{plan_id}/roster",
        data={"file": (io.BytesIO(data), "报名表.xlsx")},
        content_type="multipart/form-data",
    )


# ---- plans -----------------------------------------------------------------------------------


def test_the_form_shows_each_part_with_its_duration_and_caps(admin: FlaskClient) -> None:
    page = _text(admin.get("/plans/new"))
    assert 'name="start-theory"' in page and 'type="datetime-local"' in page
    assert 'name="fee-practical"' in page
    assert "理论考试" in page and "90" in page and "120" in page  # durations from the scheme
    assert "300" in page and "500" in page and "400" in page  # each form's cap, weighted cap
    logistics = find_level("logistics", "junior")
    assert f'value="{logistics.id}"' not in page  # another organization's level


def test_a_fee_above_a_cap_is_refused_naming_the_cap_and_nothing_is_stored(
    admin: FlaskClient,
) -> None:
    response = admin.post("/plans/new", data=_plan_form(theory="200", practical="250"))
    assert response.status_code == 422
    page = _text(response)
    assert "考核费合计 450 元，超过上限 400 元" in page
    assert 'value="250"' in page and 'value="第一批"' in page  # the form keeps what was typed
    response = admin.post("/plans/new", data=_plan_form(theory="350"))
    assert response.status_code == 422
    assert "理论考试考核费 350 元，超过机考的上限 300 元" in _text(response)
    assert _count(ExamPlan) == 0


def test_overlapping_sessions_and_bad_times_are_refused(admin: FlaskClient) -> None:
    response = admin.post("/plans/new", data=_plan_form(gap=timedelta(hours=1)))
    assert response.status_code == 409
    assert "时间重叠" in _text(response)
    form = _plan_form() | {"start-practical": "明天上午"}
    response = admin.post("/plans/new", data=form)
    assert response.status_code == 422 and "明天上午" in _text(response)
    form = _plan_form() | {"start-practical": ""}
    response = admin.post("/plans/new", data=form)
    assert response.status_code == 422 and "实操考试：请填写开考时间" in _text(response)
    assert _count(ExamPlan) == 0


def test_admin_creates_and_edits_a_draft_plan(admin: FlaskClient) -> None:
    plan_id = _create(admin)
    page = _text(admin.get(f"/plans/{plan_id}"))
    assert "Web 前端开发" in page and "第一批" in page and "草稿" in page
    assert "2026-12-05" in page and "09:00–10:30" in page and "12:00–14:00" in page
    assert f"/plans/{plan_id}/edit" in page
    assert "第一批" in _text(admin.get("/plans/"))

    edit = _text(admin.get(f"/plans/{plan_id}/edit"))
    assert 'value="2026-12-05T09:00"' in edit and 'value="150"' in edit
    assert (
        'name="credit_outages"' in edit
        and db.session.get(ExamPlan, plan_id).credit_outages is False
    )
    form = _plan_form(batch="第二批", theory="100") | {"credit_outages": "1"}
    response = admin.post(f"/plans/{plan_id}/edit", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    plan = db.session.get(ExamPlan, plan_id)
    assert plan is not None and plan.batch == "第二批" and plan.fees["theory"] == "100"
    assert plan.credit_outages is True
    response = admin.post(f"/plans/{plan_id}/edit", data=_plan_form(theory="400"))
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(ExamPlan, plan_id).fees["theory"] == "100"  # type: ignore[union-attr]


# ---- rooms and staff -------------------------------------------------------------------------


def test_rooms_and_staff_with_warnings_for_rooms_short_of_invigilators(
    app: Flask, admin: FlaskClient, site: Site, make_user: MakeUser
) -> None:
    plan_id = _plan_with_rooms(admin, site)
    page = _text(admin.get(f"/plans/{plan_id}"))
    assert "机房 701" in page and "机房 702" in page
    assert "考点7 · 机房 701」：0 名考生，监考员 0 名" in page
    assert "还没有安排考评员" in page

    invigilator = make_user(Role.INVIGILATOR)
    rater = make_user(Role.RATER)
    first, second = site.rooms[0].id, site.rooms[1].id
    for form in (
        {"role": "invigilator", "user_id": invigilator.id, "room_id": first},
        {"role": "rater", "user_id": rater.id},
    ):
        response = admin.post(f"/plans/{plan_id}/staff", data=form)
        assert response.status_code == 302, _text(response)[:3000]
    page = _text(admin.get(f"/plans/{plan_id}"))
    assert "机房 701」：0 名考生" not in page and "机房 702」：0 名考生，监考员 0 名" in page
    assert "还没有安排考评员" not in page
    assert invigilator.display_name in page and rater.display_name in page

    # the same invigilator twice, and a rater as an invigilator, are refused
    again = {"role": "invigilator", "user_id": invigilator.id, "room_id": first}
    response = admin.post(f"/plans/{plan_id}/staff", data=again)
    assert response.status_code == 409 and "已是该考场的监考员" in _text(response)
    wrong = {"role": "invigilator", "user_id": rater.id, "room_id": second}
    assert admin.post(f"/plans/{plan_id}/staff", data=wrong).status_code == 422
    assert _count(StaffAssignment) == 2

    # the invigilator sees the plan read-only
    watcher = _client(app, invigilator)
    assert "第一批" in _text(watcher.get("/plans/"))
    view = _text(watcher.get(f"/plans/{plan_id}"))
    assert "机房 701" in view and f"/plans/{plan_id}/rooms" not in view
    assert f"/plans/{plan_id}/registrations" not in view and "/publish" not in view
    assert watcher.post(f"/plans/{plan_id}/rooms", data={"room_id": first}).status_code == 403

    assignment = db.session.scalar(
        select(StaffAssignment).where(StaffAssignment.user_id == rater.id)
    )
    assert assignment is not None
    response = admin.post(f"/plans/{plan_id}/staff/{assignment.id}/remove")
    assert response.status_code == 302 and _count(StaffAssignment) == 1
    response = admin.post(f"/plans/{plan_id}/rooms/{second}/remove")
    assert response.status_code == 302
    rooms = _text(admin.get(f"/plans/{plan_id}")).split('id="rooms"')[1].split("</table>")[0]
    assert "机房 701" in rooms and "机房 702" not in rooms


def test_a_room_busy_with_another_plan_at_the_same_time_is_refused(
    admin: FlaskClient, site: Site
) -> None:
    _plan_with_rooms(admin, site)
    other = _create(admin, batch="第二批", start=NINE + timedelta(hours=1))
    response = admin.post(f"/plans/{other}/rooms", data={"room_id": site.rooms[0].id})
    assert response.status_code == 409
    assert "重叠" in _text(response) and "第一批" in _text(response)
    db.session.expire_all()
    assert db.session.get(ExamPlan, other).rooms == []  # type: ignore[union-attr]


# ---- registrations ---------------------------------------------------------------------------


def test_site_admin_imports_a_good_roster_and_sees_candidates_and_fees(
    app: Flask, admin: FlaskClient, site: Site, make_user: MakeUser
) -> None:
    plan_id = _plan_with_rooms(admin, site)
    registrar = _site_admin(app, make_user, site)
    assert "第一批" in _text(registrar.get("/plans/"))
    page = _text(registrar.get(f"/plans/{plan_id}"))
    assert f"/plans/{plan_id}/roster" in page and "/plans/roster-template.xlsx" in page
    assert "/publish" not in page and f"/plans/{plan_id}/edit" not in page

    rows = [_line(1), _line(2, poor="是"), _line(3)]
    response = _upload(registrar, plan_id, _roster(rows))
    assert response.status_code == 302, _text(response)[:3000]
    assert _count(Registration) == 3
    page = _text(registrar.get(f"/plans/{plan_id}"))
    assert "考生01" in page and "考生02" in page and "考生03" in page
    number = demo_id_number(1)
    assert f"{number[:6]}********{number[-4:]}" in page and number not in page  # masked
    assert "380.00" in page and "0.00" in page
    fees = page.split('id="fees"')[1]
    assert "示范职业技术学院" in fees and "760.00" in fees and "380.00" in fees  # due, waived


def test_a_roster_with_bad_rows_lists_every_problem_and_registers_nobody(
    app: Flask, admin: FlaskClient, site: Site, make_user: MakeUser
) -> None:
    plan_id = _plan_with_rooms(admin, site)
    registrar = _site_admin(app, make_user, site)
    good = demo_id_number(3)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    gender = "女" if int(demo_id_number(4)[16]) % 2 else "男"  # the wrong one
    rows = [_line(1), _line(3, bad_check), _line(2, demo_id_number(1)), _line(4, gender=gender)]
    response = _upload(registrar, plan_id, _roster(rows))
    assert response.status_code == 422
    page = _text(response)
    assert "第 3 行「身份证号」" in page and "校验码" in page
    assert "第 4 行「身份证号」" in page and "与第 2 行的身份证号重复" in page
    assert "第 5 行「性别」" in page and "与身份证号不符" in page
    problems = re.search(r'id="roster".*?<ul class="problems">(.*?)</ul>', page, re.S)
    assert problems is not None and problems.group(1).count("<li>") == 3  # one per line
    assert _count(Registration) == 0 and _count(Candidate) == 0

    response = _upload(registrar, plan_id, b"not a workbook")
    assert response.status_code == 422 and "不是 Excel 工作簿" in _text(response)


def test_one_by_one_registration_checks_like_a_roster_row(admin: FlaskClient, site: Site) -> None:
    plan_id = _plan_with_rooms(admin, site)
    response = admin.post(f"/plans/{plan_id}/registrations", data=_candidate(1))
    assert response.status_code == 302, _text(response)[:3000]
    db.session.expire_all()
    (reg,) = db.session.scalars(select(Registration)).all()
    assert reg.candidate.name == "考生01" and str(reg.fee) == "380.00" and reg.graduating

    bad = _candidate(2, id_number=demo_id_number(2)[:-1] + "Y", name="王五")
    response = admin.post(f"/plans/{plan_id}/registrations", data=bad)
    assert response.status_code == 422
    page = _text(response)
    assert "身份证号（id_number）" in page and 'value="王五"' in page  # the form is kept
    response = admin.post(f"/plans/{plan_id}/registrations", data=_candidate(1))
    assert response.status_code == 422 and "已在本计划报名" in _text(response)
    assert _count(Registration) == 1

    response = admin.post(f"/plans/{plan_id}/registrations/{reg.id}/withdraw")
    assert response.status_code == 302 and _count(Registration) == 0


def test_more_candidates_than_seats_are_refused(
    app: Flask, admin: FlaskClient, catalog: dict[str, Organization], make_user: MakeUser
) -> None:
    small = _site(catalog["miit-eec"], 8, (2, 3, [6]))  # five seats
    plan_id = _plan_with_rooms(admin, small)
    registrar = _site_admin(app, make_user, small)
    response = _upload(registrar, plan_id, _roster([_line(n) for n in range(1, 8)]))
    assert response.status_code == 422
    assert "报名表有 7 名考生" in _text(response) and "只剩 5 个座位" in _text(response)
    assert _count(Registration) == 0
    assert _upload(registrar, plan_id, _roster([_line(n) for n in range(1, 6)])).status_code == 302
    response = registrar.post(f"/plans/{plan_id}/registrations", data=_candidate(6))
    assert response.status_code == 422 and "已坐满" in _text(response)
    assert _count(Registration) == 5


def test_an_ineligible_logistics_candidate_is_refused_with_the_reason(
    app: Flask, catalog: dict[str, Organization], make_user: MakeUser
) -> None:
    load_rules_file(BANKS / "eligibility" / "logistics.yaml")
    db.session.commit()
    cflp = _client(app, make_user(Role.ORG_ADMIN, org="cflp"))
    site = _site(catalog["cflp"], 9, (2, 3, []))
    plan_id = _plan_with_rooms(cflp, site, level="logistics", theory="100", practical="100")
    ok = _candidate(1, education="中职", major="现代物流管理")
    assert cflp.post(f"/plans/{plan_id}/registrations", data=ok).status_code == 302
    no = _candidate(2, education="高中", major="会计", years_in_trade="0.5", graduating="")
    response = cflp.post(f"/plans/{plan_id}/registrations", data=no)
    assert response.status_code == 422
    page = _text(response)
    assert "不符合物流管理" in page and "1 年" in page
    assert _count(Registration) == 1


def test_the_roster_template_downloads_with_its_chinese_name(
    app: Flask, make_user: MakeUser
) -> None:
    registrar = _client(app, make_user(Role.SITE_ADMIN, org="college"))
    response = registrar.get("/plans/roster-template.xlsx")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "报名表模板.xlsx"
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.worksheets[0].cell(row=1, column=2).value == "身份证号"


# ---- life cycle and visibility ---------------------------------------------------------------


def test_publish_gives_every_candidate_a_seat_and_a_paper_then_the_roster_is_closed(
    app: Flask, admin: FlaskClient, site: Site
) -> None:
    blueprint, _created = load_blueprint_file(BANKS / "blueprints" / "web-frontend-junior.yaml")
    assert blueprint is not None
    db.session.commit()
    plan_id = _plan_with_rooms(admin, site)
    for n in range(1, 9):
        response = admin.post(f"/plans/{plan_id}/registrations", data=_candidate(n))
        assert response.status_code == 302, _text(response)[:3000]
    publish = {"blueprint_id": blueprint.id, "seed": "s1"}

    # no approved items yet: every problem is shown and nothing changes
    response = admin.post(f"/plans/{plan_id}/publish", data=publish)
    assert response.status_code == 422
    page = _text(response)
    assert "不能为 8 名考生组卷" in page
    assert re.search(r'id="state".*?<ul class="problems">\s*<li>', page, re.S)
    db.session.expire_all()
    plan = db.session.get(ExamPlan, plan_id)
    assert plan is not None and plan.state == "draft" and plan.paper_set_id is None
    assert all(r.ticket_number is None for r in plan.registrations)

    data, _ = read_bank_dir(BANKS / "web-frontend-junior", BANKS)
    import_bank(data, None)
    db.session.commit()
    response = admin.post(f"/plans/{plan_id}/publish", data=publish)
    assert response.status_code == 302, _text(response)[:3000]
    db.session.expire_all()
    plan = db.session.get(ExamPlan, plan_id)
    assert plan is not None and plan.state == "published"
    regs = plan.registrations
    assert None not in {r.paper_id for r in regs} and len({r.paper_id for r in regs}) == 8
    page = _text(admin.get(f"/plans/{plan_id}"))
    assert "已发布" in page and all(r.ticket_number in page for r in regs)
    assert "/withdraw" not in page  # no withdrawing any more (photos may still be added)
    assert "/invigilation/" in page and f"/grading/plans/{plan_id}" not in page

    response = admin.post(f"/plans/{plan_id}/registrations", data=_candidate(20))
    assert response.status_code == 409 and "草稿" in _text(response)
    assert admin.post(f"/plans/{plan_id}/advance", data={"state": "closed"}).status_code == 409
    for state, name in (("in_progress", "进行中"), ("closed", "已结束")):
        response = admin.post(f"/plans/{plan_id}/advance", data={"state": state})
        assert response.status_code == 302
        page = _text(admin.get(f"/plans/{plan_id}"))
        assert name in page
        assert f"/grading/plans/{plan_id}" in page and f"/certificates/plans/{plan_id}" in page
    assert _count(Registration) == 8


def test_plans_of_other_sites_and_organizations_are_not_found(
    app: Flask,
    admin: FlaskClient,
    site: Site,
    catalog: dict[str, Organization],
    make_user: MakeUser,
) -> None:
    plan_id = _plan_with_rooms(admin, site)
    elsewhere = _site(catalog["miit-eec"], 11, (2, 3, []))
    stranger = _site_admin(app, make_user, elsewhere)
    assert "第一批" not in _text(stranger.get("/plans/"))
    assert stranger.get(f"/plans/{plan_id}").status_code == 404
    response = stranger.post(f"/plans/{plan_id}/registrations", data=_candidate(1))
    assert response.status_code == 404
    other_admin = _client(app, make_user(Role.ORG_ADMIN, org="cflp"))
    assert other_admin.get(f"/plans/{plan_id}").status_code == 404
    assert other_admin.post(f"/plans/{plan_id}/rooms", data={"room_id": 1}).status_code == 404
    unstaffed = _client(app, make_user(Role.INVIGILATOR))
    assert unstaffed.get(f"/plans/{plan_id}").status_code == 404
    assert _count(Registration) == 0
