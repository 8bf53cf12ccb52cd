"""Statistics and export rows of a plan's results: per plan, site, room and institution."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from ..plans.models import SITE_TZ, ExamPlan
from ..registration.models import Registration
from . import practical, services
from .charts import histogram_svg
from .exports import PartCell, ResultRow
from .results import PART_NAMES, CandidateResult, PartResult
from .statistics import Agreement, GroupStats, group_stats

DIMENSIONS: list[tuple[str, str, Callable[[Registration], str]]] = [
    ("site", "考点", lambda r: r.site.name),
    ("room", "考场", lambda r: r.room.title if r.room else "未安排考场"),
    ("institution", "院校", lambda r: r.institution or "（未填院校）"),
]


@dataclass(frozen=True)
class PlanStatistics:
    plan: GroupStats
    groups: list[tuple[str, str, list[tuple[str, GroupStats]]]]  # key, title, (name, stats)


def statistics(plan: ExamPlan) -> PlanStatistics:
    rows = services.results_of(plan)
    results = [result for _, result, _ in rows]
    groups = []
    for key, title, name_of in DIMENSIONS:
        by: dict[str, list[CandidateResult]] = {}
        for reg, result, _ in rows:
            by.setdefault(name_of(reg), []).append(result)
        with services.rules():
            groups.append(
                (key, title, [(name, group_stats(rs)) for name, rs in sorted(by.items())])
            )
    with services.rules():
        return PlanStatistics(group_stats(results), groups)


def charts(plan: ExamPlan, stats: GroupStats) -> dict[str, Markup]:
    """The theory and practical score histograms as inline SVG (escaped inside)."""
    out = {}
    for kind, part in (("theory", stats.theory), ("practical", stats.practical)):
        scored = sum(b.count for b in part.histogram)
        title = f"{plan.batch} {PART_NAMES[kind]}成绩分布（{scored} 人有分数）"
        with services.rules():
            svg = histogram_svg(part.histogram, title, chart_id=f"hist-{kind}")
        out[kind] = Markup(svg)
    return out


def _cell(part: PartResult) -> PartCell:
    return PartCell(part.status, part.score, part.carried, part.passed)


def result_rows(plan: ExamPlan) -> list[ResultRow]:
    released = services.released(plan)
    released_on = "" if released is None else f"{released.astimezone(SITE_TZ):%Y-%m-%d}"
    day = f"{services.exam_day(plan):%Y-%m-%d}"
    return [
        ResultRow(
            ticket_number=reg.ticket_number or "",
            name=reg.candidate.name,
            id_number=reg.candidate.id_number,
            gender=reg.candidate.gender,
            institution=reg.institution,
            site=reg.site.name,
            room=reg.room.title if reg.room else "",
            certificate=plan.level.certificate.name,
            level=plan.level.name,
            batch=plan.batch,
            exam_date=day,
            theory=_cell(result.theory),
            practical=_cell(result.practical),
            overall=result.status,
            released_on=released_on,
        )
        for reg, result, _ in services.results_of(plan)
    ]


def agreement_rows(plan: ExamPlan) -> list[tuple[str, Agreement]]:
    report = practical.agreement(plan)
    return [
        ("全部答卷", report.overall),
        *((f"考评员 {user.display_name}", a) for user, a in report.by_rater),
        *((f"题目 {title}", a) for title, a in report.by_item),
    ]


def file_name(plan: ExamPlan, what: str, suffix: str) -> str:
    from ..plans.documents import file_name as plan_file_name

    return plan_file_name(plan, what, suffix)
