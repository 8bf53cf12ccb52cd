"""Exam schemes (考核方案) as pure data: parts, sections, pass lines, scoring policy and fee caps."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ITEM_TYPES = ("single", "multiple", "truefalse", "practical")
PART_KINDS = ("theory", "practical")
MC_POLICIES = ("all_or_nothing", "partial", "per_option")
# 元/人次, from the national cost rule (000: 1513–1531).
FEE_CAPS = {
    "paper": Decimal(200),
    "computer": Decimal(300),
    "practical_general": Decimal(500),
    "practical_special": Decimal(700),
}


class SchemeError(ValueError):
    """A scheme breaks a rule; the message names the part and the rule."""


@dataclass(frozen=True)
class Section:
    item_type: str
    count_min: int
    count_max: int
    points_each: Decimal | None  # None: each practical item carries its own points

    @property
    def fixed_points(self) -> Decimal | None:
        if self.points_each is None or self.count_min != self.count_max:
            return None
        return self.points_each * self.count_min


@dataclass(frozen=True)
class Part:
    kind: str
    name: str
    duration_minutes: int
    total_points: Decimal
    pass_line: Decimal
    exam_form: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Scheme:
    name: str
    certificate: str
    levels: tuple[str, ...]
    parts: tuple[Part, ...]
    mc_policy: str = "all_or_nothing"
    mc_partial_ratio: Decimal = Decimal("0.5")
    notes: str = ""
    errors: list[str] = field(default_factory=list, compare=False, repr=False)


def validate_scheme(scheme: Scheme) -> list[str]:
    """Every rule the scheme breaks, each saying where and what is expected (empty when valid)."""
    problems: list[str] = []
    if scheme.mc_policy not in MC_POLICIES:
        problems.append(
            f"多选评分规则 '{scheme.mc_policy}' 无效，应为 {', '.join(MC_POLICIES)} 之一"
        )
    if not Decimal(0) < scheme.mc_partial_ratio < Decimal(1):
        problems.append("少选得分比例应在 0 与 1 之间（不含端点）")
    kinds = [p.kind for p in scheme.parts]
    if sorted(set(kinds)) != sorted(kinds):
        problems.append("每种考试部分（理论、实操）只能出现一次")
    for part in scheme.parts:
        where = f"{part.name}（{part.kind}）"
        if part.kind not in PART_KINDS:
            problems.append(f"{where}：部分类型应为 theory 或 practical")
        if part.exam_form not in FEE_CAPS:
            problems.append(
                f"{where}：考试形式 '{part.exam_form}' 无效，应为 {', '.join(FEE_CAPS)} 之一"
            )
        if part.duration_minutes <= 0:
            problems.append(f"{where}：考试时长必须大于 0 分钟")
        if not Decimal(0) < part.pass_line <= part.total_points:
            problems.append(
                f"{where}：合格线 {part.pass_line} 应在 0 与满分 {part.total_points} 之间"
            )
        if not part.sections:
            problems.append(f"{where}：至少需要一个题型")
        problems.extend(_section_problems(part, where))
    return problems


def _section_problems(part: Part, where: str) -> list[str]:
    problems = []
    fixed = Decimal(0)
    for s in part.sections:
        if s.item_type not in ITEM_TYPES:
            problems.append(f"{where}：题型 '{s.item_type}' 无效")
            continue
        if (s.item_type == "practical") != (part.kind == "practical"):
            problems.append(f"{where}：题型 {s.item_type} 不属于该部分")
        if not 0 < s.count_min <= s.count_max:
            problems.append(f"{where}：{s.item_type} 题量范围 {s.count_min}–{s.count_max} 无效")
        if s.points_each is not None and s.points_each <= 0:
            problems.append(f"{where}：{s.item_type} 每题分值必须大于 0")
        if s.points_each is None and s.item_type != "practical":
            problems.append(f"{where}：{s.item_type} 需要每题分值")
        fixed += s.fixed_points or 0
    if part.kind == "theory" and fixed != part.total_points:
        problems.append(f"{where}：各题型分值合计 {fixed}，应等于满分 {part.total_points}")
    return problems


def fee_cap(parts: tuple[Part, ...]) -> Decimal:
    """The fee cap of a (possibly mixed) exam: each form's cap weighted by its share of points."""
    total = sum((p.total_points for p in parts), Decimal(0))
    if total == 0:
        return Decimal(0)
    weighted = sum((FEE_CAPS[p.exam_form] * p.total_points for p in parts), Decimal(0))
    return (weighted / total).quantize(Decimal("0.01"))


def parse_scheme(data: Any, origin: str = "<scheme>") -> Scheme:
    """Build a Scheme from its YAML mapping; raise SchemeError listing every problem."""
    try:
        parts = tuple(
            Part(
                kind=str(p["kind"]),
                name=str(p.get("name") or p["kind"]),
                duration_minutes=int(p["duration_minutes"]),
                total_points=Decimal(str(p.get("total_points", 100))),
                pass_line=Decimal(str(p.get("pass_line", 60))),
                exam_form=str(p["exam_form"]),
                sections=tuple(
                    Section(
                        item_type=str(s["type"]),
                        count_min=int(s.get("count_min", s.get("count", 0))),
                        count_max=int(s.get("count_max", s.get("count", 0))),
                        points_each=(
                            None if s.get("points_each") is None else Decimal(str(s["points_each"]))
                        ),
                    )
                    for s in p["sections"]
                ),
            )
            for p in data["parts"]
        )
        scheme = Scheme(
            name=str(data["name"]),
            certificate=str(data["certificate"]),
            levels=tuple(str(x) for x in data["levels"]),
            parts=parts,
            mc_policy=str(data.get("mc_policy", "all_or_nothing")),
            mc_partial_ratio=Decimal(str(data.get("mc_partial_ratio", "0.5"))),
            notes=str(data.get("notes") or ""),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise SchemeError(f"{origin}: missing or malformed field: {exc}") from exc
    problems = validate_scheme(scheme)
    if problems:
        raise SchemeError(f"{origin}: " + "；".join(problems))
    return scheme
