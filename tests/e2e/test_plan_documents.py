"""Plan documents through HTTP: seating board, admission tickets, exports and door check-in.

The plan is the demo's (``plans.demo``: 30 candidates of three classes at 示范职业技术学院考点,
two rooms of 5 × 7 with two spare seats each), left a draft because no blueprint is loaded, and
seated by ``auto_seat`` so every candidate has a ticket number. Needs a CJK TrueType font, as the
unit tests of the renderers do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import unquote, urlsplit

from flask import Flask
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.extensions import db
from examsvc.plans.demo import BATCH, demo_id_number
from examsvc.plans.documents import checkin_signature, ticket_data
from examsvc.plans.seats import auto_seat
from examsvc.plans.services import add_room
from examsvc.registration.models import Registration
from examsvc.registration.roster_format import RosterRow
from examsvc.registration.services import register
from examsvc.sites.models import Room, Site
from tests.e2e.conftest import Demo, client_of


def row(n: int, name: str, class_name: str = "软件 2401 班") -> RosterRow:
    number = demo_id_number(n)
    return RosterRow(
        row=n, name=name, id_number=number, gender="男" if int(number[16]) % 2 else "女",
        institution="示范职业技术学院", major="软件技术", class_name=class_name, phone="",
        poor_family=False, level="初级", certificates=(), years_in_trade=Decimal(0),
        education="高职", trained=True, graduating=True,
    )  # fmt: skip


def second_site(demo: Demo, make_user: Callable[..., User]) -> tuple[Site, User]:
    """Site 2 with one 4 × 5 room in the plan, and its site admin."""
    site = Site(
        number=2,
        name="第二考点",
        address="南京市江宁区",
        organization_id=demo.admin.organization_id,
    )
    site.rooms = [Room(number=1, name="机房 201", rows=4, columns=5)]
    db.session.add(site)
    db.session.flush()
    add_room(demo.plan, site.rooms[0].id)
    admin = make_user(Role.SITE_ADMIN, org="college")
    admin.site_id = site.id
    db.session.commit()
    return site, admin


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def download_name(response: object) -> str:
    return unquote(response.headers["Content-Disposition"])  # type: ignore[attr-defined]


# ---- admission tickets -----------------------------------------------------------------------


def test_ticket_pdf_has_the_name_as_text_and_the_png_is_a4(app: Flask, demo: Demo) -> None:
    reg = demo.regs()[0]
    client = client_of(app, demo.site_admin)
    pdf = client.get(f"/plans/{demo.plan_id}/tickets/{reg.id}.pdf")
    assert pdf.status_code == 200, pdf.get_data(as_text=True)[:500]
    assert pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert reg.candidate.name in text and reg.ticket_number in text  # type: ignore[operator]
    assert "考生须知" in text and "30 分钟" in text
    assert f"准考证-{reg.ticket_number}-{reg.candidate.name}.pdf" in download_name(pdf)

    png = client.get(f"/plans/{demo.plan_id}/tickets/{reg.id}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    with Image.open(io.BytesIO(png.data)) as image:
        assert image.size == (1240, 1754)


def test_all_tickets_and_one_rooms_tickets_in_one_pdf(app: Flask, demo: Demo) -> None:
    client = client_of(app, demo.admin)
    everyone = client.get(f"/plans/{demo.plan_id}/tickets.pdf")
    assert everyone.status_code == 200
    assert len(PdfReader(io.BytesIO(everyone.data)).pages) == 30
    assert f"准考证-{BATCH}.pdf" in download_name(everyone)
    room = demo.room(2)
    here = demo.regs(room)
    one_room = client.get(f"/plans/{demo.plan_id}/tickets.pdf?room={room.id}")
    reader = PdfReader(io.BytesIO(one_room.data))
    assert len(reader.pages) == len(here) > 0
    text = pdf_text(one_room.data)
    assert all(r.ticket_number in text for r in here)  # type: ignore[operator]
    assert f"准考证-{BATCH}-机房 102.pdf" in download_name(one_room)


def test_tickets_need_a_ticket_number(app: Flask, demo: Demo) -> None:
    reg = register(demo.plan, demo.room(1).site, row(40, "钱新来"), demo.admin)
    db.session.commit()
    response = client_of(app, demo.admin).get(f"/plans/{demo.plan_id}/tickets/{reg.id}.pdf")
    assert response.status_code == 409
    assert "还没有座位和准考证号" in response.get_data(as_text=True)


def test_missing_font_is_a_503_naming_the_package(app: Flask, demo: Demo) -> None:
    app.config["EXAMSVC_CJK_FONT"] = "/nonexistent/font.ttc"
    reg = demo.regs()[0]
    response = client_of(app, demo.admin).get(f"/plans/{demo.plan_id}/tickets/{reg.id}.pdf")
    assert response.status_code == 503
    assert "fonts-wqy-microhei" in response.get_data(as_text=True)


# ---- who sees what -----------------------------------------------------------------------------


def test_site_admins_see_their_own_site_only(
    app: Flask, demo: Demo, make_user: Callable[..., User]
) -> None:
    site, other_admin = second_site(demo, make_user)
    mine = register(demo.plan, site, row(50, "孙远航"), demo.admin)
    auto_seat(demo.plan)
    db.session.commit()
    theirs = demo.regs(demo.room(1))[0]
    client = client_of(app, other_admin)
    plan = demo.plan_id
    for url in (
        f"/plans/{plan}/tickets/{theirs.id}.pdf",
        f"/plans/{plan}/tickets/{theirs.id}.png",
        f"/plans/{plan}/rooms/{demo.room(1).id}/sign-in.pdf",
        f"/plans/{plan}/rooms/{demo.room(1).id}/seat-plan.xlsx",
        f"/plans/{plan}/tickets.pdf?room={demo.room(1).id}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/plans/{plan}/tickets/{mine.id}.pdf").status_code == 200
    assert len(PdfReader(io.BytesIO(client.get(f"/plans/{plan}/tickets.pdf").data)).pages) == 1
    listed = client.get(f"/plans/{plan}/candidates.csv").data.decode("utf-8-sig")
    assert "孙远航" in listed and theirs.candidate.name not in listed
    board = client.get(f"/plans/{plan}/seating").get_data(as_text=True)
    assert "机房 201" in board and "机房 101" not in board and theirs.candidate.name not in board

    # a site admin of a site without rooms in the plan does not see the plan at all
    elsewhere = Site(number=3, name="第三考点", organization_id=demo.admin.organization_id)
    db.session.add(elsewhere)
    db.session.flush()
    stranger = make_user(Role.SITE_ADMIN, org="college")
    stranger.site_id = elsewhere.id
    db.session.commit()
    outsider = client_of(app, stranger)
    for url in (
        f"/plans/{plan}/seating",
        f"/plans/{plan}/tickets.pdf",
        f"/plans/{plan}/candidates.xlsx",
    ):
        assert outsider.get(url).status_code == 404, url


def test_other_organizations_admin_gets_404(
    app: Flask, demo: Demo, make_user: Callable[..., User]
) -> None:
    client = client_of(app, make_user(Role.ORG_ADMIN, org="cflp"))
    assert client.get(f"/plans/{demo.plan_id}/seating").status_code == 404
    assert client.get(f"/plans/{demo.plan_id}/platform.csv").status_code == 404


# ---- exports -----------------------------------------------------------------------------------


def test_candidate_and_platform_exports_keep_identifiers_as_text(app: Flask, demo: Demo) -> None:
    client = client_of(app, demo.site_admin)
    regs = {r.candidate.id_number: r for r in demo.regs()}
    for url, sheet_name, id_header in (
        (f"/plans/{demo.plan_id}/candidates.xlsx", "考生名单", "身份证号"),
        (f"/plans/{demo.plan_id}/platform.xlsx", "报名信息", "证件号码"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        ws = load_workbook(io.BytesIO(response.data))[sheet_name]
        header = [c.value for c in ws[1]]
        id_col, ticket_col = header.index(id_header), header.index("准考证号")
        rows = list(ws.iter_rows(min_row=2))
        assert len(rows) == 30
        for cells in rows:
            id_cell, ticket_cell = cells[id_col], cells[ticket_col]
            assert id_cell.data_type == "s" and ticket_cell.data_type == "s"
            assert regs[id_cell.value].ticket_number == ticket_cell.value
    assert "考生名单" in download_name(client.get(f"/plans/{demo.plan_id}/candidates.xlsx"))

    for url in (f"/plans/{demo.plan_id}/candidates.csv", f"/plans/{demo.plan_id}/platform.csv"):
        response = client.get(url)
        assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese right
        table = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
        ids = {r.get("身份证号") or r["证件号码"]: r["准考证号"] for r in table}
        assert ids == {n: r.ticket_number for n, r in regs.items()}


def test_sign_in_sheet_lists_every_candidate_of_the_room(app: Flask, demo: Demo) -> None:
    client = client_of(app, demo.admin)
    room = demo.room(1)
    here = demo.regs(room)
    pdf = client.get(f"/plans/{demo.plan_id}/rooms/{room.id}/sign-in.pdf")
    assert pdf.status_code == 200, pdf.get_data(as_text=True)[:500]
    text = pdf_text(pdf.data)
    assert "考生签到表" in text and "机房 101" in text
    for reg in here:
        assert reg.candidate.name in text and reg.ticket_number in text  # type: ignore[operator]
    assert f"签到表-{BATCH}-机房 101.pdf" in download_name(pdf)

    xlsx = client.get(f"/plans/{demo.plan_id}/rooms/{room.id}/sign-in.xlsx")
    wb = load_workbook(io.BytesIO(xlsx.data))
    assert len(wb.worksheets) == len(demo.plan.sessions)  # one sheet per session
    values = {c.value for ws in wb.worksheets[:1] for r in ws.iter_rows() for c in r}
    assert {r.candidate.id_number for r in here} <= values

    plan_sheet = client.get(f"/plans/{demo.plan_id}/rooms/{room.id}/seat-plan.xlsx")
    ws = load_workbook(io.BytesIO(plan_sheet.data))["座位表"]
    cells = " ".join(str(c.value) for r in ws.iter_rows() for c in r if c.value)
    assert "讲台" in cells and "备用" in cells
    assert all(r.candidate.name in cells for r in here)


# ---- seating board -----------------------------------------------------------------------------


def test_board_shows_rooms_front_first_with_names(app: Flask, demo: Demo) -> None:
    page = client_of(app, demo.admin).get(f"/plans/{demo.plan_id}/seating")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "机房 101" in html and "机房 102" in html
    assert html.index('class="board-front"') < html.index('data-seat="1"')
    reg = demo.regs()[0]
    assert reg.candidate.name in html and reg.ticket_number in html  # type: ignore[operator]
    assert 'class="board-seat spare' in html and 'id="adjacent">0<' in html
    assert 'id="seated">30<' in html and 'id="unseated">0<' in html


def test_moving_into_a_taken_seat_is_a_409_with_the_message(app: Flask, demo: Demo) -> None:
    client = client_of(app, demo.admin)
    room = demo.room(1)
    first, second = sorted(demo.regs(room), key=lambda r: r.seat or 0)[:2]
    response = client.post(
        f"/plans/{demo.plan_id}/seating/move",
        data={"registration_id": first.id, "room_id": room.id, "seat": second.seat},
    )
    assert response.status_code == 409
    assert f"座位 {second.seat:02d} 已有考生" in response.get_data(as_text=True)

    taken = {r.seat for r in demo.regs(room)}
    free = next(s for s in room.seatmap.assignable() if s not in taken)
    old_ticket = first.ticket_number
    moved = client.post(
        f"/plans/{demo.plan_id}/seating/move",
        data={"registration_id": first.id, "room_id": room.id, "seat": free},
    )
    assert moved.status_code == 302
    db.session.expire_all()
    reg = db.session.get(Registration, first.id)
    assert reg is not None and reg.seat == free and reg.ticket_number != old_ticket

    spare = client.post(
        f"/plans/{demo.plan_id}/seating/move",
        data={"registration_id": first.id, "room_id": room.id, "seat": 34},
    )
    assert spare.status_code == 409 and "备用座位" in spare.get_data(as_text=True)


def test_auto_seat_after_registering_more_candidates(
    app: Flask, demo: Demo, make_user: Callable[..., User]
) -> None:
    site = demo.room(1).site
    for n, name in enumerate(("钱一鸣", "钱二鸣", "钱三鸣"), 60):
        register(demo.plan, site, row(n, name, "网络 2401 班"), demo.admin)
    other_site, _ = second_site(demo, make_user)
    register(demo.plan, other_site, row(70, "冯其他"), demo.admin)
    db.session.commit()

    client = client_of(app, demo.site_admin)
    board = client.get(f"/plans/{demo.plan_id}/seating").get_data(as_text=True)
    assert 'id="unseated">3<' in board and "钱二鸣" in board
    response = client.post(f"/plans/{demo.plan_id}/seating/auto")
    assert response.status_code == 302
    db.session.expire_all()
    regs = {r.candidate.name: r for r in demo.plan.registrations}
    assert all(regs[n].ticket_number for n in ("钱一鸣", "钱二鸣", "钱三鸣"))
    assert regs["冯其他"].seat is None  # the other site's candidate is its site admin's to seat
    board = client.get(f"/plans/{demo.plan_id}/seating").get_data(as_text=True)
    assert 'id="seated">33<' in board and 'id="unseated">0<' in board

    client_of(app, demo.admin).post(f"/plans/{demo.plan_id}/seating/auto")
    db.session.expire_all()
    assert all(r.ticket_number for r in demo.plan.registrations)

    demo.plan.state = "published"
    db.session.commit()
    refused = client.post(f"/plans/{demo.plan_id}/seating/auto")
    assert refused.status_code == 409 and "草稿" in refused.get_data(as_text=True)


# ---- door check-in -----------------------------------------------------------------------------


def test_checkin_with_a_good_signature_shows_the_candidate(app: Flask, demo: Demo) -> None:
    reg = demo.regs()[0]
    photo = io.BytesIO()
    Image.new("RGB", (300, 400), "navy").save(photo, "JPEG")
    reg.candidate.photo = photo.getvalue()
    db.session.commit()
    payload = ticket_data(reg, "https://exam.example.edu.cn/", "test").qr_payload
    url = urlsplit(payload)
    assert url.netloc == "exam.example.edu.cn"
    assert url.path == f"/plans/checkin/{reg.ticket_number}"
    assert url.query == f"s={checkin_signature(reg.ticket_number or '', 'test')}"

    for user in (demo.invigilator, demo.site_admin, demo.admin):
        page = client_of(app, user).get(f"{url.path}?{url.query}")
        assert page.status_code == 200, user.username
        html = page.get_data(as_text=True)
        assert reg.candidate.name in html and reg.room.name in html  # type: ignore[union-attr]
        assert reg.candidate.id_number not in html  # masked
        masked = reg.candidate.id_number[:6] + "********" + reg.candidate.id_number[-4:]
        assert masked in html and 'src="data:image/jpeg;base64,' in html


def test_checkin_refuses_tampered_and_unknown_tickets(app: Flask, demo: Demo) -> None:
    first, second = demo.regs()[:2]
    signature = checkin_signature(first.ticket_number or "", "test")
    client = client_of(app, demo.invigilator)
    tampered = client.get(f"/plans/checkin/{first.ticket_number}?s={signature[:-1]}0")
    if signature.endswith("0"):
        tampered = client.get(f"/plans/checkin/{first.ticket_number}?s={signature[:-1]}1")
    assert tampered.status_code == 422
    assert "准考证二维码无效或被篡改" in tampered.get_data(as_text=True)
    swapped = client.get(f"/plans/checkin/{second.ticket_number}?s={signature}")
    assert swapped.status_code == 422 and second.candidate.name not in swapped.get_data(
        as_text=True
    )
    assert client.get(f"/plans/checkin/{first.ticket_number}").status_code == 422
    unknown = "269999999999990"
    response = client.get(f"/plans/checkin/{unknown}?s={checkin_signature(unknown, 'test')}")
    assert response.status_code == 404


def test_checkin_is_for_those_who_look_after_the_candidate(
    app: Flask, demo: Demo, make_user: Callable[..., User]
) -> None:
    reg = demo.regs()[0]
    url = (
        f"/plans/checkin/{reg.ticket_number}?s={checkin_signature(reg.ticket_number or '', 'test')}"
    )
    _, other_site_admin = second_site(demo, make_user)
    assert client_of(app, other_site_admin).get(url).status_code == 404
    assert client_of(app, make_user(Role.INVIGILATOR, org="college")).get(url).status_code == 404
    assert client_of(app, make_user(Role.RATER)).get(url).status_code == 403
