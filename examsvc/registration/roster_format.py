"""The Excel roster (报名表) an institution fills in to register its candidates.

``roster_template()`` gives the workbook to download: sheet 报名表 with the header row, drop-down
lists and the ID column formatted as text, and sheet 填写说明 explaining each column with an
example. ``parse_roster()`` reads a filled-in roster back into typed rows and a list of errors,
each naming the row and column, so the institution can fix every problem in one go.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from ..catalog.standards import LEVELS
from .eligibility import EDUCATION, Applicant
from .identity import IdNumber, IdNumberError, parse_id_number

SHEET = "报名表"
GUIDE = "填写说明"
YES_NO = ("是", "否")
GENDERS = ("男", "女")
LEVEL_NAMES = tuple(LEVELS.values())  # 初级, 中级, 高级
YES_WORDS = {"是", "Y", "YES", "1"}
NO_WORDS = {"否", "N", "NO", "0"}
CERTIFICATE_SPLIT = re.compile(r"[、,，;；]+")
PHONE = re.compile(r"1[0-9]{10}")
# Rows of the template that get drop-downs: more than any one institution registers at a time.
TEMPLATE_ROWS = 5000
# The first bytes of an OLE2 container: a legacy .xls, or an .xlsx saved with a password.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class Column:
    """One roster column: its header, whether it must be filled, and the guide's text."""

    header: str
    required: bool
    guide: str
    example: str
    width: int = 12
    choices: tuple[str, ...] = ()  # a drop-down list in the template


COLUMNS = (
    Column("姓名", True, "与身份证件一致", "李娜", 10),
    Column("身份证号", True, "18 位居民身份证号，末位 X 大小写均可；本列已设为文本格式，"
           "请勿改为数字，否则 Excel 会丢掉末尾几位", "11010519491231002X", 22),
    Column("性别", False, "男 或 女；可不填，按身份证号判断，填写时须与身份证号一致", "女", 6,
           GENDERS),
    Column("院校", False, "考生所在院校全称", "某某职业技术学院", 24),
    Column("专业", False, "所学专业全称，用于判断是否为相关专业", "现代物流管理", 18),
    Column("班级", False, "院校内的班级名称", "物流 2301 班", 14),
    Column("手机", False, "11 位手机号，用于考务通知", "13800138000", 14),
    Column("建档立卡", False, "建档立卡等家庭经济困难学生填 是（免收考核费）；空白视为 否", "否",
           10, YES_NO),
    Column("报考等级", True, "初级、中级 或 高级", "中级", 10, LEVEL_NAMES),
    Column("已持证书", False, "已取得的职业技能等级证书，写“证书名 等级”，多个用顿号分隔",
           "物流管理 初级", 20),
    Column("相关工作年限", False, "从事本职业或相关工作的年数，可有小数；空白视为 0", "0", 12),
    Column("学历", True, "已取得的最高学历；在校应届毕业生填即将取得的学历，并在“应届毕业”填 是。"
           "高职院校毕业填 高职 或 大专 均可，职业本科填 本科", "高职", 8, EDUCATION),
    Column("本级培训合格", False, "已参加本级培训并取得合格证书填 是；空白视为 否", "否", 12,
           YES_NO),
    Column("应届毕业", False, "本学年毕业的在校生填 是；已毕业填 否；空白视为 否", "是", 10,
           YES_NO),
)  # fmt: skip
HEADERS = tuple(c.header for c in COLUMNS)
NOTES = (
    "每行填写一名考生；第 1 行为表头，请勿修改或删除。",
    "身份证号列为文本格式；从其他表格粘贴时请用“选择性粘贴 → 数值”，以免带入数字格式。",
    "是/否 列也可写 Y/N、yes/no 或 1/0。",
    "同一身份证号在一张表中只能出现一次。",
)


@dataclass(frozen=True)
class RosterRow:
    """One candidate as registered, every field typed and checked."""

    row: int  # the sheet row, header = 1
    name: str
    id_number: str  # normalized: 18 characters, upper-case X
    gender: str  # 男 | 女, agreeing with the ID number
    institution: str
    major: str
    class_name: str
    phone: str  # 11 digits or empty
    poor_family: bool  # 建档立卡: no exam fee
    level: str  # 初级 | 中级 | 高级, as written
    certificates: tuple[str, ...]
    years_in_trade: Decimal
    education: str  # one of eligibility.EDUCATION
    trained: bool
    graduating: bool

    def applicant(self) -> Applicant:
        """What the eligibility rules need to know about this candidate."""
        return Applicant(
            education=self.education,
            major=self.major,
            certificates=self.certificates,
            years_in_trade=self.years_in_trade,
            trained=self.trained,
            graduating=self.graduating,
        )


@dataclass(frozen=True)
class RosterError:
    """A problem in the roster: ``row`` 0 is the file itself, ``column`` empty the whole row."""

    row: int
    column: str
    value: str
    problem: str

    @property
    def message(self) -> str:
        """The problem with its place, e.g. 第 5 行「身份证号」：校验码应为 X，现为 3。"""
        if self.row == 0:
            return self.problem
        if self.column:
            return f"第 {self.row} 行「{self.column}」：{self.problem}"
        return f"第 {self.row} 行：{self.problem}"

    def __str__(self) -> str:
        return self.message


@dataclass
class RosterParse:
    rows: list[RosterRow]  # the rows without any error, in sheet order
    errors: list[RosterError]

    @property
    def ok(self) -> bool:
        return not self.errors


def _header(value: object) -> str:
    """A header cell as a column name: 建档立卡（是/否） and 姓名* also name their column."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    return re.sub(r"\s*(\(.*\))?\s*\*?$", "", text)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class _RowReader:
    """Reads one sheet row by column name, noting each bad cell and returning a neutral value."""

    def __init__(self, number: int, cells: dict[str, object]) -> None:
        self.number = number
        self.cells = cells
        self.errors: list[RosterError] = []

    def fail(self, column: str, problem: str) -> None:
        self.errors.append(RosterError(self.number, column, _text(self.cells.get(column)), problem))

    def text(self, column: str, required: bool = False) -> str:
        value = _text(self.cells.get(column))
        if required and not value:
            self.fail(column, f"{column}不能为空")
        return value

    def choice(self, column: str, choices: Sequence[str]) -> str:
        """A required value from a fixed list."""
        value = self.text(column)
        if value not in choices:
            listed = "、".join(choices)
            self.fail(
                column, f"应为 {listed} 之一" + (f"，现为「{value}」" if value else "，不能为空")
            )
        return value

    def yes_no(self, column: str) -> bool:
        value = self.cells.get(column)
        if isinstance(value, bool):
            return value
        word = _text(value).upper()
        if word in YES_WORDS:
            return True
        if word not in NO_WORDS and word:
            self.fail(column, f"应填 是 或 否（也可写 Y/N、yes/no、1/0），现为「{_text(value)}」")
        return False

    def years(self, column: str) -> Decimal:
        value = self.cells.get(column)
        text = re.sub(r"\s*年$", "", _text(value))  # 3年 and 3 年 mean 3
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            years = Decimal(text or "0")
            if not years.is_finite() or years < 0:
                raise InvalidOperation
        except InvalidOperation:
            self.fail(column, f"应为不小于 0 的数字（如 0、1.5），现为「{_text(value)}」")
            return Decimal(0)
        return years

    def id_number(self, column: str, today: date | None) -> IdNumber | None:
        value = self.cells.get(column)
        if isinstance(value, int | float) and not isinstance(value, bool):
            # Excel keeps 15 significant digits: an 18-digit number loses its last three.
            self.fail(
                column, "身份证号被 Excel 存成了数字，末位可能已丢失：请把该列设为文本后重新填写"
            )
            return None
        try:
            return parse_id_number(_text(value), today)
        except IdNumberError as exc:
            self.fail(column, str(exc))
            return None

    def gender(self, column: str, person: IdNumber | None) -> str:
        value = self.text(column)
        if not value:
            return person.gender if person else ""
        if value not in GENDERS:
            self.fail(column, f"应为 男 或 女，现为「{value}」")
        elif person and value != person.gender:
            self.fail(
                column,
                f"性别 {value} 与身份证号不符（第 17 位为{'奇' if person.gender == '男' else '偶'}数，"
                f"应为 {person.gender}）：请核对性别或身份证号",
            )
        return value

    def phone(self, column: str) -> str:
        value = re.sub(r"[\s-]", "", self.text(column))
        if value and not PHONE.fullmatch(value):
            self.fail(
                column, f"手机号应为以 1 开头的 11 位数字，现为「{_text(self.cells[column])}」"
            )
        return value


def _candidate(reader: _RowReader, today: date | None, seen: dict[str, int]) -> RosterRow | None:
    """The typed row, or None when a cell is bad (the reader then holds the errors)."""
    name = reader.text("姓名", required=True)
    person = reader.id_number("身份证号", today)
    if person is not None:
        first = seen.setdefault(person.number, reader.number)
        if first != reader.number:
            reader.fail("身份证号", f"与第 {first} 行的身份证号重复：同一考生只能填写一行")
    row = RosterRow(
        row=reader.number,
        name=name,
        id_number=person.number if person else "",
        gender=reader.gender("性别", person),
        institution=reader.text("院校"),
        major=reader.text("专业"),
        class_name=reader.text("班级"),
        phone=reader.phone("手机"),
        poor_family=reader.yes_no("建档立卡"),
        level=reader.choice("报考等级", LEVEL_NAMES),
        certificates=tuple(
            c.strip() for c in CERTIFICATE_SPLIT.split(reader.text("已持证书")) if c.strip()
        ),
        years_in_trade=reader.years("相关工作年限"),
        education=reader.choice("学历", EDUCATION),
        trained=reader.yes_no("本级培训合格"),
        graduating=reader.yes_no("应届毕业"),
    )
    return None if reader.errors else row


class _Unreadable(Exception):
    """The upload is not a roster workbook; the message says why and what to do."""


def _rows(data: bytes, filename: str) -> list[tuple[object, ...]]:
    """The cell values of the roster sheet; _Unreadable when there is none."""
    if data.startswith(OLE2_MAGIC):
        raise _Unreadable(
            f"「{filename}」是旧版 .xls 格式或设置了打开密码：请在 Excel 中“另存为”"
            "不加密的 Excel 工作簿（.xlsx）后再上传"
        )
    try:
        # openpyxl warns about workbook features it drops (e.g. WPS extensions); the values are
        # all a roster needs, and a warning must not turn into a failed upload.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise _Unreadable(
            f"「{filename}」不是 Excel 工作簿（.xlsx）：请下载报名表模板，填写后保存为 .xlsx 再上传"
        ) from exc
    try:
        names = [n for n in wb.sheetnames if n != GUIDE]
        if not names:
            raise _Unreadable(f"「{filename}」中找不到工作表「{SHEET}」")
        ws = wb[SHEET if SHEET in names else names[0]]
        return [tuple(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def parse_roster(
    data: bytes, filename: str = "报名表.xlsx", today: date | None = None
) -> RosterParse:
    """Read a filled-in roster; every bad cell becomes an error and its row is left out.

    ``today`` (default: the real date) bounds dates of birth in ID numbers.
    """
    try:
        rows = _rows(data, filename)
    except _Unreadable as exc:
        return RosterParse(rows=[], errors=[RosterError(0, "", "", str(exc))])
    header = [_header(v) for v in (rows[0] if rows else ())]
    missing = [h for h in HEADERS if h not in header]
    if missing:
        return RosterParse(
            rows=[],
            errors=[
                RosterError(
                    1,
                    "",
                    "",
                    f"缺少列 {'、'.join(missing)}：第 1 行表头应为 {'、'.join(HEADERS)}"
                    "（请使用下载的报名表模板）",
                )
            ],
        )
    index = {h: header.index(h) for h in HEADERS}  # the first of repeated headers counts
    parsed = RosterParse(rows=[], errors=[])
    seen: dict[str, int] = {}
    for number, values in enumerate(rows[1:], start=2):
        if all(_text(v) == "" for v in values):
            continue
        cells = {h: values[i] if i < len(values) else None for h, i in index.items()}
        reader = _RowReader(number, cells)
        row = _candidate(reader, today, seen)
        if row is not None:
            parsed.rows.append(row)
        parsed.errors.extend(reader.errors)
    if not parsed.rows and not parsed.errors:
        parsed.errors.append(
            RosterError(0, "", "", "报名表中没有考生：请从第 2 行起每行填写一名考生")
        )
    return parsed


def _validation(choices: Iterable[str], column: str, letter: str) -> DataValidation:
    listed = ",".join(choices)
    validation = DataValidation(
        type="list",
        formula1=f'"{listed}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=column,
        error=f"请从下拉列表中选择：{listed.replace(',', '、')}",
    )
    validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
    return validation


def roster_template() -> bytes:
    """The blank roster to download: 报名表 to fill in, 填写说明 to read."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    ws.append(list(HEADERS))
    for n, column in enumerate(COLUMNS, 1):
        letter = get_column_letter(n)
        ws.cell(row=1, column=n).font = Font(bold=True, color="C00000" if column.required else None)
        ws.column_dimensions[letter].width = column.width
        if column.header in ("身份证号", "手机"):
            # Text, so that Excel keeps all 18 characters instead of showing 1.10105E+17.
            ws.column_dimensions[letter].number_format = "@"
        if column.choices:
            ws.add_data_validation(_validation(column.choices, column.header, letter))
    ws.freeze_panes = "A2"
    guide = wb.create_sheet(GUIDE)
    guide.append(["列名", "必填", "填写说明", "示例"])
    for column in COLUMNS:
        guide.append(
            [column.header, "是" if column.required else "否", column.guide, column.example]
        )
    guide.append([])
    for note in NOTES:
        guide.append([note])
    for n, width in enumerate((14, 6, 70, 22), 1):
        guide.column_dimensions[get_column_letter(n)].width = width
        guide.cell(row=1, column=n).font = Font(bold=True)
    for row in guide.iter_rows(min_row=2, max_row=len(COLUMNS) + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.number_format = "@"  # the example ID number stays text
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# The same fields by name, for the one-by-one form and the HTTP API (see api/openapi.py).
FIELD_HEADERS = {
    "name": "姓名",
    "id_number": "身份证号",
    "gender": "性别",
    "institution": "院校",
    "major": "专业",
    "class_name": "班级",
    "phone": "手机",
    "poor_family": "建档立卡",
    "level": "报考等级",
    "certificates": "已持证书",
    "years_in_trade": "相关工作年限",
    "education": "学历",
    "trained": "本级培训合格",
    "graduating": "应届毕业",
}


def row_from_fields(
    fields: Mapping[str, object], today: date | None = None
) -> tuple[RosterRow | None, list[str]]:
    """One candidate from named fields, checked by the same rules as a roster row.

    Returns the row, or None and one message per bad field naming the field.
    """
    cells: dict[str, object] = {}
    for name, header in FIELD_HEADERS.items():
        value = fields.get(name)
        if isinstance(value, list | tuple):
            value = "、".join(str(v) for v in value)
        cells[header] = value
    reader = _RowReader(0, cells)
    row = _candidate(reader, today, {})
    names = {header: name for name, header in FIELD_HEADERS.items()}
    problems = [f"{e.column}（{names[e.column]}）：{e.problem}" for e in reader.errors]
    unknown = sorted(set(fields) - set(FIELD_HEADERS) - {"site_id"})
    problems += [f"未知字段 {k}：可用字段为 {', '.join(FIELD_HEADERS)}" for k in unknown]
    return (row if not problems else None), problems
