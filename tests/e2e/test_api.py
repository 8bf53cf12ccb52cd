"""/api/v1: token-only authentication, registering candidates, reading seats, and an OpenAPI
description that covers exactly the routes there are."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from examsvc.api.models import ApiToken
from examsvc.api.openapi import document
from examsvc.api.tokens import create_token, revoke
from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.catalog.services import find_level
from examsvc.extensions import db
from examsvc.plans.demo import demo_id_number
from examsvc.plans.models import ExamPlan
from examsvc.plans.seats import auto_seat
from examsvc.plans.services import PlanData, add_room, save_plan
from examsvc.sites.models import Room, Site
from tests.conftest import sign_in


@pytest.fixture
def plan(catalog: dict[str, Organization], make_user: Callable[..., User]) -> ExamPlan:
    admin = make_user(Role.ORG_ADMIN)
    site = Site(number=3, name="甲考点", organization_id=catalog["miit-eec"].id)
    site.rooms = [
        Room(number=1, name="机房 1", rows=2, columns=2),
        Room(number=2, name="机房 2", rows=2, columns=2),
    ]
    other = Site(number=4, name="乙考点", organization_id=catalog["miit-eec"].id)
    other.rooms = [Room(number=1, name="机房 9", rows=2, columns=2)]
    db.session.add_all([site, other])
    db.session.flush()
    start = datetime(2026, 12, 1, 9, 0)
    level = find_level("web-frontend", "junior")
    row = save_plan(
        admin,
        PlanData(level.id, "接口批次", {"theory": start, "practical": start + timedelta(hours=3)},
                 {"theory": "100", "practical": "100"}),
    )  # fmt: skip
    add_room(row, site.rooms[0].id)
    add_room(row, site.rooms[1].id)
    add_room(row, other.rooms[0].id)
    db.session.commit()
    return row


@pytest.fixture
def site_admin(plan: ExamPlan, make_user: Callable[..., User]) -> User:
    user = make_user(Role.SITE_ADMIN, org="college")
    user.site_id = plan.rooms[0].room.site_id
    db.session.commit()
    return user


def _token(user: User) -> dict[str, str]:
    secret = create_token(user, "教务系统")[1]
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _candidate(n: int, **changes: object) -> dict[str, object]:
    return {
        "name": f"接口考生{n}",
        "id_number": demo_id_number(n),
        "institution": "示范职业技术学院",
        "class_name": "软件 2401 班",
        "level": "初级",
        "education": "高职",
        "poor_family": n == 2,
    } | changes


def test_requests_without_a_valid_token_are_refused(
    app: Flask, plan: ExamPlan, site_admin: User
) -> None:
    client = app.test_client()
    answer = client.get("/api/v1/plans")
    assert answer.status_code == 401 and "Bearer" in answer.get_json()["message"]
    assert (
        client.get("/api/v1/plans", headers={"Authorization": "Bearer exs_nope"}).status_code == 401
    )
    sign_in(client, site_admin)  # a session cookie alone never reaches the API
    assert client.get("/api/v1/plans").status_code == 401
    headers = _token(site_admin)
    assert client.get("/api/v1/plans", headers=headers).status_code == 200
    (token,) = db.session.scalars(select(ApiToken).where(ApiToken.user_id == site_admin.id))
    revoke(site_admin, token.id)
    db.session.commit()
    assert client.get("/api/v1/plans", headers=headers).status_code == 401


def test_a_site_admin_registers_and_reads_seats_of_their_site_only(
    app: Flask, plan: ExamPlan, site_admin: User
) -> None:
    client = app.test_client()
    headers = _token(site_admin)
    (listed,) = client.get("/api/v1/plans", headers=headers).get_json()
    assert listed["id"] == plan.id and listed["state"] == "draft"
    assert [s["part"] for s in listed["sessions"]] == ["theory", "practical"]
    assert [s["name"] for s in listed["sites"]] == ["甲考点", "乙考点"]  # each site once
    url = f"/api/v1/plans/{plan.id}/registrations"
    for n in (1, 2):
        answer = client.post(url, json=_candidate(n), headers=headers)
        assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["fee"] == "0.00" and body["exempt"] is True and body["ticket_number"] is None
    auto_seat(db.session.get(ExamPlan, plan.id))
    db.session.commit()
    seats = client.get(url, headers=headers).get_json()
    assert [(r["room"], r["seat"] is not None) for r in seats] == [("机房 1", True)] * 2
    assert all(len(r["ticket_number"]) == 15 for r in seats)


def test_bad_candidates_get_every_problem_and_nothing_is_stored(
    app: Flask, plan: ExamPlan, site_admin: User
) -> None:
    client = app.test_client()
    headers = _token(site_admin)
    url = f"/api/v1/plans/{plan.id}/registrations"
    wrong = demo_id_number(5)[:-1] + ("1" if demo_id_number(5)[-1] != "1" else "2")
    answer = client.post(
        url, json=_candidate(5, id_number=wrong, phone="123", age=3), headers=headers
    )
    assert answer.status_code == 422
    details = "\n".join(answer.get_json()["details"])
    assert "身份证号（id_number）" in details and "校验码" in details
    assert "手机（phone）" in details and "未知字段 age" in details
    assert client.post(url, data="not json", headers=headers).status_code == 422
    assert client.post(url, json=_candidate(6), headers=headers).status_code == 201
    again = client.post(url, json=_candidate(6), headers=headers)
    assert again.status_code == 422 and "重复报名" in again.get_json()["details"][0]
    assert len(client.get(url, headers=headers).get_json()) == 1


def test_another_sites_admin_cannot_see_the_plan(
    app: Flask, plan: ExamPlan, make_user: Callable[..., User]
) -> None:
    stranger = make_user(Role.SITE_ADMIN, org="college")
    headers = _token(stranger)
    client: FlaskClient = app.test_client()
    assert client.get("/api/v1/plans", headers=headers).get_json() == []
    assert client.get(f"/api/v1/plans/{plan.id}", headers=headers).status_code == 404


def test_openapi_describes_exactly_the_api_routes(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1") and spec["servers"][0]["url"].endswith("/api/v1")
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = rule.rule.removeprefix("/api/v1")
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                routed.add((path, method.lower()))
    described = {
        (p, m) for p, ops in document("http://x/api/v1/plans")["paths"].items() for m in ops
    }
    assert routed == described
