"""Blueprints (双向细目表) as pure data: what every paper of an exam part must look like.

A blueprint names, per exam part, the sections (item type, count, points), the coverage the
part must have of the skill standard (work fields, tasks, skill codes, practical task kinds),
a difficulty target with tolerance, excluded items, the exposure cap and shuffling. It is read
from YAML (files in ``question_banks/blueprints/`` or the text edited in the UI) and checked
against the exam scheme and the skill standard before anything uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..bank.model import TASK_KIND_NAMES, TASK_KINDS, TYPE_NAMES
from ..catalog.scheme_rules import Part, Scheme
from ..catalog.standards import Standard

COVERAGE_KEYS = {
    "field",
    "code",
    "task_kind",
    "type",
    "min",
    "max",
    "min_share",
    "max_share",
    "name",
}


class BlueprintError(ValueError):
    """A blueprint breaks a rule; ``problems`` lists each one with where it is."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SectionSpec:
    type: str
    count_min: int
    count_max: int
    points_each: Decimal | None  # None: practical items keep their own points

    @property
    def label(self) -> str:
        return TYPE_NAMES.get(self.type, self.type)

    def points_for(self, own: Decimal | None) -> Decimal:
        """What an item scores in this section: the section's points, else the item's own."""
        return self.points_each if self.points_each is not None else (own or Decimal(0))


@dataclass(frozen=True)
class Coverage:
    """At least/at most so many items (or such a share of the points) touching one target.

    The target is a work field (by name), a task/skill/requirement code of the standard, or a
    practical task kind; ``type`` narrows it to one section.
    """

    scope: str  # field | code | task_kind
    value: str
    type: str | None = None
    min_count: int | None = None
    max_count: int | None = None
    min_share: Decimal | None = None
    max_share: Decimal | None = None

    @property
    def key(self) -> str:
        """What a pool item must cover to count (see ``pool.covers``)."""
        return f"{self.scope}:{self.value}"

    def matches(self, covers: frozenset[str], type_: str) -> bool:
        """Does an item of ``type_`` covering ``covers`` count towards this line?"""
        return self.key in covers and self.type in (None, type_)

    @property
    def label(self) -> str:
        if self.scope == "field":
            target = f"工作领域“{self.value}”"
        elif self.scope == "task_kind":
            target = f"任务类型“{TASK_KIND_NAMES.get(self.value, self.value)}”"
        else:
            target = f"{'任务' if self.value.count('-') == 1 else '技能'} {self.value}"
        return f"{TYPE_NAMES[self.type]} · {target}" if self.type else target


@dataclass(frozen=True)
class Difficulty:
    target: Decimal
    tolerance: Decimal


@dataclass(frozen=True)
class PartBlueprint:
    kind: str
    name: str
    total_points: Decimal
    sections: tuple[SectionSpec, ...]
    coverage: tuple[Coverage, ...] = ()
    difficulty: Difficulty | None = None
    exclude: tuple[str, ...] = ()
    max_exposure: Decimal = Decimal(1)
    shuffle_items: bool = True
    shuffle_options: bool = True

    def section(self, type_: str) -> SectionSpec | None:
        return next((s for s in self.sections if s.type == type_), None)


@dataclass(frozen=True)
class Blueprint:
    name: str
    certificate: str
    level: str
    parts: tuple[PartBlueprint, ...]
    notes: str = ""


def _decimal(raw: Any, what: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise ValueError(f"{what}“{raw}”不是数字") from exc
    if not value.is_finite():
        raise ValueError(f"{what}“{raw}”不是数字")
    return value


def _optional(node: dict[str, Any], key: str, what: str, kind: type) -> Any:
    raw = node.get(key)
    if raw is None:
        return None
    if kind is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"{what}“{raw}”应为整数")
        return raw
    return _decimal(raw, what)


def _coverage(node: Any, where: str) -> Coverage:
    if not isinstance(node, dict):
        raise ValueError(f"{where}：每条覆盖要求必须是映射，如 {{field: …, min: 3}}")
    scopes = [s for s in ("field", "code", "task_kind") if node.get(s) not in (None, "")]
    if len(scopes) != 1:
        raise ValueError(f"{where}：field、code、task_kind 三者必须恰好写一个")
    unknown = set(node) - COVERAGE_KEYS
    if unknown:
        raise ValueError(f"{where}：不认识的字段 {', '.join(sorted(unknown))}")
    type_ = node.get("type")
    return Coverage(
        scope=scopes[0],
        value=str(node[scopes[0]]).strip(),
        type=None if type_ in (None, "") else str(type_).strip(),
        min_count=_optional(node, "min", f"{where}：min", int),
        max_count=_optional(node, "max", f"{where}：max", int),
        min_share=_optional(node, "min_share", f"{where}：min_share", Decimal),
        max_share=_optional(node, "max_share", f"{where}：max_share", Decimal),
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _section(node: Any, where: str) -> SectionSpec:
    if not isinstance(node, dict) or "type" not in node:
        raise ValueError(
            f"{where}：每个题型必须是映射，如 {{type: single, count: 30, points_each: 2}}"
        )
    count = node.get("count")
    low = node.get("count_min", count)
    high = node.get("count_max", count)
    if not (_is_int(low) and _is_int(high)):
        raise ValueError(f"{where}：题量应写 count（或 count_min 与 count_max），且为整数")
    assert isinstance(low, int) and isinstance(high, int)
    points = node.get("points_each")
    return SectionSpec(
        type=str(node["type"]).strip(),
        count_min=low,
        count_max=high,
        points_each=None if points is None else _decimal(points, f"{where}：points_each"),
    )


def _part(node: Any, where: str) -> PartBlueprint:
    if not isinstance(node, dict):
        raise ValueError(f"{where}：每个部分必须是映射")
    kind = str(node.get("kind", "")).strip()
    sections = node.get("sections")
    if not isinstance(sections, list) or not sections:
        raise ValueError(f"{where}：sections 必须是非空列表")
    coverage = node.get("coverage") or []
    exclude = node.get("exclude") or []
    if not isinstance(coverage, list) or not isinstance(exclude, list):
        raise ValueError(f"{where}：coverage 与 exclude 必须是列表")
    difficulty = node.get("difficulty")
    if difficulty is not None and not (isinstance(difficulty, dict) and "target" in difficulty):
        raise ValueError(f"{where}：difficulty 应写成 {{target: 3, tolerance: 0.3}}")
    for flag in ("shuffle_items", "shuffle_options"):
        if not isinstance(node.get(flag, True), bool):
            raise ValueError(f"{where}：{flag} 应为 true 或 false")
    return PartBlueprint(
        kind=kind,
        name=str(
            node.get("name") or {"theory": "理论考试", "practical": "实操考试"}.get(kind, kind)
        ),
        total_points=_decimal(node.get("total_points", 100), f"{where}：total_points"),
        sections=tuple(_section(s, f"{where}.sections[{i}]") for i, s in enumerate(sections, 1)),
        coverage=tuple(_coverage(c, f"{where}.coverage[{i}]") for i, c in enumerate(coverage, 1)),
        difficulty=None
        if difficulty is None
        else Difficulty(
            _decimal(difficulty["target"], f"{where}：difficulty.target"),
            _decimal(difficulty.get("tolerance", "0.3"), f"{where}：difficulty.tolerance"),
        ),
        exclude=tuple(str(x).strip() for x in exclude),
        max_exposure=_decimal(node.get("max_exposure", 1), f"{where}：max_exposure"),
        shuffle_items=node.get("shuffle_items", True),
        shuffle_options=node.get("shuffle_options", True),
    )


def parse_blueprint(data: Any, origin: str = "细目表") -> Blueprint:
    """Read a blueprint mapping and check its own rules; raise BlueprintError listing them all."""
    if not isinstance(data, dict):
        raise BlueprintError([f"{origin}：顶层必须是映射（name、certificate、level、parts）"])
    missing = [k for k in ("name", "certificate", "level", "parts") if not data.get(k)]
    if missing:
        raise BlueprintError([f"{origin}：缺少字段 {', '.join(missing)}"])
    if not isinstance(data["parts"], list):
        raise BlueprintError([f"{origin}：parts 必须是列表"])
    parts: list[PartBlueprint] = []
    problems: list[str] = []
    for i, node in enumerate(data["parts"], 1):
        try:
            parts.append(_part(node, f"{origin}：parts[{i}]"))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise BlueprintError(problems)
    blueprint = Blueprint(
        name=str(data["name"]).strip(),
        certificate=str(data["certificate"]).strip(),
        level=str(data["level"]).strip(),
        parts=tuple(parts),
        notes=str(data.get("notes") or ""),
    )
    problems = validate_blueprint(blueprint)
    if problems:
        raise BlueprintError([f"{origin}：{p}" for p in problems])
    return blueprint


def validate_blueprint(
    blueprint: Blueprint, scheme: Scheme | None = None, standard: Standard | None = None
) -> list[str]:
    """Every rule broken: the blueprint's own, and against the scheme and standard when given."""
    problems: list[str] = []
    kinds = [p.kind for p in blueprint.parts]
    if len(set(kinds)) != len(kinds):
        problems.append("每种考试部分（theory、practical）只能写一次")
    for part in blueprint.parts:
        problems += [f"{part.name}：{p}" for p in _part_problems(part)]
        if standard is not None:
            problems += [f"{part.name}：{p}" for p in _standard_problems(part, standard)]
    if scheme is not None:
        problems += _scheme_problems(blueprint, scheme)
    return problems


def _part_problems(part: PartBlueprint) -> list[str]:
    problems: list[str] = []
    if part.kind not in ("theory", "practical"):
        problems.append(f"部分类型“{part.kind}”无效，应为 theory 或 practical")
    types = [s.type for s in part.sections]
    if len(set(types)) != len(types):
        problems.append("同一题型只能写一节")
    for s in part.sections:
        if s.type not in TYPE_NAMES:
            problems.append(f"题型“{s.type}”无效，应为 {', '.join(TYPE_NAMES)} 之一")
            continue
        if (s.type == "practical") != (part.kind == "practical"):
            problems.append(
                f"{s.label}题不属于{'实操' if part.kind == 'practical' else '理论'}部分"
            )
        if not 0 < s.count_min <= s.count_max:
            problems.append(f"{s.label}：题量 {s.count_min}–{s.count_max} 无效")
        if s.points_each is not None and s.points_each <= 0:
            problems.append(f"{s.label}：每题分值必须大于 0")
        if s.points_each is None and s.type != "practical":
            problems.append(f"{s.label}：需要每题分值 points_each")
    if part.total_points != 100:
        problems.append(f"满分为 {part.total_points}，每个部分应为 100 分")
    fixed = [s for s in part.sections if s.points_each is not None]
    if len(fixed) == len(part.sections) and all(s.count_min == s.count_max for s in fixed):
        total = sum((s.points_each * s.count_min for s in fixed if s.points_each), Decimal(0))
        if total != part.total_points:
            detail = " + ".join(f"{s.label} {s.count_min}×{s.points_each}" for s in fixed)
            problems.append(f"各题型分值合计 {detail} = {total}，应等于满分 {part.total_points}")
    problems += _coverage_problems(part)
    if part.difficulty is not None:
        if not Decimal(1) <= part.difficulty.target <= Decimal(5):
            problems.append(f"难度目标 {part.difficulty.target} 应在 1 到 5 之间")
        if part.difficulty.tolerance <= 0:
            problems.append(f"难度容差 {part.difficulty.tolerance} 必须大于 0")
    if not Decimal(0) < part.max_exposure <= Decimal(1):
        problems.append(f"最大曝光率 {part.max_exposure} 应大于 0 且不超过 1（即 100%）")
    return problems


def _coverage_problems(part: PartBlueprint) -> list[str]:
    problems: list[str] = []
    types = {s.type for s in part.sections}
    for c in part.coverage:
        if c.type is not None and c.type not in types:
            problems.append(f"覆盖要求“{c.value}”限定的题型 {c.type} 不在本部分的题型中")
            continue
        if c.scope == "task_kind" and c.value not in TASK_KINDS:
            problems.append(f"任务类型“{c.value}”无效，应为 {', '.join(TASK_KINDS)} 之一")
            continue
        bounds = (c.min_count, c.max_count, c.min_share, c.max_share)
        if all(b is None for b in bounds):
            problems.append(f"{c.label}：至少写 min、max、min_share、max_share 中的一个")
        if any(b is not None and b < 0 for b in bounds):
            problems.append(f"{c.label}：上下限不能为负数")
        for share in (c.min_share, c.max_share):
            if share is not None and share > 1:
                problems.append(f"{c.label}：分值占比 {share} 应在 0 与 1 之间")
        if c.min_count is not None and c.max_count is not None and c.min_count > c.max_count:
            problems.append(f"{c.label}：至少 {c.min_count} 道却至多 {c.max_count} 道，互相矛盾")
        if c.min_share is not None and c.max_share is not None and c.min_share > c.max_share:
            problems.append(
                f"{c.label}：分值占比下限 {c.min_share} 高于上限 {c.max_share}，互相矛盾"
            )
        room = sum(s.count_max for s in part.sections if c.type in (None, s.type))
        if c.min_count is not None and c.min_count > room:
            problems.append(f"{c.label}：至少 {c.min_count} 道，但相关题型最多只有 {room} 道")
    return problems


def _standard_problems(part: PartBlueprint, standard: Standard) -> list[str]:
    fields = {f.name for f in standard.fields}
    problems = []
    for c in part.coverage:
        if c.scope == "field" and c.value not in fields:
            problems.append(
                f"工作领域“{c.value}”不在{standard.certificate_name}（{standard.level_name}）"
                f"标准中；可选：{'、'.join(f.name for f in standard.fields)}"
            )
        if c.scope == "code" and standard.lookup(c.value) is None:
            problems.append(
                f"代码 {c.value} 不在{standard.certificate_name}（{standard.level_name}）标准中"
            )
    return problems


def _scheme_problems(blueprint: Blueprint, scheme: Scheme) -> list[str]:
    problems: list[str] = []
    if blueprint.certificate != scheme.certificate or blueprint.level not in scheme.levels:
        problems.append(
            f"细目表属于 {blueprint.certificate}/{blueprint.level}，"
            f"考核方案适用于 {scheme.certificate}/{'、'.join(scheme.levels)}"
        )
    by_kind: dict[str, Part] = {p.kind: p for p in scheme.parts}
    for part in blueprint.parts:
        spec = by_kind.get(part.kind)
        if spec is None:
            problems.append(f"考核方案没有 {part.kind} 部分，细目表却写了“{part.name}”")
            continue
        if spec.total_points != part.total_points:
            problems.append(
                f"{part.name}：满分 {part.total_points} 与考核方案的 {spec.total_points} 不符"
            )
        for s in spec.sections:
            mine = part.section(s.item_type)
            name = TYPE_NAMES.get(s.item_type, s.item_type)
            if mine is None:
                problems.append(f"{part.name}：考核方案要求{name}题，细目表没有这一节")
                continue
            if not s.count_min <= mine.count_min <= mine.count_max <= s.count_max:
                problems.append(
                    f"{part.name} · {name}：题量 {mine.count_min}–{mine.count_max} "
                    f"超出考核方案规定的 {s.count_min}–{s.count_max}"
                )
            if mine.points_each != s.points_each:
                problems.append(
                    f"{part.name} · {name}：每题 {mine.points_each} 分，考核方案规定 {s.points_each} 分"
                )
        extra = {s.type for s in part.sections} - {s.item_type for s in spec.sections}
        for t in sorted(extra):
            problems.append(f"{part.name}：考核方案没有{TYPE_NAMES.get(t, t)}题")
    missing = {p.kind for p in scheme.parts} - {p.kind for p in blueprint.parts}
    for kind in sorted(missing):
        problems.append(f"考核方案的 {by_kind[kind].name} 在细目表中没有对应部分")
    return problems


def blueprint_from_scheme(scheme: Scheme, level: str) -> dict[str, Any]:
    """A starting blueprint mapping that copies the scheme's sections, for a new blueprint."""
    parts = []
    for part in scheme.parts:
        sections = []
        for s in part.sections:
            node: dict[str, Any] = {"type": s.item_type}
            if s.count_min == s.count_max:
                node["count"] = s.count_min
            else:
                node.update(count_min=s.count_min, count_max=s.count_max)
            if s.points_each is not None:
                node["points_each"] = (
                    int(s.points_each) if s.points_each % 1 == 0 else str(s.points_each)
                )
            sections.append(node)
        parts.append(
            {
                "kind": part.kind,
                "name": part.name,
                "max_exposure": 0.5,
                "shuffle_items": True,
                "shuffle_options": part.kind == "theory",
                "sections": sections,
                "coverage": [],
            }
        )
    return {
        "name": f"{scheme.name} 细目表",
        "certificate": scheme.certificate,
        "level": level,
        "parts": parts,
    }
