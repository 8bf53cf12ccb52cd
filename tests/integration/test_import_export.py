"""Import and export through the CLI against a real database: all or nothing, round trips."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import func, select

from examsvc.bank.models import Item, ItemVersion, QuestionBank
from examsvc.bank.services import export_bank
from examsvc.bank.yaml_format import read_bank_dir
from examsvc.config import ROOT
from examsvc.extensions import db

BANKS = ROOT / "question_banks"


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app.cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Item)) or 0,
        db.session.scalar(select(func.count()).select_from(ItemVersion)) or 0,
    )


def test_import_then_export_yaml_and_xlsx_round_trip(
    app: Flask, catalog: object, tmp_path: Path
) -> None:
    code, out = run(app, "bank", "import", str(BANKS / "web-frontend-junior"))
    assert code == 0, out
    original, _ = read_bank_dir(BANKS / "web-frontend-junior", BANKS)
    assert f"新增 {len(original.items)}" in out
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.code == "web-frontend-junior"))
    assert bank is not None
    assert export_bank(bank).items == original.items

    # yaml export → import: nothing changes
    code, out = run(
        app, "bank", "export", "--format", "yaml", "--bank", bank.code, str(tmp_path / "y")
    )
    assert code == 0, out
    before = counts()
    code, out = run(app, "bank", "import", str(tmp_path / "y"))
    assert code == 0 and f"未变 {len(original.items)}" in out, out
    assert counts() == before

    # xlsx export (materials beside it) → import: nothing changes
    xlsx = tmp_path / "bank.xlsx"
    code, out = run(app, "bank", "export", "--format", "xlsx", "--bank", bank.code, str(xlsx))
    assert code == 0, out
    assert load_workbook(xlsx).sheetnames == ["题库信息", "理论题", "实操题", "评分细则"]
    code, out = run(app, "bank", "import", str(xlsx))
    assert code == 0 and f"未变 {len(original.items)}" in out, out
    assert counts() == before


def test_export_without_a_bank_writes_every_bank(
    app: Flask, catalog: object, tmp_path: Path
) -> None:
    assert run(app, "bank", "import", str(BANKS))[0] == 0
    code, out = run(app, "bank", "export", "--format", "xlsx", str(tmp_path / "all"))
    assert code == 0, out
    assert sorted(p.name for p in (tmp_path / "all").glob("*.xlsx")) == [
        "logistics-junior.xlsx",
        "web-frontend-junior.xlsx",
    ]
    assert (tmp_path / "all" / "web-frontend-junior.files" / "WFJ-P-07" / "jquery.min.js").is_file()


def test_one_bad_item_imports_nothing(app: Flask, catalog: object, tmp_path: Path) -> None:
    copy = tmp_path / "banks"
    shutil.copytree(BANKS / "standards", copy / "standards")
    shutil.copytree(BANKS / "logistics-junior", copy / "logistics-junior")
    theory = sorted((copy / "logistics-junior" / "theory").glob("*.yaml"))[0]
    text = theory.read_text(encoding="utf-8")
    theory.write_text(text.replace("answer: ", "answer: Z", 1), encoding="utf-8")
    code, out = run(app, "bank", "import", str(copy / "logistics-junior"))
    assert code == 1
    assert str(theory) in out and "不是已有选项" in out and "数据库未作任何修改" in out
    assert counts() == (0, 0)


def test_validate_reports_and_exits_non_zero(app: Flask, tmp_path: Path) -> None:
    code, out = run(app, "bank", "validate", str(BANKS))
    assert code == 0, out
    assert "技能标准：6 个文件通过" in out and "web-frontend-junior" in out

    copy = tmp_path / "banks"
    shutil.copytree(BANKS / "standards", copy / "standards")
    shutil.copytree(BANKS / "web-frontend-junior", copy / "web-frontend-junior")
    practical = sorted((copy / "web-frontend-junior" / "practical").glob("*/item.yaml"))[0]
    practical.write_text(
        practical.read_text(encoding="utf-8").replace("points: ", "points: 1", 1), encoding="utf-8"
    )
    code, out = run(app, "bank", "validate", str(copy))
    assert code == 1
    assert str(practical) in out and "评分细则各项分值合计" in out
