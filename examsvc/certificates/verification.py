"""Verification against the database: a token's verdict with the revocations on record, the
lookup by number and check code, the published keys and the signed status lists.

Online, the revocation of a certificate is read from its own row (a status list covering that one
certificate), so a revocation shows the moment it is committed. Offline verifiers download the
JWK set and the signed status list instead; the list is signed afresh after each revocation.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from ..errors import DomainError, NotFound
from ..extensions import db
from .keys import KeySet
from .keystore import KeyStoreError
from .models import IssuedCertificate
from .number import CertificateNumberError, format_number, parse_check_code, parse_number
from .services import key_store
from .status_list import MIN_BITS, StatusList, build_status_list
from .token import Claims, Status, Verification, peek_claims, verify

_KEYSETS: dict[Path, tuple[tuple[int, int, int], KeySet]] = {}


def public_keys() -> KeySet:
    """The published keys, read again whenever the key file changes (a rotation replaces it);
    an unreadable key file verifies nothing rather than failing."""
    store = key_store()
    try:
        stat = store.jwks_path.stat()
    except OSError:
        return KeySet(())
    stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    cached = _KEYSETS.get(store.jwks_path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        keyset = store.keyset()
    except KeyStoreError as exc:
        current_app.logger.error("certificate keys unusable: %s", exc)
        return KeySet(())
    _KEYSETS[store.jwks_path] = (stamp, keyset)
    return keyset


@dataclass(frozen=True)
class Checked:
    """A verdict and, when the signature held, the certificate on record (None if unknown)."""

    result: Verification
    record: IssuedCertificate | None


def _online_status(
    claims: Claims, record: IssuedCertificate | None, now: datetime
) -> StatusList | None:
    """The revocation on record as a status list covering this one certificate; None when the
    record is not the certificate the claims name (revocation then stays unchecked)."""
    if record is None or (record.status_list, record.status_index) != (
        claims.status_list,
        claims.status_index,
    ):
        return None
    bits = bytearray(claims.status_index // 8 + 1)
    if record.revoked_at is not None:
        bits[claims.status_index // 8] |= 0x80 >> (claims.status_index % 8)
    return StatusList(claims.status_list, now, bytes(bits), "online")


def check_token(token: str, now: datetime) -> Checked:
    """What ``token`` proves now against the published keys and the revocations on record.
    Never raises on a bad token."""
    token = token.strip() if isinstance(token, str) else token
    claims = peek_claims(token)
    record = None
    status = None
    if claims is not None:
        record = db.session.scalar(
            select(IssuedCertificate).where(IssuedCertificate.number == claims.number)
        )
        status = _online_status(claims, record, now)
    result = verify(token, public_keys(), now, status)
    if result.status in (Status.INVALID_SIGNATURE, Status.UNKNOWN_KEY, Status.MALFORMED):
        record = None  # the claims are not ours to show
    return Checked(result, record)


class LookupFailed(DomainError):
    status = 404
    code = "not_found"


def lookup(number_text: str, code_text: str) -> IssuedCertificate:
    """The certificate with this number and check code; one message for both mismatches, so
    the form tells nothing about which numbers exist."""
    try:
        number = format_number(parse_number(number_text))
        code = parse_check_code(code_text)
    except CertificateNumberError as exc:
        raise DomainError(str(exc)) from exc
    cert = db.session.scalar(select(IssuedCertificate).where(IssuedCertificate.number == number))
    expected = cert.check_code if cert is not None else "0000-0000"
    if not hmac.compare_digest(expected, code) or cert is None:
        raise LookupFailed("证书编号或校验码不正确：请核对证书二维码下方印的编号和校验码")
    return cert


# ---- status lists ------------------------------------------------------------------------------

_LIST_CACHE: dict[str, tuple[tuple[object, ...], bytes]] = {}


def status_list(list_id: str, now: datetime) -> bytes:
    """The signed status list ``list_id``; signed again only after a revocation (or a key
    rotation), otherwise served as last signed.
    :raises NotFound: no certificate uses this list."""
    rows = db.session.execute(
        select(
            func.count(IssuedCertificate.id),
            func.max(IssuedCertificate.status_index),
            func.count(IssuedCertificate.revoked_at),
        ).where(IssuedCertificate.status_list == list_id)
    ).one()
    if not rows[0]:
        raise NotFound(f"没有状态列表 {list_id}")
    size = max(MIN_BITS, (int(rows[1]) // 8 + 1) * 8)
    store = key_store()
    try:
        active = store.keyset().active
        kid = active.kid if active else None
        state = (str(db.engine.url), kid, size, int(rows[2]))  # revocations are final
        cached = _LIST_CACHE.get(list_id)
        if cached is not None and cached[0] == state:
            return cached[1]
        revoked = db.session.scalars(
            select(IssuedCertificate.status_index).where(
                IssuedCertificate.status_list == list_id, IssuedCertificate.revoked_at.is_not(None)
            )
        ).all()
        data = build_status_list(
            list_id, revoked, now.replace(microsecond=0), store.signing_key(), size
        )
    except KeyStoreError as exc:
        raise DomainError(f"无法签署状态列表：{exc}") from exc
    _LIST_CACHE[list_id] = (state, data)
    return data
