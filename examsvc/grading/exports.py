"""Result exports, from plain rows to bytes (no Flask, no database): the result list, the
exam-result file for the national 1+X platform (CSV and xlsx) and the statistics workbook.

The xlsx and CSV conventions are those of ``plans.exports`` (identifiers as text cells, CSV in
UTF-8 with a BOM, cells that would start a formula neutralised), whose helpers are reused.
A score is written as the score of record with one decimal (58.5, 60.0); a part without a
score says why (缺考, 取消成绩, 待评), and a part kept from an earlier plan says 沿用.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook

from ..plans.exports import ID_TYPE, _csv, _save, _sheet_title, _table
from .results import OVERALL_STATUS_NAMES, PART_STATUS_NAMES
from .statistics import Agreement, GroupStats, PartStats


@dataclass(frozen=True)
class PartCell:
    status: str  # pending | scored | absent | voided
    score: Decimal | None
    carried: bool = False
    passed: bool = False

    @property
    def text(self) -> str:
        """58.5 / 60.0 for a score; 缺考, 取消成绩 or 待评 otherwise."""
        if self.score is not None:
            return f"{self.score:.1f}"
        return PART_STATUS_NAMES[self.status]

    @property
    def verdict(self) -> str:
        if self.score is None:
            return PART_STATUS_NAMES[self.status]
        return ("合格" if self.passed else "不合格") + ("（沿用）" if self.carried else "")


@dataclass(frozen=True)
class ResultRow:
    ticket_number: str
    name: str
    id_number: str
    gender: str
    institution: str
    site: str
    room: str
    certificate: str
    level: str
    batch: str
    exam_date: str
    theory: PartCell
    practical: PartCell
    overall: str  # pending | passed | failed | absent | voided
    released_on: str  # YYYY-MM-DD, "" before release

    @property
    def retake(self) -> bool:
        return self.theory.carried or self.practical.carried

    @property
    def overall_name(self) -> str:
        return OVERALL_STATUS_NAMES[self.overall]


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


RESULT_COLUMNS: list[tuple[str, Callable[[ResultRow], str], float]] = [
    ("准考证号", lambda r: r.ticket_number, 18),
    ("姓名", lambda r: r.name, 12),
    ("身份证号", lambda r: r.id_number, 22),
    ("院校", lambda r: r.institution, 26),
    ("考点", lambda r: r.site, 22),
    ("考场", lambda r: r.room, 12),
    ("理论成绩", lambda r: r.theory.text, 10),
    ("理论结果", lambda r: r.theory.verdict, 12),
    ("实操成绩", lambda r: r.practical.text, 10),
    ("实操结果", lambda r: r.practical.verdict, 12),
    ("总评", lambda r: r.overall_name, 10),
    ("补考", lambda r: _yes_no(r.retake), 6),
]

# The exam-result file for the national 1+X platform. Like the registration file
# (plans.exports.PLATFORM_COLUMNS) its real import template is not public: these columns are our
# best statement of what 考核结果 needs (000: 1711), kept in this one list to adjust when a site
# receives the template.
PLATFORM_RESULT_COLUMNS: list[tuple[str, Callable[[ResultRow], str]]] = [
    ("证书名称", lambda r: r.certificate),
    ("等级", lambda r: r.level),
    ("考核批次", lambda r: r.batch),
    ("姓名", lambda r: r.name),
    ("证件类型", lambda r: ID_TYPE),
    ("证件号码", lambda r: r.id_number),
    ("性别", lambda r: r.gender),
    ("院校名称", lambda r: r.institution),
    ("考点名称", lambda r: r.site),
    ("准考证号", lambda r: r.ticket_number),
    ("考核日期", lambda r: r.exam_date),
    ("理论成绩", lambda r: r.theory.text),
    ("实操成绩", lambda r: r.practical.text),
    ("考核结果", lambda r: r.overall_name),
    ("是否补考", lambda r: _yes_no(r.retake)),
    ("成绩发布日期", lambda r: r.released_on),
]


def _workbook(
    title: str, header: Sequence[str], rows: list[list[str]], widths: Sequence[float]
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    _table(ws, 1, header, rows, widths)
    return _save(wb)


def results_xlsx(rows: Sequence[ResultRow]) -> bytes:
    """The plan's result list with a 序号 column; scores are text with one decimal."""
    header = ["序号", *(name for name, _, _ in RESULT_COLUMNS)]
    widths = [6.0, *(width for _, _, width in RESULT_COLUMNS)]
    values = [[str(n), *(get(r) for _, get, _ in RESULT_COLUMNS)] for n, r in enumerate(rows, 1)]
    return _workbook("成绩", header, values, widths)


def results_csv(rows: Sequence[ResultRow]) -> bytes:
    header = ["序号", *(name for name, _, _ in RESULT_COLUMNS)]
    return _csv(
        header,
        ([str(n), *(get(r) for _, get, _ in RESULT_COLUMNS)] for n, r in enumerate(rows, 1)),
    )


def platform_results_xlsx(rows: Sequence[ResultRow]) -> bytes:
    """The exam-result file for the national platform as xlsx: every cell text."""
    header = [name for name, _ in PLATFORM_RESULT_COLUMNS]
    values = [[get(r) for _, get in PLATFORM_RESULT_COLUMNS] for r in rows]
    return _workbook("考核结果", header, values, [16.0] * len(header))


def platform_results_csv(rows: Sequence[ResultRow]) -> bytes:
    """The exam-result file for the national platform as CSV (UTF-8 with BOM)."""
    return _csv(
        [name for name, _ in PLATFORM_RESULT_COLUMNS],
        ([get(r) for _, get in PLATFORM_RESULT_COLUMNS] for r in rows),
    )


# ---- statistics ------------------------------------------------------------------------------


def percent(value: Decimal | None) -> str:
    """A rate as people read it: 0.8333 → 83.33%; empty when nothing to divide by."""
    return "" if value is None else f"{value * 100:.2f}%"


def number(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


STAT_HEADER = [
    "分组",
    "报名人数",
    "参考人数",
    "参考率",
    "通过人数",
    "通过率",
    "补考人数",
    "待定",
    "理论参考",
    "理论通过",
    "理论通过率",
    "理论平均分",
    "理论标准差",
    "实操参考",
    "实操通过",
    "实操通过率",
    "实操平均分",
    "实操标准差",
]


def _part(p: PartStats) -> list[str]:
    return [str(p.sat), str(p.passed), percent(p.pass_rate), number(p.mean), number(p.std)]


def stat_row(name: str, s: GroupStats) -> list[str]:
    return [
        name,
        str(s.registered),
        str(s.sat),
        percent(s.sat_rate),
        str(s.passed),
        percent(s.pass_rate),
        str(s.retakes),
        str(s.pending),
        *_part(s.theory),
        *_part(s.practical),
    ]


AGREEMENT_HEADER = ["范围", "答卷数", "完全一致率", "平均分差", "仲裁率", "相关系数"]


def agreement_row(name: str, a: Agreement) -> list[str]:
    return [
        name,
        str(a.scripts),
        percent(a.exact_rate),
        number(a.mean_abs_difference),
        percent(a.arbitration_rate),
        "" if a.pearson is None else f"{a.pearson:.4f}",
    ]


def statistics_xlsx(
    dimensions: Sequence[tuple[str, Sequence[tuple[str, GroupStats]]]],
    histograms: Sequence[tuple[str, GroupStats]],
    agreement: Sequence[tuple[str, Agreement]],
) -> bytes:
    """One sheet per dimension (计划, 考点, 考场, 院校), the score bands and rater agreement."""
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    used: set[str] = set()
    widths = [24.0, *([10.0] * (len(STAT_HEADER) - 1))]
    for title, groups in dimensions:
        ws = wb.create_sheet(_sheet_title(title, used))
        _table(ws, 1, STAT_HEADER, [stat_row(name, s) for name, s in groups], widths)
    ws = wb.create_sheet(_sheet_title("分数分布", used))
    bands = [b.label for b in histograms[0][1].theory.histogram] if histograms else []
    rows = [
        [name, kind_name, *(str(b.count) for b in part.histogram)]
        for name, s in histograms
        for kind_name, part in (("理论", s.theory), ("实操", s.practical))
    ]
    _table(ws, 1, ["分组", "部分", *bands], rows, [24.0, 8.0, *([8.0] * len(bands))])
    ws = wb.create_sheet(_sheet_title("评分一致性", used))
    _table(
        ws,
        1,
        AGREEMENT_HEADER,
        [agreement_row(name, a) for name, a in agreement],
        [28.0, 10.0, 12.0, 10.0, 10.0, 10.0],
    )
    return _save(wb)
