"""Issuing, numbering, revocation, key rotation and the status list against a real database
(SQLite and PostgreSQL): every released pass gets exactly one certificate, numbered without
gaps, verifiable the moment it is issued."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.certificates import services, verification
from examsvc.certificates.keys import load_jwks
from examsvc.certificates.keystore import KeyStore
from examsvc.certificates.models import CertificateEvent, Counter, IssuedCertificate
from examsvc.certificates.number import check_code, parse_number
from examsvc.certificates.settings import save_level, save_site
from examsvc.certificates.status_list import parse_status_list
from examsvc.certificates.token import Status, b32decode, decode_claims, verify
from examsvc.errors import Conflict, DomainError
from examsvc.extensions import db
from examsvc.plans.models import ExamPlan

from .test_cert_support import demo_plan, key_folder, release


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ORG_ADMIN, username="admin")


@pytest.fixture
def store(app: Flask, tmp_path: Path) -> KeyStore:
    return key_folder(app, tmp_path)


@pytest.fixture
def plan(admin: User, store: KeyStore) -> ExamPlan:
    return demo_plan(admin)


def now() -> datetime:
    return datetime.now(UTC)


def issue(plan: ExamPlan, actor: User | None = None) -> services.IssueReport:
    report = services.issue_plan(plan, actor, now())
    db.session.commit()
    return report


def all_certs() -> list[IssuedCertificate]:
    return list(db.session.scalars(select(IssuedCertificate).order_by(IssuedCertificate.number)))


def test_every_released_pass_gets_one_certificate_numbered_from_1(
    plan: ExamPlan, admin: User, store: KeyStore
) -> None:
    regs = plan.registrations
    release(regs[:12])
    release(regs[12:15], status="failed")
    release(regs[15:18], released=False)  # passed, not released yet: no certificate
    report = issue(plan, admin)
    assert len(report.issued) == 12 and report.already == 0 and not report.skipped
    certs = all_certs()
    assert {c.registration_id for c in certs} == {r.id for r in regs[:12]}
    year = now().astimezone(services.CHINA).year
    for serial, cert in enumerate(certs, 1):
        number = parse_number(cert.number)
        assert cert.number == f"S000132000001{year % 100:02d}5{serial:06d}"
        assert (number.level, number.serial, number.issuer.site_serial) == (5, serial, 1)
    assert sorted(c.status_index for c in certs) == list(range(12))
    assert {c.status_list for c in certs} == {f"S0001-{year}"}
    keyset = store.keyset()
    for cert in certs:
        result = verify(cert.token, keyset, now())
        assert result.status is Status.VALID and result.check_code == cert.check_code
        assert result.claims is not None and result.claims.name == cert.name
        assert cert.id_last4 == cert.registration.candidate.id_number[-4:]
    event = db.session.scalar(select(CertificateEvent).where(CertificateEvent.action == "issue"))
    assert event is not None and event.actor_id == admin.id and event.data["issued"] == 12


def test_issuing_again_issues_only_what_is_missing(plan: ExamPlan) -> None:
    release(plan.registrations[:5])
    first = issue(plan)
    again = issue(plan)
    assert len(first.issued) == 5 and not again.issued and again.already == 5
    release(plan.registrations[5:7])
    third = issue(plan)
    assert [c.number[-6:] for c in third.issued] == ["000006", "000007"]
    assert len(all_certs()) == 7


def test_a_rolled_back_issuance_leaves_no_gap(plan: ExamPlan) -> None:
    release(plan.registrations[:3])
    services.issue_plan(plan, None, now())
    db.session.rollback()
    assert all_certs() == []
    issue(plan)
    assert [c.number[-6:] for c in all_certs()] == ["000001", "000002", "000003"]
    assert sorted(c.status_index for c in all_certs()) == [0, 1, 2]


def test_counters_take_values_back_on_rollback(app: Flask) -> None:
    assert services.allocate("test:a", 3) == 1
    db.session.rollback()
    assert services.allocate("test:a", 3) == 1
    assert services.allocate("test:a") == 4
    db.session.commit()
    assert db.session.scalar(select(Counter.value).where(Counter.scope == "test:a")) == 4


def test_sites_and_years_number_separately(plan: ExamPlan, admin: User) -> None:
    site = plan.registrations[0].site
    save_site(site, {"province": "37", "serial": "000123"}, admin)
    release(plan.registrations[:2])
    issue(plan)
    assert [c.number[:13] for c in all_certs()] == ["S000137000123"] * 2


def test_holders_whose_data_cannot_be_signed_are_skipped_and_reported(plan: ExamPlan) -> None:
    bad = plan.registrations[1]
    bad.candidate.name = " 张三"  # a leading space: not how a name is printed
    db.session.commit()
    release(plan.registrations[:3])
    report = issue(plan)
    assert len(report.issued) == 2 and len(report.skipped) == 1 and "张三" in report.skipped[0]
    assert [c.number[-6:] for c in all_certs()] == ["000001", "000002"]  # no gap for the skip


def test_issuing_needs_the_issuer_settings_and_a_key(
    app: Flask, admin: User, tmp_path: Path
) -> None:
    from examsvc.certificates.models import IssuerSettings

    plan = demo_plan(admin)
    release(plan.registrations[:1])
    app.config["CERT_KEYS_DIR"] = tmp_path / "no-keys"
    with pytest.raises(DomainError, match="keys generate"):
        services.issue_plan(plan, None, now())
    db.session.rollback()
    key_folder(app, tmp_path)
    db.session.execute(IssuerSettings.__table__.delete())
    db.session.commit()
    with pytest.raises(DomainError, match="发证设置"):
        services.issue_plan(plan, None, now())
    db.session.rollback()
    assert all_certs() == []


def test_revocation_shows_online_at_once_and_in_the_status_list(
    plan: ExamPlan, admin: User, store: KeyStore
) -> None:
    release(plan.registrations[:4])
    issue(plan)
    cert = all_certs()[2]
    assert verification.check_token(cert.token, now()).result.status is Status.VALID
    listed = parse_status_list(verification.status_list(cert.status_list, now()), store.keyset())
    assert listed.is_revoked(cert.status_index) is False
    with pytest.raises(DomainError, match="撤销原因"):
        services.revoke(cert, "  ", admin, now())
    services.revoke(cert, "证书信息有误，已重新核发", admin, now())
    db.session.commit()
    checked = verification.check_token(cert.token, now())
    assert checked.result.status is Status.REVOKED and checked.record is not None
    assert checked.record.revoked_reason == "证书信息有误，已重新核发"
    others = [c for c in all_certs() if c.id != cert.id]
    assert all(verification.check_token(c.token, now()).result.valid for c in others)
    data = verification.status_list(cert.status_list, now())
    listed = parse_status_list(data, store.keyset())
    assert listed.is_revoked(cert.status_index) is True
    assert [i for i in range(8) if listed.is_revoked(i)] == [cert.status_index]
    assert verification.status_list(cert.status_list, now()) == data  # cached until the next one
    offline = verify(cert.token, store.keyset(), now(), listed)
    assert offline.status is Status.REVOKED and offline.revocation_checked
    with pytest.raises(Conflict):
        services.revoke(cert, "再撤销一次", admin, now())
    event = db.session.scalar(select(CertificateEvent).where(CertificateEvent.action == "revoke"))
    assert event is not None and event.certificate_id == cert.id and event.actor_id == admin.id


def test_a_retired_key_still_verifies_what_it_signed(plan: ExamPlan, store: KeyStore) -> None:
    release(plan.registrations[:2])
    issue(plan)
    old = all_certs()[0]
    store.rotate(now())
    release(plan.registrations[2:3])
    new = issue(plan).issued[0]
    assert new.kid != old.kid and new.kid == store.keyset().active.kid  # type: ignore[union-attr]
    jwks = load_jwks(store.jwks_path.read_bytes())
    assert verify(old.token, jwks, now()).status is Status.VALID
    assert verification.check_token(old.token, now()).result.status is Status.VALID
    assert verification.check_token(new.token, now()).result.status is Status.VALID
    # A key removed from the set (leaked): everything it signed is unknown, online too.
    kept = [k for k in jwks.to_jwks()["keys"] if k["kid"] != old.kid]
    store.jwks_path.write_text(__import__("json").dumps({"keys": kept}))
    assert verification.check_token(old.token, now()).result.status is Status.UNKNOWN_KEY
    assert verification.check_token(new.token, now()).result.status is Status.VALID


def test_validity_years_make_certificates_expire(plan: ExamPlan, admin: User) -> None:
    save_level(plan.level, {"credits": "4.5", "validity_years": "3"}, admin)
    release(plan.registrations[:1])
    cert = issue(plan).issued[0]
    issued = cert.issued_on
    assert cert.expires_on == issued.replace(year=issued.year + 3) - timedelta(days=1)
    later = now() + timedelta(days=3 * 366 + 2)
    assert verification.check_token(cert.token, later).result.status is Status.EXPIRED
    rows = services.export_rows(plan)
    assert [(r.number, str(r.credits), r.expires) for r in rows] == [
        (cert.number, "4.5", cert.expires_on)
    ]


def test_lookup_needs_number_and_check_code(plan: ExamPlan) -> None:
    release(plan.registrations[:2])
    issue(plan)
    cert = all_certs()[1]
    typed = " ".join([cert.number[:6], cert.number[6:]]).lower()
    assert verification.lookup(typed, cert.check_code.lower().replace("-", "")) == cert
    wrong = "0000-0000" if cert.check_code != "0000-0000" else "1111-1111"
    with pytest.raises(verification.LookupFailed) as refused:
        verification.lookup(cert.number, wrong)
    unknown = cert.number[:-6] + "999999"
    with pytest.raises(verification.LookupFailed) as missing:
        verification.lookup(unknown, cert.check_code)
    assert refused.value.message == missing.value.message  # nothing tells which numbers exist
    with pytest.raises(DomainError, match="22 位"):
        verification.lookup("S0001", cert.check_code)


def test_the_check_code_comes_from_the_signature(plan: ExamPlan) -> None:
    from examsvc.certificates.cose import decode_sign1

    release(plan.registrations[:1])
    cert = issue(plan).issued[0]
    message = decode_sign1(b32decode(cert.token))
    assert check_code(message.signature) == cert.check_code
    assert decode_claims(message.payload).number == cert.number


def test_a_genuine_token_unknown_here_is_valid_but_revocation_unchecked(
    plan: ExamPlan, store: KeyStore
) -> None:
    from examsvc.certificates.token import peek_claims, sign

    release(plan.registrations[:1])
    cert = issue(plan).issued[0]
    claims = peek_claims(cert.token)
    assert claims is not None
    other = sign(replace(claims, number=cert.number[:-6] + "999999"), store.signing_key())
    result = verification.check_token(other.token, now())
    assert result.result.status is Status.VALID and result.record is None
    assert not result.result.revocation_checked
    assert verification.check_token(cert.token, now()).result.revocation_checked
