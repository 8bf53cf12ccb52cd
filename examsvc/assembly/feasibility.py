"""Feasibility first: can this pool meet this blueprint for so many papers, and if not, why?

Static checks name the constraint and the shortfall in the terms staff use ("多选 · 技能 1-2-1：
至少需要 3 道，已审核的只有 1 道"); then a trial assembly of the whole plan catches what only
the constraints together rule out. Warnings flag pools too small for real randomization.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .blueprint import Blueprint, Coverage, PartBlueprint
from .engine import AssemblyError, PlanResult, assemble, exposure_cap
from .pool import Candidate

# below this many approved items per item needed, papers share too much to count as random
RANDOM_RATIO = 2.0


@dataclass(frozen=True)
class Supply:
    """Approved items against items needed per paper, for one section."""

    part: str
    section: str
    available: int
    needed: int

    @property
    def ratio(self) -> float:
        return self.available / self.needed if self.needed else 0.0


@dataclass
class Feasibility:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    supply: list[Supply] = field(default_factory=list)
    trial: PlanResult | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_feasibility(
    blueprint: Blueprint, pool: Sequence[Candidate], count: int = 1, seed: str | int = 0
) -> Feasibility:
    """Problems that stop ``count`` papers, warnings, supply per section and a trial plan."""
    report = Feasibility()
    if not pool:
        report.problems.append("题库中没有已审核的试题，无法组卷；请先审核通过试题")
        return report
    known = {c.item for c in pool}
    for part in blueprint.parts:
        unknown = [x for x in part.exclude if x not in known]
        if unknown:
            report.warnings.append(
                f"{part.name}：排除的试题 {'、'.join(unknown)} 不在已审核的试题中，可删去"
            )
        _check_part(part, [c for c in pool if c.item not in set(part.exclude)], count, report)
    if report.ok:
        try:
            report.trial = assemble(blueprint, pool, count, seed)
        except AssemblyError as exc:
            report.problems += exc.problems
    if report.trial is not None and report.trial.duplicates:
        report.warnings.append(
            f"{count} 份试卷中有 {report.trial.duplicates} 份与前面的试卷完全相同：题库不足以让每份都不同"
        )
    return report


def _check_part(
    part: PartBlueprint, pool: list[Candidate], count: int, report: Feasibility
) -> None:
    cap = exposure_cap(part.max_exposure, count)
    for s in part.sections:
        items = [c for c in pool if c.type == s.type]
        where = f"{part.name} · {s.label}"
        report.supply.append(Supply(part.name, s.label, len(items), s.count_max))
        if len(items) < s.count_min:
            report.problems.append(
                f"{where}：至少需要 {s.count_min} 道，已审核的只有 {len(items)} 道"
            )
            continue
        uses = s.count_min * count
        if uses > len(items) * cap:
            report.problems.append(
                f"{where}：{count} 份试卷共需 {uses} 题次，曝光率上限 {part.max_exposure:.0%} "
                f"（每题至多 {cap} 份）时 {len(items)} 道题最多提供 {len(items) * cap} 题次"
            )
        ratio = len(items) / s.count_max
        if ratio < RANDOM_RATIO:
            report.warnings.append(
                f"{where}：每份需要 {s.count_max} 道，已审核的只有 {len(items)} 道"
                f"（{ratio:.1f} 倍），各份试卷会大量重复；建议至少 {RANDOM_RATIO:g} 倍"
            )
    for cov in part.coverage:
        _check_coverage(part, cov, pool, report)
    _check_difficulty(part, pool, report)
    _check_points(part, pool, report)


def _check_coverage(
    part: PartBlueprint, cov: Coverage, pool: list[Candidate], report: Feasibility
) -> None:
    where = f"{part.name} · {cov.label}"
    sections = [s for s in part.sections if cov.type in (None, s.type)]
    hits = {
        s.type: [c for c in pool if c.type == s.type and cov.matches(c.covers, c.type)]
        for s in sections
    }
    room = sum(min(len(hits[s.type]), s.count_max) for s in sections)
    if cov.min_count is not None and room < cov.min_count:
        report.problems.append(f"{where}：至少需要 {cov.min_count} 道，已审核的只有 {room} 道")
    if cov.min_share is not None:
        best = Decimal(0)
        for s in sections:
            weights = sorted((s.points_for(c.points) for c in hits[s.type]), reverse=True)
            best += sum(weights[: s.count_max], Decimal(0))
        if best < cov.min_share * part.total_points:
            report.problems.append(
                f"{where}：至少需要占 {cov.min_share:.0%} 的分值，"
                f"已审核的试题最多只能占 {best / part.total_points:.0%}"
            )
    if cov.max_count is not None:
        forced = 0
        for s in sections:
            others = sum(1 for c in pool if c.type == s.type and not cov.matches(c.covers, c.type))
            forced += max(0, s.count_min - others)
        if forced > cov.max_count:
            report.problems.append(
                f"{where}：至多 {cov.max_count} 道，但其他已审核的试题不够，至少要放 {forced} 道"
            )


def _check_difficulty(part: PartBlueprint, pool: list[Candidate], report: Feasibility) -> None:
    """With fixed-point sections: the easiest and hardest papers the pool allows."""
    if part.difficulty is None or any(s.points_each is None for s in part.sections):
        return
    low = high = Decimal(0)
    for s in part.sections:
        levels = sorted(c.difficulty for c in pool if c.type == s.type)
        assert s.points_each is not None
        low += s.points_each * sum(levels[: s.count_min])
        high += s.points_each * sum(levels[-s.count_min :])
    total = part.total_points
    target, tol = part.difficulty.target, part.difficulty.tolerance
    if low / total > target + tol or high / total < target - tol:
        report.problems.append(
            f"{part.name}：平均难度目标 {target}±{tol} 无法达到，已审核试题能组出的平均难度"
            f"在 {low / total:.2f} 到 {high / total:.2f} 之间"
        )


def _check_points(part: PartBlueprint, pool: list[Candidate], report: Feasibility) -> None:
    """Items with their own points (practical): some 3–5 of them must add up to the total."""
    for s in part.sections:
        if s.points_each is not None:
            continue
        weights = [c.points or Decimal(0) for c in pool if c.type == s.type]
        # reachable[n] = totals reachable with exactly n distinct items
        reachable: list[set[Decimal]] = [{Decimal(0)}] + [set() for _ in range(s.count_max)]
        for w in weights:
            for n in range(s.count_max, 0, -1):
                reachable[n] |= {t + w for t in reachable[n - 1] if t + w <= part.total_points}
        if not any(part.total_points in reachable[n] for n in range(s.count_min, s.count_max + 1)):
            values = "、".join(f"{w:g}" for w in sorted(set(weights)))
            report.problems.append(
                f"{part.name} · {s.label}：已审核的试题中找不到 {s.count_min}–{s.count_max} 道"
                f"分值合计为 {part.total_points:g} 分的组合（现有分值：{values or '无'}）"
            )
