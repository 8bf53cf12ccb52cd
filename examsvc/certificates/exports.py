"""The issued certificates of a plan for the national platform, with their credit
recommendation (学分), as CSV and xlsx: plain rows in, bytes out (no Flask, no database).

As the plan exports (``plans.exports``): identifiers are text cells in xlsx (the X of an ID
number and leading zeros survive), CSV is UTF-8 with a BOM and a cell that a spreadsheet would
run as a formula gets a leading apostrophe. The platform's own import template is not public;
these columns are our statement of what it asks for, in this one list.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..plans.exports import FORMULA_START, ID_TYPE


@dataclass(frozen=True)
class IssuedRow:
    number: str
    name: str
    id_number: str
    certificate: str
    level: str  # 初级
    national_level: str  # 五级
    issued: date
    expires: date | None
    issuer: str
    batch: str
    credits: Decimal | None
    revoked: date | None = None
    reason: str = ""


def _day(day: date | None, empty: str = "") -> str:
    return day.isoformat() if day else empty


def _credits(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.1f}"


COLUMNS: list[tuple[str, Callable[[IssuedRow], str], float]] = [
    ("证书编号", lambda r: r.number, 26),
    ("姓名", lambda r: r.name, 12),
    ("证件类型", lambda r: ID_TYPE, 12),
    ("证件号码", lambda r: r.id_number, 22),
    ("证书名称", lambda r: r.certificate, 20),
    ("等级", lambda r: r.level, 8),
    ("国家职业技能等级", lambda r: r.national_level, 10),
    ("发证日期", lambda r: _day(r.issued), 12),
    ("有效期至", lambda r: _day(r.expires, "长期"), 12),
    ("发证机构", lambda r: r.issuer, 28),
    ("考核批次", lambda r: r.batch, 16),
    ("学分建议", lambda r: _credits(r.credits), 10),
    ("证书状态", lambda r: "已撤销" if r.revoked else "有效", 10),
    ("撤销日期", lambda r: _day(r.revoked), 12),
    ("撤销原因", lambda r: r.reason, 30),
]
CREDITS = "学分建议"


def _safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def national_csv(rows: Sequence[IssuedRow]) -> bytes:
    """The issued certificates as CSV (UTF-8 with BOM), one row per certificate."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([name for name, _, _ in COLUMNS])
    for row in rows:
        writer.writerow([_safe(get(row)) for _, get, _ in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def national_xlsx(rows: Sequence[IssuedRow]) -> bytes:
    """The issued certificates as xlsx: text cells, the credits a number with one decimal."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "证书信息"
    for column, (name, _, width) in enumerate(COLUMNS, 1):
        head = ws.cell(row=1, column=column, value=name)
        head.font, head.alignment = Font(bold=True), Alignment(horizontal="center")
        head.fill = PatternFill("solid", fgColor="EEEEEE")
        ws.column_dimensions[get_column_letter(column)].width = width
    for line, row in enumerate(rows, 2):
        for column, (name, get, _) in enumerate(COLUMNS, 1):
            cell = ws.cell(row=line, column=column)
            assert isinstance(cell, Cell)  # nothing is merged here
            if name == CREDITS and row.credits is not None:
                cell.value, cell.number_format = row.credits, "0.0"
            else:
                cell.value, cell.data_type, cell.number_format = get(row), "s", "@"
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
