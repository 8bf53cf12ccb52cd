"""The roster workbook: the template round-trips, every bad cell is named, bad files are refused."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.cell import range_boundaries

from examsvc.config import ROOT
from examsvc.registration.eligibility import evaluate, load_rules
from examsvc.registration.identity import iso7064_mod11_2
from examsvc.registration.roster_format import (
    GUIDE,
    HEADERS,
    SHEET,
    RosterRow,
    parse_roster,
    roster_template,
)

TODAY = date(2026, 1, 1)
FEMALE = "11010519491231002X"
MALE = "11010520050312001" + iso7064_mod11_2("11010520050312001")
OTHER_FEMALE = "11010520050312002" + iso7064_mod11_2("11010520050312002")
GOOD: dict[str, object] = {
    "姓名": "王芳",
    "身份证号": FEMALE,
    "性别": "女",
    "院校": "某某职业技术学院",
    "专业": "现代物流管理",
    "班级": "物流 2301 班",
    "手机": "13800138000",
    "建档立卡": "否",
    "报考等级": "中级",
    "已持证书": "",
    "相关工作年限": "0",
    "学历": "高职",
    "本级培训合格": "否",
    "应届毕业": "是",
}


def _workbook(
    header: Sequence[object], rows: Sequence[Sequence[object]], title: str = SHEET
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    for values in (header, *rows):
        ws.append(list(values))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _book(
    rows: list[dict[str, object]], headers: tuple[str, ...] = HEADERS, title: str = SHEET
) -> bytes:
    return _workbook(headers, [[row.get(h) for h in headers] for row in rows], title)


def _fill_template(rows: list[list[Any] | None]) -> bytes:
    """The downloaded template filled in as a user would: cell by cell from row 2."""
    wb = load_workbook(io.BytesIO(roster_template()))
    ws = wb[SHEET]
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values or [], start=1):
            ws.cell(row=r, column=c, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _parse(data: bytes) -> tuple[list[RosterRow], list[str]]:
    parsed = parse_roster(data, today=TODAY)
    return parsed.rows, [e.message for e in parsed.errors]


def test_template_layout_drop_downs_and_text_id_column() -> None:
    wb = load_workbook(io.BytesIO(roster_template()))
    assert wb.sheetnames == [SHEET, GUIDE]
    ws = wb[SHEET]
    assert [c.value for c in ws[1]] == list(HEADERS)
    assert ws.max_row == 1  # nothing to delete before filling in
    assert ws.column_dimensions["B"].number_format == "@"  # 身份证号 stays text in Excel
    lists = {
        HEADERS[(range_boundaries(str(v.sqref))[0] or 0) - 1]: v.formula1
        for v in ws.data_validations.dataValidation
    }
    assert lists == {
        "性别": '"男,女"',
        "建档立卡": '"是,否"',
        "报考等级": '"初级,中级,高级"',
        "学历": '"初中,中职,高中,高职,大专,本科,硕士,博士"',
        "本级培训合格": '"是,否"',
        "应届毕业": '"是,否"',
    }
    guide = list(wb[GUIDE].iter_rows(values_only=True))
    assert guide[0] == ("列名", "必填", "填写说明", "示例")
    assert [r[0] for r in guide[1 : len(HEADERS) + 1]] == list(HEADERS)
    assert all(r[2] for r in guide[1 : len(HEADERS) + 1])  # every column is explained


def test_the_guides_example_row_is_a_valid_registration() -> None:
    wb = load_workbook(io.BytesIO(roster_template()))
    example: list[Any] = [
        r[3] for r in wb[GUIDE].iter_rows(min_row=2, max_row=len(HEADERS) + 1, values_only=True)
    ]
    rows, errors = _parse(_fill_template([example]))
    assert errors == []
    (row,) = rows
    assert (row.id_number, row.gender, row.level, row.certificates) == (
        FEMALE,
        "女",
        "中级",
        ("物流管理 初级",),
    )
    rules = load_rules(ROOT / "question_banks" / "eligibility" / "logistics.yaml")
    assert (
        evaluate(rules, row.level, row.applicant()).route
        == "高职物流类专业毕业生（含在校应届毕业生）"
    )


def test_filled_template_round_trips_typed_values() -> None:
    rows, errors = _parse(
        _fill_template(
            [
                ["王芳", f" {FEMALE.lower()} ", "", "A 学院", "物流服务与管理", "1 班", 13800138000,
                 "Y", "初级", "物流管理 初级、Web 前端开发（初级）,  1+X 证书；；", 1.5, "中职", "yes", "N"],
                None,  # a blank row is skipped
                ["李强", MALE, "男", "B 学院", "会计", "", "", "", "中级", "", "3 年", "大专", 1, 0],
                ["赵敏", MALE, "男", "", "", "", "138-0013-8001", "是", "高级", "",
                 2, "本科", True, False],
            ]
        )
    )  # fmt: skip
    assert errors == ["第 5 行「身份证号」：与第 4 行的身份证号重复：同一考生只能填写一行"]
    first, second = rows
    assert first == RosterRow(
        row=2,
        name="王芳",
        id_number=FEMALE,
        gender="女",
        institution="A 学院",
        major="物流服务与管理",
        class_name="1 班",
        phone="13800138000",
        poor_family=True,
        level="初级",
        certificates=("物流管理 初级", "Web 前端开发（初级）", "1+X 证书"),
        years_in_trade=Decimal("1.5"),
        education="中职",
        trained=True,
        graduating=False,
    )
    assert (second.row, second.years_in_trade, second.phone, second.poor_family) == (
        4,
        Decimal(3),
        "",
        False,
    )
    assert (second.trained, second.graduating, second.certificates) == (True, False, ())


def test_headers_in_any_order_with_hints_and_extra_columns() -> None:
    headers = tuple(reversed(HEADERS))
    shown = [f"{h}（是/否）" if h in ("建档立卡", "应届毕业") else h for h in headers]
    shown[headers.index("姓名")] = " 姓名* "
    data = _workbook(["备注", *shown], [["随便写", *(GOOD[h] for h in headers)]])
    rows, errors = _parse(data)
    assert errors == []
    assert rows[0].graduating is True and rows[0].name == "王芳"


def test_a_sheet_with_another_name_is_read() -> None:
    rows, errors = _parse(_book([GOOD], title="Sheet1"))
    assert (len(rows), errors) == (1, [])


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("姓名", " ", "姓名不能为空"),
        ("身份证号", "110105194912310023", "校验码应为 X，现为 3：请核对号码是否抄错"),
        ("身份证号", "", "身份证号为空：请填写 18 位身份证号"),
        ("身份证号", "11010519491231002", "身份证号应为 18 位，现为 17 位"),
        ("身份证号", 110105194912310021, "身份证号被 Excel 存成了数字，末位可能已丢失：请把该列设为文本后重新填写"),
        ("身份证号", 1.10105194912310e17, "身份证号被 Excel 存成了数字，末位可能已丢失：请把该列设为文本后重新填写"),
        ("性别", "M", "应为 男 或 女，现为「M」"),
        ("性别", "男", "性别 男 与身份证号不符（第 17 位为偶数，应为 女）：请核对性别或身份证号"),
        ("手机", "1380013800", "手机号应为以 1 开头的 11 位数字，现为「1380013800」"),
        ("手机", 23800138000, "手机号应为以 1 开头的 11 位数字，现为「23800138000」"),
        ("建档立卡", "不是", "应填 是 或 否（也可写 Y/N、yes/no、1/0），现为「不是」"),
        ("报考等级", "", "应为 初级、中级、高级 之一，不能为空"),
        ("报考等级", "四级", "应为 初级、中级、高级 之一，现为「四级」"),
        ("相关工作年限", "三年", "应为不小于 0 的数字（如 0、1.5），现为「三年」"),
        ("相关工作年限", -1, "应为不小于 0 的数字（如 0、1.5），现为「-1」"),
        ("学历", "大学", "应为 初中、中职、高中、高职、大专、本科、硕士、博士 之一，现为「大学」"),
        ("学历", None, "应为 初中、中职、高中、高职、大专、本科、硕士、博士 之一，不能为空"),
        ("本级培训合格", 2, "应填 是 或 否（也可写 Y/N、yes/no、1/0），现为「2」"),
        ("应届毕业", "maybe", "应填 是 或 否（也可写 Y/N、yes/no、1/0），现为「maybe」"),
    ],
)  # fmt: skip
def test_each_bad_cell_is_named_and_its_row_left_out(
    column: str, value: object, problem: str
) -> None:
    bad = {**GOOD, "身份证号": OTHER_FEMALE, column: value}
    parsed = parse_roster(_book([GOOD, bad]), today=TODAY)
    assert [r.row for r in parsed.rows] == [2]
    assert [(e.row, e.column, e.problem) for e in parsed.errors] == [(3, column, problem)]
    assert parsed.errors[0].message == f"第 3 行「{column}」：{problem}"


def test_an_error_keeps_the_cell_as_shown() -> None:
    bad = {**GOOD, "身份证号": 110105194912310021, "学历": " 大学 "}
    errors = parse_roster(_book([bad]), today=TODAY).errors
    # Read back, the number has already lost its last digits: the reason for the message.
    assert [(e.column, e.value) for e in errors] == [
        ("身份证号", "110105194912310000"),
        ("学历", "大学"),
    ]


def test_the_example_message_of_the_brief() -> None:
    data = _book([GOOD, GOOD, GOOD, {**GOOD, "身份证号": "110105194912310023"}])
    errors = parse_roster(data, today=TODAY).errors
    assert [e.message for e in errors][
        -1
    ] == "第 5 行「身份证号」：校验码应为 X，现为 3：请核对号码是否抄错"


def test_every_bad_cell_of_a_row_is_reported_and_good_rows_still_parse() -> None:
    bad = {**GOOD, "姓名": "", "身份证号": "99010519491231002X", "学历": "大学", "手机": "x"}
    rows, errors = _parse(_book([bad, {**GOOD, "身份证号": MALE, "性别": "男"}]))
    assert [r.row for r in rows] == [3]
    assert errors == [
        "第 2 行「姓名」：姓名不能为空",
        "第 2 行「身份证号」：前两位 99 不是有效的省级行政区代码（应为 11–15、21–23、31–37、41–46、"
        "50–54、61–65、71、81、82）：请核对",
        "第 2 行「手机」：手机号应为以 1 开头的 11 位数字，现为「x」",
        "第 2 行「学历」：应为 初中、中职、高中、高职、大专、本科、硕士、博士 之一，现为「大学」",
    ]


def test_duplicate_id_numbers_refer_to_the_first_row() -> None:
    rows, errors = _parse(
        _book([GOOD, {**GOOD, "姓名": "王芳芳"}, {**GOOD, "身份证号": FEMALE.lower()}])
    )
    assert [r.row for r in rows] == [2]
    assert errors == [
        "第 3 行「身份证号」：与第 2 行的身份证号重复：同一考生只能填写一行",
        "第 4 行「身份证号」：与第 2 行的身份证号重复：同一考生只能填写一行",
    ]


def test_missing_columns_are_named_with_the_expected_header() -> None:
    headers = tuple(h for h in HEADERS if h not in ("学历", "建档立卡"))
    rows, errors = _parse(_book([GOOD], headers))
    assert rows == []
    assert errors == [
        "第 1 行：缺少列 建档立卡、学历：第 1 行表头应为 "
        + "、".join(HEADERS)
        + "（请使用下载的报名表模板）"
    ]


def test_an_empty_roster_says_so() -> None:
    assert _parse(roster_template()) == ([], ["报名表中没有考生：请从第 2 行起每行填写一名考生"])


def _zip_without_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "problem"),
    [
        ("姓名,身份证号\n".encode(), "名单.csv", "「名单.csv」不是 Excel 工作簿（.xlsx）：请下载报名表模板，填写后保存为 .xlsx 再上传"),
        (b"", "报名表.xlsx", "「报名表.xlsx」不是 Excel 工作簿（.xlsx）：请下载报名表模板，填写后保存为 .xlsx 再上传"),
        (_zip_without_workbook(), "a.xlsx", "「a.xlsx」不是 Excel 工作簿（.xlsx）：请下载报名表模板，填写后保存为 .xlsx 再上传"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "旧表.xls", "「旧表.xls」是旧版 .xls 格式或设置了打开密码：请在 Excel 中“另存为”不加密的 Excel 工作簿（.xlsx）后再上传"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_an_xlsx_gives_one_clear_error(
    data: bytes, filename: str, problem: str
) -> None:
    parsed = parse_roster(data, filename)
    assert (parsed.rows, parsed.ok) == ([], False)
    assert [e.message for e in parsed.errors] == [problem]
    assert str(parsed.errors[0]) == problem
