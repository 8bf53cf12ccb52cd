"""``examsvc cert verify`` offline from a JWKS file (no app, no database), and ``examsvc keys``
on the folder of the app's configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from examsvc.certificates.commands import EXIT_NOT_VALID, EXIT_UNUSABLE_INPUT, _store, cert
from examsvc.certificates.keys import KeySet
from examsvc.certificates.status_list import build_status_list
from examsvc.certificates.token import sign, verify_url

from .test_cert_support import BASE, make_claims, make_key

SIGNER, PUBLIC = make_key()
SIGNED = sign(make_claims(), SIGNER)
URL = verify_url(BASE, SIGNED.token)


@pytest.fixture(autouse=True)
def _no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """A database URL nobody listens on: the commands must not need one."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")


@pytest.fixture
def jwks(tmp_path: Path) -> Path:
    path = tmp_path / "examsvc-keys.json"
    path.write_text(KeySet((PUBLIC,)).dumps(), encoding="utf-8")
    return path


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cert, ["verify", *map(str, args)], catch_exceptions=False)


def test_a_valid_certificate_is_shown_in_chinese_with_exit_status_0(jwks: Path) -> None:
    result = run(URL, "--keys", jwks)
    assert result.exit_code == 0, result.output
    for line in (
        "结果：有效（valid）",
        "证书编号：S000137000123255000001",
        "姓名：欧阳明轩",
        "身份证号后四位：002X",
        "等级：初级（五级）",
        "发证日期：2025年6月30日",
        "有效期至：长期有效",
        f"校验码：{SIGNED.check_code}",
        "未核对撤销状态",
    ):
        assert line in result.output


def test_the_bare_token_works_as_well_as_the_url(jwks: Path) -> None:
    assert run(SIGNED.token, "--keys", jwks).exit_code == 0


def test_a_tampered_certificate_exits_1_and_flags_its_claims(jwks: Path) -> None:
    position = len(SIGNED.token) - 20  # inside the signature, the last 64 bytes
    char = "A" if SIGNED.token[position] != "A" else "B"
    altered = SIGNED.token[:position] + char + SIGNED.token[position + 1 :]
    result = run(altered, "--keys", jwks)
    assert result.exit_code == EXIT_NOT_VALID
    assert "结果：签名无效（invalid_signature）" in result.output
    assert "以下内容未通过签名验证，不可信" in result.output and "姓名：欧阳明轩" in result.output


def test_keys_of_another_issuer_give_unknown_key(tmp_path: Path) -> None:
    _, stranger = make_key()
    other = tmp_path / "other.json"
    other.write_text(KeySet((stranger,)).dumps(), encoding="utf-8")
    result = run(URL, "--keys", other)
    assert result.exit_code == EXIT_NOT_VALID
    assert "签名密钥未知（unknown_key）" in result.output
    assert "以下内容未通过签名验证，不可信" in result.output


def test_a_revoked_certificate_is_found_in_the_status_list(jwks: Path, tmp_path: Path) -> None:
    status = tmp_path / "status.cbor"
    issued = datetime.now(UTC) - timedelta(hours=1)
    status.write_bytes(build_status_list("S0001-2025", [17], issued, SIGNER))
    result = run(URL, "--keys", jwks, "--status-list", status)
    assert result.exit_code == EXIT_NOT_VALID
    assert "结果：已撤销（revoked）" in result.output
    status.write_bytes(build_status_list("S0001-2025", [16], issued, SIGNER))
    result = run(URL, "--keys", jwks, "--status-list", status)
    assert result.exit_code == 0 and "核对撤销状态" in result.output


def test_unusable_key_and_status_files_exit_2_with_the_reason(jwks: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"keys": [{"kty": "RSA"}]}', encoding="utf-8")
    result = run(URL, "--keys", broken)
    assert result.exit_code == EXIT_UNUSABLE_INPUT
    assert "第 1 个密钥的 kty 应为 OKP" in result.output
    forged = tmp_path / "status.cbor"
    stranger, _ = make_key()
    forged.write_bytes(build_status_list("S0001-2025", [], datetime.now(UTC), stranger))
    result = run(URL, "--keys", jwks, "--status-list", forged)
    assert result.exit_code == EXIT_UNUSABLE_INPUT and "不在公钥文件中" in result.output


def test_examsvc_cert_verify_creates_no_app(jwks: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import examsvc
    from examsvc.cli import main

    def no_app(*_args: object) -> None:
        raise AssertionError("cert verify created an app")

    monkeypatch.setattr(examsvc, "create_app", no_app)
    result = CliRunner().invoke(main, ["cert", "verify", URL, "--keys", str(jwks)])
    assert result.exit_code == 0, result.output
    assert "结果：有效（valid）" in result.output


def test_keys_generate_rotate_and_list_use_cert_keys_dir(tmp_path: Path) -> None:
    from examsvc import create_app

    folder = tmp_path / "cert-keys"
    app = create_app({"CERT_KEYS_DIR": str(folder)})
    runner = app.test_cli_runner()
    generated = runner.invoke(args=["keys", "generate"])
    assert generated.exit_code == 0, generated.output
    assert "已生成签名密钥" in generated.output and str(folder) in generated.output
    again = runner.invoke(args=["keys", "generate"])
    assert again.exit_code == 1 and "examsvc keys rotate" in again.output
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0 and "已停用，仍可验证" in rotated.output
    listed = runner.invoke(args=["keys", "list"])
    assert listed.exit_code == 0
    lines = [line for line in listed.output.splitlines() if ".pem" in line]
    assert len(lines) == 2 and "已停用" in lines[0] and "当前" in lines[1]
    assert len(list(folder.glob("*.pem"))) == 2


def test_the_key_folder_defaults_to_the_instance_folder(tmp_path: Path) -> None:
    from examsvc import create_app

    app = create_app()
    with app.app_context():
        assert _store().folder == Path(app.instance_path) / "cert-keys"
    empty = create_app({"CERT_KEYS_DIR": str(tmp_path / "empty")})
    listed = empty.test_cli_runner().invoke(args=["keys", "list"])
    assert listed.exit_code == 0 and "还没有签名密钥" in listed.output
