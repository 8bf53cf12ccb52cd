"""Item rules: each kind of bad item gets a message that says what is expected."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from examsvc.bank.model import (
    AnswerForm,
    BankData,
    Criterion,
    ItemData,
    Location,
    validate_bank,
    validate_item,
)
from examsvc.catalog.standards import Standard, load_standards
from examsvc.config import ROOT


@pytest.fixture(scope="module")
def web() -> Standard:
    return load_standards(ROOT / "question_banks" / "standards")[("web-frontend", "junior")]


SINGLE = ItemData(
    id="T-1",
    type="single",
    stem="哪个标签定义一级标题？",
    explanation="h1 级别最高。",
    difficulty=2,
    skills=("1-1-1",),
    options=(("A", "<p>"), ("B", "<h1>"), ("C", "<h6>"), ("D", "<head>")),
    answer="B",
)
PRACTICAL = ItemData(
    id="T-P",
    type="practical",
    title="新闻页",
    task_kind="web_page",
    stem="制作页面。",
    explanation="参考答案……",
    difficulty=3,
    skills=("1-1-1",),
    answer_form=AnswerForm("html", False, ()),
    points=Decimal(20),
    rubric=(Criterion("结构", Decimal(12), "…"), Criterion("样式", Decimal(8), "…")),
)
HERE = Location("bank/theory/x.yaml")


def problems(item: ItemData, web: Standard) -> list[str]:
    return validate_item(item, web, HERE)


def test_valid_items_pass(web: Standard) -> None:
    assert problems(SINGLE, web) == []
    assert problems(PRACTICAL, web) == []
    tf = replace(SINGLE, type="truefalse", options=(), answer="false")
    assert problems(tf, web) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"answer": "E"}, "答案中的 E 不是已有选项（ABCD）"),
        ({"answer": "AB"}, "单选题答案“AB”必须恰好是一个选项字母"),
        ({"type": "multiple", "answer": "B"}, "多选题答案“B”至少需要两个正确选项"),
        ({"type": "multiple", "answer": "BB"}, "答案“BB”中有重复的选项"),
        ({"type": "truefalse", "answer": "true"}, "判断题不能有选项"),
        ({"options": (("A", "x"),)}, "选项数量 1 无效，应为 2 到 8 个"),
        ({"options": (("A", "x"), ("C", "y"))}, "选项必须从 A 开始连续编号，中间不能空缺"),
        ({"difficulty": 6}, "难度 6 无效，应为 1 到 5 的整数"),
        ({"explanation": " "}, "解析不能为空：请说明正确答案的理由"),
        ({"skills": ()}, "至少需要一个技能代码（如 1-1-1）"),
        ({"id": "bad id"}, "编号“bad id”无效"),
        ({"type": "essay"}, "题型“essay”无效"),
    ],
)
def test_bad_choice_items_say_what_is_expected(
    web: Standard, change: dict[str, object], expected: str
) -> None:
    found = problems(replace(SINGLE, **change), web)  # type: ignore[arg-type]
    assert any(expected in p for p in found), found


def test_unknown_skill_code_names_the_standard_and_an_example(web: Standard) -> None:
    (message,) = problems(replace(SINGLE, skills=("9-9-9",)), web)
    assert message.startswith("技能代码 9-9-9 不在《Web 前端开发（初级）》标准中")
    assert "例如 1-1-1" in message


def test_rubric_points_must_add_up(web: Standard) -> None:
    bad = replace(PRACTICAL, points=Decimal(25))
    assert problems(bad, web) == ["评分细则各项分值合计 20，与本题分值 25 不一致"]
    assert "实操题需要评分细则（至少一个评分项）" in problems(replace(PRACTICAL, rubric=()), web)


def test_practical_needs_an_answer_form(web: Standard) -> None:
    none = replace(PRACTICAL, answer_form=AnswerForm("none", False, ()))
    assert problems(none, web) == ["作答方式至少需要编辑器或文件上传之一"]
    bad_types = replace(PRACTICAL, answer_form=AnswerForm("html", True, ("zip",)))
    assert problems(bad_types, web) == ["上传类型应写成扩展名，如 .zip、.xlsx"]


def test_bank_rules_duplicates_and_missing_files(web: Standard) -> None:
    twin = replace(SINGLE, id="T-2", stem="  哪个标签定义一级标题？ ")
    with_file = replace(PRACTICAL, materials=("start.html", "../etc/passwd"))
    bank = BankData("b", "B", "web-frontend", "junior", items=[SINGLE, twin, SINGLE, with_file])
    places = {"T-2": Location("f.xlsx", "理论题", 3)}
    found = [str(i) for i in validate_bank(bank, web, places)]
    assert "f.xlsx，工作表“理论题”，第 3 行：题干与 T-1 重复" in found
    assert any("编号“T-1”重复" in f for f in found)
    assert any("找不到附件“start.html”" in f for f in found)
    assert any("附件名“../etc/passwd”无效" in f for f in found)
