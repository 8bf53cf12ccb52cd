"""Eligibility rules (报考条件 / 面向对象) per certificate level, configured in YAML.

A rule set gives each level a list of alternative routes (路径); an applicant may sit a level when
every condition of at least one route holds. A level the rule set does not mention has no
restriction. The YAML layout and the reading of the seed's wording are documented in
``question_banks/eligibility/logistics.yaml``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from ..catalog.standards import LEVELS
from ..yaml_text import safe_load

# The choices offered to applicants, low to high.
EDUCATION = ("初中", "中职", "高中", "高职", "大专", "本科", "硕士", "博士")
# For "at least" comparisons: 中职 and 高中 are both upper-secondary (高中阶段), and 高职 is the
# school type that awards the 大专 (专科) diploma, so each pair shares a rank. 高职本科 graduates
# hold a 本科 diploma and are entered as 本科.
EDUCATION_RANK = {
    "初中": 1,
    "中职": 2,
    "高中": 2,
    "高职": 3,
    "大专": 3,
    "本科": 4,
    "硕士": 5,
    "博士": 6,
}
CONDITION_KEYS = (
    "education_in",
    "education_min",
    "major_category",
    "certificate",
    "years_min",
    "trained",
    "graduated",
)
TOP_KEYS = ("certificate", "certificate_name", "source", "notes", "major_categories", "levels")
LEVEL_KEYS = ("name", "routes", "notes")
# Certificates are compared without spaces, brackets or the word 证书, so 物流管理 初级,
# 物流管理（初级） and 物流管理职业技能等级证书（初级） are the same certificate.
_CERTIFICATE_NOISE = re.compile(r"[\s()（）【】\[\]]|职业技能等级证书|证书")


class EligibilityError(ValueError):
    """A rule set is malformed; ``problems`` has one line per problem, each saying where."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Applicant:
    """What the rules look at.

    ``education`` is the highest education completed or, for an applicant in the final year
    (``graduating``: 在校应届毕业生), the one being completed this year.
    """

    education: str
    major: str
    certificates: tuple[str, ...]
    years_in_trade: Decimal
    trained: bool  # passed this level's training (经本级培训并取得合格证书)
    graduating: bool = False

    def __post_init__(self) -> None:
        if self.education not in EDUCATION:
            raise ValueError(f"学历「{self.education}」无效，应为 {'、'.join(EDUCATION)} 之一")
        if self.years_in_trade < 0:
            raise ValueError(f"相关工作年限 {self.years_in_trade} 不能为负数")


@dataclass(frozen=True)
class Route:
    """One way into a level; every condition that is set must hold."""

    text: str  # the seed's wording, shown to staff and in refusals
    education_in: tuple[str, ...] = ()
    education_min: str | None = None
    major_category: str | None = None
    certificate: str | None = None
    years_min: Decimal | None = None
    trained: bool = False
    graduated: bool = False


@dataclass(frozen=True)
class LevelRules:
    key: str  # junior | intermediate | senior
    name: str  # 初级 | 中级 | 高级
    routes: tuple[Route, ...]


@dataclass(frozen=True)
class RuleSet:
    certificate: str  # the catalog code, e.g. logistics
    certificate_name: str
    major_categories: dict[str, tuple[str, ...]] = field(hash=False)
    levels: dict[str, LevelRules] = field(hash=False)  # keyed junior | intermediate | senior
    source: str = ""

    def level(self, level: str) -> LevelRules | None:
        """The rules of a level given by key (junior) or name (初级); None when unrestricted."""
        for rules in self.levels.values():
            if level in (rules.key, rules.name):
                return rules
        return None

    def major_in(self, category: str, major: str) -> bool:
        """A major belongs to a category when its name contains one of the category's keywords."""
        return any(keyword in major for keyword in self.major_categories[category])


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    route: str | None  # the text of the first route met; None when refused or unrestricted
    reasons: list[str] = field(default_factory=list)  # a refusal: one line per route


def certificate_key(text: str) -> str:
    """A certificate name reduced to what identifies it (see _CERTIFICATE_NOISE)."""
    return _CERTIFICATE_NOISE.sub("", unicodedata.normalize("NFKC", text))


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _failures(rules: RuleSet, route: Route, who: Applicant) -> list[str]:
    """Why ``who`` does not meet ``route``: one phrase per failed condition (empty when met)."""
    failed = []
    if route.education_in and who.education not in route.education_in:
        failed.append(f"学历 {who.education}，需为 {'或'.join(route.education_in)}")
    if route.education_min and EDUCATION_RANK[who.education] < EDUCATION_RANK[route.education_min]:
        failed.append(f"学历 {who.education}，需要 {route.education_min} 及以上")
    if route.major_category and not rules.major_in(route.major_category, who.major):
        category = route.major_category
        if not who.major.strip():
            failed.append(f"未填写专业，需为{category}类专业")
        else:
            keywords = "、".join(rules.major_categories[category])
            failed.append(f"专业「{who.major}」不属于{category}类（专业名称需含 {keywords} 之一）")
    if route.certificate:
        held = {certificate_key(c) for c in who.certificates}
        if certificate_key(route.certificate) not in held:
            failed.append(f"未持有「{route.certificate}」证书")
    if route.years_min is not None and who.years_in_trade < route.years_min:
        failed.append(
            f"相关工作年限 {_number(who.years_in_trade)} 年，至少需要 {_number(route.years_min)} 年"
        )
    if route.trained and not who.trained:
        failed.append("未经本级培训并取得合格证书")
    if route.graduated and who.graduating:
        failed.append("尚未毕业：本路径不含在校应届毕业生")
    return failed


def evaluate(rules: RuleSet, level: str, applicant: Applicant) -> Verdict:
    """Whether ``applicant`` may sit ``level`` (key or name) of the rule set's certificate."""
    level_rules = rules.level(level)
    if level_rules is None:
        if level not in LEVELS and level not in LEVELS.values():
            raise ValueError(f"报考等级「{level}」无效，应为 {'、'.join(LEVELS.values())} 之一")
        return Verdict(eligible=True, route=None)
    reasons = []
    for number, route in enumerate(level_rules.routes, start=1):
        failed = _failures(rules, route, applicant)
        if not failed:
            return Verdict(eligible=True, route=route.text)
        reasons.append(f"路径 {number}（{route.text}）：{'；'.join(failed)}")
    return Verdict(eligible=False, route=None, reasons=reasons)


class _Collector:
    """Reads a YAML mapping, noting each problem with where it is instead of stopping."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []

    def note(self, where: str, message: str) -> None:
        self.problems.append("：".join(p for p in (self.origin, where, message) if p))

    def mapping(self, value: object, where: str, allowed: tuple[str, ...]) -> dict[str, object]:
        if not isinstance(value, dict):
            self.note(where, f"应为键值映射，现为 {type(value).__name__}")
            return {}
        unknown = [str(k) for k in value if k not in allowed]
        if unknown:
            self.note(where, f"未知的键 {'、'.join(unknown)}（可用：{'、'.join(allowed)}）")
        return {str(k): v for k, v in value.items() if k in allowed}

    def text(self, value: object, where: str, what: str) -> str:
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            self.note(where, f"{what}应为非空文字")
            return ""
        return str(value).strip()

    def education(self, value: object, where: str) -> str | None:
        if value not in EDUCATION:
            self.note(where, f"学历「{value}」无效，应为 {'、'.join(EDUCATION)} 之一")
            return None
        return str(value)


def _categories(raw: object, check: _Collector) -> dict[str, tuple[str, ...]]:
    categories: dict[str, tuple[str, ...]] = {}
    if raw is None:
        return categories
    if not isinstance(raw, dict):
        check.note("major_categories", "应为“类别: [关键词, …]”的映射")
        return categories
    for name, keywords in raw.items():
        where = f"major_categories.{name}"
        if not isinstance(keywords, list) or not keywords:
            check.note(where, "应为非空的关键词列表")
            continue
        words = tuple(check.text(k, where, "关键词") for k in keywords)
        categories[str(name)] = tuple(w for w in words if w)
    return categories


def _route(
    raw: object, where: str, categories: Mapping[str, tuple[str, ...]], check: _Collector
) -> Route | None:
    fields = check.mapping(raw, where, ("text", *CONDITION_KEYS))
    if not isinstance(raw, dict):
        return None
    text = check.text(fields.get("text"), where, "text（原文）")
    if not any(k in fields for k in CONDITION_KEYS):
        check.note(where, "没有任何条件；若该等级不限报考条件，请删去该等级")
    education_in: tuple[str, ...] = ()
    if "education_in" in fields:
        values = fields["education_in"]
        if not isinstance(values, list) or not values:
            check.note(where, "education_in 应为学历列表，如 [中职]")
        else:
            found = (check.education(v, f"{where} education_in") for v in values)
            education_in = tuple(v for v in found if v)
    education_min = None
    if "education_min" in fields:
        education_min = check.education(fields["education_min"], f"{where} education_min")
    category = None
    if "major_category" in fields:
        category = str(fields["major_category"])
        if category not in categories:
            known = "、".join(categories) or "无，请先在 major_categories 中定义"
            check.note(where, f"专业类别「{category}」未定义（已定义：{known}）")
    certificate = None
    if "certificate" in fields:
        certificate = check.text(fields["certificate"], where, "certificate（证书名 等级）")
    years_min = None
    if "years_min" in fields:
        years_min = _years(fields["years_min"], where, check)
    for flag in ("trained", "graduated"):
        if flag in fields and fields[flag] is not True:
            check.note(where, f"{flag} 只能写 true；不要求时删去该项")
    return Route(
        text=text,
        education_in=education_in,
        education_min=education_min,
        major_category=category,
        certificate=certificate,
        years_min=years_min,
        trained=fields.get("trained") is True,
        graduated=fields.get("graduated") is True,
    )


def _years(value: object, where: str, check: _Collector) -> Decimal | None:
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        years = Decimal(str(value))
        if not years.is_finite() or years < 0:
            raise InvalidOperation
    except InvalidOperation:
        check.note(where, f"years_min 应为不小于 0 的年数，现为「{value}」")
        return None
    return years


def _level(
    key: str, raw: object, categories: Mapping[str, tuple[str, ...]], check: _Collector
) -> LevelRules | None:
    name = LEVELS[key]
    where = f"{name}（{key}）"
    fields = check.mapping(raw, where, LEVEL_KEYS)
    if "name" in fields and fields["name"] != name:
        check.note(where, f"名称应为 {name}，现为 {fields['name']}")
    routes_raw = fields.get("routes")
    if not isinstance(routes_raw, list) or not routes_raw:
        check.note(where, "没有任何报考路径（routes）；若该等级不限报考条件，请删去该等级")
        return None
    routes = [_route(r, f"{where}路径 {n}", categories, check) for n, r in enumerate(routes_raw, 1)]
    return LevelRules(key=key, name=name, routes=tuple(r for r in routes if r is not None))


def parse_rules(data: object, origin: str) -> RuleSet:
    """Build a RuleSet from its YAML mapping; raise EligibilityError listing every problem."""
    check = _Collector(origin)
    top = check.mapping(data, "", TOP_KEYS)
    certificate = check.text(top.get("certificate"), "", "certificate（证书代码）")
    categories = _categories(top.get("major_categories"), check)
    levels: dict[str, LevelRules] = {}
    raw_levels = top.get("levels")
    if not isinstance(raw_levels, dict) or not raw_levels:
        check.note("", f"levels 应为按等级（{'、'.join(LEVELS)}）列出报考路径的映射")
        raw_levels = {}
    for key, raw in raw_levels.items():
        if key not in LEVELS:
            check.note("", f"未知等级 {key}（可用：{'、'.join(LEVELS)}）")
            continue
        rules = _level(str(key), raw, categories, check)
        if rules is not None:
            levels[str(key)] = rules
    if check.problems:
        raise EligibilityError(check.problems)
    return RuleSet(
        certificate=certificate,
        certificate_name=str(top.get("certificate_name") or certificate),
        major_categories=categories,
        levels=levels,
        source=str(top.get("source") or ""),
    )


def load_rules(path: Path) -> RuleSet:
    """Read and parse a rule-set file; a YAML syntax error is an EligibilityError too."""
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise EligibilityError([f"{path}：不是有效的 YAML（{exc}）"]) from exc
    return parse_rules(data, str(path))
