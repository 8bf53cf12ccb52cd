"""The public side of certificates over HTTP: /v/<token> and /api/v1/verify/<token> give every
token its own verdict (altered in any one character, truncated, not base32, an unknown key,
another key, expired, revoked) and never a 500; lookup by number and check code; the JWK set
and the status list; rate limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from examsvc.api.openapi import document
from examsvc.auth.models import User
from examsvc.auth.roles import Role
from examsvc.certificates import services, verify_routes
from examsvc.certificates.keys import SigningKey, load_jwks
from examsvc.certificates.keystore import KeyStore
from examsvc.certificates.models import IssuedCertificate
from examsvc.certificates.settings import save_level
from examsvc.certificates.status_list import parse_status_list
from examsvc.certificates.token import b32decode, b32encode, peek_claims, sign
from examsvc.extensions import db
from tests.e2e.conftest import variant
from tests.integration.test_cert_support import demo_plan, key_folder, release
from tests.unit.test_cert_support import make_key

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass
class Issued:
    store: KeyStore
    admin: User
    certs: list[IssuedCertificate]

    @property
    def cert(self) -> IssuedCertificate:
        return self.certs[0]


@pytest.fixture
def issued(app: Flask, make_user: Callable[..., User], tmp_path: Path) -> Issued:
    store = key_folder(app, tmp_path)
    admin = make_user(Role.ORG_ADMIN, username="admin")
    plan = demo_plan(admin)
    release(plan.registrations[:3])
    report = services.issue_plan(plan, admin, datetime.now(UTC))
    db.session.commit()
    return Issued(store, admin, report.issued)


def page(client: FlaskClient, token: str) -> tuple[int, str]:
    response = client.get(f"/v/{token}")
    return response.status_code, response.get_data(as_text=True)


def api(client: FlaskClient, token: str) -> dict[str, object]:
    response = client.get(f"/api/v1/verify/{token}")
    assert response.status_code == 200, (token, response.status_code)
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def test_a_valid_certificate_shows_its_facts_in_chinese(app: Flask, issued: Issued) -> None:
    cert = issued.cert
    response = app.test_client().get(f"/v/{cert.token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'lang="zh-CN"' in html
    assert "证书有效" in html and cert.name in html and cert.number in html
    assert "*" * 14 + cert.id_last4 in html
    assert cert.registration.candidate.id_number not in html  # never the whole ID number
    assert "Web 前端开发" in html or cert.certificate_name in html
    assert "初级（五级）" in html and cert.issued_on.isoformat() in html
    assert cert.issuer_name in html and cert.check_code in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in html and "http://" not in html.split("</head>")[0]


def test_the_json_answer_has_the_status_and_the_facts(app: Flask, issued: Issued) -> None:
    cert = issued.cert
    body = api(app.test_client(), cert.token)
    assert body["status"] == "valid" and body["status_name"] == "有效"
    assert body["revocation_checked"] is True and body["check_code"] == cert.check_code
    facts = body["certificate"]
    assert isinstance(facts, dict)
    assert facts["number"] == cert.number and facts["name"] == cert.name
    assert facts["id_number_masked"] == "*" * 14 + cert.id_last4
    assert facts["level"] == 5 and facts["level_name"] == "初级（五级）"
    assert facts["issuer"] == cert.issuer_name and facts["revocation"] is None


def test_revocation_shows_at_once_with_reason_and_date(app: Flask, issued: Issued) -> None:
    cert = issued.cert
    services.revoke(cert, "持证人信息登记错误", issued.admin, datetime.now(UTC))
    db.session.commit()
    client = app.test_client()
    status, html = page(client, cert.token)
    today = datetime.now(UTC).astimezone(services.CHINA).date().isoformat()
    assert status == 200 and "证书已撤销" in html and "持证人信息登记错误" in html and today in html
    body = api(client, cert.token)
    assert body["status"] == "revoked"
    assert body["certificate"]["revocation"] == {"date": today, "reason": "持证人信息登记错误"}  # type: ignore[index]
    assert api(client, issued.certs[1].token)["status"] == "valid"


def test_an_expired_certificate(
    app: Flask, issued: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = issued.cert.plan
    save_level(plan.level, {"validity_years": "2"}, issued.admin)
    release(plan.registrations[3:4])
    cert = services.issue_plan(plan, None, datetime.now(UTC)).issued[0]
    db.session.commit()
    later = datetime.now(UTC) + timedelta(days=2 * 366 + 1)
    monkeypatch.setattr(verify_routes, "_now", lambda: later)
    status, html = page(app.test_client(), cert.token)
    assert status == 200 and "证书已过期" in html and cert.expires_on.isoformat() in html  # type: ignore[union-attr]


def _altered(token: str, position: int) -> str:
    char = token[position]
    return token[:position] + B32[(B32.index(char) + 1) % 32] + token[position + 1 :]


def test_every_single_character_alteration_gets_a_verdict_never_valid(
    app: Flask, issued: Issued
) -> None:
    client = app.test_client()
    token = issued.cert.token
    seen = set()
    for position in range(len(token)):
        body = api(client, _altered(token, position))
        assert body["status"] in ("malformed", "invalid_signature", "unknown_key"), position
        assert body["certificate"] is None and body["check_code"] is None
        seen.add(body["status"])
    assert {"malformed", "invalid_signature"} <= seen
    for position in (0, len(token) // 2, len(token) - 2):
        status, html = page(client, _altered(token, position))
        assert status == 200 and issued.cert.name not in html


def _resigned_payload(token: str, payload: bytes) -> str:
    """The token with its payload swapped and the old signature kept (a forgery attempt)."""
    import cbor2

    tagged = cbor2.loads(b32decode(token))
    protected, unprotected, _, signature = tagged.value
    return b32encode(cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload, signature])))


@pytest.mark.parametrize(
    ("make", "status", "shown"),
    [
        (lambda t: t[:-10], "malformed", "无法识别"),  # truncated
        (lambda t: t[:100], "malformed", "无法识别"),
        (lambda t: t.lower(), "malformed", "无法识别"),  # not upper-case base32
        (lambda t: t[:20] + "0189" + t[24:], "malformed", "无法识别"),  # not base32 at all
        (lambda t: t + "=" * (-len(t) % 8), "malformed", "无法识别"),  # padded
        (lambda t: "A" * 5000, "malformed", "无法识别"),  # longer than any QR
        (lambda t: "%E8%AF%81%E4%B9%A6", "malformed", "无法识别"),  # 证书
    ],
    ids=["truncated", "cut-to-100", "lowercase", "not-base32", "padded", "too-long", "chinese"],
)
def test_bad_tokens_each_get_their_status(
    app: Flask, issued: Issued, make: Callable[[str], str], status: str, shown: str
) -> None:
    client = app.test_client()
    token = make(issued.cert.token)
    code, html = page(client, token)
    assert code == 200 and shown in html
    assert api(client, token)["status"] == status


def test_a_changed_name_with_the_old_signature_is_invalid(app: Flask, issued: Issued) -> None:
    import cbor2

    cert = issued.cert
    message = cbor2.loads(b32decode(cert.token))
    claims = cbor2.loads(message.value[2])
    claims[3] = "李" * len(cert.name)  # same length, another holder
    forged = _resigned_payload(cert.token, cbor2.dumps(claims, canonical=True))
    client = app.test_client()
    body = api(client, forged)
    assert body["status"] == "invalid_signature" and body["certificate"] is None
    code, html = page(client, forged)
    assert code == 200 and "签名无效" in html and "李" * len(cert.name) not in html


def test_a_certificate_signed_by_another_key(app: Flask, issued: Issued) -> None:
    claims = peek_claims(issued.cert.token)
    assert claims is not None
    signer, _ = make_key()
    stranger = sign(claims, signer).token  # a key that is not in our set
    body = api(app.test_client(), stranger)
    assert body["status"] == "unknown_key" and body["certificate"] is None
    assert "签名密钥未知" in page(app.test_client(), stranger)[1]
    # The same kid as ours but another key: the signature does not hold.
    ours = issued.store.keyset().active
    assert ours is not None
    impostor = sign(claims, SigningKey(ours.kid, signer.private)).token
    assert api(app.test_client(), impostor)["status"] == "invalid_signature"


def test_lookup_by_number_and_check_code(app: Flask, issued: Issued) -> None:
    cert = issued.cert
    client = app.test_client()
    assert client.get("/v/").status_code == 200
    found = client.post("/v/", data={"number": cert.number.lower(), "check_code": cert.check_code})
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "证书有效" in html and cert.name in html
    wrong = client.post("/v/", data={"number": cert.number, "check_code": "0000-0000"})
    unknown = client.post(
        "/v/", data={"number": cert.number[:-1] + "9", "check_code": cert.check_code}
    )
    assert wrong.status_code == unknown.status_code == 404
    assert cert.name not in wrong.get_data(as_text=True)
    assert "证书编号或校验码不正确" in unknown.get_data(as_text=True)
    bad = client.post("/v/", data={"number": "S123", "check_code": "x"})
    assert bad.status_code == 422 and "22 位" in bad.get_data(as_text=True)


def test_lookup_and_verify_are_rate_limited(app: Flask, issued: Issued) -> None:
    limited = variant(
        app,
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=True,
        CERT_LOOKUP_RATE_LIMIT="2 per minute",
        CERT_VERIFY_RATE_LIMIT="3 per minute",
        CERT_KEYS_DIR=app.config["CERT_KEYS_DIR"],
    )
    client = limited.test_client()
    codes = [
        client.post("/v/", data={"number": issued.cert.number, "check_code": "0000-0000"})
        for _ in range(3)
    ]
    assert [r.status_code for r in codes] == [404, 404, 429]
    assert client.get("/v/").status_code == 200  # the form itself stays reachable
    token = issued.cert.token
    assert [client.get(f"/v/{token}").status_code for _ in range(4)] == [200, 200, 200, 429]
    other = limited.test_client()
    answers = [
        other.get(f"/api/v1/verify/{token}", environ_base={"REMOTE_ADDR": "10.0.0.9"})
        for _ in range(4)
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]


def test_the_key_set_and_a_retired_key(app: Flask, issued: Issued) -> None:
    client = app.test_client()
    response = client.get("/.well-known/examsvc-keys.json")
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    keyset = load_jwks(response.data)
    assert [k.kid for k in keyset.keys] == [issued.cert.kid]
    issued.store.rotate(datetime.now(UTC))
    served = load_jwks(client.get("/.well-known/examsvc-keys.json").data)
    assert len(served.keys) == 2 and served.get(issued.cert.kid) is not None
    assert served.get(issued.cert.kid).valid_until is not None  # type: ignore[union-attr]
    assert api(client, issued.cert.token)["status"] == "valid"


def test_the_status_list_download(app: Flask, issued: Issued) -> None:
    client = app.test_client()
    cert = issued.certs[1]
    url = f"/v/status/{cert.status_list}.cbor"
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "application/cbor"
    keyset = issued.store.keyset()
    assert parse_status_list(first.data, keyset).is_revoked(cert.status_index) is False
    assert client.get(url).data == first.data  # unchanged until a revocation
    services.revoke(cert, "测试撤销", issued.admin, datetime.now(UTC))
    db.session.commit()
    listed = parse_status_list(client.get(url).data, keyset)
    assert listed.is_revoked(cert.status_index) is True
    assert listed.is_revoked(issued.certs[0].status_index) is False
    assert client.get("/v/status/S9999-2000.cbor").status_code == 404


def test_the_api_describes_verify(app: Flask) -> None:
    spec = document("http://x/api/v1/plans")
    operation = spec["paths"]["/verify/{token}"]["get"]
    assert operation["security"] == [] and "200" in operation["responses"]
    statuses = spec["components"]["schemas"]["Verification"]["properties"]["status"]["enum"]
    assert set(statuses) == {
        "valid", "revoked", "expired", "invalid_signature", "unknown_key", "malformed"
    }  # fmt: skip
