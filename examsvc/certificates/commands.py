"""``examsvc keys generate|rotate|list``, the offline ``examsvc cert verify`` and
``examsvc cert issue|list|render`` on the database.

``keys`` works on the folder ``CERT_KEYS_DIR`` (default ``<instance>/cert-keys``). ``cert
verify`` needs no app and no database, only the JWK set (and, for revocations, a status list):
the same command works on a laptop with no network. Its exit status is 0 for a valid
certificate, 1 for any other verdict, 2 when the key or status-list file cannot be used.
``cert list`` and ``cert render`` print the verify URL with ``CERT_VERIFY_BASE_URL``.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext

from .keys import CHINA, KeySetError, load_jwks
from .keystore import KeyStore, KeyStoreError
from .status_list import StatusList, StatusListError, parse_status_list
from .token import STATUS_NAMES, Claims, Status, Verification, token_from, verify

EXIT_NOT_VALID = 1
EXIT_UNUSABLE_INPUT = 2
# The signature did not vouch for these claims: shown to help find the certificate, flagged.
UNTRUSTED = {Status.INVALID_SIGNATURE, Status.UNKNOWN_KEY, Status.MALFORMED}


def _fail(message: str, code: int = 1) -> NoReturn:
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def _store() -> KeyStore:
    folder = (
        current_app.config.get("CERT_KEYS_DIR") or Path(current_app.instance_path) / "cert-keys"
    )
    return KeyStore(Path(folder))


@click.group("keys")
def keys() -> None:
    """Certificate signing keys (Ed25519) in CERT_KEYS_DIR, default <instance>/cert-keys."""


def _announce(store: KeyStore, kid: str, verb: str) -> None:
    click.echo(f"已{verb}签名密钥 {kid}")
    click.echo(
        f"私钥：{store.folder / (kid + '.pem')}（权限 0600；请备份，切勿放入代码库或数据库）"
    )
    click.echo(f"公钥：{store.jwks_path}（发布为 /.well-known/examsvc-keys.json）")


@keys.command("generate")
@with_appcontext
def keys_generate() -> None:
    """Create the first signing key; refused when the folder already has one."""
    store = _store()
    try:
        key = store.generate(datetime.now(UTC))
    except KeyStoreError as exc:
        _fail(str(exc))
    _announce(store, key.kid, "生成")


@keys.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Sign with a new key from now on; the old key is retired but still verifies what it
    signed while it was active."""
    store = _store()
    try:
        previous = store.keyset().active
        key = store.rotate(datetime.now(UTC))
    except KeyStoreError as exc:
        _fail(str(exc))
    _announce(store, key.kid, "启用新")
    if previous is not None:
        click.echo(f"旧密钥 {previous.kid} 已停用，仍可验证它在停用前签发的证书")


@keys.command("list")
@with_appcontext
def keys_list() -> None:
    """Every key with its state, signing window and private key file."""
    store = _store()
    try:
        stored = store.list_keys()
    except KeyStoreError as exc:
        _fail(str(exc))
    if not stored:
        click.echo(f"{store.folder} 中还没有签名密钥：请运行 examsvc keys generate")
        return
    click.echo(f"密钥目录：{store.folder}")
    for entry in stored:
        state = "当前" if entry.public.active else "已停用"
        private = entry.private_file.name if entry.private_file else "无私钥文件"
        click.echo(f"{entry.public.kid}  {state}  {entry.public.window()}  {private}")


@click.group("cert")
def cert() -> None:
    """Certificates: offline verification of a QR token; issue, list and print."""


def _day(day: date | None) -> str:
    return "长期有效" if day is None else f"{day.year}年{day.month}月{day.day}日"


def _print(result: Verification) -> None:
    color = "green" if result.valid else "red"
    click.secho(
        f"结果：{STATUS_NAMES[result.status]}（{result.status.value}）", fg=color, bold=True
    )
    click.echo(f"说明：{result.message}")
    claims: Claims | None = result.claims
    if claims is None:
        return
    if result.status in UNTRUSTED:
        click.secho("以下内容未通过签名验证，不可信：", fg="yellow")
    signed = claims.signed_at.astimezone(CHINA)
    for label, value in (
        ("证书编号", claims.number),
        ("姓名", claims.name),
        ("身份证号后四位", claims.id_last4),
        ("证书代码", claims.certificate),
        ("等级", claims.level_name),
        ("发证日期", _day(claims.issued)),
        ("有效期至", _day(claims.expires)),
        ("状态列表", f"{claims.status_list} 第 {claims.status_index} 号"),
        ("签名", f"密钥 {result.kid}，{signed:%Y-%m-%d %H:%M}（北京时间）"),
        ("校验码", f"{result.check_code}（应与证书二维码下方印的一致）"),
    ):
        click.echo(f"{label}：{value}")


@cert.command("verify")
@click.argument("token_or_url")
@click.option(
    "--keys",
    "keys_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The issuer's JWK set, as served at /.well-known/examsvc-keys.json.",
)
@click.option(
    "--status-list",
    "status_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The issuer's signed status list (CBOR), to check revocation.",
)
def cert_verify(token_or_url: str, keys_file: Path, status_file: Path | None) -> None:
    """Verify a certificate's QR (the URL or the token alone) offline, without app or
    database; exit status 0 only for a valid certificate."""
    try:
        keyset = load_jwks(keys_file.read_bytes(), str(keys_file))
    except KeySetError as exc:
        _fail(str(exc), EXIT_UNUSABLE_INPUT)
    status: StatusList | None = None
    if status_file is not None:
        try:
            status = parse_status_list(status_file.read_bytes(), keyset)
        except StatusListError as exc:
            _fail(f"状态列表 {status_file} 不可用：{exc}", EXIT_UNUSABLE_INPUT)
    result = verify(token_from(token_or_url), keyset, datetime.now(UTC), status)
    _print(result)
    if not result.valid:
        sys.exit(EXIT_NOT_VALID)


@cert.command("issue")
@click.option("--plan", "plan_id", type=int, required=True, help="Exam plan id.")
@with_appcontext
def cert_issue(plan_id: int) -> None:
    """Issue a certificate for every released pass of a plan that has none (idempotent)."""
    from ..errors import DomainError
    from ..extensions import db
    from ..plans.models import ExamPlan
    from .services import issue_plan

    plan = db.session.get(ExamPlan, plan_id)
    if plan is None:
        _fail(f"没有编号为 {plan_id} 的考核计划")
    try:
        report = issue_plan(plan, None, datetime.now(UTC))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(" ".join([exc.message, *exc.details]))
    for problem in report.skipped:
        click.secho(f"未签发：{problem}", fg="yellow")
    click.echo(f"已签发 {len(report.issued)} 张证书；{report.already} 名考生此前已有证书")


@cert.command("list")
@click.option("--plan", "plan_id", type=int, help="Only this exam plan's certificates.")
@with_appcontext
def cert_list(plan_id: int | None) -> None:
    """Certificates with their holder, state and verify URL (the QR's content)."""
    from sqlalchemy import select

    from ..extensions import db
    from .models import IssuedCertificate
    from .services import verify_url

    query = select(IssuedCertificate).order_by(IssuedCertificate.number)
    if plan_id is not None:
        query = query.where(IssuedCertificate.plan_id == plan_id)
    rows = list(db.session.scalars(query))
    if not rows:
        click.echo("还没有证书" + (f"（计划 {plan_id}）" if plan_id is not None else ""))
        return
    for row in rows:
        state = "已撤销" if row.revoked else "有效"
        click.echo(f"{row.number}  {row.name}  {state}  {row.check_code}  {verify_url(row)}")


@cert.command("render")
@click.argument("number")
@click.option("--format", "fmt", type=click.Choice(["png", "pdf"]), required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def cert_render(number: str, fmt: str, out: Path) -> None:
    """Print the certificate NUMBER to a PNG or PDF file (A4 landscape)."""
    from ..errors import DomainError
    from ..plans.documents import cjk_font
    from .render import render_pdf, render_png
    from .services import by_number, certificate_data
    from .settings import layout_for

    try:
        row = by_number(number)
        font = cjk_font(current_app.config.get("EXAMSVC_CJK_FONT"))
    except DomainError as exc:
        _fail(exc.message)
    data = certificate_data(row)
    layout = layout_for(row.level.certificate)
    body = render_pdf([data], layout, font) if fmt == "pdf" else render_png(data, layout, font)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    click.echo(f"已输出证书 {row.number} → {out}（{len(body)} 字节）")
