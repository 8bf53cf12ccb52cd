"""YAML and Excel formats: round trips to equal items, and errors that name file, sheet, row, column."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from examsvc.bank.model import BankData, BankFormatError
from examsvc.bank.xlsx_format import THEORY_COLUMNS, read_workbook, write_workbook
from examsvc.bank.yaml_format import read_bank_dir, write_bank_dir
from examsvc.catalog.standards import Standard, load_standards
from examsvc.config import ROOT

BANKS = ROOT / "question_banks"


@pytest.fixture(scope="module")
def standards() -> dict[tuple[str, str], Standard]:
    return load_standards(BANKS / "standards")


@pytest.fixture(scope="module", params=["web-frontend-junior", "logistics-junior"])
def sample(request: pytest.FixtureRequest) -> BankData:
    bank, _ = read_bank_dir(BANKS / request.param, BANKS)
    return bank


def test_sample_banks_meet_the_issue_quota(sample: BankData) -> None:
    counts = {
        t: sum(1 for i in sample.items if i.type == t)
        for t in ("single", "multiple", "truefalse", "practical")
    }
    minimum = {
        "web-frontend-junior": {"single": 100, "multiple": 55, "truefalse": 25, "practical": 10},
        "logistics-junior": {"single": 70, "multiple": 35, "truefalse": 15, "practical": 6},
    }[sample.code]
    assert all(counts[t] >= n for t, n in minimum.items()), counts


def test_web_bank_covers_every_junior_skill(standards: dict[tuple[str, str], Standard]) -> None:
    bank, standard = read_bank_dir(BANKS / "web-frontend-junior", BANKS)
    assert standard is not None
    touched = {
        standard.lookup(c).skill or c for i in bank.items for c in i.skills if i.type != "practical"
    }  # type: ignore[union-attr]
    assert set(standard.skill_codes()) <= touched


def test_yaml_round_trip(sample: BankData, tmp_path: Path) -> None:
    shutil.copytree(BANKS / "standards", tmp_path / "standards")
    write_bank_dir(sample, tmp_path / "copy")
    again, _ = read_bank_dir(tmp_path / "copy", tmp_path)
    assert again.items == sample.items
    assert again.files == sample.files


def test_xlsx_round_trip(sample: BankData, standards: dict[tuple[str, str], Standard]) -> None:
    data = write_workbook(sample)
    files = sample.files
    again, _ = read_workbook(data, "bank.xlsx", standards, lambda i, n: files.get(i, {}).get(n))
    assert again.items == sample.items
    assert (again.code, again.certificate, again.level) == (
        sample.code,
        sample.certificate,
        sample.level,
    )


def _workbook(rows: list[list[object]], info: bool = True) -> bytes:
    """A workbook written by hand with openpyxl, the way an organization's staff would fill it."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "题库信息"
    if info:
        ws.append(["项目", "内容"])
        ws.append(["代码", "hand"])
        ws.append(["证书", "web-frontend"])
        ws.append(["等级", "junior"])
    theory = wb.create_sheet("理论题")
    theory.append(THEORY_COLUMNS)
    for row in rows:
        cells = dict(
            zip(
                [
                    "编号",
                    "题型",
                    "题干",
                    "选项A",
                    "选项B",
                    "选项C",
                    "选项D",
                    "答案",
                    "解析",
                    "难度",
                    "技能代码",
                ],
                row,
                strict=False,
            )
        )
        theory.append([cells.get(c) for c in THEORY_COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


GOOD = [
    "H-1",
    "单选",
    "哪个标签定义段落？",
    "<p>",
    "<br>",
    "<hr>",
    "<h1>",
    "A",
    "p 定义段落。",
    1,
    "1-1-1",
]


def test_hand_written_workbook_imports(standards: dict[tuple[str, str], Standard]) -> None:
    tf = [
        "H-2",
        "判断",
        "<br> 是空元素。",
        None,
        None,
        None,
        None,
        "√",
        "br 没有结束标签。",
        2,
        "1-1-1、1-2-2",
    ]
    multi = [
        "H-3",
        "多选",
        "哪些是块级元素？",
        "div",
        "span",
        "p",
        "a",
        "a,c",
        "div 和 p 是块级元素。",
        3,
        "1-1-1",
    ]
    bank, _ = read_workbook(_workbook([GOOD, tf, multi]), "hand.xlsx", standards)
    single, truefalse, multiple = bank.items
    assert (single.answer, truefalse.answer, multiple.answer) == ("A", "true", "AC")
    assert truefalse.skills == ("1-1-1", "1-2-2")


def test_every_bad_row_is_named_and_nothing_is_returned(
    standards: dict[tuple[str, str], Standard],
) -> None:
    rows = [
        GOOD,
        ["H-2", "单选", "下列哪个正确？", "a", "b", None, None, "C", "解析", 2, "1-1-1"],
        ["H-3", "多选", "哪些正确？", "a", "b", "c", None, "A", "解析", 2, "1-1-1"],
        ["H-4", "判断", "对吗？", "a", None, None, None, "对", "解析", 2, "1-1-1"],
        ["H-5", "单选", "未知技能？", "a", "b", None, None, "A", "解析", 2, "7-7-7"],
        ["H-6", "问答", "题型错误", None, None, None, None, "A", "解析", 2, "1-1-1"],
        ["H-7", "单选", "难度错误", "a", "b", None, None, "A", "解析", "很难", "1-1-1"],
    ]
    with pytest.raises(BankFormatError) as caught:
        read_workbook(_workbook(rows), "hand.xlsx", standards)
    text = [str(i) for i in caught.value.issues]
    assert any(
        t.startswith("hand.xlsx，工作表“理论题”，第 3 行：答案中的 C 不是已有选项（AB）")
        for t in text
    ), text
    assert any("第 4 行：多选题答案“A”至少需要两个正确选项" in t for t in text)
    assert any("第 5 行：判断题不能有选项" in t for t in text)
    assert any("第 6 行：技能代码 7-7-7 不在" in t for t in text)
    assert any("第 7 行：题型“问答”无效，应为 单选、多选 或 判断" in t for t in text)
    assert any("第 8 行：“难度”应为整数，实际是“很难”" in t for t in text)


def test_not_a_workbook_and_missing_columns(standards: dict[tuple[str, str], Standard]) -> None:
    with pytest.raises(BankFormatError, match=r"不是有效的 \.xlsx 工作簿"):
        read_workbook(b"PK\x03\x04 not really", "x.xlsx", standards)
    wb = load_workbook(io.BytesIO(_workbook([GOOD])))
    wb["理论题"].delete_cols(THEORY_COLUMNS.index("答案") + 1)
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(BankFormatError, match=r"工作表“理论题”，第 1 行：缺少列 答案"):
        read_workbook(out.getvalue(), "x.xlsx", standards)


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    shutil.copytree(BANKS / "standards", tmp_path / "standards")
    bank = tmp_path / "b"
    (bank / "theory").mkdir(parents=True)
    (bank / "bank.yaml").write_text(
        "code: b\ncertificate: web-frontend\nlevel: junior\nstandard: standards/web-frontend/junior.yaml\n"
    )
    (bank / "theory" / "a.yaml").write_text("- id: X\n  stem: [unclosed\n")
    with pytest.raises(BankFormatError) as caught:
        read_bank_dir(bank, tmp_path)
    (issue,) = caught.value.issues
    assert str(issue).startswith(f"{bank / 'theory' / 'a.yaml'}：不是有效的 UTF-8 YAML")
