"""The Excel workbook format of a bank (docs/banks.md): the layout Chinese organizations use.

Sheets: 题库信息 (key/value), 理论题 (one row per item), 实操题 (one row per practical item) and
评分细则 (one row per rubric criterion). Every problem names sheet, row and column.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..catalog.standards import Standard
from .model import (
    OPTION_KEYS,
    TYPE_NAMES,
    AnswerForm,
    BankData,
    BankFormatError,
    Criterion,
    Issue,
    ItemData,
    Location,
    parse_points,
    validate_bank,
)

INFO = "题库信息"
THEORY = "理论题"
PRACTICAL = "实操题"
RUBRIC = "评分细则"
INFO_KEYS = {
    "代码": "code",
    "名称": "name",
    "证书": "certificate",
    "等级": "level",
    "标准": "standard",
}
THEORY_COLUMNS = (
    ["编号", "题型", "题干"]
    + [f"选项{k}" for k in OPTION_KEYS]
    + ["答案", "解析", "难度", "技能代码", "分值", "图片", "标签", "状态"]
)
PRACTICAL_COLUMNS = [
    "编号", "标题", "任务类型", "题干", "作答方式", "允许上传", "上传类型",
    "素材", "解析", "难度", "技能代码", "分值", "标签", "状态",
]  # fmt: skip
RUBRIC_COLUMNS = ["编号", "序号", "评分项", "分值", "采分点说明"]
TYPES_BY_NAME = {v: k for k, v in TYPE_NAMES.items()}
TRUE_WORDS = {"对", "正确", "√", "T", "TRUE", "是", "Y"}
FALSE_WORDS = {"错", "错误", "×", "X", "F", "FALSE", "否", "N"}
SPLIT = re.compile(r"[,，、;；\s]+")
TAG_SPLIT = re.compile(r"[,，、;；]+")

FileSource = Callable[[str, str], bytes | None]


class _Sheet:
    """Rows of one sheet as dicts keyed by header, with the checks every sheet needs."""

    def __init__(self, ws: Worksheet, origin: str, expected: list[str], issues: list[Issue]):
        self.name = ws.title
        self.origin = origin
        rows = list(ws.iter_rows(values_only=True))
        header = [str(c).strip() if c is not None else "" for c in (rows[0] if rows else [])]
        self.rows: list[tuple[int, dict[str, Any]]] = []
        missing = [c for c in expected if c not in header and c in REQUIRED]
        if missing:
            where = Location(origin, self.name, 1)
            cols = "、".join(missing)
            issues.append(Issue(where, f"缺少列 {cols}；请使用下载的模板，表头在第 1 行"))
            return
        for number, values in enumerate(rows[1:], start=2):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            self.rows.append((number, {h: v for h, v in zip(header, values, strict=False) if h}))

    def at(self, row: int, column: str = "") -> Location:
        return Location(self.origin, self.name, row, column)


REQUIRED = {"编号", "题型", "题干", "答案", "解析", "难度", "技能代码", "标题", "评分项", "分值"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _codes(value: Any) -> tuple[str, ...]:
    return tuple(c for c in SPLIT.split(_text(value)) if c)


def _tags(value: Any) -> tuple[str, ...]:
    return tuple(t.strip() for t in TAG_SPLIT.split(_text(value)) if t.strip())


def _long(value: Any) -> str:
    """Multi-line text keeps its inner white space (code blocks); only outer newlines go."""
    return "" if value is None else str(value).strip("\n")


def _answer(value: Any, type_: str) -> str:
    raw = _text(value).upper()
    if type_ == "truefalse":
        if raw in TRUE_WORDS or value is True:
            return "true"
        if raw in FALSE_WORDS or value is False:
            return "false"
        return raw
    return "".join(c for c in raw if c.isalnum())


def _int(value: Any, column: str) -> int:
    try:
        number = float(_text(value))
    except ValueError as exc:
        raise ValueError(f"“{column}”应为整数，实际是“{_text(value)}”") from exc
    if not number.is_integer():
        raise ValueError(f"“{column}”应为整数，实际是“{_text(value)}”")
    return int(number)


def _theory_item(row: dict[str, Any]) -> ItemData:
    type_name = _text(row.get("题型"))
    type_ = TYPES_BY_NAME.get(type_name, type_name)
    if type_ not in ("single", "multiple", "truefalse"):
        raise ValueError(f"题型“{type_name}”无效，应为 单选、多选 或 判断")
    options = []
    for key in OPTION_KEYS:
        text = _text(row.get(f"选项{key}"))
        if text:
            options.append((key, text))
    points = _text(row.get("分值"))
    return ItemData(
        id=_text(row.get("编号")),
        type=type_,
        stem=_long(row.get("题干")),
        explanation=_long(row.get("解析")),
        difficulty=_int(row.get("难度"), "难度"),
        skills=_codes(row.get("技能代码")),
        options=tuple(options),
        answer=_answer(row.get("答案"), type_),
        tags=_tags(row.get("标签")),
        points=parse_points(points) if points else None,
        status=_text(row.get("状态")) or "approved",
        images=_codes(row.get("图片")),
    )


def _practical_item(row: dict[str, Any], rubric: tuple[Criterion, ...]) -> ItemData:
    upload = _text(row.get("允许上传"))
    points = _text(row.get("分值"))
    return ItemData(
        id=_text(row.get("编号")),
        type="practical",
        title=_text(row.get("标题")),
        task_kind=_text(row.get("任务类型")),
        stem=_long(row.get("题干")),
        explanation=_long(row.get("解析")),
        difficulty=_int(row.get("难度"), "难度"),
        skills=_codes(row.get("技能代码")),
        answer_form=AnswerForm(
            editor=_text(row.get("作答方式")) or "text",
            upload=upload.upper() in TRUE_WORDS,
            upload_types=_codes(row.get("上传类型")),
        ),
        materials=_codes(row.get("素材")),
        points=parse_points(points) if points else None,
        tags=_tags(row.get("标签")),
        status=_text(row.get("状态")) or "approved",
        rubric=rubric,
    )


def _rubrics(sheet: _Sheet | None, issues: list[Issue]) -> dict[str, list[Criterion]]:
    found: dict[str, list[Criterion]] = {}
    if sheet is None:
        return found
    for number, row in sheet.rows:
        ident = _text(row.get("编号"))
        try:
            points = parse_points(row.get("分值"))
        except ValueError as exc:
            issues.append(Issue(sheet.at(number, "分值"), str(exc)))
            continue
        criterion = Criterion(_text(row.get("评分项")), points, _long(row.get("采分点说明")))
        found.setdefault(ident, []).append(criterion)
    return found


def read_workbook(
    data: bytes,
    origin: str,
    standards: Mapping[tuple[str, str], Standard],
    files: FileSource | None = None,
    defaults: BankData | None = None,
) -> tuple[BankData, Standard | None]:
    """Read and validate a bank workbook; raise BankFormatError listing every problem."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise BankFormatError(
            [
                Issue(
                    Location(origin), f"不是有效的 .xlsx 工作簿（{exc}）；请用下载的模板另存为 xlsx"
                )
            ]
        ) from exc
    issues: list[Issue] = []
    meta: dict[str, str] = {}
    if INFO in wb.sheetnames:
        for pair in wb[INFO].iter_rows(min_row=2, values_only=True):
            if pair and _text(pair[0]) in INFO_KEYS:
                meta[INFO_KEYS[_text(pair[0])]] = _text(pair[1] if len(pair) > 1 else "")
    base = defaults or BankData("", "", "", "")
    bank = BankData(
        code=meta.get("code") or base.code,
        name=meta.get("name") or base.name,
        certificate=meta.get("certificate") or base.certificate,
        level=meta.get("level") or base.level,
        standard=meta.get("standard") or base.standard,
    )
    standard = standards.get((bank.certificate, bank.level))
    if standard is None:
        known = "、".join(f"{c}/{lvl}" for c, lvl in standards) or "无"
        issues.append(
            Issue(
                Location(origin, INFO),
                f"证书“{bank.certificate}”等级“{bank.level}”没有对应的技能标准（可用：{known}）",
            )
        )
    if THEORY not in wb.sheetnames and PRACTICAL not in wb.sheetnames:
        issues.append(Issue(Location(origin), f"找不到工作表“{THEORY}”或“{PRACTICAL}”"))
        raise BankFormatError(issues)

    def sheet(name: str, columns: list[str]) -> _Sheet | None:
        return _Sheet(wb[name], origin, columns, issues) if name in wb.sheetnames else None

    theory = sheet(THEORY, THEORY_COLUMNS)
    practical = sheet(PRACTICAL, PRACTICAL_COLUMNS)
    rubrics = _rubrics(sheet(RUBRIC, RUBRIC_COLUMNS), issues)
    locations: dict[str, Location] = {}
    for current, build in ((theory, _theory_item), (practical, None)):
        if current is None:
            continue
        for number, row in current.rows:
            try:
                if build is not None:
                    item = build(row)
                else:
                    ident = _text(row.get("编号"))
                    item = _practical_item(row, tuple(rubrics.pop(ident, [])))
            except ValueError as exc:
                issues.append(Issue(current.at(number), str(exc)))
                continue
            bank.items.append(item)
            locations.setdefault(item.id, current.at(number))
            if files is not None:
                for name in (*item.materials, *item.images):
                    content = files(item.id, name)
                    if content is not None:
                        bank.files.setdefault(item.id, {})[name] = content
    for ident in rubrics:
        issues.append(Issue(Location(origin, RUBRIC), f"评分细则中的编号“{ident}”在实操题中不存在"))
    issues += validate_bank(bank, standard, locations)
    if issues:
        raise BankFormatError(issues)
    return bank, standard


def _plain(value: Decimal | None) -> int | float | str:
    if value is None:
        return ""
    return int(value) if value == value.to_integral() else float(value)


def _answer_cell(item: ItemData) -> str:
    if item.type == "truefalse":
        return "对" if item.answer == "true" else "错"
    return item.answer


def _sheet(wb: Workbook, title: str, columns: list[str], widths: dict[str, int]) -> Worksheet:
    ws: Worksheet = wb.create_sheet(title)
    ws.append(columns)
    for n, name in enumerate(columns, 1):
        ws.cell(row=1, column=n).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(n)].width = widths.get(name, 12)
    ws.freeze_panes = "A2"
    return ws


def write_workbook(bank: BankData) -> bytes:
    """The bank as a workbook in the import layout (an empty bank gives the blank template)."""
    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = INFO
    info.append(["项目", "内容"])
    for label, key in INFO_KEYS.items():
        info.append([label, getattr(bank, key)])
    info.column_dimensions["B"].width = 50
    wide = {"题干": 60, "解析": 50, "采分点说明": 50, "评分项": 30, "标题": 30}
    theory = _sheet(wb, THEORY, THEORY_COLUMNS, wide)
    practical = _sheet(wb, PRACTICAL, PRACTICAL_COLUMNS, wide)
    rubric = _sheet(wb, RUBRIC, RUBRIC_COLUMNS, wide)
    for item in bank.items:
        common = [_plain(item.points), "、".join(item.tags), item.status]
        if item.type == "practical":
            form = item.answer_form or AnswerForm()
            practical.append(
                [item.id, item.title, item.task_kind, item.stem, form.editor,
                 "是" if form.upload else "否", "、".join(form.upload_types),
                 "、".join(item.materials), item.explanation, item.difficulty,
                 "、".join(item.skills), *common]
            )  # fmt: skip
            for n, c in enumerate(item.rubric, 1):
                rubric.append([item.id, n, c.criterion, _plain(c.points), c.guide])
            continue
        options = item.option_map
        theory.append(
            [item.id, TYPE_NAMES[item.type], item.stem]
            + [options.get(k, "") for k in OPTION_KEYS]
            + [_answer_cell(item), item.explanation, item.difficulty, "、".join(item.skills)]
            + [common[0], "、".join(item.images), common[1], common[2]]
        )
    for ws in (theory, practical, rubric):
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
