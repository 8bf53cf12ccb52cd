"""COSE_Sign1 (RFC 9052 §4.2) with EdDSA over Ed25519, the only form examsvc signs and reads.

Encoding (``sign1``)::

    18([ protected: bstr .cbor {1: -8, 4: kid}, unprotected: {}, payload: bstr, signature ])

with ``signature`` the Ed25519 signature of the ``Sig_structure``
``["Signature1", protected, h'', payload]`` (no external data). Every map is written in the
core deterministic encoding of RFC 8949 §4.2.1, so a message is byte-for-byte reproducible.

Reading (``decode_sign1``) is strict, because the unprotected parts of a message are not covered
by the signature: the tag, the array, the empty unprotected map and the byte-string framing must
be exactly what ``sign1`` writes (re-encoding the decoded message gives back the input), and the
protected header must hold exactly ``alg`` = -8 and a printable ASCII ``kid``. So any change to
the bytes either breaks this framing or lands inside what the signature covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

TAG_SIGN1 = 18
HEADER_ALG = 1
HEADER_KID = 4
ALG_EDDSA = -8
SIGNATURE_LENGTH = 64
MAX_KID_LENGTH = 64
CONTEXT = "Signature1"


class CoseMalformed(ValueError):
    """Bytes that are not a COSE_Sign1 as examsvc writes it; the message says what is wrong."""


@dataclass(frozen=True)
class Sign1:
    """A decoded COSE_Sign1, not yet verified."""

    protected: bytes  # the protected header exactly as signed
    kid: str
    payload: bytes
    signature: bytes


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes an Ed25519 signature of a COSE_Sign1 covers (RFC 9052 §4.4)."""
    return cbor2.dumps([CONTEXT, protected, b"", payload])


def _check_kid(kid: str) -> None:
    if not kid or len(kid) > MAX_KID_LENGTH or not kid.isascii() or not kid.isprintable():
        raise ValueError(f"密钥标识 kid “{kid}” 无效：应为 1–{MAX_KID_LENGTH} 个可打印 ASCII 字符")


def sign1(payload: bytes, kid: str, private: Ed25519PrivateKey) -> bytes:
    """``payload`` signed as a tagged COSE_Sign1 with key ``kid``."""
    _check_kid(kid)
    protected = cbor2.dumps({HEADER_ALG: ALG_EDDSA, HEADER_KID: kid.encode()}, canonical=True)
    signature = private.sign(sig_structure(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(TAG_SIGN1, [protected, {}, payload, signature]))


def load_cbor(data: bytes) -> Any:
    """One CBOR item; CoseMalformed for anything cbor2 cannot read."""
    try:
        return cbor2.loads(data)
    # cbor2's tag decoders (dates, bignums, shared references…) raise more than
    # CBORDecodeError on hostile input, differently across versions; any failure means the
    # same thing here: not CBOR we wrote.
    except Exception as exc:
        raise CoseMalformed(f"不是有效的 CBOR 数据（{type(exc).__name__}）") from exc


def decode_sign1(data: bytes) -> Sign1:
    """The parts of a tagged COSE_Sign1 in examsvc's exact encoding; CoseMalformed otherwise."""
    message = load_cbor(data)
    if not isinstance(message, cbor2.CBORTag) or message.tag != TAG_SIGN1:
        raise CoseMalformed(f"不是带标签 {TAG_SIGN1} 的 COSE_Sign1 消息")
    parts = message.value
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise CoseMalformed("COSE_Sign1 应为 4 个元素的数组")
    protected, unprotected, payload, signature = parts
    if not (
        isinstance(protected, bytes) and isinstance(payload, bytes) and isinstance(signature, bytes)
    ):
        raise CoseMalformed("COSE_Sign1 的受保护头、载荷和签名都应为字节串")
    if not isinstance(unprotected, Mapping) or unprotected:
        raise CoseMalformed("COSE_Sign1 的非保护头应为空：kid 等参数只能放在受保护头中")
    if len(signature) != SIGNATURE_LENGTH:
        raise CoseMalformed(f"Ed25519 签名应为 {SIGNATURE_LENGTH} 字节，现为 {len(signature)}")
    rebuilt = cbor2.dumps(cbor2.CBORTag(TAG_SIGN1, [protected, {}, payload, signature]))
    if rebuilt != data:
        raise CoseMalformed("COSE_Sign1 的编码不是规范形式（多余字节或非最短长度）")
    header = load_cbor(protected)
    if not isinstance(header, Mapping) or set(header) != {HEADER_ALG, HEADER_KID}:
        raise CoseMalformed("受保护头应恰好包含 alg(1) 和 kid(4)")
    if header[HEADER_ALG] != ALG_EDDSA:
        raise CoseMalformed(f"签名算法应为 EdDSA（{ALG_EDDSA}），现为 {header[HEADER_ALG]!r}")
    raw_kid = header[HEADER_KID]
    if not isinstance(raw_kid, bytes):
        raise CoseMalformed("kid 应为字节串")
    # Only an int and a byte string are left to re-encode, so this cannot fail.
    if cbor2.dumps({HEADER_ALG: ALG_EDDSA, HEADER_KID: raw_kid}, canonical=True) != protected:
        raise CoseMalformed("受保护头的编码不是规范形式")
    kid = raw_kid.decode("ascii", errors="replace")
    try:
        _check_kid(kid)
    except ValueError as exc:
        raise CoseMalformed(str(exc)) from exc
    return Sign1(protected, kid, payload, signature)


def verify_signature(message: Sign1, public: Ed25519PublicKey) -> bool:
    """Whether ``public`` made ``message``'s signature."""
    try:
        public.verify(message.signature, sig_structure(message.protected, message.payload))
    except InvalidSignature:
        return False
    return True
