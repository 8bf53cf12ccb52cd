"""The national-platform export of issued certificates: every identifier kept exactly, the
credit recommendation a number in xlsx, formulas defused in CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from examsvc.certificates.exports import COLUMNS, IssuedRow, national_csv, national_xlsx

ROW = IssuedRow(
    number="S000132000001255000001",
    name="欧阳明轩",
    id_number="11010519491231002X",
    certificate="Web 前端开发",
    level="初级",
    national_level="五级",
    issued=date(2025, 6, 30),
    expires=None,
    issuer="工业和信息化部教育与考试中心",
    batch="2025 年第一批",
    credits=Decimal("4.5"),
)
REVOKED = IssuedRow(
    number="S000132000001255000002",
    name='=HYPERLINK("x")',
    id_number="320102200601011234",
    certificate="Web 前端开发",
    level="初级",
    national_level="五级",
    issued=date(2025, 6, 30),
    expires=date(2028, 6, 29),
    issuer="工业和信息化部教育与考试中心",
    batch="2025 年第一批",
    credits=None,
    revoked=date(2025, 7, 2),
    reason="信息有误",
)


def test_csv_keeps_every_value_and_defuses_formulas() -> None:
    data = national_csv([ROW, REVOKED])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [name for name, _, _ in COLUMNS]
    first, second = (dict(zip(rows[0], r, strict=True)) for r in rows[1:])
    assert first["证件号码"] == "11010519491231002X" and first["证件类型"] == "居民身份证"
    assert (
        first["学分建议"] == "4.5" and first["有效期至"] == "长期" and first["证书状态"] == "有效"
    )
    assert first["发证日期"] == "2025-06-30" and first["国家职业技能等级"] == "五级"
    assert second["姓名"] == '\'=HYPERLINK("x")' and second["学分建议"] == ""
    assert second["证书状态"] == "已撤销" and second["撤销日期"] == "2025-07-02"
    assert second["撤销原因"] == "信息有误" and second["有效期至"] == "2028-06-29"


def test_xlsx_has_text_identifiers_and_numeric_credits() -> None:
    sheet = load_workbook(io.BytesIO(national_xlsx([ROW, REVOKED]))).active
    assert sheet is not None and sheet.title == "证书信息"
    header = [c.value for c in sheet[1]]
    first = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert first["证件号码"].value == "11010519491231002X" and first["证件号码"].data_type == "s"
    assert first["证书编号"].value == ROW.number
    assert first["学分建议"].value == 4.5 and first["学分建议"].number_format == "0.0"
    second = {h: c for h, c in zip(header, sheet[3], strict=True)}
    assert second["姓名"].value == '=HYPERLINK("x")' and second["姓名"].data_type == "s"
    assert second["学分建议"].value in ("", None)
