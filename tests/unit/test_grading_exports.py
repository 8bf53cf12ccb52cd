"""Result exports without a database: the result list, the national-platform file, statistics."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal as D

from openpyxl import load_workbook

from examsvc.grading.exports import (
    PLATFORM_RESULT_COLUMNS,
    PartCell,
    ResultRow,
    percent,
    platform_results_csv,
    platform_results_xlsx,
    results_csv,
    results_xlsx,
    statistics_xlsx,
)
from examsvc.grading.results import CandidateResult, PartResult, part_score
from examsvc.grading.statistics import group_stats

DAY = date(2026, 6, 15)


def row(name: str = "王子涵", theory: PartCell | None = None, overall: str = "passed") -> ResultRow:
    return ResultRow(
        ticket_number="260001001010019",
        name=name,
        id_number="32010220060204102X",
        gender="女",
        institution="示范职业技术学院",
        site="示范职业技术学院考点",
        room="示范职业技术学院考点 · 机房 101",
        certificate="Web 前端开发",
        level="初级",
        batch="2026 年第 4 批",
        exam_date="2026-06-15",
        theory=theory or PartCell("scored", D("60.0"), passed=True),
        practical=PartCell("scored", D("59.9"), passed=False),
        overall=overall,
        released_on="2026-06-30",
    )


def test_part_cells_say_the_score_of_record_or_why_there_is_none() -> None:
    assert PartCell("scored", D("60.0"), passed=True).text == "60.0"
    assert PartCell("scored", D("72"), passed=True).text == "72.0"
    assert PartCell("absent", None).text == "缺考"
    assert PartCell("voided", None).verdict == "取消成绩"
    assert PartCell("scored", D("80.0"), carried=True, passed=True).verdict == "合格（沿用）"
    assert row(theory=PartCell("scored", D("80.0"), carried=True, passed=True)).retake


def test_platform_csv_has_a_bom_every_column_and_neutralised_formulas() -> None:
    data = platform_results_csv([row(), row(name="=HYPERLINK(1)", overall="failed")])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [name for name, _ in PLATFORM_RESULT_COLUMNS]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["证件号码"] == "32010220060204102X" and first["理论成绩"] == "60.0"
    assert first["实操成绩"] == "59.9" and first["考核结果"] == "合格"
    assert rows[2][rows[0].index("姓名")] == "'=HYPERLINK(1)"
    assert rows[2][rows[0].index("考核结果")] == "不合格"


def test_xlsx_files_keep_identifiers_as_text() -> None:
    for data in (platform_results_xlsx([row()]), results_xlsx([row()])):
        ws = load_workbook(io.BytesIO(data)).active
        assert ws is not None
        values = [c.value for c in ws[2]]
        assert "32010220060204102X" in values and "260001001010019" in values
        assert all(c.data_type == "s" for c in ws[2])
    assert results_csv([row()]).decode("utf-8-sig").splitlines()[0].startswith("序号,准考证号")


def test_statistics_workbook_has_a_sheet_per_grouping_and_readable_rates() -> None:
    results = [
        CandidateResult("a", part_score("theory", D(80), DAY), part_score("practical", D(70), DAY)),
        CandidateResult(
            "b", part_score("theory", D(50), DAY), PartResult("practical", "absent", DAY)
        ),
    ]
    stats = group_stats(results)
    assert percent(stats.pass_rate) == "50.00%" and percent(None) == ""
    data = statistics_xlsx(
        [("计划", [("全部", stats)]), ("考点", [("一考点", stats)])], [("全部", stats)], []
    )
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["计划", "考点", "分数分布", "评分一致性"]
    assert [c.value for c in wb["计划"][2]][:6] == ["全部", "2", "2", "100.00%", "1", "50.00%"]
    bands = [c.value for c in wb["分数分布"][1]]
    assert bands[:3] == ["分组", "部分", "0–10"] and bands[-1] == "90–100"
