"""Check papers against their blueprint, independently of how they were made.

Tests, the benchmark (for the engine and for naive sampling alike) and the audit of stored
papers all use this one checker, written straight from the blueprint's definitions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal

from ..bank.model import TYPE_NAMES
from .blueprint import Blueprint, Coverage, PartBlueprint
from .engine import Paper, PaperItem, PaperPart, exposure_cap
from .pool import Candidate


def part_violations(
    part: PartBlueprint, paper_part: PaperPart, pool: Mapping[str, Candidate]
) -> list[str]:
    """Every rule of ``part`` that ``paper_part`` breaks (empty when it meets them all)."""
    problems: list[str] = []
    items = paper_part.items
    ids = [i.item for i in items]
    for item, n in Counter(ids).items():
        if n > 1:
            problems.append(f"{item} 在同一份试卷中出现 {n} 次")
    excluded = set(part.exclude)
    for i in items:
        c = pool.get(i.item)
        if c is None or c.version != i.version or c.type != i.type:
            problems.append(
                f"{i.item} v{i.version} 不是题库中已审核的{TYPE_NAMES.get(i.type, i.type)}题"
            )
        if i.item in excluded:
            problems.append(f"{i.item} 已被细目表排除")
    types = Counter(i.type for i in items)
    for s in part.sections:
        if not s.count_min <= types[s.type] <= s.count_max:
            problems.append(f"{s.label}：{types[s.type]} 道，应为 {s.count_min}–{s.count_max} 道")
        if s.points_each is not None:
            wrong = [i.item for i in items if i.type == s.type and i.points != s.points_each]
            problems += [f"{w}：分值应为 {s.points_each}" for w in wrong]
    extra = set(types) - {s.type for s in part.sections}
    problems += [f"细目表没有{TYPE_NAMES.get(t, t)}题" for t in sorted(extra)]
    if paper_part.points != part.total_points:
        problems.append(f"总分 {paper_part.points}，应为 {part.total_points}")
    for cov in part.coverage:
        problems += _coverage_violations(cov, items, pool, part.total_points)
    if part.difficulty is not None and items:
        mean = Decimal(str(round(paper_part.difficulty, 6)))
        if abs(mean - part.difficulty.target) > part.difficulty.tolerance + Decimal("0.000001"):
            problems.append(
                f"平均难度 {mean:.3f} 超出 {part.difficulty.target}±{part.difficulty.tolerance}"
            )
    for i in items:
        c = pool.get(i.item)
        if c is not None and i.options and sorted(i.options) != sorted(c.options):
            problems.append(f"{i.item}：选项排列 {i.options} 与原选项 {''.join(c.options)} 不符")
    return problems


def _coverage_violations(
    cov: Coverage, items: Sequence[PaperItem], pool: Mapping[str, Candidate], total: Decimal
) -> list[str]:
    hits = [
        i for i in items if (c := pool.get(i.item)) is not None and cov.matches(c.covers, c.type)
    ]
    count = len(hits)
    points = sum((i.points for i in hits), Decimal(0))
    problems = []
    if cov.min_count is not None and count < cov.min_count:
        problems.append(f"{cov.label}：{count} 道，至少应有 {cov.min_count} 道")
    if cov.max_count is not None and count > cov.max_count:
        problems.append(f"{cov.label}：{count} 道，至多 {cov.max_count} 道")
    share = points / total if total else Decimal(0)
    if cov.min_share is not None and share < cov.min_share:
        problems.append(f"{cov.label}：占分值 {share:.0%}，至少应占 {cov.min_share:.0%}")
    if cov.max_share is not None and share > cov.max_share:
        problems.append(f"{cov.label}：占分值 {share:.0%}，至多 {cov.max_share:.0%}")
    return problems


def plan_violations(
    blueprint: Blueprint, pool: Sequence[Candidate], papers: Sequence[Paper]
) -> list[tuple[int, str]]:
    """(paper number, problem) for every broken rule, exposure caps included (number 0)."""
    by_id = {c.item: c for c in pool}
    found: list[tuple[int, str]] = []
    for paper in papers:
        if len(paper.parts) != len(blueprint.parts):
            found.append((paper.number, "试卷的部分与细目表不符"))
            continue
        for part, pp in zip(blueprint.parts, paper.parts, strict=True):
            found += [(paper.number, f"{part.name}：{p}") for p in part_violations(part, pp, by_id)]
    for k, part in enumerate(blueprint.parts):
        cap = exposure_cap(part.max_exposure, len(papers))
        uses = Counter(i.item for p in papers if k < len(p.parts) for i in p.parts[k].items)
        for item, n in sorted(uses.items()):
            if n > cap:
                found.append((0, f"{part.name}：{item} 出现在 {n} 份试卷中，上限 {cap} 份"))
    return found
