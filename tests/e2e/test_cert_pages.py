"""The organization admin's certificate pages: issue a plan's certificates with one button (again:
nothing new), revoke with a reason, download PDF/PNG and the plan's zip, the national export with
credits, and the settings (issuer, site, credits and validity, layout). Another organization's
admin finds nothing."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.certificates.keys import CHINA
from examsvc.certificates.models import CertificateEvent, IssuedCertificate
from examsvc.certificates.token import Status, verify
from examsvc.extensions import db
from examsvc.plans.models import ExamPlan
from tests.conftest import sign_in
from tests.integration.test_cert_support import demo_plan, key_folder, release

PASSES = 4


@pytest.fixture
def plan(app: Flask, make_user: Callable[..., User], tmp_path: Path) -> ExamPlan:
    key_folder(app, tmp_path)
    plan = demo_plan(make_user(Role.ORG_ADMIN, username="admin"))
    release(plan.registrations[:PASSES])
    release(plan.registrations[PASSES : PASSES + 2], status="failed")
    return plan


@pytest.fixture
def admin(app: Flask, plan: ExamPlan) -> FlaskClient:
    user = db.session.scalar(select(User).where(User.username == "admin"))
    assert user is not None
    client = app.test_client()
    sign_in(client, user)
    return client


def certs() -> list[IssuedCertificate]:
    return list(db.session.scalars(select(IssuedCertificate).order_by(IssuedCertificate.number)))


def issue(client: FlaskClient, plan: ExamPlan) -> str:
    response = client.post(f"/certificates/plans/{plan.id}/issue", follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_issue_button_issues_every_released_pass_once(
    admin: FlaskClient, plan: ExamPlan, app: Flask
) -> None:
    index = admin.get("/certificates/").get_data(as_text=True)
    assert plan.title in index and f"/certificates/plans/{plan.id}" in index
    before = admin.get(f"/certificates/plans/{plan.id}").get_data(as_text=True)
    assert f"/certificates/plans/{plan.id}/issue" in before
    issue(admin, plan)
    rows = certs()
    assert len(rows) == PASSES
    html = issue(admin, plan)  # again: nothing new
    assert len(certs()) == PASSES
    for row in rows:
        assert row.number in html and row.name in html and row.check_code in html
        assert f"/v/{row.token}" in html
    assert "/certificates/plans/" in html and "national.xlsx" in html


def test_revoke_needs_a_reason_and_is_audited(admin: FlaskClient, plan: ExamPlan) -> None:
    issue(admin, plan)
    cert = certs()[0]
    refused = admin.post(f"/certificates/{cert.id}/revoke", data={"reason": " "})
    assert refused.status_code == 302 and certs()[0].revoked_at is None
    done = admin.post(
        f"/certificates/{cert.id}/revoke",
        data={"reason": "成绩复核后改为不合格"},
        follow_redirects=True,
    )
    html = done.get_data(as_text=True)
    assert "成绩复核后改为不合格" in html
    db.session.expire_all()
    assert certs()[0].revoked_at is not None
    event = db.session.scalar(select(CertificateEvent).where(CertificateEvent.action == "revoke"))
    assert event is not None and event.reason == "成绩复核后改为不合格"
    verdict = admin.get(f"/api/v1/verify/{cert.token}").get_json()
    assert verdict["status"] == Status.REVOKED


def test_downloads_print_the_certificate(admin: FlaskClient, plan: ExamPlan, app: Flask) -> None:
    issue(admin, plan)
    cert = certs()[0]
    pdf = admin.get(f"/certificates/{cert.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    page = PdfReader(io.BytesIO(pdf.data)).pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)  # landscape
    text = page.extract_text()
    assert cert.number in text and cert.name in text and cert.check_code in text
    png = admin.get(f"/certificates/{cert.id}.png")
    assert Image.open(io.BytesIO(png.data)).size == (1754, 1240)
    batch = PdfReader(io.BytesIO(admin.get(f"/certificates/plans/{plan.id}/certificates.pdf").data))
    assert [cert.number in p.extract_text() for p in batch.pages[:1]] == [True]
    assert len(batch.pages) == PASSES
    archive = admin.get(f"/certificates/plans/{plan.id}/certificates.zip?format=pdf&format=png")
    names = sorted(zipfile.ZipFile(io.BytesIO(archive.data)).namelist())
    assert names == sorted(f"{c.number}.{k}" for c in certs() for k in ("pdf", "png"))


def test_national_export_carries_the_credits(admin: FlaskClient, plan: ExamPlan) -> None:
    saved = admin.post(
        "/certificates/settings",
        data={"form": "level", "level_id": plan.level_id, "credits": "4.5"},
        follow_redirects=True,
    )
    assert saved.status_code == 200
    issue(admin, plan)
    rows = list(csv.reader(io.StringIO(admin.get(f"/certificates/plans/{plan.id}/national.csv")
                                       .data.decode("utf-8-sig"))))  # fmt: skip
    header, body = rows[0], rows[1:]
    assert header[0] == "证书编号" and "学分建议" in header and len(body) == PASSES
    first = dict(zip(header, body[0], strict=True))
    cert = certs()[0]
    assert first["证书编号"] == cert.number and first["学分建议"] == "4.5"
    assert first["证件号码"] == cert.registration.candidate.id_number
    assert first["证书状态"] == "有效" and first["有效期至"] == "长期"
    book = load_workbook(io.BytesIO(admin.get(f"/certificates/plans/{plan.id}/national.xlsx").data))
    sheet = book.active
    assert sheet is not None
    values = [c.value for c in sheet[2]]
    assert values[0] == cert.number and values[3] == cert.registration.candidate.id_number
    assert float(values[header.index("学分建议")]) == 4.5  # type: ignore[arg-type]


def test_settings_change_the_next_numbers(admin: FlaskClient, plan: ExamPlan) -> None:
    page = admin.get("/certificates/settings").get_data(as_text=True)
    assert "示范职业技术学院考点" in page
    bad = admin.post(
        "/certificates/settings",
        data={"form": "issuer", "body_type": "X", "body_code": "12345", "province": "99"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "评价机构类别" in bad and "评价机构代码" in bad and "省份代码" in bad
    admin.post(
        "/certificates/settings",
        data={"form": "issuer", "body_type": "S", "body_code": "0042", "province": "37"},
    )
    site = plan.registrations[0].site
    admin.post("/certificates/settings", data={"form": "site", "site_id": site.id, "serial": "88"})
    issue(admin, plan)
    assert {c.number[:13] for c in certs()} == {"S004237000088"}
    year = datetime.now(UTC).astimezone(CHINA).year
    assert {c.status_list for c in certs()} == {f"S0042-{year}"}


def test_layout_is_configurable_per_certificate(
    admin: FlaskClient, plan: ExamPlan, app: Flask
) -> None:
    certificate = plan.level.certificate
    url = f"/certificates/layouts/{certificate.id}"
    assert admin.get(url).status_code == 200
    form = {
        "title": "职业技能等级证书（样式二）",
        "subtitle": "",
        "statement": "{name}通过{certificate}（{level}）考核。",
        "margin": "12",
        "title_size": "30",
        "text_size": "13",
        "qr_size": "32",
        "qr_caption": "扫码验证",
        "seal_label": "",
        "frame": "1",
    }
    bad = admin.post(url, data=form | {"statement": "{holder}"}, follow_redirects=True)
    assert "只能使用占位符" in bad.get_data(as_text=True)
    admin.post(url, data=form)
    preview = admin.get(f"{url}/preview.png")
    assert preview.status_code == 200 and preview.mimetype == "image/png"
    issue(admin, plan)
    cert = certs()[0]
    text = PdfReader(io.BytesIO(admin.get(f"/certificates/{cert.id}.pdf").data)).pages[0]
    content = text.extract_text()
    assert "样式二" in content and "身份证号" not in content  # show_id_number left unticked


def test_another_organization_finds_nothing(
    app: Flask, plan: ExamPlan, make_user: Callable[..., User], admin: FlaskClient
) -> None:
    issue(admin, plan)
    cert = certs()[0]
    other = app.test_client()
    sign_in(other, make_user(Role.ORG_ADMIN, org="cflp"))
    for url in (
        f"/certificates/plans/{plan.id}",
        f"/certificates/{cert.id}.pdf",
        f"/certificates/plans/{plan.id}/national.csv",
        f"/certificates/layouts/{plan.level.certificate_id}",
    ):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/certificates/{cert.id}/revoke", data={"reason": "x"}).status_code == 404
    assert other.post(f"/certificates/plans/{plan.id}/issue").status_code == 404
    db.session.expire_all()
    assert certs()[0].revoked_at is None


def test_issued_certificates_verify_offline_with_the_served_keys(
    admin: FlaskClient, plan: ExamPlan
) -> None:
    from examsvc.certificates.keys import load_jwks

    issue(admin, plan)
    keys = load_jwks(admin.get("/.well-known/examsvc-keys.json").data)
    assert all(verify(c.token, keys, datetime.now(UTC)).valid for c in certs())
