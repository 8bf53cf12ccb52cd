"""The certificate token in the QR: signed claims, and their verification as a pure function.

A token is a COSE_Sign1 (``cose``: EdDSA/Ed25519, kid in the protected header) over a CBOR map
with small integer labels, encoded as RFC 4648 base32, upper case, without padding: the QR
alphanumeric mode holds A–Z and 2–7 at 5.5 bits a character, where base64 would need byte mode
at 8. The QR holds the URL ``<base>/v/<token>``.

======= ================= ==================================================================
Label   Claim             Value
======= ================= ==================================================================
1       version           1
2       number            certificate number, 22 characters (``number``)
3       name              holder's name
4       id_last4          last 4 characters of the ID number (never the whole number, nor
                          a hash of it: 18 digits with a known structure are easily guessed)
5       certificate       certificate code of the catalog, e.g. ``web-frontend``
6       level             national skill level 1–5 (1+X 初级 5, 中级 4, 高级 3)
7       issued            issue date, RFC 8943 tag 100: days since 1970-01-01
8       expires           last day of validity, tag 100; absent: valid for life
9       status_index      index of the certificate in its status list
10      status_list       id of that status list (``status_list``)
11      signed_at         when it was signed, seconds since 1970-01-01T00:00:00Z (CWT's
                          ``iat``); the signing key's window must contain it
======= ================= ==================================================================

``verify`` never raises on a bad token: every token gets one of the ``Status`` values, and
the claims whenever the payload can be read (trust them only when the status says the
signature held: valid, revoked or expired).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import cbor2

from .cose import CoseMalformed, decode_sign1, load_cbor, sign1, verify_signature
from .keys import CHINA, KeySet, SigningKey, require_aware
from .number import CertificateNumberError, check_code, format_number, level_label, parse_number
from .status_list import StatusList, StatusListError, check_list_id

FORMAT_VERSION = 1
VERSION, NUMBER, NAME, ID_LAST4, CERTIFICATE, LEVEL, ISSUED, EXPIRES = range(1, 9)
STATUS_INDEX, STATUS_LIST, SIGNED_AT = 9, 10, 11
REQUIRED = frozenset({VERSION, NUMBER, NAME, ID_LAST4, CERTIFICATE, LEVEL, ISSUED})
REQUIRED |= {STATUS_INDEX, STATUS_LIST, SIGNED_AT}
TAG_DAYS = 100  # RFC 8943
EPOCH = date(1970, 1, 1)
MAX_NAME = 64
MAX_INDEX = 2**32 - 1
# A QR code holds at most 4,296 alphanumeric characters; anything longer is not ours.
MAX_TOKEN_LENGTH = 4296
VERIFY_PATH = "/v/"
_BASE32 = re.compile(r"[A-Z2-7]+")
_ID_LAST4 = re.compile(r"[0-9A-Z]{4}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


class ClaimsError(ValueError):
    """Claims that cannot be signed, or a payload that is not claims; the message says why."""


class Status(StrEnum):
    """The verdicts, from good to bad; only VALID means "accept this certificate"."""

    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    INVALID_SIGNATURE = "invalid_signature"
    UNKNOWN_KEY = "unknown_key"
    MALFORMED = "malformed"


STATUS_NAMES = {
    Status.VALID: "有效",
    Status.REVOKED: "已撤销",
    Status.EXPIRED: "已过期",
    Status.INVALID_SIGNATURE: "签名无效",
    Status.UNKNOWN_KEY: "签名密钥未知",
    Status.MALFORMED: "无法识别",
}


@dataclass(frozen=True)
class Claims:
    """What a certificate's QR says about it."""

    number: str
    name: str
    id_last4: str
    certificate: str  # catalog code
    level: int  # national level 1–5
    issued: date
    status_list: str
    status_index: int
    signed_at: datetime  # whole seconds, aware
    expires: date | None = None
    version: int = FORMAT_VERSION

    @property
    def level_name(self) -> str:
        """初级（五级）"""
        return level_label(self.level)


@dataclass(frozen=True)
class Signed:
    token: str
    check_code: str  # printed under the QR


@dataclass(frozen=True)
class Verification:
    """The outcome of ``verify``; ``message`` explains it in Chinese."""

    status: Status
    message: str
    claims: Claims | None = None
    kid: str | None = None
    check_code: str | None = None
    revocation_checked: bool = False  # a status list covering this certificate was consulted

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def check_claims(claims: Claims) -> None:
    """Refuse claims that would sign into a certificate nobody can read back."""
    try:
        number = parse_number(claims.number)
    except CertificateNumberError as exc:
        raise ClaimsError(f"证书编号“{claims.number}”无效：{exc}") from exc
    if claims.number != format_number(number):
        raise ClaimsError(
            f"证书编号“{claims.number}”应写成 22 位半角大写、无空格的形式：{format_number(number)}"
        )
    if claims.version != FORMAT_VERSION:
        raise ClaimsError(f"格式版本应为 {FORMAT_VERSION}，现为 {claims.version}")
    name = claims.name
    if not name or name != name.strip() or len(name) > MAX_NAME or not name.isprintable():
        raise ClaimsError(f"姓名“{name}”无效：应为 1–{MAX_NAME} 个字符，首尾无空格、无控制字符")
    if not _ID_LAST4.fullmatch(claims.id_last4):
        raise ClaimsError(
            f"身份证号后四位“{claims.id_last4}”无效：应为 4 个数字或大写字母（末位 X 请大写）"
        )
    if not _CODE.fullmatch(claims.certificate):
        raise ClaimsError(
            f"证书代码“{claims.certificate}”无效：应为 1–40 个字母、数字或 . _ -，如 web-frontend"
        )
    if claims.level != number.level:
        raise ClaimsError(
            f"等级 {claims.level} 与证书编号第 16 位的等级 {number.level} 不一致：请核对"
        )
    if not _is_date(claims.issued) or claims.issued.year != number.year:
        raise ClaimsError(
            f"发证日期 {claims.issued} 与证书编号第 14–15 位的年份 {number.year % 100:02d} 不一致"
        )
    if claims.expires is not None and not (
        _is_date(claims.expires) and claims.expires > claims.issued
    ):
        raise ClaimsError(f"有效期至 {claims.expires} 应为晚于发证日期 {claims.issued} 的日期")
    if not isinstance(claims.signed_at, datetime) or claims.signed_at.utcoffset() is None:
        raise ClaimsError(f"签名时间 {claims.signed_at} 应为带时区的时间")
    if claims.signed_at.microsecond:
        raise ClaimsError("签名时间应为整秒：令牌中只记录到秒")
    try:
        check_list_id(claims.status_list)
    except StatusListError as exc:
        raise ClaimsError(str(exc)) from exc
    if not 0 <= claims.status_index <= MAX_INDEX:
        raise ClaimsError(f"状态列表序号 {claims.status_index} 超出范围：应为 0–{MAX_INDEX}")


def _days(day: date) -> cbor2.CBORTag:
    return cbor2.CBORTag(TAG_DAYS, (day - EPOCH).days)


def encode_claims(claims: Claims) -> bytes:
    """The CBOR payload of ``claims`` (deterministic encoding)."""
    payload: dict[int, Any] = {
        VERSION: claims.version,
        NUMBER: claims.number,
        NAME: claims.name,
        ID_LAST4: claims.id_last4,
        CERTIFICATE: claims.certificate,
        LEVEL: claims.level,
        ISSUED: _days(claims.issued),
        STATUS_INDEX: claims.status_index,
        STATUS_LIST: claims.status_list,
        SIGNED_AT: int(claims.signed_at.timestamp()),
    }
    if claims.expires is not None:
        payload[EXPIRES] = _days(claims.expires)
    return cbor2.dumps(payload, canonical=True)


def _day(value: object, label: str) -> date:
    # cbor2 turns tag 100 into a date; older versions may hand the tag over untouched.
    if isinstance(value, cbor2.CBORTag) and value.tag == TAG_DAYS and isinstance(value.value, int):
        try:
            return date.fromordinal(EPOCH.toordinal() + value.value)
        except (OverflowError, ValueError) as exc:
            raise ClaimsError(f"{label}超出日期范围") from exc
    if _is_date(value):
        assert isinstance(value, date)
        return value
    raise ClaimsError(f"{label}应为 CBOR 标签 {TAG_DAYS} 的日期")


def _moment(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ClaimsError(f"签名时间 {seconds} 超出范围") from exc


def decode_claims(payload: bytes) -> Claims:
    """The claims of a payload (not checked against any signature); ClaimsError otherwise."""
    try:
        data = load_cbor(payload)
    except CoseMalformed as exc:
        raise ClaimsError(f"载荷不是 CBOR：{exc}") from exc
    if not isinstance(data, Mapping):
        raise ClaimsError("载荷应为 CBOR 映射")
    if data.get(VERSION) != FORMAT_VERSION:
        raise ClaimsError(f"格式版本 {data.get(VERSION)!r} 不受支持：请升级验证程序")
    missing = REQUIRED - set(data)
    unknown = set(data) - REQUIRED - {EXPIRES}
    if missing or unknown:
        raise ClaimsError(f"载荷字段不符：缺少 {sorted(missing)}，多出 {sorted(unknown, key=str)}")
    kinds: dict[int, type] = {NUMBER: str, NAME: str, ID_LAST4: str, CERTIFICATE: str}
    kinds |= {STATUS_LIST: str, LEVEL: int, STATUS_INDEX: int, SIGNED_AT: int}
    for label, kind in kinds.items():
        if not isinstance(data[label], kind) or isinstance(data[label], bool):
            raise ClaimsError(f"载荷字段 {label} 的类型应为 {kind.__name__}")
    claims = Claims(
        number=data[NUMBER],
        name=data[NAME],
        id_last4=data[ID_LAST4],
        certificate=data[CERTIFICATE],
        level=data[LEVEL],
        issued=_day(data[ISSUED], "发证日期"),
        status_list=data[STATUS_LIST],
        status_index=data[STATUS_INDEX],
        signed_at=_moment(data[SIGNED_AT]),
        expires=_day(data[EXPIRES], "有效期") if EXPIRES in data else None,
    )
    check_claims(claims)
    return claims


def b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def b32decode(text: str) -> bytes:
    """Strict base32: upper case, no padding, and the canonical spelling of its bytes (the
    unused low bits of the last character zero), so no two tokens mean the same bytes."""
    if not _BASE32.fullmatch(text) or len(text) % 8 in (1, 3, 6):
        raise ValueError("不是无填充的大写 base32 文本")
    try:
        data = base64.b32decode(text + "=" * (-len(text) % 8))
    except binascii.Error as exc:
        raise ValueError(f"不是有效的 base32 文本：{exc}") from exc
    if b32encode(data) != text:
        raise ValueError("不是规范的 base32 文本（末位含多余的位）")
    return data


def sign(claims: Claims, key: SigningKey) -> Signed:
    """The token of ``claims`` signed with ``key``, and the check code that goes with it."""
    check_claims(claims)
    message = sign1(encode_claims(claims), key.kid, key.private)
    return Signed(b32encode(message), check_code(decode_sign1(message).signature))


def verify_url(base: str, token: str) -> str:
    """The URL the QR holds: ``<base>/v/<token>``."""
    if not base.startswith(("https://", "http://")):
        raise ValueError(f"验证网址前缀“{base}”应以 https:// 开头，如 https://cert.example.cn")
    return base.rstrip("/") + VERIFY_PATH + token


def token_from(text: str) -> str:
    """The token of a scanned URL (``…/v/<token>``, query and fragment dropped) or a bare token."""
    text = text.strip()
    if VERIFY_PATH in text:
        text = text.rsplit(VERIFY_PATH, 1)[1]
        text = re.split(r"[?#/]", text, maxsplit=1)[0]
    return text


def peek_claims(token: object) -> Claims | None:
    """The claims a token carries, not verified (None when they cannot be read): to find the
    certificate a token names before ``verify`` judges it. Never show them on their own."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        return None
    try:
        return decode_claims(decode_sign1(b32decode(token)).payload)
    except ValueError:  # CoseMalformed and ClaimsError included
        return None


def _status_of(claims: Claims, status: StatusList | None) -> tuple[bool | None, str]:
    """Whether ``status`` says the certificate is revoked (None: it does not cover it)."""
    if status is None:
        return None, "未核对撤销状态：未提供状态列表"
    if status.list_id != claims.status_list:
        return None, f"未核对撤销状态：状态列表是 {status.list_id}，证书属于 {claims.status_list}"
    revoked = status.is_revoked(claims.status_index)
    if revoked is None:
        return None, (
            f"未核对撤销状态：状态列表只有 {status.size} 位，不含序号 {claims.status_index}"
            "，请获取更新的状态列表"
        )
    issued = status.issued.astimezone(CHINA)
    return revoked, f"已按 {issued:%Y-%m-%d %H:%M} 发布的状态列表核对撤销状态"


def verify(
    token: str, keyset: KeySet, now: datetime, status: StatusList | None = None
) -> Verification:
    """What ``token`` proves at ``now`` against ``keyset`` and, if given, a verified status
    list. Never raises on a bad token; ValueError only for a naive ``now`` (a caller's bug)."""
    require_aware(now, "验证时间")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
        return Verification(Status.MALFORMED, "证书码为空或过长：不是 examsvc 的证书二维码")
    try:
        message = decode_sign1(b32decode(token))
    except ValueError as exc:  # CoseMalformed included
        return Verification(Status.MALFORMED, f"证书码无法识别：{exc}")
    code = check_code(message.signature)
    try:
        claims: Claims | None = decode_claims(message.payload)
        problem = ""
    except ClaimsError as exc:
        claims, problem = None, str(exc)

    def outcome(result: Status, why: str, checked: bool = False) -> Verification:
        return Verification(result, why, claims, message.kid, code, checked)

    key = keyset.get(message.kid)
    if key is None:
        return outcome(
            Status.UNKNOWN_KEY,
            f"签名密钥 {message.kid} 不在公钥文件中：可能是伪造的证书，或公钥文件需要更新",
        )
    if not verify_signature(message, key.key):
        return outcome(Status.INVALID_SIGNATURE, "签名无效：证书内容被改动过，或是伪造的")
    if claims is None:
        return outcome(Status.MALFORMED, f"签名有效，但内容无法识别：{problem}")
    if not key.covers(claims.signed_at):
        return outcome(
            Status.UNKNOWN_KEY,
            f"证书签名于 {claims.signed_at.astimezone(CHINA):%Y-%m-%d %H:%M}，"
            f"不在签名密钥 {key.kid} 的使用期（{key.window()}）内：这张证书不可能由它签发",
        )
    revoked, note = _status_of(claims, status)
    if revoked:
        return outcome(Status.REVOKED, f"证书已被撤销；{note}", checked=True)
    if claims.expires is not None and now.astimezone(CHINA).date() > claims.expires:
        return outcome(
            Status.EXPIRED, f"证书已于 {claims.expires} 过期；{note}", revoked is not None
        )
    return outcome(Status.VALID, f"证书真实有效；{note}", revoked is not None)
