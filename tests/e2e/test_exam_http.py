"""The candidate's HTTP side: sign-in with ticket and ID number, the waiting room, and the HTTP
fallback of the exam protocol (start, autosave acknowledged after commit, submit)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.catalog.models import Organization
from examsvc.config import ROOT
from examsvc.delivery.models import Answer
from examsvc.delivery.services import paper_items
from examsvc.extensions import db, socketio
from examsvc.registration.models import Registration
from tests.conftest import open_demo_plan

BANKS = ROOT / "question_banks"


@pytest.fixture
def reg(catalog: dict[str, Organization], make_user: Callable[..., User]) -> Registration:
    make_user(Role.ORG_ADMIN, username="admin")
    plan = open_demo_plan()
    return plan.registrations[0]


def _signed_in(app: Flask, reg: Registration) -> FlaskClient:
    client = app.test_client()
    answer = client.post(
        "/exam/login",
        data={"ticket_number": reg.ticket_number, "id_number": reg.candidate.id_number},
    )
    assert answer.status_code == 302 and answer.location.endswith("/exam/")
    return client


def test_wrong_numbers_are_refused_without_saying_which(app: Flask, reg: Registration) -> None:
    answer = app.test_client().post(
        "/exam/login", data={"ticket_number": reg.ticket_number, "id_number": "11010519491231002X"}
    )
    assert answer.status_code == 401 and "准考证号或身份证号不正确" in answer.get_data(as_text=True)


def test_waiting_room_then_answer_and_submit_over_http(app: Flask, reg: Registration) -> None:
    client = _signed_in(app, reg)
    home = client.get("/exam/").get_data(as_text=True)
    assert reg.candidate.name in home and "候考中" in home
    assert client.get("/exam/api/state").get_json()["parts"][0]["state"] == "waiting"
    started = client.post("/exam/api/theory/start").get_json()
    assert started["parts"][0]["state"] == "in_progress" and started["parts"][0]["deadline"]
    single = next(i.view.position for i in paper_items(reg) if i.view.item_type == "single")
    change = {"seq": 1, "position": single, "value": "C", "flagged": True}
    assert client.post("/exam/api/theory/answers", json=change).get_json()["outcome"] == "saved"
    assert client.post("/exam/api/theory/answers", json=change).get_json()["outcome"] == "duplicate"
    bad = client.post("/exam/api/theory/answers", json={"seq": 2, "position": 9999, "value": "A"})
    assert bad.status_code == 422 and bad.get_json()["error"] == "unknown_item"
    (stored,) = db.session.scalars(select(Answer)).all()
    assert stored.flagged and stored.seq == 1
    assert client.post("/exam/api/theory/submit").get_json() == {"ok": True, "state": "submitted"}
    late = client.post("/exam/api/theory/answers", json=change | {"seq": 3})
    assert late.status_code == 409 and late.get_json()["error"] == "not_in_progress"


def test_after_sign_out_the_api_answers_401(app: Flask, reg: Registration) -> None:
    client = _signed_in(app, reg)
    client.post("/exam/logout")
    answer = client.get("/exam/api/state")
    assert answer.status_code == 401 and answer.get_json()["error"] == "unauthenticated"


def test_a_start_over_http_reaches_the_candidates_open_sockets(
    app: Flask, reg: Registration
) -> None:
    client = _signed_in(app, reg)
    client.get("/exam/")
    tab = socketio.test_client(app, "/exam", flask_test_client=client)
    assert tab.is_connected("/exam")
    tab.get_received("/exam")
    started = client.post("/exam/api/theory/start").get_json()
    pushed = [m["args"][0] for m in tab.get_received("/exam") if m["name"] == "state"]
    (theory,) = [p for p in started["parts"] if p["part"] == "theory"]
    assert pushed == [theory] and theory["state"] == "in_progress"
    tab.disconnect("/exam")
