"""Revocation as a signed bitstring (W3C Bitstring Status List v1.0 style), checkable offline.

Every certificate carries a status-list id and an index (token claims 9 and 10). The list is a
bitstring with one bit per index, 1 = revoked; bit 0 is the most significant bit of the first
byte. It is at least 131,072 bits (16 KiB) long, as the W3C recommends, so that the list of a
small organization does not tell which of few certificates was revoked; zeros compress to
almost nothing.

``encodedList`` is exactly the W3C value: ``"u"`` (the multibase prefix of base64url) followed
by the base64url, without padding, of the GZIP (RFC 1952) of the bitstring. The signed document
is a COSE_Sign1 (see ``cose``, the same keys as certificates) over the CBOR map

======= ============ ====================================================
Label   Name         Value
======= ============ ====================================================
1       version      1
2       list id      text; the certificates' claim 10
3       issued       unsigned integer, seconds since 1970-01-01T00:00:00Z
4       encodedList  text, as above
======= ============ ====================================================

It must be signed by a key whose window (``keys``) contains ``issued``. A verifier holding a
list knows the revocations up to ``issued``, and nothing later: show that time to people.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import cbor2

from .cose import CoseMalformed, decode_sign1, load_cbor, sign1, verify_signature
from .keys import KeySet, SigningKey, b64url, b64url_decode, require_aware

FORMAT_VERSION = 1
MIN_BITS = 131_072
MAX_BYTES = 16 * 1024 * 1024  # 134 million certificates; a bigger inflated list is refused
MULTIBASE_BASE64URL = "u"
LIST_ID_MAX = 40

VERSION, LIST_ID, ISSUED, ENCODED_LIST = 1, 2, 3, 4


class StatusListError(ValueError):
    """A status list that cannot be built or trusted; the message says why."""


@dataclass(frozen=True)
class StatusList:
    """A verified status list."""

    list_id: str
    issued: datetime
    bits: bytes
    kid: str  # the key that signed it

    @property
    def size(self) -> int:
        return len(self.bits) * 8

    def is_revoked(self, index: int) -> bool | None:
        """The bit of ``index``; None when the list does not reach that far."""
        if not 0 <= index < self.size:
            return None
        return bool(self.bits[index // 8] >> (7 - index % 8) & 1)


def check_list_id(list_id: str) -> None:
    if not (
        0 < len(list_id) <= LIST_ID_MAX
        and list_id.isascii()
        and all(c.isalnum() or c in "._-" for c in list_id)
    ):
        raise StatusListError(
            f"状态列表标识“{list_id}”无效：应为 1–{LIST_ID_MAX} 个字母、数字或 . _ -"
        )


def bitstring(revoked: Iterable[int], size: int = MIN_BITS) -> bytes:
    """The bitstring of ``size`` bits with the bits of ``revoked`` set."""
    if size < MIN_BITS or size % 8:
        raise StatusListError(f"状态列表长度 {size} 位无效：应为 8 的倍数，且不少于 {MIN_BITS} 位")
    bits = bytearray(size // 8)
    for index in revoked:
        if not 0 <= index < size:
            raise StatusListError(
                f"撤销的证书状态序号 {index} 超出状态列表范围 0–{size - 1}：请加长列表或换用新列表"
            )
        bits[index // 8] |= 0x80 >> (index % 8)
    return bytes(bits)


def encode_bitstring(bits: bytes) -> str:
    """The W3C ``encodedList`` of a bitstring (gzip without a timestamp: reproducible)."""
    return MULTIBASE_BASE64URL + b64url(gzip.compress(bits, compresslevel=9, mtime=0))


def decode_bitstring(encoded: str) -> bytes:
    """The bitstring of an ``encodedList``, refusing more than MAX_BYTES once inflated."""
    if not encoded.startswith(MULTIBASE_BASE64URL):
        raise StatusListError("encodedList 应以 u 开头（multibase 的 base64url 前缀）")
    try:
        compressed = b64url_decode(encoded[1:])
    except ValueError as exc:
        raise StatusListError(f"encodedList 不是无填充的 base64url：{exc}") from exc
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
    try:
        bits = inflater.decompress(compressed, MAX_BYTES + 1)
    except zlib.error as exc:
        raise StatusListError(f"encodedList 不是有效的 GZIP 数据：{exc}") from exc
    if len(bits) > MAX_BYTES or inflater.unconsumed_tail:
        raise StatusListError(f"状态列表解压后超过 {MAX_BYTES} 字节：拒绝处理")
    if not inflater.eof or inflater.unused_data:
        raise StatusListError("encodedList 的 GZIP 数据不完整或后面有多余数据")
    if len(bits) * 8 < MIN_BITS:
        raise StatusListError(f"状态列表只有 {len(bits) * 8} 位，少于规定的 {MIN_BITS} 位")
    return bits


def build_status_list(
    list_id: str,
    revoked: Iterable[int],
    issued: datetime,
    key: SigningKey,
    size: int = MIN_BITS,
) -> bytes:
    """The signed status list (COSE_Sign1 bytes) revoking the indexes of ``revoked``."""
    require_aware(issued, "状态列表发布时间")
    check_list_id(list_id)
    payload = {
        VERSION: FORMAT_VERSION,
        LIST_ID: list_id,
        ISSUED: int(issued.timestamp()),
        ENCODED_LIST: encode_bitstring(bitstring(revoked, size)),
    }
    return sign1(cbor2.dumps(payload, canonical=True), key.kid, key.private)


def _field(payload: Mapping[int, object], label: int, kind: type, name: str) -> object:
    value = payload.get(label)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise StatusListError(f"状态列表缺少 {name}（{label}）或其类型不对")
    return value


def parse_status_list(data: bytes, keyset: KeySet) -> StatusList:
    """A status list whose signature and signing window check out against ``keyset``."""
    try:
        message = decode_sign1(data)
        payload = load_cbor(message.payload)
    except CoseMalformed as exc:
        raise StatusListError(f"不是 examsvc 的状态列表：{exc}") from exc
    key = keyset.get(message.kid)
    if key is None:
        raise StatusListError(
            f"状态列表的签名密钥 {message.kid} 不在公钥文件中：请下载最新的 examsvc-keys.json"
        )
    if not verify_signature(message, key.key):
        raise StatusListError("状态列表的签名无效：文件被改动过，或不是该机构发布的")
    if not isinstance(payload, Mapping) or set(payload) != {VERSION, LIST_ID, ISSUED, ENCODED_LIST}:
        raise StatusListError("状态列表的内容应恰好包含字段 1–4")
    if payload[VERSION] != FORMAT_VERSION:
        raise StatusListError(f"状态列表格式版本 {payload[VERSION]!r} 不受支持：请升级 examsvc")
    list_id = str(_field(payload, LIST_ID, str, "列表标识"))
    check_list_id(list_id)
    seconds = _field(payload, ISSUED, int, "发布时间")
    assert isinstance(seconds, int)
    try:
        issued = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise StatusListError(f"状态列表的发布时间 {seconds} 无效") from exc
    if not key.covers(issued):
        raise StatusListError(
            f"状态列表发布于 {issued.isoformat()}，不在密钥 {key.kid} 的有效期（{key.window()}）内"
        )
    bits = decode_bitstring(str(_field(payload, ENCODED_LIST, str, "encodedList")))
    return StatusList(list_id, issued, bits, key.kid)
