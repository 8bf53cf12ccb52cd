"""Factories shared by the certificate tests (``test_cert_*.py``); no tests here."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from examsvc.certificates.keys import KeySet, PublicKey, SigningKey, key_id
from examsvc.certificates.token import Claims

NUMBER = "S000137000123255000001"  # S, body 0001, 山东, site 123, 2025, 初级, serial 1
KEY_FROM = datetime(2025, 1, 1, tzinfo=UTC)
SIGNED = datetime(2025, 6, 30, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
NOW = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
BASE = "https://cert.example.cn"


def make_key(
    valid_from: datetime = KEY_FROM, valid_until: datetime | None = None
) -> tuple[SigningKey, PublicKey]:
    private = Ed25519PrivateKey.generate()
    kid = key_id(private.public_key())
    return SigningKey(kid, private), PublicKey(kid, private.public_key(), valid_from, valid_until)


def keyset(*keys: PublicKey) -> KeySet:
    return KeySet(keys)


def make_claims(**changes: object) -> Claims:
    claims = Claims(
        number=NUMBER,
        name="欧阳明轩",
        id_last4="002X",
        certificate="web-frontend",
        level=5,
        issued=date(2025, 6, 30),
        status_list="S0001-2025",
        status_index=17,
        signed_at=SIGNED,
    )
    return replace(claims, **changes)  # type: ignore[arg-type]
