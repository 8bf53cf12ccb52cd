"""Certificate tokens: round trip, interoperability with pycose in both directions, and one
distinct status for every kind of bad token, never an exception.

pycose 1.1 cannot decode messages through ``Sign1Message.decode`` with cbor2 6, which returns
tagged arrays as tuples and maps as frozendicts (TimothyClaeys/pycose#141); ``pycose_decode``
hands it a list and a dict, and pycose does the rest (headers, Sig_structure, EdDSA).
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import cbor2
import pytest
import qrcode
import qrcode.constants
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from examsvc.certificates.cose import sign1
from examsvc.certificates.keys import PublicKey, SigningKey
from examsvc.certificates.keystore import KeyStore
from examsvc.certificates.number import check_code
from examsvc.certificates.status_list import (
    bitstring,
    build_status_list,
    encode_bitstring,
    parse_status_list,
)
from examsvc.certificates.token import (
    ClaimsError,
    Status,
    b32encode,
    decode_claims,
    encode_claims,
    peek_claims,
    sign,
    token_from,
    verify,
    verify_url,
)

from .test_cert_support import BASE, NOW, NUMBER, SIGNED, keyset, make_claims, make_key

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
SIGNER, PUBLIC = make_key()
TOKEN = sign(make_claims(), SIGNER).token


def pycose_decode(data: bytes) -> Sign1Message:
    protected, unprotected, payload, signature = cbor2.loads(data).value
    return Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)


def raw(key: Ed25519PrivateKey) -> tuple[bytes, bytes]:
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return private, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_a_signed_token_verifies_with_its_claims_and_check_code() -> None:
    signed = sign(make_claims(), SIGNER)
    result = verify(signed.token, keyset(PUBLIC), NOW)
    assert result.status is Status.VALID and result.valid
    assert result.claims == make_claims()
    assert result.kid == SIGNER.kid and result.check_code == signed.check_code
    assert not result.revocation_checked and "未核对撤销状态" in result.message
    assert sign(make_claims(), SIGNER) == signed  # Ed25519 is deterministic


def test_the_token_is_upper_case_base32_of_a_tagged_cose_sign1() -> None:
    assert set(TOKEN) <= set(ALPHABET) and "=" not in TOKEN
    message = cbor2.loads(base64.b32decode(TOKEN + "=" * (-len(TOKEN) % 8)))
    assert message.tag == 18
    protected, unprotected, payload, signature = message.value
    assert cbor2.loads(protected) == {1: -8, 4: SIGNER.kid.encode()}
    assert unprotected == {} and len(signature) == 64
    assert check_code(signature) == sign(make_claims(), SIGNER).check_code
    claims = cbor2.loads(payload)
    assert sorted(claims) == [1, 2, 3, 4, 5, 6, 7, 9, 10, 11]  # no expiry: no label 8
    assert claims[2] == NUMBER and claims[4] == "002X"
    assert claims[7] == date(2025, 6, 30)  # RFC 8943 tag 100, days since 1970
    assert b"\xd8\x64\x19" in payload  # tag 100, then a 2-byte day count
    assert claims[11] == int(SIGNED.timestamp())


def qr_version(text: str) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
    code.add_data(text)
    code.make(fit=True)
    return int(code.version)


def test_the_url_fits_a_qr_code_that_prints_at_30_mm() -> None:
    url = verify_url(BASE, TOKEN)
    assert url == f"{BASE}/v/{TOKEN}"
    assert qr_version(url) <= 13  # 69 modules + quiet zone: 0.39 mm each at 30 mm
    longest = make_claims(
        name="阿卜杜热合曼·买买提依明",
        expires=date(2030, 6, 30),
        status_list="web-frontend-2025-S0001",
        status_index=2**31,
    )
    assert qr_version(verify_url(BASE, sign(longest, SIGNER).token)) <= 15


def test_pycose_verifies_what_we_sign() -> None:
    public = raw(SIGNER.private)[1]
    message = pycose_decode(base64.b32decode(TOKEN + "=" * (-len(TOKEN) % 8)))
    assert message.phdr[Algorithm] is EdDSA and message.phdr[KID] == SIGNER.kid.encode()
    message.key = OKPKey(crv=Ed25519, x=public)
    assert message.verify_signature()
    assert decode_claims(message.payload) == make_claims()
    message.key = OKPKey(crv=Ed25519, x=raw(Ed25519PrivateKey.generate())[1])
    assert not message.verify_signature()


def test_we_verify_what_pycose_signs() -> None:
    private, public = raw(SIGNER.private)
    message = Sign1Message(
        phdr={Algorithm: EdDSA, KID: SIGNER.kid.encode()}, payload=encode_claims(make_claims())
    )
    message.key = OKPKey(crv=Ed25519, d=private, x=public)
    token = b32encode(message.encode())
    assert token == TOKEN  # same bytes: the encoding is RFC 9052's, deterministic
    assert verify(token, keyset(PUBLIC), NOW).status is Status.VALID
    other = Ed25519PrivateKey.generate()
    message.key = OKPKey(crv=Ed25519, d=raw(other)[0], x=raw(other)[1])
    assert verify(b32encode(message.encode()), keyset(PUBLIC), NOW).status is (
        Status.INVALID_SIGNATURE
    )


def test_every_single_character_change_within_the_alphabet_is_caught() -> None:
    seen: set[Status] = set()
    for position, original in enumerate(TOKEN):
        for char in ALPHABET.replace(original, ""):
            altered = TOKEN[:position] + char + TOKEN[position + 1 :]
            result = verify(altered, keyset(PUBLIC), NOW)
            assert result.status is not Status.VALID, (position, char)
            seen.add(result.status)
    assert seen == {Status.MALFORMED, Status.INVALID_SIGNATURE, Status.UNKNOWN_KEY}


@given(st.data())
@settings(max_examples=300, deadline=None, derandomize=True)
def test_any_single_character_edit_gives_a_verdict_never_an_exception(data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(TOKEN) - 1))
    char = data.draw(st.characters().filter(lambda c: c != TOKEN[position]))
    edit = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    if edit == "replace":
        altered = TOKEN[:position] + char + TOKEN[position + 1 :]
    elif edit == "insert":
        altered = TOKEN[:position] + char + TOKEN[position:]
    else:
        altered = TOKEN[:position] + TOKEN[position + 1 :]
    result = verify(altered, keyset(PUBLIC), NOW)
    assert result.status is not Status.VALID


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=20) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.integers(-2, 12), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    protected=st.dictionaries(st.integers(-2, 6), cbor_values, max_size=3).map(cbor2.dumps),
    unprotected=st.dictionaries(st.integers(-2, 6), cbor_values, max_size=2),
    payload=st.dictionaries(st.integers(0, 12), cbor_values, max_size=12).map(cbor2.dumps),
    signature=st.binary(min_size=60, max_size=66),
    tag=st.sampled_from([18, 17, 98]),
)
@settings(max_examples=150, deadline=None, derandomize=True)
def test_arbitrary_cose_shaped_input_gives_a_verdict_never_an_exception(
    protected: bytes, unprotected: dict[int, object], payload: bytes, signature: bytes, tag: int
) -> None:
    data = cbor2.dumps(cbor2.CBORTag(tag, [protected, unprotected, payload, signature]))
    assert verify(b32encode(data), keyset(PUBLIC), NOW).status is not Status.VALID


@given(st.binary(max_size=400))
@settings(max_examples=300, deadline=None, derandomize=True)
def test_arbitrary_bytes_give_a_verdict_never_an_exception(data: bytes) -> None:
    assert verify(b32encode(data), keyset(PUBLIC), NOW).status is not Status.VALID


def test_every_truncation_is_malformed() -> None:
    for length in range(len(TOKEN)):
        assert verify(TOKEN[:length], keyset(PUBLIC), NOW).status is Status.MALFORMED, length


@pytest.mark.parametrize(
    "text",
    [
        TOKEN.lower(),
        TOKEN + "=",
        TOKEN[:10] + "0" + TOKEN[11:],
        TOKEN[:10] + " " + TOKEN[11:],
        "不是证书",
        "",
        "A" * 5000,
        base64.urlsafe_b64encode(b"hello").decode(),
    ],
    ids=["lower case", "padding", "digit 0", "space", "chinese", "empty", "too long", "base64"],
)
def test_text_that_is_not_upper_case_base32_is_malformed(text: str) -> None:
    result = verify(text, keyset(PUBLIC), NOW)
    assert result.status is Status.MALFORMED and result.claims is None


def test_a_token_that_is_not_a_string_is_malformed() -> None:
    assert verify(None, keyset(PUBLIC), NOW).status is Status.MALFORMED  # type: ignore[arg-type]


def test_spare_bits_in_the_last_character_are_refused() -> None:
    data = base64.b32decode(TOKEN + "=" * (-len(TOKEN) % 8))
    short = b32encode(data[:-1])  # 8·(n−1) bits leave spare bits in the last character
    assert len(short) * 5 > (len(data) - 1) * 8
    last = ALPHABET.index(short[-1])
    loose = short[:-1] + ALPHABET[last | 1]
    assert base64.b32decode(loose + "=" * (-len(loose) % 8)) == data[:-1]
    assert verify(loose, keyset(PUBLIC), NOW).message.endswith("末位含多余的位）")


def test_an_unknown_kid_is_unknown_key_with_the_claims_still_readable() -> None:
    _, stranger = make_key()
    result = verify(TOKEN, keyset(stranger), NOW)
    assert result.status is Status.UNKNOWN_KEY
    assert result.claims == make_claims() and result.kid == SIGNER.kid


def test_a_token_of_another_key_under_a_known_kid_has_an_invalid_signature() -> None:
    impostor = SigningKey(SIGNER.kid, Ed25519PrivateKey.generate())
    result = verify(sign(make_claims(), impostor).token, keyset(PUBLIC), NOW)
    assert result.status is Status.INVALID_SIGNATURE and "改动过" in result.message


def test_an_expired_certificate_is_expired_from_the_next_day_in_china() -> None:
    token = sign(make_claims(expires=date(2027, 6, 30)), SIGNER).token
    last_minute = datetime(2027, 6, 30, 15, 59, tzinfo=UTC)  # 23:59 in Beijing
    assert verify(token, keyset(PUBLIC), last_minute).status is Status.VALID
    result = verify(token, keyset(PUBLIC), last_minute + timedelta(minutes=1))
    assert result.status is Status.EXPIRED and "2027-06-30" in result.message


def test_revocation_comes_from_the_status_list_of_the_certificate() -> None:
    token = TOKEN  # index 17 of S0001-2025

    def listed(list_id: str, revoked: list[int]) -> Status:
        data = build_status_list(list_id, revoked, NOW - timedelta(days=1), SIGNER)
        status = parse_status_list(data, keyset(PUBLIC))
        result = verify(token, keyset(PUBLIC), NOW, status)
        if list_id == "S0001-2025":
            assert result.revocation_checked
        return result.status

    assert listed("S0001-2025", [3, 17, 200]) is Status.REVOKED
    assert listed("S0001-2025", [3, 16, 18]) is Status.VALID
    assert listed("S0001-2026", [17]) is Status.VALID  # not its list: nothing known
    expired = sign(make_claims(expires=date(2025, 12, 31)), SIGNER).token
    status = parse_status_list(build_status_list("S0001-2025", [17], NOW, SIGNER), keyset(PUBLIC))
    assert verify(expired, keyset(PUBLIC), NOW, status).status is Status.REVOKED


def test_a_status_list_that_does_not_reach_the_index_leaves_revocation_unchecked() -> None:
    far = sign(make_claims(status_index=500_000), SIGNER).token
    status = parse_status_list(build_status_list("S0001-2025", [], NOW, SIGNER), keyset(PUBLIC))
    result = verify(far, keyset(PUBLIC), NOW, status)
    assert result.status is Status.VALID and not result.revocation_checked
    assert "不含序号 500000" in result.message


def test_rotation_keeps_old_certificates_valid_but_not_new_ones_of_the_old_key(
    tmp_path: Path,
) -> None:
    store = KeyStore(tmp_path / "keys")
    first = datetime(2025, 1, 1, tzinfo=UTC)
    rotated = datetime(2026, 1, 1, tzinfo=UTC)
    store.generate(first)
    old = store.signing_key()
    before = sign(make_claims(signed_at=rotated - timedelta(seconds=1)), old).token
    at_rotation = sign(make_claims(signed_at=rotated), old).token
    store.rotate(rotated)
    new = store.signing_key()
    assert new.kid != old.kid
    after = sign(make_claims(signed_at=rotated + timedelta(days=1)), new).token
    keys = store.keyset()
    later = rotated + timedelta(days=400)
    assert verify(before, keys, later).status is Status.VALID
    assert verify(at_rotation, keys, later).status is Status.VALID
    assert verify(after, keys, later).status is Status.VALID
    # The retired key, were it stolen, cannot sign anything that verifies after its window…
    stolen = sign(make_claims(signed_at=rotated + timedelta(seconds=1)), old).token
    result = verify(stolen, keys, later)
    assert result.status is Status.UNKNOWN_KEY and "不在签名密钥" in result.message
    # …nor can the new key sign before its own.
    early = sign(make_claims(signed_at=rotated - timedelta(seconds=1)), new).token
    assert verify(early, keys, later).status is Status.UNKNOWN_KEY


def test_signed_but_unreadable_claims_are_malformed_with_the_kid_and_check_code() -> None:
    for payload in (cbor2.dumps({1: 2, 2: NUMBER}), b"\xff", cbor2.dumps([1, 2, 3])):
        message = sign1(payload, SIGNER.kid, SIGNER.private)
        result = verify(b32encode(message), keyset(PUBLIC), NOW)
        assert result.status is Status.MALFORMED and result.claims is None
        assert result.kid == SIGNER.kid and result.check_code is not None


@pytest.mark.parametrize(
    "message",
    [
        # the kid moved to the unprotected header, which the signature does not cover
        lambda p, s: cbor2.CBORTag(18, [cbor2.dumps({1: -8}), {4: b"x"}, p, s]),
        lambda p, s: [cbor2.dumps({1: -8, 4: SIGNER.kid.encode()}), {}, p, s],  # untagged
        lambda p, s: cbor2.CBORTag(18, [cbor2.dumps({1: -7, 4: SIGNER.kid.encode()}), {}, p, s]),
        lambda p, s: cbor2.CBORTag(18, [cbor2.dumps({1: -8, 4: b"k", 5: b""}), {}, p, s]),
    ],
    ids=["unprotected kid", "untagged", "ES256", "extra header"],
)
def test_cose_messages_outside_our_profile_are_malformed(message: object) -> None:
    payload = encode_claims(make_claims())
    data = cbor2.dumps(message(payload, b"\0" * 64))  # type: ignore[operator]
    assert verify(b32encode(data), keyset(PUBLIC), NOW).status is Status.MALFORMED


def test_trailing_bytes_and_long_form_lengths_are_malformed() -> None:
    data = base64.b32decode(TOKEN + "=" * (-len(TOKEN) % 8))
    assert verify(b32encode(data + b"\0"), keyset(PUBLIC), NOW).status is Status.MALFORMED
    indefinite = b"\xd2\x9f" + data[2:] + b"\xff"  # the same array, indefinite length
    assert verify(b32encode(indefinite), keyset(PUBLIC), NOW).status is Status.MALFORMED


def test_claims_that_cannot_be_read_back_are_refused_at_signing() -> None:
    cases = {
        "number": ("S000137000123254000001", "等级 5 与证书编号第 16 位的等级 4 不一致"),
        "issued": (date(2024, 12, 31), "与证书编号第 14–15 位的年份 25 不一致"),
        "id_last4": ("002x", "末位 X 请大写"),
        "name": (" 王芳", "首尾无空格"),
        "certificate": ("Web 前端", "证书代码"),
        "expires": (date(2025, 6, 30), "应为晚于发证日期"),
        "signed_at": (SIGNED.replace(microsecond=5), "整秒"),
        "status_list": ("列表", "状态列表标识"),
        "status_index": (-1, "超出范围"),
    }
    for field, (value, message) in cases.items():
        with pytest.raises(ClaimsError, match=message):
            sign(make_claims(**{field: value}), SIGNER)
    with pytest.raises(ClaimsError, match="半角大写"):
        sign(make_claims(number=" " + NUMBER), SIGNER)


def test_the_token_is_found_in_a_scanned_url() -> None:
    for text in (
        f"{BASE}/v/{TOKEN}",
        f"  {BASE}/v/{TOKEN}?utm=x",
        f"{BASE}/v/{TOKEN}/",
        f"{BASE}/v/{TOKEN}#top",
        f" {TOKEN}\n",
    ):
        assert token_from(text) == TOKEN
    with pytest.raises(ValueError, match="https://"):
        verify_url("cert.example.cn", TOKEN)


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="缺少时区"):
        verify(TOKEN, keyset(PUBLIC), datetime(2026, 1, 1))


def test_a_key_window_in_the_keyset_is_what_counts() -> None:
    retired = PublicKey(PUBLIC.kid, PUBLIC.key, PUBLIC.valid_from, SIGNED - timedelta(seconds=1))
    assert verify(TOKEN, keyset(retired), NOW).status is Status.UNKNOWN_KEY
    retired_after = PublicKey(PUBLIC.kid, PUBLIC.key, PUBLIC.valid_from, SIGNED)
    assert verify(TOKEN, keyset(retired_after), NOW).status is Status.VALID


def test_the_worked_example_of_the_docs() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "certificates.md").read_text()
    rfc8032 = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    private = Ed25519PrivateKey.from_private_bytes(rfc8032)
    public = PublicKey("kPrK_qmx", private.public_key(), datetime(2025, 1, 1, tzinfo=UTC))
    signed = sign(make_claims(), SigningKey("kPrK_qmx", private))
    assert f"\n{signed.token}\n" in docs and f"check code `{signed.check_code}`" in docs
    assert verify(signed.token, keyset(public), NOW).status is Status.VALID
    assert f"`{encode_bitstring(bitstring([17]))}`" in docs
    assert datetime.fromtimestamp(1751248800, UTC) == SIGNED
    assert date(1970, 1, 1) + timedelta(days=20269) == date(2025, 6, 30)


def test_peek_reads_the_claims_without_judging_them() -> None:
    signer, _ = make_key()
    token = sign(make_claims(), signer).token
    assert peek_claims(token) == make_claims()
    stranger, _ = make_key()
    assert peek_claims(sign(make_claims(), stranger).token) == make_claims()  # any key
    for bad in ("", token[:-9], token.lower(), "A" * 5000, None, 42):
        assert peek_claims(bad) is None
