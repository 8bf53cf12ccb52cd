"""``examsvc cert issue|list|render`` on the database, and the offline ``examsvc cert verify``
with the key set and status list a verifier downloaded from the server: valid before the
revocation, revoked after it, without app or database."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from click.testing import CliRunner
from flask import Flask
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.certificates import services
from examsvc.certificates.models import IssuedCertificate
from examsvc.extensions import db
from examsvc.plans.models import ExamPlan
from tests.integration.test_cert_support import demo_plan, key_folder, release

BASE = "https://cert.example.cn"


@pytest.fixture
def plan(app: Flask, make_user: Callable[..., User], tmp_path: Path) -> ExamPlan:
    key_folder(app, tmp_path)
    app.config["CERT_VERIFY_BASE_URL"] = BASE
    plan = demo_plan(make_user(Role.ORG_ADMIN, username="admin"))
    release(plan.registrations[:3])
    return plan


def certs() -> list[IssuedCertificate]:
    return list(db.session.scalars(select(IssuedCertificate).order_by(IssuedCertificate.number)))


def test_issue_list_and_render(app: Flask, plan: ExamPlan, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    issued = runner.invoke(args=["cert", "issue", "--plan", str(plan.id)])
    assert issued.exit_code == 0 and "已签发 3 张证书" in issued.output, issued.output
    again = runner.invoke(args=["cert", "issue", "--plan", str(plan.id)])
    assert "已签发 0 张证书；3 名考生此前已有证书" in again.output
    db.session.expire_all()
    rows = certs()
    listed = runner.invoke(args=["cert", "list", "--plan", str(plan.id)])
    assert listed.exit_code == 0
    for row in rows:
        assert (
            f"{row.number}  {row.name}  有效  {row.check_code}  {BASE}/v/{row.token}"
            in listed.output
        )
    assert "还没有证书" in runner.invoke(args=["cert", "list", "--plan", "999"]).output
    png = tmp_path / "out" / "cert.png"
    rendered = runner.invoke(
        args=["cert", "render", rows[0].number.lower(), "--format", "png", "--out", str(png)]
    )
    assert rendered.exit_code == 0, rendered.output
    decoded = zxingcpp.read_barcodes(Image.open(png))
    assert [d.text for d in decoded] == [f"{BASE}/v/{rows[0].token}"]
    pdf = tmp_path / "cert.pdf"
    runner.invoke(args=["cert", "render", rows[1].number, "--format", "pdf", "--out", str(pdf)])
    text = PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()
    assert rows[1].number in text and rows[1].name in text
    missing = runner.invoke(
        args=["cert", "render", rows[0].number[:-1] + "9", "--format", "pdf", "--out", str(pdf)]
    )
    assert missing.exit_code == 1 and "没有编号为" in missing.output
    unknown_plan = runner.invoke(args=["cert", "issue", "--plan", "999"])
    assert unknown_plan.exit_code == 1


def test_offline_verify_with_the_downloaded_keys_and_status_list(
    app: Flask, plan: ExamPlan, tmp_path: Path
) -> None:
    from examsvc.cli import main

    services.issue_plan(plan, None, datetime.now(UTC))
    db.session.commit()
    cert = certs()[0]
    client = app.test_client()
    keys = tmp_path / "examsvc-keys.json"
    keys.write_bytes(client.get("/.well-known/examsvc-keys.json").data)
    status = tmp_path / "status.cbor"
    status.write_bytes(client.get(f"/v/status/{cert.status_list}.cbor").data)
    url = f"{BASE}/v/{cert.token}"

    def offline() -> tuple[int, str]:
        args = ["cert", "verify", url, "--keys", str(keys), "--status-list", str(status)]
        result = CliRunner().invoke(main, args)
        return result.exit_code, result.output

    code, output = offline()
    assert code == 0 and "结果：有效（valid）" in output and cert.check_code in output
    services.revoke(cert, "测试", None, datetime.now(UTC))
    db.session.commit()
    code, output = offline()  # the old list knows nothing of it
    assert code == 0
    status.write_bytes(client.get(f"/v/status/{cert.status_list}.cbor").data)
    code, output = offline()
    assert code == 1 and "已撤销" in output
