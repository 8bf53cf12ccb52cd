"""Plan exports: sign-in sheets hold every name, identifiers stay text, CSV is safe for Excel."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from examsvc.plans.exports import (
    PLATFORM_COLUMNS,
    CandidateRow,
    RoomSheet,
    SignInRow,
    candidate_list_csv,
    candidate_list_xlsx,
    platform_export_csv,
    platform_export_xlsx,
    seat_plan_xlsx,
    sign_in_sheet_pdf,
    sign_in_sheet_xlsx,
)

NAMES = ("欧阳明轩", "王芳", "阿卜杜热合曼·买买提艾力", "李四", "张三丰")
LEADING_ZERO_ID = "010105200001010011"
X_ID = "11010519491231002X"
LONG_INSTITUTION = (
    "新疆维吾尔自治区伊犁哈萨克自治州奎屯市天北新区职业技术教育与继续教育联合培训学院附属中专"
)


def sign_in_rows(count: int) -> tuple[SignInRow, ...]:
    return tuple(
        SignInRow(
            seat=f"{n:02d}",
            ticket_number=f"0500010001{n:04d}",
            name=f"{NAMES[n % len(NAMES)]}{n}",
            id_number=LEADING_ZERO_ID if n % 2 else X_ID,
            institution="北京信息职业技术学院" if n % 3 else LONG_INSTITUTION,
        )
        for n in range(1, count + 1)
    )


def sheets() -> list[RoomSheet]:
    plan, session, site = "Web前端开发（初级）2025年第一批", "理论考试 6月14日 09:00", "北信考点"
    return [
        RoomSheet(plan, session, site, "第01考场", sign_in_rows(30)),
        RoomSheet(plan, session, site, "第02考场", sign_in_rows(4)),
    ]


def candidate(**changes: object) -> CandidateRow:
    values: dict[str, object] = {
        "ticket_number": "05000100010001",
        "name": "欧阳明轩",
        "id_number": LEADING_ZERO_ID,
        "gender": "男",
        "institution": "北京信息职业技术学院",
        "major": "软件技术",
        "class_name": "软件2301",
        "phone": "13800138000",
        "certificate": "Web前端开发",
        "level": "初级",
        "batch": "2025年第一批",
        "site": "北信考点",
        "room": "第01考场",
        "seat": "01",
        "fee": Decimal("150.00"),
        "exempt": False,
    }
    values.update(changes)
    return CandidateRow(**values)  # type: ignore[arg-type]


def candidates() -> list[CandidateRow]:
    return [
        candidate(),
        candidate(
            ticket_number="05000100010002",
            name="=cmd()",
            id_number=X_ID,
            institution="+1 学院",
            phone="@SUM(A1)",
            seat="02",
            fee=Decimal(0),
            exempt=True,
        ),
    ]


def test_sign_in_pdf_lists_every_candidate_with_pages_per_room(font: Path) -> None:
    data = sheets()
    reader = PdfReader(io.BytesIO(sign_in_sheet_pdf(data, font)))
    texts = [page.extract_text() for page in reader.pages]
    assert len(texts) == 3  # 30 rows over two pages, 4 rows on one
    everything = "".join("".join(texts).split())  # a long name wraps inside its cell
    for sheet in data:
        for row in sheet.rows:
            assert row.name in everything
            assert row.ticket_number in everything
    assert "第 1/2 页" in texts[0] and "第 2/2 页" in texts[1] and "第 1/1 页" in texts[2]
    assert all("监考员签名" in text for text in texts)
    assert all(
        word in texts[0] for word in ("座位号", "准考证号", "姓名", "身份证号", "院校", "签名")
    )
    assert "第01考场" in texts[0] and "第02考场" in texts[2]
    assert "应到 30 人" in texts[1] and "应到 4 人" in texts[2]


def test_sign_in_xlsx_has_a_sheet_per_room_and_identifiers_as_text() -> None:
    data = sheets()
    data.append(RoomSheet("计划", "实操", "考点", "第01考场", sign_in_rows(1)))  # same room again
    data.append(RoomSheet("计划", "实操", "考点", "机房[A]/2:3*?", ()))
    wb = load_workbook(io.BytesIO(sign_in_sheet_xlsx(data)))
    assert wb.sheetnames == ["第01考场", "第02考场", "第01考场 (2)", "机房_A__2_3__"]
    ws = wb["第02考场"]
    header = [c.value for c in ws[4]]
    assert header == ["座位号", "准考证号", "姓名", "身份证号", "院校", "签名"]
    first, second = ws[5], ws[6]
    assert first[0].value == "01" and first[1].value == "05000100010001"
    assert first[3].value == LEADING_ZERO_ID and second[3].value == X_ID
    assert all(c.data_type == "s" for c in first[:5])
    assert first[5].value is None  # the signature column is empty
    assert "第02考场" in str(ws["A3"].value)


def test_seat_plan_puts_seat_1_front_left_under_the_desk() -> None:
    data = seat_plan_xlsx("第01考场", 5, 6, {1: "欧阳明轩", 8: "王芳"}, spare={30}, blocked={29})
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    cells = {
        c.value: (c.row, c.column) for row in ws.iter_rows() for c in row if c.value is not None
    }
    desk_row, desk_column = cells["讲台"]
    one_row, one_column = cells["01\n欧阳明轩"]
    grid = [
        (c.row, c.column)
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value[:2].isdigit()
    ]
    assert len(grid) == 30
    assert one_row == min(r for r, _ in grid) > desk_row  # the front row, below the desk
    assert one_column == min(col for _, col in grid) == desk_column  # the left column
    assert cells["06"] == (one_row, one_column + 5)  # row by row: seat 6 front-right
    assert cells["08\n王芳"] == (one_row + 1, one_column + 1)
    assert cells["29\n停用"] == (one_row + 4, one_column + 4)
    assert cells["30\n备用"] == (one_row + 4, one_column + 5)


def test_seat_plan_refuses_seats_outside_the_room() -> None:
    with pytest.raises(ValueError, match="31"):
        seat_plan_xlsx("第01考场", 5, 6, {31: "王芳"}, spare=(), blocked=())


def test_candidate_list_xlsx_keeps_identifiers_as_text_and_fees_as_numbers() -> None:
    ws = load_workbook(io.BytesIO(candidate_list_xlsx(candidates()))).active
    assert ws is not None
    header = [c.value for c in ws[1]]
    assert header[:4] == ["序号", "准考证号", "姓名", "身份证号"]
    first, second = ({h: c for h, c in zip(header, row, strict=True)} for row in ws.iter_rows(2))
    assert first["身份证号"].value == LEADING_ZERO_ID
    assert second["身份证号"].value == X_ID
    assert first["准考证号"].value == "05000100010001"
    assert first["手机号"].data_type == "s"
    assert second["姓名"].value == "=cmd()" and second["姓名"].data_type == "s"  # no formula
    assert first["考试费（元）"].value == 150 and second["考试费（元）"].value == 0
    assert first["免缴"].value == "否" and second["免缴"].value == "是"


def test_csv_has_a_bom_and_neutralizes_formulas() -> None:
    data = candidate_list_csv(candidates())
    assert data.startswith(b"\xef\xbb\xbf")
    header, first, second = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    row = dict(zip(header, second, strict=True))
    assert row["姓名"] == "'=cmd()"
    assert row["院校"] == "'+1 学院"
    assert row["手机号"] == "'@SUM(A1)"
    assert row["身份证号"] == X_ID
    assert dict(zip(header, first, strict=True))["身份证号"] == LEADING_ZERO_ID
    assert row["考试费（元）"] == "0.00" and row["免缴"] == "是"


def test_platform_export_uses_the_column_list_and_the_id_type() -> None:
    expected = [
        "证书名称", "等级", "考核批次", "姓名", "证件类型", "证件号码",
        "性别", "院校名称", "专业", "考点名称", "准考证号", "是否建档立卡",
    ]  # fmt: skip
    assert [name for name, _ in PLATFORM_COLUMNS] == expected
    data = platform_export_csv(candidates())
    assert data.startswith(b"\xef\xbb\xbf")
    header, first, second = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    assert header == expected
    row = dict(zip(header, first, strict=True))
    assert row["证件类型"] == "居民身份证" and row["证件号码"] == LEADING_ZERO_ID
    assert row["是否建档立卡"] == "否"
    assert dict(zip(header, second, strict=True))["姓名"] == "'=cmd()"

    ws = load_workbook(io.BytesIO(platform_export_xlsx(candidates()))).active
    assert ws is not None
    assert [c.value for c in ws[1]] == expected
    values = [c.value for c in ws[3]]
    assert values[5] == X_ID and values[3] == "=cmd()" and values[11] == "是"
    assert all(c.data_type == "s" for c in ws[2])
