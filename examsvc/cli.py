"""The ``examsvc`` command: Flask's commands plus db, catalog, bank, demo and users."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from .bank.model import TYPE_NAMES, BankData, BankFormatError
from .catalog.scheme_rules import SchemeError, parse_scheme
from .catalog.standards import Standard, StandardError, load_standards
from .errors import DomainError
from .yaml_text import safe_load


def _create(*_args: object) -> Flask:
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create, add_version_option=False)
def main() -> None:
    """examsvc: 1+X exam administration, delivery, grading and certificates."""


def _fail(message: str) -> NoReturn:
    click.secho(message, fg="red", err=True)
    sys.exit(1)


def _bank_dirs(path: Path) -> list[Path]:
    if (path / "bank.yaml").is_file():
        return [path]
    return sorted(p.parent for p in path.glob("*/bank.yaml"))


def _standards_root(path: Path) -> Path:
    for candidate in (path, path.parent, current_app.config["QUESTION_BANKS_DIR"]):
        if (candidate / "standards").is_dir():
            return Path(candidate)
    return Path(current_app.config["QUESTION_BANKS_DIR"])


def _summary(bank: BankData) -> str:
    counts = Counter(i.type for i in bank.items)
    parts = "，".join(f"{TYPE_NAMES[t]} {counts[t]}" for t in TYPE_NAMES if counts[t])
    return f"{bank.code}: {len(bank.items)} 题（{parts}）"


def _read_xlsx(path: Path, standards: dict[tuple[str, str], Standard]) -> BankData:
    from .bank.xlsx_format import read_workbook

    files_dir = path.with_suffix(".files")

    def files(item_id: str, name: str) -> bytes | None:
        target = files_dir / item_id / name
        return target.read_bytes() if target.is_file() else None

    data, _ = read_workbook(path.read_bytes(), str(path), standards, files)
    return data


def _read_any(path: Path) -> list[BankData]:
    """Banks at PATH: a bank directory, a folder of banks, or an .xlsx workbook."""
    from .bank.yaml_format import read_bank_dir

    root = _standards_root(path)
    if path.suffix.lower() == ".xlsx":
        return [_read_xlsx(path, load_standards(root / "standards"))]
    dirs = _bank_dirs(path)
    if not dirs:
        raise click.UsageError(f"{path} 下没有 bank.yaml，也不是 .xlsx 工作簿")
    return [read_bank_dir(d, root)[0] for d in dirs]


@click.group()
def bank() -> None:
    """Validate, import and export question banks (YAML directories or .xlsx workbooks)."""


@bank.command("validate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def bank_validate(path: Path) -> None:
    """Check standards, schemes and banks under PATH without touching the database."""
    problems: list[str] = []
    root = _standards_root(path)
    try:
        standards = load_standards(root / "standards")
        click.echo(f"技能标准：{len(standards)} 个文件通过")
    except StandardError as exc:
        problems.append(str(exc))
    import yaml

    for scheme in sorted((root / "schemes").glob("*.yaml")):
        try:
            parse_scheme(safe_load(scheme.read_text(encoding="utf-8")), str(scheme))
            click.echo(f"考核方案：{scheme.name} 通过")
        except (SchemeError, yaml.YAMLError) as exc:
            problems.append(str(exc))
    try:
        for data in _read_any(path):
            click.echo(f"题库 {_summary(data)} 通过")
    except BankFormatError as exc:
        problems += [str(i) for i in exc.issues]
    if problems:
        _fail("\n".join(problems) + f"\n共 {len(problems)} 个问题。")


@bank.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--status",
    type=click.Choice(["file", "draft", "review", "approved"]),
    default="file",
    help="Status of imported versions; 'file' keeps what each item says (default approved).",
)
@with_appcontext
def bank_import(path: Path, status: str) -> None:
    """Import the bank(s) at PATH in one transaction: all of it or nothing."""
    from .bank.services import import_bank
    from .extensions import db

    try:
        banks = _read_any(path)
        reports = [import_bank(b, None, None if status == "file" else status) for b in banks]
        db.session.commit()
    except BankFormatError as exc:
        db.session.rollback()
        _fail("\n".join(str(i) for i in exc.issues) + "\n导入已取消，数据库未作任何修改。")
    except DomainError as exc:
        db.session.rollback()
        _fail(f"{exc.message}\n导入已取消，数据库未作任何修改。")
    for r in reports:
        click.echo(f"{r.bank.code}: 新增 {r.created}，更新 {r.updated}，未变 {r.unchanged}")


@bank.command("export")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "yaml"]), required=True)
@click.option("--bank", "code", help="Bank code, e.g. web-frontend-junior; default: every bank.")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def bank_export(fmt: str, code: str | None, path: Path) -> None:
    """Write banks to PATH: with --bank, PATH is the folder (yaml) or file (xlsx) of that bank;
    without it, every bank goes into the folder PATH as <code>/ or <code>.xlsx."""
    from .bank.models import QuestionBank
    from .extensions import db

    query = select(QuestionBank).order_by(QuestionBank.code)
    if code:
        query = query.where(QuestionBank.code == code)
    rows = list(db.session.scalars(query))
    if not rows:
        _fail(f"没有代码为“{code}”的题库" if code else "数据库中还没有题库")
    for row in rows:
        target = path if code else path / (row.code if fmt == "yaml" else f"{row.code}.xlsx")
        _export_one(row, fmt, target)


def _export_one(row: Any, fmt: str, path: Path) -> None:
    from .bank.services import export_bank
    from .bank.xlsx_format import write_workbook
    from .bank.yaml_format import write_bank_dir

    data = export_bank(row)
    if fmt == "yaml":
        write_bank_dir(data, path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(write_workbook(data))
        for item_id, files in data.files.items():
            for name, content in files.items():
                target = path.with_suffix(".files") / item_id / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
    click.echo(f"已导出 {_summary(data)} → {path}")


@click.group()
def catalog() -> None:
    """Load skill standards, exam schemes and eligibility rules."""


@catalog.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--org", "org_code", default="miit-eec", help="Organization that owns new certificates."
)
@with_appcontext
def catalog_load(path: Path | None, org_code: str) -> None:
    """Load every standard, scheme and eligibility rule file below PATH (default:
    question_banks/)."""
    from .demo import load_catalog
    from .extensions import db

    root = path or current_app.config["QUESTION_BANKS_DIR"]
    try:
        count = load_catalog(Path(root), {"*": org_code})
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.message)
    click.echo(f"已载入 {count} 个技能标准及其考核方案、报考条件")


@click.group()
def demo() -> None:
    """The demo data set."""


@demo.command("load")
@with_appcontext
def demo_load() -> None:
    """Load organizations, certificates, schemes, the sample banks and one user per role."""
    from .demo import load_demo

    for line in load_demo():
        click.echo(line)


@click.group()
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--org", "org_code", required=True, help="Organization code.")
@click.password_option()
@with_appcontext
def users_create(
    username: str, display_name: str, roles: tuple[str, ...], org_code: str, password: str
) -> None:
    """Create a staff user with the given roles."""
    from .auth.roles import Role
    from .auth.services import create_user
    from .catalog.models import Organization
    from .extensions import db

    org = db.session.scalar(select(Organization).where(Organization.code == org_code))
    if org is None:
        _fail(f"没有代码为“{org_code}”的机构")
    try:
        chosen = {Role(r) for r in roles}
    except ValueError:
        _fail(f"角色应为：{', '.join(Role)}")
    create_user(username, password, display_name, chosen, org.id)
    db.session.commit()
    click.echo(f"已创建用户 {username}")


def register_commands(app: Flask) -> None:
    """Attach the groups to the app, so ``examsvc`` and ``flask --app wsgi`` both have them."""
    from .assembly.commands import assemble_command
    from .certificates.commands import cert, keys
    from .grading.commands import grading

    for group in (bank, catalog, demo, users, keys, cert, grading):
        app.cli.add_command(group)
    app.cli.add_command(assemble_command, "assemble")


# ``cert verify`` works offline: on the command itself, FlaskGroup finds it without creating an
# app (no instance folder, no database); ``flask --app wsgi`` finds it through the app.
from .certificates.commands import cert as _cert  # noqa: E402

main.add_command(_cert)
