"""Administration exports of an exam plan, from plain rows to bytes (no Flask, no database).

Sign-in sheets (签到表) as PDF and xlsx, the seat plan (座位表) of a room, the candidate list and
the registration file for the national platform, as xlsx and CSV.

In xlsx every identifier (ID number, ticket number, phone, seat) is a text cell, so Excel keeps
leading zeros and the X of an ID number. CSV files are UTF-8 with a BOM (Excel then reads the
Chinese right) and keep every value exactly; Excel itself still turns an 18-digit ID number in a
CSV into 1.1E+17 when it opens the file, so people open the xlsx and programs read the CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from .admission_ticket import (
    MARGIN,
    PAGE_H,
    PAGE_W,
    PT,
    Measure,
    Page,
    fit,
    pdf_document,
)

# A spreadsheet program that opens a CSV runs a cell starting with one of these as a formula, so
# a candidate registered as "=HYPERLINK(…)" or "=cmd|' /C calc'!A0" would act on the
# administrator's PC (CSV injection, OWASP). A leading apostrophe makes Excel and WPS show it as
# plain text; the apostrophe is visible to programs, and no real name, ID or school starts so.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ID_TYPE = "居民身份证"
THIN = Side(style="thin")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
BOLD = Font(bold=True)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
SHADE = PatternFill("solid", fgColor="EEEEEE")


@dataclass(frozen=True)
class SignInRow:
    seat: str
    ticket_number: str
    name: str
    id_number: str
    institution: str


@dataclass(frozen=True)
class RoomSheet:
    plan: str
    session: str
    site: str
    room: str
    rows: tuple[SignInRow, ...]


@dataclass(frozen=True)
class CandidateRow:
    ticket_number: str
    name: str
    id_number: str
    gender: str
    institution: str
    major: str
    class_name: str
    phone: str
    certificate: str
    level: str
    batch: str
    site: str
    room: str
    seat: str
    fee: Decimal
    exempt: bool


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


# ---- xlsx helpers ------------------------------------------------------------------------------


def _put(ws: Worksheet, row: int, column: int, value: str | int | Decimal) -> Cell:
    """A cell holding value; strings are text cells (openpyxl would make "=…" a formula)."""
    cell = ws.cell(row=row, column=column)
    assert isinstance(cell, Cell), "a merged cell is written through its top-left cell"
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        cell.number_format = "@"
    return cell


def _table(
    ws: Worksheet,
    top: int,
    header: Sequence[str],
    rows: Iterable[Sequence[str | int | Decimal]],
    widths: Sequence[float],
) -> int:
    """A bordered table with a bold shaded header from row top; returns the last row."""
    for n, (name, width) in enumerate(zip(header, widths, strict=True), 1):
        cell = _put(ws, top, n, name)
        cell.font, cell.fill, cell.border, cell.alignment = BOLD, SHADE, GRID, CENTER
        ws.column_dimensions[get_column_letter(n)].width = width
    last = top
    for last, values in enumerate(rows, top + 1):
        for n, value in enumerate(values, 1):
            cell = _put(ws, last, n, value)
            cell.border, cell.alignment = GRID, LEFT
            if isinstance(value, Decimal):
                cell.number_format = "0.00"
    ws.freeze_panes = f"A{top + 1}"
    return last


def _banner(ws: Worksheet, row: int, text: str, columns: int, size: int = 11) -> None:
    _put(ws, row, 1, text)
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
    ws.cell(row=row, column=1).font = Font(bold=size > 11, size=size)
    ws.cell(row=row, column=1).alignment = CENTER if size > 11 else LEFT


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique worksheet title: 31 characters, none of []:*?/\\."""
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'") or "考场"
    title, n = base[:31], 1
    while title.lower() in used:
        n += 1
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
    used.add(title.lower())
    return title


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for values in rows:
        writer.writerow([_csv_safe(v) for v in values])
    return out.getvalue().encode("utf-8-sig")


def _csv_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


# ---- sign-in sheets (签到表) ---------------------------------------------------------------------

SIGN_IN_COLUMNS = ("座位号", "准考证号", "姓名", "身份证号", "院校", "签名")
SIGN_IN_WIDTHS_MM = (14.0, 34.0, 24.0, 40.0, 40.0, 28.0)  # 180 mm: A4 less the margins
SIGN_IN_WIDTHS_XLSX = (8.0, 18.0, 12.0, 22.0, 30.0, 16.0)
ROW_H = 11.0  # mm: room for a signature
HEADER_H = 9.0
FOOTER_H = 24.0


def _sign_in_header(page: Page, sheet: RoomSheet) -> float:
    """Title and plan/session/site/room lines; returns where the table starts."""
    width = PAGE_W - 2 * MARGIN
    y = MARGIN
    page.lines(["考生签到表"], MARGIN, y, width, 10, 18, align="center", bold=True)
    y += 12
    for text in (
        f"考核计划：{sheet.plan}　　场次：{sheet.session}",
        f"考点：{sheet.site}　　考场：{sheet.room}",
    ):
        size, lines = fit(text, width - 4, 11, page.measure, 1, 8)
        height = len(lines) * size * PT * 1.35 + 1
        page.lines(lines, MARGIN, y, width, height, size)
        y += height
    return y + 2


def _sign_in_pages(sheet: RoomSheet, measure: Measure) -> list[Page]:
    """The room's pages: header, as many rows as fit, footer with signatures and page x/y."""
    first = Page(measure)
    top = _sign_in_header(first, sheet)
    per_page = max(1, int((PAGE_H - MARGIN - FOOTER_H - top - HEADER_H) // ROW_H))
    chunks = [sheet.rows[n : n + per_page] for n in range(0, len(sheet.rows), per_page)] or [()]
    pages: list[Page] = []
    width = PAGE_W - 2 * MARGIN
    for number, chunk in enumerate(chunks, 1):
        page = first if number == 1 else Page(measure)
        if number > 1:
            _sign_in_header(page, sheet)
        x = MARGIN
        for head, w in zip(SIGN_IN_COLUMNS, SIGN_IN_WIDTHS_MM, strict=True):
            page.cell(x, top, w, HEADER_H, [head], 11, label=True)
            x += w
        y = top + HEADER_H
        for row in chunk:
            x = MARGIN
            values = (row.seat, row.ticket_number, row.name, row.id_number, row.institution, "")
            for value, w in zip(values, SIGN_IN_WIDTHS_MM, strict=True):
                size, lines = fit(value, w - 4, 10, page.measure, 2, 7)
                room = int((ROW_H - 0.5) // (size * PT * 1.35))
                if len(lines) > room:  # cut what even the smallest size cannot hold
                    lines = [*lines[: room - 1], lines[room - 1][:-1] + "…"]
                page.cell(x, y, w, ROW_H, lines, size)
                x += w
            y += ROW_H
        footer = PAGE_H - MARGIN - FOOTER_H + 4
        if number == len(chunks):
            text = f"应到 {len(sheet.rows)} 人　　实到 ______ 人　　缺考 ______ 人"
            page.lines([text], MARGIN, footer, width, 7, 11)
        page.lines(
            ["监考员签名：________________　　________________　　日期：____________"],
            MARGIN,
            footer + 8,
            width,
            7,
            11,
        )
        page.lines([f"第 {number}/{len(chunks)} 页"], MARGIN, footer + 15, width, 6, 9, "center")
        pages.append(page)
    return pages


def sign_in_sheet_pdf(sheets: Sequence[RoomSheet], font: Path | None = None) -> bytes:
    """One page set per room (pages numbered within the room), every page signed."""
    if not sheets:
        raise ValueError("没有要打印的签到表")
    return pdf_document(
        "考生签到表",
        font,
        lambda measure: (page.ops for s in sheets for page in _sign_in_pages(s, measure)),
    )


def sign_in_sheet_xlsx(sheets: Sequence[RoomSheet]) -> bytes:
    """One worksheet per room, laid out to print on A4 with the header repeated."""
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    used: set[str] = set()
    for sheet in sheets:
        ws: Worksheet = wb.create_sheet(_sheet_title(sheet.room, used))
        columns = len(SIGN_IN_COLUMNS)
        _banner(ws, 1, "考生签到表", columns, size=16)
        _banner(ws, 2, f"考核计划：{sheet.plan}　　场次：{sheet.session}", columns)
        _banner(ws, 3, f"考点：{sheet.site}　　考场：{sheet.room}", columns)
        rows = [
            (r.seat, r.ticket_number, r.name, r.id_number, r.institution, "") for r in sheet.rows
        ]
        last = _table(ws, 4, SIGN_IN_COLUMNS, rows, SIGN_IN_WIDTHS_XLSX)
        for n in range(5, last + 1):
            ws.row_dimensions[n].height = 30
        _banner(ws, last + 2, f"应到 {len(rows)} 人　　实到 ______ 人　　缺考 ______ 人", columns)
        _banner(ws, last + 3, "监考员签名：________________　　________________", columns)
        ws.print_title_rows = "4:4"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    if not wb.worksheets:
        wb.create_sheet("签到表")
    return _save(wb)


# ---- seat plan (座位表) -------------------------------------------------------------------------

SPARE_FILL = PatternFill("solid", fgColor="FFF2CC")
BLOCKED_FILL = PatternFill("solid", fgColor="BFBFBF")


def seat_plan_xlsx(
    room: str,
    rows: int,
    columns: int,
    seats: Mapping[int, str],
    spare: Collection[int],
    blocked: Collection[int],
) -> bytes:
    """The room's grid under a 讲台 row: front row at the top, seat 1 at the front-left.

    Seats are numbered as examsvc.sites.seatmap numbers them: row by row from the front-left,
    left and right as a candidate facing the 讲台 sees them, so the sheet is a plan of the room
    with the 讲台 at the top (a note on the sheet says so). ``seats`` maps seat → candidate name.
    Each cell reads "seat number\\nname", or 备用 (spare) / 停用 (blocked).
    """
    size = rows * columns
    outside = sorted(s for s in (*seats, *spare, *blocked) if not 1 <= s <= size)
    if rows < 1 or columns < 1 or outside:
        raise ValueError(f"座位 {outside} 不在 {rows} 排 × {columns} 列的考场内")
    width = len(str(size))
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "座位表"
    span = columns + 1
    _banner(ws, 1, f"{room} 座位表", span, size=16)
    _put(ws, 2, 2, "讲台")
    ws.merge_cells(start_row=2, start_column=2, end_row=2, end_column=columns + 1)
    desk = ws.cell(row=2, column=2)
    desk.font, desk.fill, desk.alignment = BOLD, SHADE, CENTER
    for n in range(2, columns + 2):
        ws.cell(row=2, column=n).border = GRID
    ws.column_dimensions["A"].width = 8
    for column in range(1, columns + 1):
        cell = _put(ws, 3, column + 1, f"第{column}列")
        cell.alignment, cell.font = CENTER, BOLD
        ws.column_dimensions[get_column_letter(column + 1)].width = 13
    for row in range(1, rows + 1):
        head = _put(ws, row + 3, 1, f"第{row}排")
        head.alignment, head.font = CENTER, BOLD
        ws.row_dimensions[row + 3].height = 36
        for column in range(1, columns + 1):
            seat = (row - 1) * columns + column
            parts = [str(seat).zfill(width)]
            if seat in seats:
                parts.append(seats[seat])
            if seat in blocked:
                parts.append("停用")
            elif seat in spare:
                parts.append("备用")
            cell = _put(ws, row + 3, column + 1, "\n".join(parts))
            cell.alignment, cell.border = CENTER, GRID
            if seat in blocked:
                cell.fill = BLOCKED_FILL
            elif seat in spare:
                cell.fill = SPARE_FILL
    note = "第 1 排靠近讲台；“第 1 列”是考生面向讲台时左手边的一列。"
    note += f"共 {size} 座，已安排 {len(seats)} 人，备用 {len(spare)} 座，停用 {len(blocked)} 座。"
    _banner(ws, rows + 5, note, span)
    ws.row_dimensions[rows + 5].height = 32
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if columns > 6 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    return _save(wb)


# ---- candidate list and the national platform ----------------------------------------------------

# (header, value, xlsx column width); the fee is a number in xlsx and "0.00" text in CSV.
CANDIDATE_COLUMNS: list[tuple[str, Callable[[CandidateRow], str | Decimal], float]] = [
    ("准考证号", lambda r: r.ticket_number, 18),
    ("姓名", lambda r: r.name, 12),
    ("身份证号", lambda r: r.id_number, 22),
    ("性别", lambda r: r.gender, 6),
    ("院校", lambda r: r.institution, 28),
    ("专业", lambda r: r.major, 18),
    ("班级", lambda r: r.class_name, 14),
    ("手机号", lambda r: r.phone, 14),
    ("证书", lambda r: r.certificate, 18),
    ("等级", lambda r: r.level, 8),
    ("考核批次", lambda r: r.batch, 16),
    ("考点", lambda r: r.site, 24),
    ("考场", lambda r: r.room, 14),
    ("座位号", lambda r: r.seat, 8),
    ("考试费（元）", lambda r: r.fee, 12),
    ("免缴", lambda r: _yes_no(r.exempt), 6),
]

# The registration file for the national 1+X platform. Its real import template is not public,
# so these columns are our best statement of what it asks for; adjust them here, in this one
# list, when a site receives the template. 是否建档立卡 (registered poor household) is the usual
# reason for a fee exemption and is filled from CandidateRow.exempt.
PLATFORM_COLUMNS: list[tuple[str, Callable[[CandidateRow], str]]] = [
    ("证书名称", lambda r: r.certificate),
    ("等级", lambda r: r.level),
    ("考核批次", lambda r: r.batch),
    ("姓名", lambda r: r.name),
    ("证件类型", lambda r: ID_TYPE),
    ("证件号码", lambda r: r.id_number),
    ("性别", lambda r: r.gender),
    ("院校名称", lambda r: r.institution),
    ("专业", lambda r: r.major),
    ("考点名称", lambda r: r.site),
    ("准考证号", lambda r: r.ticket_number),
    ("是否建档立卡", lambda r: _yes_no(r.exempt)),
]


def _workbook(
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[str | int | Decimal]],
    widths: Sequence[float],
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    _table(ws, 1, header, rows, widths)
    return _save(wb)


def candidate_list_xlsx(rows: Sequence[CandidateRow]) -> bytes:
    """The candidate list with a 序号 column; the fee is a number, identifiers are text."""
    header = ["序号", *(name for name, _, _ in CANDIDATE_COLUMNS)]
    widths = [6.0, *(width for _, _, width in CANDIDATE_COLUMNS)]
    values = [[n, *(get(r) for _, get, _ in CANDIDATE_COLUMNS)] for n, r in enumerate(rows, 1)]
    return _workbook("考生名单", header, values, widths)


def candidate_list_csv(rows: Sequence[CandidateRow]) -> bytes:
    header = ["序号", *(name for name, _, _ in CANDIDATE_COLUMNS)]
    return _csv(
        header,
        (
            [str(n), *(_csv_text(get(r)) for _, get, _ in CANDIDATE_COLUMNS)]
            for n, r in enumerate(rows, 1)
        ),
    )


def _csv_text(value: str | Decimal) -> str:
    return f"{value:.2f}" if isinstance(value, Decimal) else value


def platform_export_xlsx(rows: Sequence[CandidateRow]) -> bytes:
    """The platform registration file as xlsx: one row per candidate, every cell text."""
    header = [name for name, _ in PLATFORM_COLUMNS]
    values = [[get(r) for _, get in PLATFORM_COLUMNS] for r in rows]
    return _workbook("报名信息", header, values, [16.0] * len(header))


def platform_export_csv(rows: Sequence[CandidateRow]) -> bytes:
    """The platform registration file as CSV (UTF-8 with BOM)."""
    return _csv(
        [name for name, _ in PLATFORM_COLUMNS],
        ([get(r) for _, get in PLATFORM_COLUMNS] for r in rows),
    )
