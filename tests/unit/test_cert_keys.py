"""Signing keys: the folder's files and permissions, rotation windows, the published JWK set and
the errors of a JWK set that cannot be used."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from examsvc.certificates.keys import KeySet, KeySetError, key_id, load_jwks, parse_jwks
from examsvc.certificates.keystore import JWKS_NAME, KeyStore, KeyStoreError

from .test_cert_support import make_key

T0 = datetime(2025, 1, 1, 8, 30, 15, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generate_writes_a_0600_pem_and_a_jwks_with_one_active_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "cert-keys")
    key = store.generate(T0.replace(microsecond=999))
    assert mode(store.folder) == 0o700
    pem = store.folder / f"{key.kid}.pem"
    assert mode(pem) == 0o600 and pem.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    jwks = json.loads((store.folder / JWKS_NAME).read_text())
    assert jwks == {
        "keys": [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": "EdDSA",
                "use": "sig",
                "kid": key.kid,
                "x": jwks["keys"][0]["x"],
                "valid_from": "2025-01-01T08:30:15Z",  # whole seconds
            }
        ]
    }
    assert "d" not in jwks["keys"][0]  # the private part never leaves its PEM file
    assert store.signing_key().kid == key.kid


def test_generate_twice_is_refused_and_points_to_rotate(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    store.generate(T0)
    with pytest.raises(KeyStoreError, match="examsvc keys rotate"):
        store.generate(T0 + timedelta(days=1))


def test_rotate_retires_the_active_key_at_the_moment_of_rotation(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    first = store.generate(T0)
    later = T0 + timedelta(days=365)
    second = store.rotate(later)
    third = store.rotate(later + timedelta(days=30))
    listed = store.list_keys()
    assert [k.public.kid for k in listed] == [first.kid, second.kid, third.kid]
    assert [k.public.active for k in listed] == [False, False, True]
    assert listed[0].public.valid_until == later.replace(microsecond=0)
    assert listed[1].public.valid_from == later.replace(microsecond=0)
    assert all(k.private_file is not None for k in listed)
    assert store.signing_key().kid == third.kid
    assert len(list(store.folder.glob("*.pem"))) == 3


def test_rotate_needs_a_key_and_a_sane_clock(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    with pytest.raises(KeyStoreError, match="请先运行 examsvc keys generate"):
        store.rotate(T0)
    store.generate(T0)
    with pytest.raises(KeyStoreError, match="请检查服务器时钟"):
        store.rotate(T0 - timedelta(days=1))
    with pytest.raises(ValueError, match="缺少时区"):
        store.rotate(datetime(2026, 1, 1))


def test_a_private_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    key = store.generate(T0)
    pem = tmp_path / f"{key.kid}.pem"
    pem.chmod(0o644)
    with pytest.raises(KeyStoreError, match=f"chmod 600 {pem}"):
        store.signing_key()


def test_a_missing_or_foreign_private_key_is_reported(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    key = store.generate(T0)
    pem = tmp_path / f"{key.kid}.pem"
    other = KeyStore(tmp_path / "other")
    other_key = other.generate(T0)
    pem.write_bytes((tmp_path / "other" / f"{other_key.kid}.pem").read_bytes())
    with pytest.raises(KeyStoreError, match="不匹配"):
        store.signing_key()
    pem.unlink()
    with pytest.raises(KeyStoreError, match="不存在：请从备份恢复"):
        store.signing_key()
    assert store.list_keys()[0].private_file is None


def test_an_empty_folder_has_no_keys(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "none")
    assert store.list_keys() == []
    with pytest.raises(KeyStoreError, match="examsvc keys generate"):
        store.signing_key()


def test_kid_is_the_rfc_7638_thumbprint_prefix() -> None:
    # RFC 8037 appendix A.2/A.3: the Ed25519 example key and its thumbprint.
    x = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert key_id(Ed25519PublicKey.from_public_bytes(x)) == "kPrK_qmx"


def test_the_jwks_reads_back_with_its_windows() -> None:
    _, old = make_key(T0, T0 + timedelta(days=10))
    _, new = make_key(T0 + timedelta(days=10))
    text = KeySet((new, old)).dumps()
    back = load_jwks(text)
    assert [k.kid for k in back.keys] == [old.kid, new.kid]  # oldest first
    assert back.get(old.kid) is not None and back.active is not None
    assert back.active.kid == new.kid
    assert back.get(old.kid).valid_until == T0 + timedelta(days=10)  # type: ignore[union-attr]


def jwk(**changes: object) -> dict[str, object]:
    _, key = make_key(T0)
    member = KeySet((key,)).to_jwks()["keys"][0]
    member.update(changes)
    return {k: v for k, v in member.items() if v is not None}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "不是 JWK 集合"),
        ({"keys": [jwk(kty="EC")]}, "第 1 个密钥的 kty 应为 OKP"),
        ({"keys": [jwk(), jwk(crv="X25519")]}, "第 2 个密钥的 crv 应为 Ed25519"),
        ({"keys": [jwk(alg="ES256")]}, "alg 应为 EdDSA"),
        ({"keys": [jwk(x=None)]}, "缺少 x"),
        ({"keys": [jwk(x="AAAA")]}, "应为 32 字节"),
        ({"keys": [jwk(x="!!")]}, "不是无填充的 base64url"),
        ({"keys": [jwk(valid_from="2025-01-01T00:00:00")]}, "带时区的 RFC 3339"),
        ({"keys": [jwk(valid_until="2024-01-01T00:00:00Z")]}, "valid_until 早于 valid_from"),
        ({"keys": [jwk(kid="a"), jwk(kid="a")]}, "kid a 出现了不止一次"),
    ],
)
def test_a_bad_jwks_names_the_key_and_the_member(document: object, message: str) -> None:
    with pytest.raises(KeySetError, match=message):
        parse_jwks(document, "keys.json")


def test_a_jwks_that_is_not_json_is_reported_with_its_source() -> None:
    with pytest.raises(KeySetError, match=r"keys\.json 不是有效的 JSON"):
        load_jwks("{", "keys.json")
