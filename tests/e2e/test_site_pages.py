"""Site and room pages through HTTP: sites of an organization, rooms with their seat maps drawn as
the room is, refusals that say what to fix and store nothing, a site admin kept to one site, and
the staff accounts page attaching site admins and invigilators to a site."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.catalog.services import find_level
from examsvc.extensions import db
from examsvc.plans.services import PlanData, add_room, save_plan
from examsvc.sites.models import Room, Site
from examsvc.sites.services import RoomData, SiteData, save_room, save_site
from tests.conftest import sign_in

MakeUser = Callable[..., User]
SITE = {
    "number": "12",
    "name": "示范学院考点",
    "address": "江苏省南京市玄武区示范路 1 号",
    "institution": "示范职业技术学院",
}
ROOM = {
    "number": "1",
    "name": "机房 101",
    "rows": "5",
    "columns": "6",
    "spare": "29, 30",
    "blocked": "7-8",
}


def _count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user)
    return client


def _seats(page: str) -> dict[int, str]:
    """Seat number → its kind ("" for an ordinary seat) as drawn in the grid."""
    cells = re.findall(r'<td class="room-seat ?([a-z]*)" data-seat="(\d+)"', page)
    return {int(seat): kind for kind, seat in cells}


def _site(admin: User, number: int, name: str) -> Site:
    site = save_site(admin, SiteData(number=number, name=name))
    save_room(site, RoomData(number=1, name=f"{name} 机房 1", rows=4, columns=5))
    db.session.commit()
    return site


def test_admin_creates_a_site_and_a_room_and_sees_the_seat_map(
    app: Flask, make_user: MakeUser, catalog: dict[str, Organization]
) -> None:
    admin = _signed_in(app, make_user(Role.ORG_ADMIN))
    assert admin.get("/sites/").status_code == 200
    assert admin.get("/sites/new").status_code == 200

    created = admin.post("/sites/new", data=SITE)
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    site = db.session.scalar(select(Site).where(Site.number == 12))
    assert site is not None and site.name == "示范学院考点"
    assert site.institution_id == catalog["college"].id  # an existing institution, by name
    assert created.headers["Location"].endswith(f"/sites/{site.id}")

    added = admin.post(f"/sites/{site.id}/rooms/new", data=ROOM)
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]
    room = db.session.scalar(select(Room).where(Room.site_id == site.id))
    assert room is not None
    assert (room.rows, room.columns, room.spare_seats, room.blocked_seats) == (
        5,
        6,
        [29, 30],
        [7, 8],
    )

    page = admin.get(f"/sites/rooms/{room.id}").get_data(as_text=True)
    seats = _seats(page)
    assert sorted(seats) == list(range(1, 31))
    assert {s for s, kind in seats.items() if kind == "spare"} == {29, 30}
    assert {s for s, kind in seats.items() if kind == "blocked"} == {7, 8}
    assert page.index("seatmap-front") < page.index('data-seat="1"')  # the front at the top
    assert ">01<" in page and ">30<" in page  # labels padded to the widest seat number

    site_page = admin.get(f"/sites/{site.id}").get_data(as_text=True)
    assert "机房 101" in site_page and "29, 30" in site_page and "7, 8" in site_page
    assert ">26<" in site_page  # capacity: 30 seats less 2 spare and 2 blocked
    listing = admin.get("/sites/").get_data(as_text=True)
    assert "示范学院考点" in listing and "012" in listing and "示范职业技术学院" in listing

    # the edit form shows the seat lists as typed; a preview draws the typed map, stores nothing
    form = admin.get(f"/sites/rooms/{room.id}/edit").get_data(as_text=True)
    assert 'value="29, 30"' in form and 'value="7, 8"' in form
    preview = admin.post(
        f"/sites/rooms/{room.id}/edit", data=ROOM | {"spare": "1-3", "action": "preview"}
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)[-4000:]
    drawn = _seats(preview.get_data(as_text=True))
    assert {s for s, kind in drawn.items() if kind == "spare"} == {1, 2, 3}
    db.session.refresh(room)
    assert room.spare_seats == [29, 30]

    changed = admin.post(f"/sites/rooms/{room.id}/edit", data=ROOM | {"blocked": "7-9"})
    assert changed.status_code == 302
    db.session.refresh(room)
    assert room.blocked_seats == [7, 8, 9]

    renamed = admin.post(f"/sites/{site.id}/edit", data=SITE | {"name": "示范学院第一考点"})
    assert renamed.status_code == 302
    db.session.refresh(site)
    assert site.name == "示范学院第一考点" and site.number == 12


def test_bad_input_says_what_to_fix_and_stores_nothing(app: Flask, make_user: MakeUser) -> None:
    user = make_user(Role.ORG_ADMIN)
    site = _site(user, 12, "示范学院考点")
    room_id = site.rooms[0].id
    admin = _signed_in(app, user)
    new_room = f"/sites/{site.id}/rooms/new"

    cases = [
        (ROOM | {"number": "2", "rows": "0"}, 422, "排数 0 无效：应为 1–30"),
        (
            ROOM | {"number": "2", "spare": "99"},
            422,
            "备用座位 99 超出座位范围：本考场座位号为 1–30",
        ),
        (ROOM | {"number": "2", "spare": "5, abc"}, 422, "“abc”不是座位号或范围"),
        (ROOM | {"number": "2", "spare": "7"}, 422, "座位 7 不能既是备用座位又是停用座位"),
        (ROOM | {"number": "100"}, 422, "考场编号 100 无效：应为 1–99"),
        (ROOM, 409, "本站点已有编号为 1 的考场"),  # the room made by _site is number 1
    ]
    for data, status, message in cases:
        response = admin.post(new_room, data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == status, (data, page[:2000])
        assert message in page, data
        assert 'value="机房 101"' in page  # the typed values stay in the form
    assert _count(Room) == 1

    # a bad change to an existing room leaves it as it was
    bad = admin.post(f"/sites/rooms/{room_id}/edit", data=ROOM | {"blocked": "31"})
    assert bad.status_code == 422 and "停用座位 31 超出座位范围" in bad.get_data(as_text=True)
    room = db.session.get(Room, room_id)
    assert room is not None and (room.name, room.rows, room.blocked_seats) == (
        "示范学院考点 机房 1",
        4,
        [],
    )

    again = admin.post("/sites/new", data=SITE)
    assert again.status_code == 409
    assert "站点编号 12 已由「示范学院考点」使用，请换一个编号" in again.get_data(as_text=True)
    zero = admin.post("/sites/new", data=SITE | {"number": "0"})
    assert zero.status_code == 422 and "站点编号 0 无效" in zero.get_data(as_text=True)
    empty = admin.post("/sites/new", data=SITE | {"number": "", "name": ""})
    assert empty.status_code == 422
    assert _count(Site) == 1


def test_site_admin_sees_and_edits_only_their_site(app: Flask, make_user: MakeUser) -> None:
    org_admin = make_user(Role.ORG_ADMIN)
    own, other = _site(org_admin, 1, "甲考点"), _site(org_admin, 2, "乙考点")
    own_room, other_room = own.rooms[0].id, other.rooms[0].id
    site_admin = make_user(Role.SITE_ADMIN)
    site_admin.site_id = own.id
    db.session.commit()
    client = _signed_in(app, site_admin)

    listing = client.get("/sites/").get_data(as_text=True)
    assert "甲考点" in listing and "乙考点" not in listing
    assert "/sites/new" not in listing
    assert client.get(f"/sites/{own.id}").status_code == 200
    assert client.get(f"/sites/rooms/{own_room}").status_code == 200
    for url in (
        f"/sites/{other.id}",
        f"/sites/{other.id}/rooms/new",
        f"/sites/rooms/{other_room}",
        f"/sites/rooms/{other_room}/edit",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/sites/rooms/{other_room}/edit", data=ROOM).status_code == 404
    assert client.post(f"/sites/rooms/{other_room}/delete").status_code == 404
    assert (
        client.post(f"/sites/{other.id}/rooms/new", data=ROOM | {"number": "2"}).status_code == 404
    )

    # only organization admins create or rename sites
    assert client.get("/sites/new").status_code == 403
    assert client.post("/sites/new", data=SITE).status_code == 403
    assert client.post(f"/sites/{own.id}/edit", data=SITE).status_code == 403

    # the site's own rooms are theirs to change
    assert client.post(f"/sites/rooms/{own_room}/edit", data=ROOM).status_code == 302
    assert client.post(f"/sites/{own.id}/rooms/new", data=ROOM | {"number": "2"}).status_code == 302
    db.session.expire_all()
    assert [(r.number, r.name) for r in db.session.get(Site, own.id).rooms] == [
        (1, "机房 101"),
        (2, "机房 101"),
    ]
    assert [r.name for r in db.session.get(Site, other.id).rooms] == ["乙考点 机房 1"]

    # an organization admin of another organization does not see the site either
    stranger = _signed_in(app, make_user(Role.ORG_ADMIN, org="cflp"))
    assert stranger.get(f"/sites/{own.id}").status_code == 404
    assert "甲考点" not in stranger.get("/sites/").get_data(as_text=True)


def test_a_room_used_by_a_plan_cannot_be_deleted(app: Flask, make_user: MakeUser) -> None:
    user = make_user(Role.ORG_ADMIN)
    site = _site(user, 3, "丙考点")
    spare = save_room(site, RoomData(number=2, name="机房 102", rows=2, columns=2))
    used_id, spare_id = site.rooms[0].id, spare.id
    start = datetime(2026, 6, 1, 9, 0)
    plan = save_plan(
        user,
        PlanData(
            level_id=find_level("web-frontend", "junior").id,
            batch="2026 年第 2 批",
            starts={"theory": start, "practical": start + timedelta(hours=2)},
            fees={"theory": "150", "practical": "230"},
        ),
    )
    add_room(plan, used_id)
    db.session.commit()
    admin = _signed_in(app, user)

    refused = admin.post(f"/sites/rooms/{used_id}/delete")
    assert refused.status_code == 409
    assert "考场「丙考点 机房 1」已用于 1 个考核计划，不能删除" in refused.get_data(as_text=True)
    assert db.session.get(Room, used_id) is not None

    deleted = admin.post(f"/sites/rooms/{spare_id}/delete")
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith(f"/sites/{site.id}")
    db.session.expire_all()
    assert db.session.get(Room, spare_id) is None


def test_staff_accounts_attach_site_admins_and_invigilators_to_a_site(
    app: Flask, make_user: MakeUser
) -> None:
    user = make_user(Role.ORG_ADMIN)
    site = _site(user, 12, "示范学院考点")
    foreign = _site(make_user(Role.ORG_ADMIN, org="cflp"), 13, "外机构考点")
    admin = _signed_in(app, user)
    with app.test_request_context():
        needs_site = str(
            _l("A site admin or invigilator must be attached to a site: choose the site.")
        )

    page = admin.get("/auth/users").get_data(as_text=True)
    assert f'<option value="{site.id}">012 示范学院考点</option>' in page
    assert "外机构考点" not in page  # only the organization's own sites are offered

    new = {
        "username": "wang.fang",
        "display_name": "王芳",
        "password": "a long initial pw",
        "roles": ["site_admin"],
    }
    missing = admin.post("/auth/users", data=new)
    assert missing.status_code == 422 and needs_site in missing.get_data(as_text=True)
    assert admin.post("/auth/users", data=new | {"site": str(foreign.id)}).status_code == 422
    assert db.session.scalar(select(User).where(User.username == "wang.fang")) is None

    assert admin.post("/auth/users", data=new | {"site": str(site.id)}).status_code == 302
    created = db.session.scalar(select(User).where(User.username == "wang.fang"))
    assert created is not None and created.site_id == site.id
    listing = admin.get("/auth/users").get_data(as_text=True)
    assert "012 示范学院考点" in listing
    assert f'<option selected value="{site.id}">' in listing

    # the new site admin signs in and finds their site
    colleague = app.test_client()
    colleague.post("/auth/login", data={"username": "wang.fang", "password": "a long initial pw"})
    assert "示范学院考点" in colleague.get("/sites/").get_data(as_text=True)

    # each row's form changes the site; an invigilator cannot be left without one
    invigilator = make_user(Role.INVIGILATOR)
    prefix = f"u{invigilator.id}"
    roles = {f"{prefix}-roles": ["invigilator"], f"{prefix}-active": "y"}
    refused = admin.post(f"/auth/users/{invigilator.id}", data=roles)
    assert refused.status_code == 422 and needs_site in refused.get_data(as_text=True)
    saved = admin.post(
        f"/auth/users/{invigilator.id}", data=roles | {f"{prefix}-site": str(site.id)}
    )
    assert saved.status_code == 302
    db.session.refresh(invigilator)
    assert invigilator.site_id == site.id and invigilator.active

    # a rater needs no site, and the site can be taken away with the role
    cleared = admin.post(
        f"/auth/users/{invigilator.id}",
        data={f"{prefix}-roles": ["rater"], f"{prefix}-active": "y", f"{prefix}-site": ""},
    )
    assert cleared.status_code == 302
    db.session.refresh(invigilator)
    assert invigilator.site_id is None and invigilator.role_set == {Role.RATER}
