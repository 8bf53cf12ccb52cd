"""Real Chromium: a site admin imports a roster, seats it, prints tickets and checks one in.

The plan is the demo's (30 candidates at 示范职业技术学院考点, rooms 机房 101 and 机房 102), left a
draft because no blueprint is loaded. The site admin downloads the roster template from the plan
page, uploads it filled in with three more candidates, sees them registered, seats everyone on
the seating board and downloads all admission tickets as one PDF, whose text holds their names;
the signed URL of a new ticket's QR code shows that candidate at the door.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.extensions import db
from examsvc.plans.demo import BATCH, demo_id_number, load_demo_plan
from examsvc.plans.documents import checkin_url
from examsvc.plans.models import ExamPlan
from examsvc.registration.roster_format import HEADERS, SHEET, roster_template
from tests.e2e.test_browser import _sign_in, browser, live_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

NEW = (
    ("欧阳娜娜", "软件 2403 班"),
    ("司马远志", "软件 2403 班"),
    ("上官晓雨", "网络 2402 班"),
)


def roster(template: bytes) -> bytes:
    """The downloaded template with the NEW candidates filled in from row 2."""
    wb = load_workbook(io.BytesIO(template))
    ws = wb[SHEET]
    for n, (name, class_name) in enumerate(NEW):
        values = {
            "姓名": name,
            "身份证号": demo_id_number(200 + n),
            "院校": "示范职业技术学院",
            "专业": "软件技术",
            "班级": class_name,
            "报考等级": "初级",
            "学历": "高职",
            "应届毕业": "是",
        }
        for column, header in enumerate(HEADERS, 1):
            if header in values:
                cell = ws.cell(row=n + 2, column=column, value=values[header])
                cell.number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_site_admin_imports_a_roster_seats_and_prints_tickets(
    live_server: str,  # noqa: F811
    browser: object,  # noqa: F811
    catalog: dict[str, Organization],
    make_user: Callable[..., User],
    tmp_path: Path,
) -> None:
    make_user(Role.ORG_ADMIN, username="admin")
    site_admin = make_user(Role.SITE_ADMIN, org="college", username="siteadmin")
    assert load_demo_plan("miit-eec", "college")
    db.session.commit()
    plan = db.session.scalar(select(ExamPlan).where(ExamPlan.batch == BATCH))
    assert plan is not None and plan.state == "draft" and len(plan.registrations) == 30
    plan_id = plan.id

    page = _sign_in(browser, live_server, site_admin)
    page.goto(f"{live_server}/plans/")
    page.click(f"a[href='/plans/{plan_id}']")
    page.wait_for_url(f"{live_server}/plans/{plan_id}")

    with page.expect_download() as downloading:
        page.click("a[href='/plans/roster-template.xlsx']")
    template = downloading.value
    assert template.suggested_filename == "报名表模板.xlsx"
    blank = Path(template.path()).read_bytes()
    headers = [c.value for c in load_workbook(io.BytesIO(blank))[SHEET][1]]
    assert headers == [c.value for c in load_workbook(io.BytesIO(roster_template()))[SHEET][1]]

    filled = tmp_path / "报名表.xlsx"
    filled.write_bytes(roster(blank))
    page.set_input_files("#roster input[name=file]", str(filled))
    page.click("#roster button[type=submit]")
    page.wait_for_url(f"{live_server}/plans/{plan_id}#registrations")
    listed = page.locator("table.registrations").inner_text()
    for name, _ in NEW:
        assert name in listed
    assert page.locator("table.registrations tbody tr").count() == 33

    page.click(f"#documents a[href='/plans/{plan_id}/seating']")
    page.wait_for_url(f"{live_server}/plans/{plan_id}/seating")
    assert page.locator("#unseated").inner_text() == "33"
    page.click("button[name=auto_seat]")
    page.wait_for_url(f"{live_server}/plans/{plan_id}/seating")
    assert page.locator("#seated").inner_text() == "33"
    assert page.locator("#unseated").inner_text() == "0"
    board = page.locator(".seat-board").all_inner_texts()
    assert len(board) == 2 and all(any(name in room for room in board) for name, _ in NEW)
    page.screenshot(path=str(tmp_path / "seating.png"), full_page=True)

    page.goto(f"{live_server}/plans/{plan_id}")
    with page.expect_download() as downloading:
        page.click(f"#documents a[href='/plans/{plan_id}/tickets.pdf']")
    tickets = downloading.value
    assert tickets.suggested_filename == f"准考证-{BATCH}.pdf"
    reader = PdfReader(Path(tickets.path()))
    assert len(reader.pages) == 33
    text = "\n".join(p.extract_text() for p in reader.pages)
    for name, _ in NEW:
        assert name in text

    # the door: the QR code of a new candidate's ticket opens their check-in page
    db.session.expire_all()
    reg = next(r for r in plan.registrations if r.candidate.name == NEW[0][0])
    assert reg.ticket_number
    page.goto(checkin_url(live_server, reg.ticket_number, "test"))
    assert page.locator(".checkin-name").inner_text() == NEW[0][0]
    page.screenshot(path=str(tmp_path / "checkin.png"), full_page=True)

    if os.environ.get("EXAMSVC_SCREENSHOTS"):
        shutil.copy(tmp_path / "seating.png", os.environ["EXAMSVC_SCREENSHOTS"])
