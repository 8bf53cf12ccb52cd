"""Objective scoring (客观题评分): item scores, the theory score on 100, and key corrections.

An answer is compared with the bank's key as delivery stores it (``delivery.answers``): original
option keys, so the shuffled order a candidate saw plays no part. Single choice (单选) and
true/false (判断) score all or nothing. Multiple choice (多选) follows the scheme's policy:

- ``all_or_nothing`` (全对得分, the default): full points for exactly the key, else 0;
- ``partial`` (少选得部分分): full points for exactly the key, ``points × partial_ratio`` (0.5 by
  default, 少选得一半) for a non-empty part of the key with no wrong option, else 0;
- ``per_option`` (按选项计分): each correct option ticked earns its weight (an equal share of the
  points unless the key gives weights), but any wrong option ticked scores 0 — otherwise ticking
  every option would earn full points.

Under every policy an unanswered item scores 0 and a wrong option scores 0. Partial and
per-option scores are rounded half-up to 0.01 point; an exact answer always earns the points.

A part is scored on 100 (百分制): ``raw × 100 / paper points``, identical when the paper is worth
100. The score of record is that, rounded half-up to one decimal (``round_score``), and a part
passes when its score of record reaches the pass line (``passes``): 59.9 fails, 60.0 passes.
``docs/grading.md`` explains why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ..bank.model import OPTION_KEYS, TYPE_NAMES
from ..catalog.scheme_rules import MC_POLICIES, Scheme
from ..delivery.answers import Value

OBJECTIVE_TYPES = ("single", "multiple", "truefalse")
MC_POLICY_NAMES = {
    "all_or_nothing": "全对得分",
    "partial": "少选得部分分",
    "per_option": "按选项计分",
}
HUNDRED = Decimal(100)
PASS_LINE = Decimal(60)  # on 100, for each part (domain.md: pass line 60 for each part)
CENT = Decimal("0.01")  # precision of a partial item score
TENTH = Decimal("0.1")  # precision of a part's score of record


class GradingError(ValueError):
    """Grading input breaks a rule; ``message`` says what, where and how to fix it.

    Shaped like ``examsvc.errors.DomainError`` (message, details) so a service can re-raise it
    as one; the pure core cannot import that module, which needs Flask.
    """

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


def round_score(score: Decimal) -> Decimal:
    """The score of record: half-up to one decimal (59.94 → 59.9, 59.95 → 60.0)."""
    return score.quantize(TENTH, rounding=ROUND_HALF_UP)


def passes(score: Decimal, pass_line: Decimal = PASS_LINE) -> bool:
    """Does a part's score pass? Judged on the score of record, so what is shown is what counts."""
    return round_score(score) >= pass_line


def scale_to_hundred(raw: Decimal, paper_points: Decimal) -> Decimal:
    """``raw`` points of a paper worth ``paper_points`` on 100, unrounded (exact when 100)."""
    if not paper_points.is_finite() or paper_points <= 0:
        raise GradingError(f"试卷总分 {paper_points} 无效：应为正数，请检查试卷各题分值")
    if not Decimal(0) <= raw <= paper_points:
        raise GradingError(f"得分 {raw} 超出试卷总分范围 0–{paper_points}：请核对各题得分")
    if paper_points == HUNDRED:
        return raw
    return raw * HUNDRED / paper_points


@dataclass(frozen=True)
class McPolicy:
    """The scheme's multiple-choice policy (``Scheme.mc_policy`` and ``mc_partial_ratio``)."""

    name: str = "all_or_nothing"
    partial_ratio: Decimal = Decimal("0.5")  # share of the points for a correct subset (partial)

    def __post_init__(self) -> None:
        if self.name not in MC_POLICIES:
            raise GradingError(
                f"多选评分规则“{self.name}”无效：应为 {'、'.join(MC_POLICIES)} 之一，请检查考核方案"
            )
        if not Decimal(0) < self.partial_ratio < Decimal(1):
            raise GradingError(
                f"少选得分比例 {self.partial_ratio} 无效：应在 0 与 1 之间（不含端点），如 0.5"
            )

    @classmethod
    def from_scheme(cls, scheme: Scheme) -> McPolicy:
        return cls(scheme.mc_policy, scheme.mc_partial_ratio)


@dataclass(frozen=True)
class ObjectiveKey:
    """The key of one objective item on a paper, as the bank writes it.

    ``item`` is any id unique on the paper (the wiring may use "W-001@3" or the position);
    ``answer`` is "B" (single), "ACD" (multiple) or "true"/"false" (truefalse); ``points``
    come from the scheme's section. ``weights`` are for ``per_option`` only: the points each
    correct option earns, summing to ``points``; empty means equal shares.
    """

    item: str
    item_type: str
    answer: str
    points: Decimal
    weights: tuple[tuple[str, Decimal], ...] = ()

    def __post_init__(self) -> None:
        where = f"题目“{self.item}”"
        if not self.item:
            raise GradingError("题目编号不能为空：请用试卷上唯一的编号，如 W-001@3")
        if self.item_type not in OBJECTIVE_TYPES:
            raise GradingError(
                f"{where}的题型“{self.item_type}”不是客观题：应为 single、multiple 或 truefalse"
                "（实操题由考评员评分）"
            )
        if not self.points.is_finite() or self.points <= 0:
            raise GradingError(f"{where}的分值 {self.points} 无效：应为正数，请检查考核方案")
        name = TYPE_NAMES[self.item_type]
        if self.item_type == "truefalse":
            if self.answer not in ("true", "false"):
                raise GradingError(f"{where}是判断题：答案“{self.answer}”应为 true 或 false")
        elif self.item_type == "single":
            if len(self.answer) != 1 or self.answer not in OPTION_KEYS:
                raise GradingError(f"{where}是单选题：答案“{self.answer}”应为 A–H 中的一个字母")
        else:
            letters = self.answer
            if len(set(letters)) != len(letters) or any(x not in OPTION_KEYS for x in letters):
                raise GradingError(f"{where}是多选题：答案“{letters}”应为不重复的 A–H 字母，如 ACD")
            if len(letters) < 2:
                raise GradingError(f"{where}是多选题：答案“{letters}”至少需要两个正确选项")
        if self.weights:
            self._check_weights(where, name)

    def _check_weights(self, where: str, name: str) -> None:
        if self.item_type != "multiple":
            raise GradingError(f"{where}是{name}题：只有多选题可以设置选项权重")
        options = [option for option, _ in self.weights]
        if sorted(options) != sorted(self.answer):
            raise GradingError(
                f"{where}的选项权重应恰好覆盖正确选项 {''.join(sorted(self.answer))}，"
                f"现为 {''.join(options) or '无'}"
            )
        if any(not w.is_finite() or w <= 0 for _, w in self.weights):
            raise GradingError(f"{where}的选项权重必须都是正数")
        total = sum((w for _, w in self.weights), Decimal(0))
        if total != self.points:
            raise GradingError(f"{where}的选项权重合计 {total}，应等于本题分值 {self.points}")

    @property
    def correct(self) -> frozenset[str]:
        """The correct option keys (empty for true/false)."""
        return frozenset() if self.item_type == "truefalse" else frozenset(self.answer)


def _partial(points: Decimal, share: Decimal) -> Decimal:
    return (points * share).quantize(CENT, rounding=ROUND_HALF_UP)


def score_item(key: ObjectiveKey, answer: Value, policy: McPolicy) -> Decimal:
    """The points ``answer`` (as stored by delivery; None when unanswered) earns under ``key``."""
    if answer is None:
        return Decimal(0)
    where = f"题目“{key.item}”"
    if key.item_type == "truefalse":
        if not isinstance(answer, bool):
            raise GradingError(f"{where}是判断题：存储的答案 {answer!r} 应为 true 或 false")
        return key.points if answer == (key.answer == "true") else Decimal(0)
    if key.item_type == "single":
        if not isinstance(answer, str):
            raise GradingError(f"{where}是单选题：存储的答案 {answer!r} 应为一个选项字母")
        return key.points if answer == key.answer else Decimal(0)
    if not isinstance(answer, list) or not all(isinstance(x, str) for x in answer):
        raise GradingError(f"{where}是多选题：存储的答案 {answer!r} 应为选项字母的列表")
    ticked = frozenset(answer)
    if ticked == key.correct:
        return key.points
    if not ticked or not ticked < key.correct or policy.name == "all_or_nothing":
        return Decimal(0)  # nothing, a wrong option, or not the exact key under all-or-nothing
    if policy.name == "partial":
        return _partial(key.points, policy.partial_ratio)
    if key.weights:
        return sum((w for option, w in key.weights if option in ticked), Decimal(0))
    return _partial(key.points, Decimal(len(ticked)) / Decimal(len(key.correct)))


@dataclass(frozen=True)
class ObjectiveScore:
    """One candidate's objective part: each item's score in paper order, the raw sum and on 100."""

    items: tuple[tuple[str, Decimal], ...]
    raw: Decimal
    paper_points: Decimal

    @property
    def on_hundred(self) -> Decimal:
        """The part's score on 100, unrounded; ``round_score`` gives the score of record."""
        return scale_to_hundred(self.raw, self.paper_points)


def score_objective(
    keys: Sequence[ObjectiveKey], answers: Mapping[str, Value], policy: McPolicy
) -> ObjectiveScore:
    """Score a paper's objective items; ``answers`` by item id, a missing one is unanswered."""
    if not keys:
        raise GradingError("试卷上没有客观题：请检查试卷")
    seen: set[str] = set()
    for key in keys:
        if key.item in seen:
            raise GradingError(f"题目“{key.item}”在试卷上出现了两次：每题只能计分一次")
        seen.add(key.item)
    stray = sorted(set(answers) - seen)
    if stray:
        raise GradingError(
            f"答案中的题目 {'、'.join(stray)} 不在这份试卷上：请核对考生的试卷与答案是否对应"
        )
    items = tuple((key.item, score_item(key, answers.get(key.item), policy)) for key in keys)
    return ObjectiveScore(
        items=items,
        raw=sum((score for _, score in items), Decimal(0)),
        paper_points=sum((key.points for key in keys), Decimal(0)),
    )


# --- key corrections (更正答案): the dry run -------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """One candidate's objective part: the item ids of their paper in order, and their answers."""

    candidate: str
    items: tuple[str, ...]
    answers: Mapping[str, Value]


@dataclass(frozen=True)
class ItemChange:
    item: str
    old: Decimal
    new: Decimal


@dataclass(frozen=True)
class ScoreChange:
    """How a correction changes one candidate's part: items, raw points, score of record, pass."""

    candidate: str
    items: tuple[ItemChange, ...]
    old_raw: Decimal
    new_raw: Decimal
    old_score: Decimal  # of record, on 100
    new_score: Decimal
    old_passed: bool
    new_passed: bool

    @property
    def pass_changed(self) -> bool:
        return self.old_passed != self.new_passed


def _check_corrections(
    keys: Mapping[str, ObjectiveKey], corrections: Sequence[ObjectiveKey]
) -> dict[str, ObjectiveKey]:
    corrected: dict[str, ObjectiveKey] = {}
    for new in corrections:
        old = keys.get(new.item)
        if old is None:
            raise GradingError(f"更正的题目“{new.item}”没有原答案：请检查题目编号")
        if new.item in corrected:
            raise GradingError(f"题目“{new.item}”更正了两次：每题只能给出一个新答案")
        if new.item_type != old.item_type:
            raise GradingError(
                f"题目“{new.item}”是{TYPE_NAMES[old.item_type]}题，更正后不能变为"
                f"{TYPE_NAMES[new.item_type]}题：换题型请换题，而不是更正答案"
            )
        corrected[new.item] = new
    return corrected


def regrade(
    sheets: Sequence[Sheet],
    keys: Mapping[str, ObjectiveKey],
    corrections: Sequence[ObjectiveKey],
    policy: McPolicy,
    pass_line: Decimal = PASS_LINE,
) -> tuple[ScoreChange, ...]:
    """The dry run of a key correction: every candidate whose score would change, in sheet order.

    ``keys`` are the current keys of every item on any sheet; ``corrections`` the new keys (same
    item and type; the points may change). Nothing is written: staff review the list, then the
    service stores the new keys and scores. Candidates whose scores stay the same are left out.
    """
    corrected = _check_corrections(keys, corrections)
    seen: set[str] = set()
    changes: list[ScoreChange] = []
    for sheet in sheets:
        if sheet.candidate in seen:
            raise GradingError(f"考生“{sheet.candidate}”有两份答卷：每名考生只能有一份")
        seen.add(sheet.candidate)
        if not corrected.keys() & set(sheet.items):
            continue
        missing = [item for item in sheet.items if item not in keys]
        if missing:
            raise GradingError(
                f"考生“{sheet.candidate}”试卷上的题目 {'、'.join(missing)} 没有答案：请先载入它们的答案"
            )
        old = score_objective([keys[i] for i in sheet.items], sheet.answers, policy)
        new = score_objective(
            [corrected.get(i, keys[i]) for i in sheet.items], sheet.answers, policy
        )
        items = tuple(
            ItemChange(item, before, after)
            for (item, before), (_, after) in zip(old.items, new.items, strict=True)
            if before != after
        )
        old_score, new_score = round_score(old.on_hundred), round_score(new.on_hundred)
        if items or old_score != new_score:
            changes.append(
                ScoreChange(
                    candidate=sheet.candidate,
                    items=items,
                    old_raw=old.raw,
                    new_raw=new.raw,
                    old_score=old_score,
                    new_score=new_score,
                    old_passed=passes(old_score, pass_line),
                    new_passed=passes(new_score, pass_line),
                )
            )
    return tuple(changes)
