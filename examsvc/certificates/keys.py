"""Ed25519 keys as a JWK set: what verifiers download, and the window in which each key signs.

A public key is published as an OKP JWK (RFC 8037) with two members of our own::

    {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "Xb3k9QzA",
     "x": "<base64url of the 32-byte key>", "valid_from": "2025-01-01T00:00:00Z",
     "valid_until": "2026-01-01T00:00:00Z"}

``valid_from``/``valid_until`` (RFC 3339, UTC) bound when the key was the active signing key;
the active key has no ``valid_until``. They are not JWT's ``nbf``/``exp``, which a generic
verifier would apply to the present moment: certificates are for life, so a retired key goes
on verifying what it signed, but only certificates and status lists whose signing time (token
claim 11, status list field 3) falls inside its window. A key stolen after its retirement
therefore cannot sign new certificates that verify, short of back-dating them (that is what
revoking the key, i.e. removing it from the set, is for).

``kid`` is the first 8 characters of the key's RFC 7638 thumbprint (base64url of SHA-256 over
``{"crv":"Ed25519","kty":"OKP","x":"…"}``): short in the QR, and derivable from the key.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CHINA = timezone(timedelta(hours=8))  # dates on certificates are dates in China; no DST
KID_LENGTH = 8
KEY_LENGTH = 32


class KeySetError(ValueError):
    """A JWK set that cannot be used; the message names the key and the member at fault."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict: base64url without padding, and only the canonical encoding of its bytes."""
    if not isinstance(text, str) or "=" in text or not text.isascii():
        raise ValueError("不是无填充的 base64url 文本")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise ValueError("不是规范的 base64url 文本")
    return data


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """The kid of a key: a prefix of its RFC 7638 JWK thumbprint."""
    members = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw_public(key))},
        separators=(",", ":"),
        sort_keys=True,
    )
    return b64url(hashlib.sha256(members.encode()).digest())[:KID_LENGTH]


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def require_aware(moment: datetime, what: str) -> None:
    # A naive time means different instants on different servers; refuse rather than guess.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what}（{moment.isoformat()}）缺少时区：请使用带时区的时间，如 UTC")


@dataclass(frozen=True)
class PublicKey:
    """A verification key and its signing window; ``valid_until`` None while it is active."""

    kid: str
    key: Ed25519PublicKey
    valid_from: datetime
    valid_until: datetime | None = None

    @property
    def active(self) -> bool:
        return self.valid_until is None

    def covers(self, moment: datetime) -> bool:
        """Whether something signed at ``moment`` falls in this key's window."""
        return self.valid_from <= moment and (
            self.valid_until is None or moment <= self.valid_until
        )

    def window(self) -> str:
        """The window for people: 2025-01-01 08:00 起 / 2025-01-01 08:00 至 2026-01-01 08:00."""
        start = f"{self.valid_from.astimezone(CHINA):%Y-%m-%d %H:%M}"
        if self.valid_until is None:
            return f"{start} 起（当前签名密钥）"
        return f"{start} 至 {self.valid_until.astimezone(CHINA):%Y-%m-%d %H:%M}"

    def to_jwk(self) -> dict[str, str]:
        jwk = {
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "kid": self.kid,
            "x": b64url(raw_public(self.key)),
            "valid_from": _rfc3339(self.valid_from),
        }
        if self.valid_until is not None:
            jwk["valid_until"] = _rfc3339(self.valid_until)
        return jwk


@dataclass(frozen=True)
class SigningKey:
    """The private half of the active key, as the issuer holds it."""

    kid: str
    private: Ed25519PrivateKey


@dataclass(frozen=True)
class KeySet:
    """The public keys a verifier trusts, by kid."""

    keys: tuple[PublicKey, ...]

    def get(self, kid: str) -> PublicKey | None:
        return next((k for k in self.keys if k.kid == kid), None)

    @property
    def active(self) -> PublicKey | None:
        return next((k for k in self.keys if k.active), None)

    def to_jwks(self) -> dict[str, Any]:
        """The JWK set served at ``/.well-known/examsvc-keys.json``, oldest key first."""
        return {"keys": [k.to_jwk() for k in sorted(self.keys, key=lambda k: k.valid_from)]}

    def dumps(self) -> str:
        return json.dumps(self.to_jwks(), ensure_ascii=False, indent=2) + "\n"


def _time(jwk: Mapping[str, Any], member: str, where: str) -> datetime:
    value = jwk[member]
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise KeySetError(
            f"{where}的 {member} 应为带时区的 RFC 3339 时间，如 2025-01-01T00:00:00Z，现为 {value!r}"
        )
    return moment


def _public_key(jwk: Any, where: str) -> PublicKey:
    if not isinstance(jwk, Mapping):
        raise KeySetError(f"{where}应为 JSON 对象")
    for member, expected in (("kty", "OKP"), ("crv", "Ed25519")):
        if jwk.get(member) != expected:
            raise KeySetError(f"{where}的 {member} 应为 {expected}，现为 {jwk.get(member)!r}")
    if jwk.get("alg", "EdDSA") != "EdDSA":
        raise KeySetError(f"{where}的 alg 应为 EdDSA，现为 {jwk['alg']!r}")
    for member in ("kid", "x", "valid_from"):
        if member not in jwk:
            raise KeySetError(f"{where}缺少 {member}：examsvc 的公钥都带有 kid、x 和 valid_from")
    kid = jwk["kid"]
    if not isinstance(kid, str) or not kid:
        raise KeySetError(f"{where}的 kid 应为非空字符串")
    where = f"{where}（kid {kid}）"
    try:
        raw = b64url_decode(jwk["x"])
    except (ValueError, TypeError) as exc:
        raise KeySetError(f"{where}的 x 不是无填充的 base64url：{exc}") from exc
    if len(raw) != KEY_LENGTH:
        raise KeySetError(
            f"{where}的 x 应为 {KEY_LENGTH} 字节的 Ed25519 公钥，现为 {len(raw)} 字节"
        )
    valid_from = _time(jwk, "valid_from", where)
    valid_until = _time(jwk, "valid_until", where) if "valid_until" in jwk else None
    if valid_until is not None and valid_until < valid_from:
        raise KeySetError(f"{where}的 valid_until 早于 valid_from：请核对密钥有效期")
    return PublicKey(kid, Ed25519PublicKey.from_public_bytes(raw), valid_from, valid_until)


def parse_jwks(data: Any, source: str = "公钥文件") -> KeySet:
    """The key set of a parsed JWKS document; KeySetError naming ``source``, key and member."""
    if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
        raise KeySetError(f'{source} 不是 JWK 集合：应为形如 {{"keys": [...]}} 的 JSON 对象')
    keys = [_public_key(jwk, f"{source} 的第 {n} 个密钥") for n, jwk in enumerate(data["keys"], 1)]
    seen: set[str] = set()
    for key in keys:
        if key.kid in seen:
            raise KeySetError(f"{source} 中 kid {key.kid} 出现了不止一次：每个密钥的 kid 应唯一")
        seen.add(key.kid)
    return KeySet(tuple(keys))


def load_jwks(text: str | bytes, source: str = "公钥文件") -> KeySet:
    """The key set of a JWKS document as text (JSON)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KeySetError(f"{source} 不是有效的 JSON：{exc}") from exc
    return parse_jwks(data, source)
