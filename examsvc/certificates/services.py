"""Certificate use cases: issue a plan's certificates, revoke one, read them for pages, files
and the national export (verification is in ``verification``).

Numbers and status-list indexes come from ``Counter`` rows incremented inside the issuing
transaction (``allocate``): PostgreSQL locks the row until the commit, SQLite's single writer
does the same for the whole database, so two processes never draw the same value, and a
rolled-back issuance takes its values back (no gaps). A certificate row is unique per
registration: issuing again issues only what is missing. Services flush; the request (or the
command) commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask import current_app, has_request_context, request
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..auth.models import User
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..plans.models import ExamPlan
from ..registration.models import Registration
from .exports import IssuedRow
from .keys import CHINA
from .keystore import KeyStore, KeyStoreError
from .models import CertificateEvent, Counter, IssuedCertificate, audit
from .number import (
    LEVEL_NAMES,
    CertificateNumber,
    CertificateNumberError,
    Issuer,
    format_number,
    level_digit,
    parse_number,
)
from .render import CertificateData
from .settings import issuer_for, level_settings
from .token import (
    Claims,
    ClaimsError,
    check_claims,
    sign,
)
from .token import verify_url as token_url

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
MAX_REASON = 500


# ---- infrastructure ----------------------------------------------------------------------------


def key_store() -> KeyStore:
    """The signing keys of this deployment (``CERT_KEYS_DIR``)."""
    folder = (
        current_app.config.get("CERT_KEYS_DIR") or Path(current_app.instance_path) / "cert-keys"
    )
    return KeyStore(Path(folder))


def base_url() -> str:
    """Where verifiers reach this server: CERT_VERIFY_BASE_URL, else the request's address."""
    configured = current_app.config.get("CERT_VERIFY_BASE_URL")
    if configured:
        return str(configured).rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return DEFAULT_BASE_URL


def china_day(moment: datetime) -> date:
    """The date in China of a stored time (SQLite hands back naive times, all UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).date()


def verify_url(cert: IssuedCertificate) -> str:
    return token_url(base_url(), cert.token)


def _ensure_counter(scope: str) -> None:
    table = Counter.__table__
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(table).values(scope=scope, value=0).on_conflict_do_nothing(index_elements=["scope"])
    )


def allocate(scope: str, count: int = 1) -> int:
    """The first of ``count`` consecutive new values of the counter ``scope`` (from 1).

    The UPDATE locks the row (PostgreSQL) or the database (SQLite) until the transaction ends,
    so concurrent callers queue here and each gets the next values; a rollback returns them.
    """
    if count < 1:
        raise ValueError("count must be positive")
    statement = (
        update(Counter)
        .where(Counter.scope == scope)
        .values(value=Counter.value + count)
        .returning(Counter.value)
        .execution_options(synchronize_session=False)
    )
    last = db.session.execute(statement).scalar()
    if last is None:
        _ensure_counter(scope)
        last = db.session.execute(statement).scalar_one()
    return int(last) - count + 1


# ---- issuing -----------------------------------------------------------------------------------


def released_passes(plan: ExamPlan) -> list[Registration]:
    """Registrations of ``plan`` whose overall result is a pass and has been released.

    An adapter over the grading tables (``grading.models.Result``: status ``passed`` and a
    ``released_at``): the one place that decides who is owed a certificate.
    """
    from ..grading.models import Result

    return list(
        db.session.scalars(
            select(Registration)
            .join(Result, Result.registration_id == Registration.id)
            .where(
                Registration.plan_id == plan.id,
                Result.status == "passed",
                Result.released_at.is_not(None),
            )
            .order_by(Registration.ticket_number, Registration.id)
        )
    )


@dataclass
class IssueReport:
    issued: list[IssuedCertificate] = field(default_factory=list)
    already: int = 0  # passes that had their certificate before this run
    skipped: list[str] = field(default_factory=list)  # passes that cannot be issued, and why


def list_id_for(body_type: str, body_code: int, year: int) -> str:
    """The status list of an evaluation body and year, e.g. S0001-2025."""
    return f"{body_type}{body_code:04d}-{year}"


def _expiry(issued: date, years: int | None) -> date | None:
    if not years:
        return None
    try:
        end = issued.replace(year=issued.year + years)
    except ValueError:  # 29 February
        end = issued.replace(year=issued.year + years, day=28)
    return end - timedelta(days=1)


def issue_plan(plan: ExamPlan, actor: User | None, now: datetime) -> IssueReport:
    """Issue a certificate for every released pass of ``plan`` that has none yet.

    Idempotent; safe to run from several processes at once (the plan's counter row serializes
    runs, and the unique registration keeps one certificate per pass whatever happens).
    :raises DomainError: no issuer settings, no signing key, or a serial range exhausted.
    """
    allocate(f"issue-run:{plan.id}")  # the plan's issuing lock, held until the commit
    report = IssueReport()
    have = set(
        db.session.scalars(
            select(IssuedCertificate.registration_id).where(IssuedCertificate.plan_id == plan.id)
        )
    )
    passes = released_passes(plan)
    report.already = sum(reg.id in have for reg in passes)
    todo = [reg for reg in passes if reg.id not in have]
    if not todo:
        return report

    level = plan.level
    try:
        digit = level_digit(level.level)
    except CertificateNumberError as exc:
        raise DomainError(f"无法签发证书：{exc}") from exc
    store = key_store()
    try:
        active = store.keyset().active
        key = store.signing_key()
    except KeyStoreError as exc:
        raise DomainError(f"无法签发证书：{exc}") from exc
    signed_at = now.replace(microsecond=0)
    if active is None or not active.covers(signed_at):
        raise DomainError("无法签发证书：服务器时间早于当前签名密钥的启用时间，请检查时钟")
    issued_on = now.astimezone(CHINA).date()
    settings = level_settings(level)
    expires = _expiry(issued_on, settings.validity_years if settings else None)

    # Claims with a placeholder serial first: a holder whose data cannot be signed is skipped
    # (and reported) before any serial is drawn, so the serials stay without gaps.
    drafts: dict[str, list[tuple[Registration, Claims]]] = {}
    issuers: dict[str, Issuer] = {}
    for reg in todo:
        issuer = issuer_for(plan.organization, reg.site)
        issuers[issuer.prefix] = issuer
        draft = Claims(
            number=format_number(CertificateNumber(issuer, issued_on.year, digit, 1)),
            name=reg.candidate.name,
            id_last4=reg.candidate.id_number.strip().upper()[-4:],
            certificate=level.certificate.code,
            level=digit,
            issued=issued_on,
            status_list=list_id_for(issuer.body_type, issuer.body_code, issued_on.year),
            status_index=0,
            signed_at=signed_at,
            expires=expires,
        )
        try:
            check_claims(draft)
        except ClaimsError as exc:
            report.skipped.append(f"{reg.ticket_number or reg.id} {reg.candidate.name}：{exc}")
            continue
        drafts.setdefault(issuer.prefix, []).append((reg, draft))
    if not drafts:
        return report

    count = sum(len(group) for group in drafts.values())
    list_id = next(iter(drafts.values()))[0][1].status_list  # one body per organization
    index = allocate(f"status:{list_id}", count) - 1  # indexes from 0
    for prefix, group in drafts.items():
        first = allocate(f"number:{prefix}:{issued_on.year}", len(group))
        if first + len(group) - 1 > 999_999:
            raise DomainError(
                f"证书序号已用完：{prefix} 在 {issued_on.year} 年的序号不能超过 999999"
            )
        for serial, (reg, draft) in enumerate(group, first):
            number = CertificateNumber(issuers[prefix], issued_on.year, digit, serial)
            claims = replace(draft, number=format_number(number), status_index=index)
            signed = sign(claims, key)
            row = IssuedCertificate(
                registration_id=reg.id,
                plan_id=plan.id,
                organization_id=plan.organization_id,
                level_id=level.id,
                number=claims.number,
                name=claims.name,
                id_last4=claims.id_last4,
                certificate_code=claims.certificate,
                certificate_name=level.certificate.name,
                level_name=level.name,
                level_digit=digit,
                issuer_name=plan.organization.name,
                issued_on=issued_on,
                expires_on=expires,
                status_list=list_id,
                status_index=index,
                kid=key.kid,
                signed_at=signed_at,
                token=signed.token,
                check_code=signed.check_code,
                issued_by_id=actor.id if actor else None,
            )
            db.session.add(row)
            report.issued.append(row)
            index += 1
    db.session.flush()
    numbers = sorted(c.number for c in report.issued)
    audit(
        plan.organization_id,
        "issue",
        actor,
        plan_id=plan.id,
        issued=len(numbers),
        first=numbers[0],
        last=numbers[-1],
        kid=key.kid,
    )
    return report


# ---- revocation --------------------------------------------------------------------------------


def revoke(cert: IssuedCertificate, reason: str, actor: User | None, now: datetime) -> None:
    """Revoke ``cert`` for ``reason``: the verify page says so at once, the next status list
    download too. Final: a revoked certificate is never valid again (issue a new one)."""
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError("请填写撤销原因：它会显示在证书验证页上，并记入审计日志")
    if len(reason) > MAX_REASON:
        raise DomainError(f"撤销原因过长：最多 {MAX_REASON} 个字符，现为 {len(reason)} 个")
    if cert.revoked_at is not None:
        raise Conflict(f"证书 {cert.number} 已于 {china_day(cert.revoked_at)} 撤销")
    cert.revoked_at, cert.revoked_reason = now, reason
    cert.revoked_by_id = actor.id if actor else None
    audit(
        cert.organization_id,
        "revoke",
        actor,
        plan_id=cert.plan_id,
        certificate_id=cert.id,
        reason=reason,
        number=cert.number,
    )
    db.session.flush()


# ---- reading -----------------------------------------------------------------------------------


def certificates_of(plan: ExamPlan) -> list[IssuedCertificate]:
    return list(
        db.session.scalars(
            select(IssuedCertificate)
            .where(IssuedCertificate.plan_id == plan.id)
            .order_by(IssuedCertificate.number)
        )
    )


def managed_certificate(user: User, cert_id: int) -> IssuedCertificate:
    cert = db.session.get(IssuedCertificate, cert_id)
    if cert is None or cert.organization_id != user.organization_id:
        raise NotFound("证书不存在或不属于您的机构")
    return cert


def by_number(number: str) -> IssuedCertificate:
    try:
        text = format_number(parse_number(number))
    except CertificateNumberError as exc:
        raise DomainError(str(exc)) from exc
    cert = db.session.scalar(select(IssuedCertificate).where(IssuedCertificate.number == text))
    if cert is None:
        raise NotFound(f"没有编号为 {text} 的证书")
    return cert


def events_of(plan: ExamPlan, limit: int = 100) -> list[CertificateEvent]:
    return list(
        db.session.scalars(
            select(CertificateEvent)
            .where(CertificateEvent.plan_id == plan.id)
            .order_by(CertificateEvent.id.desc())
            .limit(limit)
        )
    )


def certificate_data(cert: IssuedCertificate) -> CertificateData:
    """What the printed certificate shows (the full ID number, from the roster)."""
    return CertificateData(
        number=cert.number,
        check_code=cert.check_code,
        name=cert.name,
        id_number=cert.registration.candidate.id_number,
        certificate=cert.certificate_name,
        level=cert.level_name,
        issued=cert.issued_on,
        organization=cert.issuer_name,
        verify_url=verify_url(cert),
        expires=cert.expires_on,
    )


def certificate_datas(certs: Sequence[IssuedCertificate]) -> list[CertificateData]:
    return [certificate_data(c) for c in certs]


def export_rows(plan: ExamPlan) -> list[IssuedRow]:
    """The plan's certificates for the national platform, with the level's credits."""
    settings = level_settings(plan.level)
    return [
        IssuedRow(
            number=c.number,
            name=c.name,
            id_number=c.registration.candidate.id_number,
            certificate=c.certificate_name,
            level=c.level_name,
            national_level=LEVEL_NAMES[c.level_digit],
            issued=c.issued_on,
            expires=c.expires_on,
            issuer=c.issuer_name,
            batch=plan.batch,
            credits=settings.credits if settings else None,
            revoked=china_day(c.revoked_at) if c.revoked_at else None,
            reason=c.revoked_reason,
        )
        for c in certificates_of(plan)
    ]
