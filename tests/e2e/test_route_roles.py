"""Every route × every role: who gets in is decided on the server, and is exactly this table."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from examsvc.api.tokens import create_token
from examsvc.assembly.services import save_blueprint
from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.bank.model import ItemData
from examsvc.bank.services import create_item, ensure_bank
from examsvc.catalog.services import find_level
from examsvc.config import ROOT
from examsvc.extensions import db
from tests.conftest import sign_in

ADMIN, AUTHOR, REVIEWER, SITE = Role.ORG_ADMIN, Role.AUTHOR, Role.REVIEWER, Role.SITE_ADMIN
STAFF = set(Role)
BANK = {ADMIN, AUTHOR, REVIEWER}
PUBLIC = None
# Open to no staff role: the candidate's own sign-in (ticket + ID number) is required instead.
CANDIDATE: set[Role] = set()
PLAN_VIEWERS = {ADMIN, SITE, Role.INVIGILATOR, Role.RATER}
EXPECTED: dict[str, set[Role] | None] = {
    "core.healthz": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.users": {ADMIN},
    "auth.update_user": {ADMIN},
    "auth.password": STAFF,
    "core.index": STAFF,
    "catalog.index": BANK | {SITE},
    "catalog.standard": BANK | {SITE},
    "catalog.scheme": BANK | {SITE},
    "catalog.edit_scheme": {ADMIN},
    "bank.index": BANK,
    "bank.items": BANK,
    "bank.coverage": BANK,
    "bank.item": BANK,
    "bank.preview": BANK,
    "bank.attachment": BANK,
    "bank.new_item": {ADMIN, AUTHOR},
    "bank.edit": {ADMIN, AUTHOR},
    "bank.submit": {ADMIN, AUTHOR},
    "bank.import_items": {ADMIN, AUTHOR},
    "bank.template": {ADMIN, AUTHOR},
    "bank.export_xlsx": {ADMIN},
    "bank.review": {REVIEWER},
    "bank.review_queue": {REVIEWER},
    "bank.retire": {ADMIN, REVIEWER},
    "assembly.index": BANK,
    "assembly.blueprint": BANK,
    "assembly.new": {ADMIN, AUTHOR},
    "assembly.edit": {ADMIN, AUTHOR},
    "assembly.preview": BANK,
    "assembly.freeze": {ADMIN},
    "assembly.paper_set": BANK,
    "assembly.paper": BANK,
    "api.openapi": PUBLIC,
    "api.plans": {ADMIN, SITE},
    "api.plan": {ADMIN, SITE},
    "api.registrations": {ADMIN, SITE},
    "api.create_registration": {ADMIN, SITE},
    "api.delete_registration": {ADMIN, SITE},
    "tokens.index": {ADMIN, SITE},
    "plans.photo": {ADMIN, SITE},
    "exam.login": PUBLIC,
    "exam.logout": PUBLIC,
    "exam.home": CANDIDATE,
    "exam.state": CANDIDATE,
    "exam.start": CANDIDATE,
    "exam.save": CANDIDATE,
    "exam.submit": CANDIDATE,
    "exam.anomaly": CANDIDATE,
    "exam.upload": CANDIDATE,
    "exam.delete_upload": CANDIDATE,
    "exam.own_upload": CANDIDATE,
    "plan_docs.seating": {ADMIN, SITE},
    "plan_docs.auto_seat": {ADMIN, SITE},
    "plan_docs.move_seat": {ADMIN, SITE},
    "plan_docs.ticket_png": {ADMIN, SITE},
    "plan_docs.ticket_pdf": {ADMIN, SITE},
    "plan_docs.tickets_pdf": {ADMIN, SITE},
    "plan_docs.sign_in_pdf": {ADMIN, SITE},
    "plan_docs.sign_in_xlsx": {ADMIN, SITE},
    "plan_docs.seat_plan_xlsx": {ADMIN, SITE},
    "plan_docs.candidates": {ADMIN, SITE},
    "plan_docs.platform": {ADMIN, SITE},
    "plan_docs.checkin": {ADMIN, SITE, Role.INVIGILATOR},
    "plans.index": PLAN_VIEWERS,
    "plans.plan": PLAN_VIEWERS,
    "plans.new": {ADMIN},
    "plans.edit": {ADMIN},
    "plans.add_room": {ADMIN},
    "plans.remove_room": {ADMIN},
    "plans.add_staff": {ADMIN},
    "plans.remove_staff": {ADMIN},
    "plans.publish": {ADMIN},
    "plans.advance": {ADMIN},
    "plans.register": {ADMIN, SITE},
    "plans.import_roster": {ADMIN, SITE},
    "plans.roster_template": {ADMIN, SITE},
    "plans.withdraw": {ADMIN, SITE},
    "sites.index": {ADMIN, SITE},
    "sites.new_site": {ADMIN},
    "sites.edit_site": {ADMIN},
    "sites.site": {ADMIN, SITE},
    "sites.new_room": {ADMIN, SITE},
    "sites.room": {ADMIN, SITE},
    "sites.edit_room": {ADMIN, SITE},
    "sites.delete_room": {ADMIN, SITE},
    "exam_paper.paper": CANDIDATE,
    "exam_paper.file": CANDIDATE,
    "exam_paper.photo": CANDIDATE,
    "exam.pending": PUBLIC,
    "invigilation.index": {ADMIN, SITE, Role.INVIGILATOR},
    "invigilation.board": {ADMIN, SITE, Role.INVIGILATOR},
    "invigilation.record": {ADMIN, SITE, Role.INVIGILATOR},
    "invigilation.record_pdf": {ADMIN, SITE, Role.INVIGILATOR},
    "invigilation.site": {ADMIN, SITE},
    "grading.index": {ADMIN},
    "grading.plan": {ADMIN},
    "grading.settings": {ADMIN},
    "grading.score_theory": {ADMIN},
    "grading.prepare": {ADMIN},
    "grading.senior": {ADMIN},
    "grading.arbiter": {ADMIN},
    "grading.release": {ADMIN},
    "grading.candidate": {ADMIN},
    "grading.regrade_page": {ADMIN},
    "grading.appeal_list": {ADMIN},
    "grading.review_appeal": {ADMIN},
    "grading.close_appeal": {ADMIN},
    "grading.statistics": {ADMIN},
    "grading.statistics_xlsx": {ADMIN},
    "grading.results_file": {ADMIN},
    "grading.platform": {ADMIN},
    "marking.index": {Role.RATER},
    "marking.queue": {Role.RATER},
    "marking.script": {Role.RATER},
    "marking.file": {Role.RATER},
    "marking.answer_file": {Role.RATER},
    "results.lookup": PUBLIC,
    "results.appeal": PUBLIC,
    "certificates.index": {ADMIN},
    "certificates.plan": {ADMIN},
    "certificates.issue": {ADMIN},
    "certificates.revoke": {ADMIN},
    "certificates.download": {ADMIN},
    "certificates.plan_zip": {ADMIN},
    "certificates.plan_pdf": {ADMIN},
    "certificates.national": {ADMIN},
    "certificates.settings_page": {ADMIN},
    "certificates.layout": {ADMIN},
    "certificates.layout_preview": {ADMIN},
    "verify.page": PUBLIC,
    "verify.find": PUBLIC,
    "verify.keys": PUBLIC,
    "verify.status": PUBLIC,
    "api.verify": PUBLIC,
}


@pytest.fixture
def ids(app: Flask, catalog: object, make_user: Callable[..., User]) -> dict[str, int]:
    level = find_level("web-frontend", "junior")
    bank = ensure_bank("wf", "Web 初级", level)
    author = make_user(Role.AUTHOR)
    data = ItemData(**_practical(), materials=("start.html",))  # type: ignore[arg-type]
    item = create_item(bank, data, author, {"start.html": b"<!doctype html>"})
    assert level.scheme is not None
    sample = ROOT / "question_banks" / "blueprints" / "web-frontend-junior.yaml"
    blueprint = save_blueprint(level.scheme, "", sample.read_text(encoding="utf-8"), author)
    db.session.commit()
    return {
        "blueprint_id": blueprint.id,
        "number": 1,
        "paper_set_id": 1,  # none is frozen: the pages answer 404 to those let in
        "bank_id": bank.id,
        "item_id": item.id,
        "level_id": level.id,
        "att_id": item.latest.attachments[0].id,
        "user_id": author.id,
        "plan_id": 1,  # no plan exists: the pages answer 404 to those let in
        "part": "theory",
        "registration_id": 1,
        "fmt": "csv",
        "ticket_number": "260001001010035",  # unsigned: the check-in page answers 422
        "assignment_id": 1,
        "site_id": 1,  # no site exists: the pages answer 404 to those let in
        "room_id": 1,
        "position": 1,
        "name": "x.zip",
        "script_id": 1,  # no script exists: the pages answer 404 to those let in
        "appeal_id": 1,
        "file_id": 1,
        "cert_id": 1,  # no certificate exists: the pages answer 404 to those let in
        "kind": "pdf",
        "certificate_id": level.certificate_id,
        "token": "NOTATOKEN",  # malformed: the verify pages answer with that verdict
        "list_id": "S0001-2025",  # no such status list: 404
    }


def _practical() -> dict[str, object]:
    from decimal import Decimal

    from examsvc.bank.model import AnswerForm, Criterion

    return {
        "id": "P-1", "type": "practical", "title": "页面", "task_kind": "web_page",
        "stem": "做一个页面。", "explanation": "参考答案", "difficulty": 2, "skills": ("1-1-1",),
        "points": Decimal(10), "answer_form": AnswerForm("html", False, ()),
        "rubric": (Criterion("结构", Decimal(10), "…"),), "status": "draft",
    }  # fmt: skip


def test_every_route_is_in_the_table(app: Flask) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - {"static"}
    assert endpoints == set(EXPECTED), "add new routes to EXPECTED with the roles that may use them"


def test_annotations_match_the_table(app: Flask) -> None:
    for endpoint, roles in EXPECTED.items():
        view = app.view_functions[endpoint]
        if roles is PUBLIC or roles is CANDIDATE:
            assert getattr(view, "public", False), endpoint
        else:
            assert getattr(view, "allowed_roles", None) == frozenset(roles), endpoint


def _requests(app: Flask, ids: dict[str, int]) -> list[tuple[str, str, str]]:
    out = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            args = {a: ids[a] for a in rule.arguments}
            url = url_for(rule.endpoint, **args)
            for method in sorted((rule.methods or set()) & {"GET", "POST", "DELETE"}):
                out.append((rule.endpoint, method, url))
    return out


def _call(client: FlaskClient, method: str, url: str, token: str | None) -> int:
    # The API answers to tokens only, so a signed-in role reaches it through its own token.
    headers = {"Authorization": f"Bearer {token}"} if token and url.startswith("/api/") else {}
    if method == "GET":
        return client.get(url, headers=headers).status_code
    if method == "DELETE":
        return client.delete(url, headers=headers).status_code
    return client.post(url, data={}, headers=headers).status_code


@pytest.mark.parametrize("role", [*sorted(Role), None], ids=lambda r: str(r or "anonymous"))
def test_role_matrix(
    app: Flask, ids: dict[str, int], make_user: Callable[..., User], role: Role | None
) -> None:
    client = app.test_client()
    token = None
    if role is not None:
        user = make_user(role)
        sign_in(client, user)
        token = create_token(user, "matrix")[1]
        db.session.commit()
    for endpoint, method, url in _requests(app, ids):
        allowed = EXPECTED[endpoint]
        if endpoint == "auth.logout":
            continue  # signing out mid-walk would turn every later answer into a redirect
        status = _call(client, method, url, token)
        where = f"{method} {url} as {role}"
        if allowed is PUBLIC:
            assert status not in (401, 403), where
        elif allowed is CANDIDATE:
            assert status in (302, 401), f"{where}: a staff sign-in must not reach it ({status})"
        elif role is None:
            assert status in (302, 401), where
        elif role in allowed:
            assert status not in (401, 403), f"{where} was refused ({status})"
        else:
            assert status == 403, f"{where} got {status}, expected 403"


def test_other_organizations_bank_is_not_found(
    app: Flask, ids: dict[str, int], make_user: Callable[..., User]
) -> None:
    client = app.test_client()
    sign_in(client, make_user(Role.ORG_ADMIN, org="cflp"))
    for url in (
        f"/bank/{ids['bank_id']}",
        f"/bank/items/{ids['item_id']}",
        f"/bank/attachments/{ids['att_id']}",
    ):
        assert client.get(url).status_code == 404, url
