"""The status list: W3C bit order and encodedList, a signed COSE document, and refusals of a
list that was altered, signed by a stranger or outside the key's window, or inflates too far."""

from __future__ import annotations

import base64
import gzip
from datetime import timedelta

import cbor2
import pytest

from examsvc.certificates.cose import sign1
from examsvc.certificates.keys import PublicKey
from examsvc.certificates.status_list import (
    MAX_BYTES,
    MIN_BITS,
    StatusListError,
    bitstring,
    build_status_list,
    decode_bitstring,
    encode_bitstring,
    parse_status_list,
)

from .test_cert_support import KEY_FROM, NOW, keyset, make_key

SIGNER, PUBLIC = make_key()


def test_bit_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    bits = bitstring([0, 9, MIN_BITS - 1])
    assert len(bits) * 8 == MIN_BITS
    assert bits[0] == 0x80 and bits[1] == 0x40 and bits[-1] == 0x01
    assert sum(bin(b).count("1") for b in bits) == 3


def test_encoded_list_is_multibase_base64url_of_gzip_as_the_w3c_defines() -> None:
    bits = bitstring([5, 1000])
    encoded = encode_bitstring(bits)
    assert encoded.startswith("u") and "=" not in encoded
    body = encoded[1:]
    assert gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) == bits
    assert decode_bitstring(encoded) == bits
    assert encode_bitstring(bits) == encoded  # no timestamp in the gzip header
    assert len(encoded) < 250  # 16 KiB of mostly zeros


def test_a_signed_list_reads_back_and_answers_lookups() -> None:
    data = build_status_list("S0001-2025", [3, 17], NOW, SIGNER)
    status = parse_status_list(data, keyset(PUBLIC))
    assert (status.list_id, status.issued, status.kid) == ("S0001-2025", NOW, SIGNER.kid)
    assert status.size == MIN_BITS
    assert [status.is_revoked(i) for i in (3, 16, 17, 18)] == [True, False, True, False]
    assert status.is_revoked(MIN_BITS) is None and status.is_revoked(-1) is None
    message = cbor2.loads(data)
    assert message.tag == 18
    assert sorted(cbor2.loads(message.value[2])) == [1, 2, 3, 4]


def test_every_altered_byte_is_refused() -> None:
    data = build_status_list("S0001-2025", [17], NOW, SIGNER)
    for position in range(len(data)):
        altered = bytearray(data)
        altered[position] ^= 0x01
        with pytest.raises(StatusListError):
            parse_status_list(bytes(altered), keyset(PUBLIC))


def test_a_list_from_an_unknown_or_retired_key_is_refused() -> None:
    stranger, _ = make_key()
    with pytest.raises(StatusListError, match="不在公钥文件中"):
        parse_status_list(build_status_list("L", [], NOW, stranger), keyset(PUBLIC))
    retired = PublicKey(PUBLIC.kid, PUBLIC.key, KEY_FROM, NOW - timedelta(days=1))
    with pytest.raises(StatusListError, match="不在密钥"):
        parse_status_list(build_status_list("L", [], NOW, SIGNER), keyset(retired))


def test_a_list_that_inflates_beyond_the_limit_is_refused() -> None:
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(MAX_BYTES + 1))).decode().rstrip("=")
    assert len(bomb) < 40_000
    with pytest.raises(StatusListError, match="超过"):
        decode_bitstring(bomb)


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("H4sI", "应以 u 开头"),
        ("u!!", "base64url"),
        ("u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="), "GZIP"),
        (encode_bitstring(bytes(16))[:-4], "GZIP"),
        ("u" + base64.urlsafe_b64encode(gzip.compress(bytes(100))).decode().rstrip("="), "少于"),
    ],
    ids=["no multibase", "not base64url", "not gzip", "truncated", "too short"],
)
def test_bad_encoded_lists_say_what_is_wrong(encoded: str, message: str) -> None:
    with pytest.raises(StatusListError, match=message):
        decode_bitstring(encoded)


def test_lists_that_cannot_be_built_are_refused() -> None:
    with pytest.raises(StatusListError, match="超出状态列表范围"):
        bitstring([MIN_BITS])
    with pytest.raises(StatusListError, match="不少于 131072 位"):
        bitstring([], 1024)
    with pytest.raises(StatusListError, match="状态列表标识"):
        build_status_list("有空格 的", [], NOW, SIGNER)


def test_a_signed_payload_that_is_not_a_list_is_refused() -> None:
    for payload in ({1: 2, 2: "L", 3: 0, 4: "u"}, {1: 1, 2: "L"}, [1, 2]):
        data = sign1(cbor2.dumps(payload), SIGNER.kid, SIGNER.private)
        with pytest.raises(StatusListError):
            parse_status_list(data, keyset(PUBLIC))
