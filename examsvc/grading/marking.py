"""Practical marking (实操评分): marking numbers, rubric scores, double marking and arbitration.

Raters see a script (one candidate's answer to one practical item) only under its marking number
(密号), a random code that says nothing about the candidate; the service alone keeps the link.
Each script is marked twice, independently, criterion by criterion against the item's rubric
(评分细则). When the two totals differ by more than the threshold (15 % of the item's points by
default) a third, senior rater arbitrates (仲裁, 第三评). The final score of a script:

- not arbitrated: the mean of the two raters;
- arbitrated, rule ``arbiter`` (default): the arbiter's score;
- arbitrated, rule ``mean_with_closer``: the mean of the arbiter's score and whichever of the
  first two is closer to it; when both are equally close the arbiter's score stands alone (it is
  then their mean anyway).

The threshold is compared strictly: a difference of exactly 15 % does not go to arbitration.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..bank.model import Criterion
from .scoring import GradingError, scale_to_hundred

DEFAULT_STEP = Decimal("0.5")  # the finest score a rater may give on a criterion
DEFAULT_THRESHOLD = Decimal("0.15")  # share of the item's points
ARBITRATED_RULES = ("arbiter", "mean_with_closer")
ARBITRATED_RULE_NAMES = {"arbiter": "以仲裁分为准", "mean_with_closer": "仲裁分与较接近一评取平均"}
MAX_COMMENT_CHARS = 2000
# Crockford's base32: no I, L, O, U, so a number copied by hand cannot be misread.
MARKING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MARKING_NUMBER = re.compile(r"^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")


class MarkingError(GradingError):
    """A mark, rubric or rater assignment breaks a marking rule."""


# --- marking numbers (密号) -------------------------------------------------------------------


def new_marking_numbers(
    count: int, taken: Collection[str] = frozenset(), rng: random.Random | None = None
) -> tuple[str, ...]:
    """``count`` new marking numbers like "K7QX9-M2DHP", unique and not in ``taken``.

    Fifty random bits each, from the operating system's generator unless ``rng`` is given (tests):
    guessing a number in use among a million scripts succeeds about once in a billion tries, and
    numbers follow no order, so neither the candidate nor the seat can be read from them.
    """
    if count < 0:
        raise MarkingError(f"要生成的密号数量 {count} 无效：应为 0 或正整数")
    draw = rng if rng is not None else secrets.SystemRandom()
    used = set(taken)
    numbers: list[str] = []
    while len(numbers) < count:
        code = "".join(draw.choice(MARKING_ALPHABET) for _ in range(10))
        number = f"{code[:5]}-{code[5:]}"
        if number not in used:  # collisions are rare; drawing again keeps every number unique
            used.add(number)
            numbers.append(number)
    return tuple(numbers)


# --- rubrics and marks ------------------------------------------------------------------------


@dataclass(frozen=True)
class RubricCriterion:
    """One scoring point (采分点): its name, maximum and the step scores move in."""

    name: str
    points: Decimal
    step: Decimal = DEFAULT_STEP

    def __post_init__(self) -> None:
        where = f"评分项“{self.name}”"
        if not self.name.strip():
            raise MarkingError("评分项名称不能为空：请检查题目的评分细则")
        if not self.points.is_finite() or self.points <= 0:
            raise MarkingError(f"{where}的分值 {self.points} 无效：应为正数")
        if not self.step.is_finite() or self.step <= 0:
            raise MarkingError(f"{where}的评分步长 {self.step} 无效：应为正数，如 0.5")
        if self.points % self.step:
            raise MarkingError(
                f"{where}的分值 {self.points} 不是步长 {self.step} 的整数倍，满分无法给出："
                "请调整步长（如 0.25）或分值"
            )

    def problem(self, score: Decimal) -> str | None:
        """What is wrong with ``score`` on this criterion, or None."""
        if not score.is_finite() or not Decimal(0) <= score <= self.points or score % self.step:
            return (
                f"评分项“{self.name}”的得分 {score} 无效：应在 0 到 {self.points} 分之间，"
                f"且为 {self.step} 的整数倍"
            )
        return None


@dataclass(frozen=True)
class Rubric:
    """An item's rubric (评分细则): its criteria in order; the item's points are their sum."""

    criteria: tuple[RubricCriterion, ...]

    def __post_init__(self) -> None:
        if not self.criteria:
            raise MarkingError("评分细则至少需要一个评分项：请在题库中补充该题的评分细则")

    @property
    def points(self) -> Decimal:
        return sum((c.points for c in self.criteria), Decimal(0))

    @classmethod
    def from_bank(cls, criteria: Sequence[Criterion], step: Decimal = DEFAULT_STEP) -> Rubric:
        """The rubric of a bank item (``ItemData.rubric``), every criterion with ``step``."""
        return cls(tuple(RubricCriterion(c.criterion, c.points, step) for c in criteria))


@dataclass(frozen=True)
class CriterionMark:
    score: Decimal
    comment: str = ""  # why points were taken off; shown to the other raters after marking


@dataclass(frozen=True)
class Marking:
    """One rater's marks on one script, one per rubric criterion, in rubric order."""

    rater: str
    marks: tuple[CriterionMark, ...]

    @property
    def total(self) -> Decimal:
        return sum((m.score for m in self.marks), Decimal(0))


def check_marking(rubric: Rubric, marking: Marking, script: str) -> Decimal:
    """Validate a rater's marks on ``script`` against ``rubric``; return their total.

    Every problem is named (criterion, range, step) in one error, so a rater fixes them at once.
    """
    where = f"密号 {script}"
    if len(marking.marks) != len(rubric.criteria):
        raise MarkingError(
            f"{where}：评分细则有 {len(rubric.criteria)} 个评分项，却给了 {len(marking.marks)} 个"
            "得分：请为每个评分项各给一个得分"
        )
    problems: list[str] = []
    for number, (criterion, mark) in enumerate(
        zip(rubric.criteria, marking.marks, strict=True), start=1
    ):
        problem = criterion.problem(mark.score)
        if problem:
            problems.append(f"第 {number} 项{problem}")
        if len(mark.comment) > MAX_COMMENT_CHARS:
            problems.append(
                f"第 {number} 项评分项“{criterion.name}”的评语有 {len(mark.comment)} 个字符，"
                f"超过上限 {MAX_COMMENT_CHARS}：请精简"
            )
    if problems:
        raise MarkingError(f"{where}：" + "；".join(problems), problems)
    return marking.total


# --- arbitration and the final score ---------------------------------------------------------


@dataclass(frozen=True)
class ArbitrationPolicy:
    """When a third rater is needed, and how the final score of an arbitrated script is formed."""

    threshold_ratio: Decimal = DEFAULT_THRESHOLD
    arbitrated_rule: str = "arbiter"

    def __post_init__(self) -> None:
        if not self.threshold_ratio.is_finite() or not 0 <= self.threshold_ratio <= 1:
            raise MarkingError(
                f"仲裁阈值比例 {self.threshold_ratio} 无效：应在 0 到 1 之间，如 0.15 表示本题分值的 15%"
            )
        if self.arbitrated_rule not in ARBITRATED_RULES:
            raise MarkingError(
                f"仲裁后的计分规则“{self.arbitrated_rule}”无效：应为 {'、'.join(ARBITRATED_RULES)} 之一"
            )

    def threshold(self, points: Decimal) -> Decimal:
        """The largest difference between two raters that needs no arbitration, in points."""
        return points * self.threshold_ratio


def needs_arbitration(
    first: Decimal, second: Decimal, points: Decimal, policy: ArbitrationPolicy
) -> bool:
    """Do two raters' totals differ by more than the threshold? Exactly at it: no."""
    return abs(first - second) > policy.threshold(points)


def final_score(
    first: Decimal,
    second: Decimal,
    points: Decimal,
    policy: ArbitrationPolicy,
    arbiter: Decimal | None = None,
) -> Decimal | None:
    """The script's final score, or None while it waits for its arbiter (see the module doc).

    An arbiter's score counts whenever there is one, also on a script staff sent to arbitration
    below the threshold (after an appeal, say).
    """
    if arbiter is None:
        return None if needs_arbitration(first, second, points, policy) else (first + second) / 2
    if policy.arbitrated_rule == "arbiter":
        return arbiter
    gap_first, gap_second = abs(arbiter - first), abs(arbiter - second)
    if gap_first == gap_second:
        return arbiter
    closer = first if gap_first < gap_second else second
    return (arbiter + closer) / 2


@dataclass(frozen=True)
class ScriptMarking:
    """Everything recorded on one script: its rubric and the two (or three) raters' marks."""

    script: str  # the marking number
    rubric: Rubric
    first: Marking
    second: Marking
    arbiter: Marking | None = None


@dataclass(frozen=True)
class Resolution:
    """The totals of a script's markings and its final score (None while awaiting arbitration)."""

    script: str
    points: Decimal
    first: Decimal
    second: Decimal
    arbiter: Decimal | None
    needs_arbitration: bool
    final: Decimal | None

    @property
    def awaiting_arbiter(self) -> bool:
        return self.final is None


def check_raters(script: str, first: str, second: str, arbiter: str | None = None) -> None:
    """Two distinct raters, and an arbiter who is neither of them."""
    if first == second:
        raise MarkingError(
            f"密号 {script}：一评和二评都是考评员“{first}”，同一考评员不能评同一份答卷两次："
            "请另选一名考评员做二评"
        )
    if arbiter is not None and arbiter in (first, second):
        role = "一评" if arbiter == first else "二评"
        raise MarkingError(
            f"密号 {script}：仲裁考评员“{arbiter}”已是这份答卷的{role}，第三评必须由另一名"
            "高级考评员担任：请改派"
        )


def resolve(marking: ScriptMarking, policy: ArbitrationPolicy) -> Resolution:
    """Validate a script's markings and compute its final score under ``policy``."""
    script, rubric = marking.script, marking.rubric
    arbiter = marking.arbiter
    arbiter_id = None if arbiter is None else arbiter.rater
    check_raters(script, marking.first.rater, marking.second.rater, arbiter_id)
    first = check_marking(rubric, marking.first, script)
    second = check_marking(rubric, marking.second, script)
    third = None if arbiter is None else check_marking(rubric, arbiter, script)
    return Resolution(
        script=script,
        points=rubric.points,
        first=first,
        second=second,
        arbiter=third,
        needs_arbitration=needs_arbitration(first, second, rubric.points, policy),
        final=final_score(first, second, rubric.points, policy, third),
    )


def practical_on_hundred(resolutions: Sequence[Resolution]) -> Decimal | None:
    """A candidate's practical part on 100 from their scripts' final scores, unrounded.

    ``raw × 100 / points`` like the theory; None while any script awaits its arbiter.
    """
    if not resolutions:
        raise MarkingError("没有实操答卷的评分，无法计算实操成绩：请先完成评分")
    finals = [r.final for r in resolutions]
    if any(f is None for f in finals):
        return None
    raw = sum((f for f in finals if f is not None), Decimal(0))
    return scale_to_hundred(raw, sum((r.points for r in resolutions), Decimal(0)))


# --- workload ---------------------------------------------------------------------------------


def _unique(values: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise MarkingError(f"{what}“{value}”出现了两次：请去掉重复项")
        seen.add(value)


def assign_raters(
    scripts: Sequence[str], raters: Sequence[str], seed: int | str = 0
) -> dict[str, tuple[str, str]]:
    """Give every script two distinct raters, the raters' loads differing by at most one.

    The raters are dealt out in rounds, each round a fresh shuffle of all of them, two per
    script; shuffling varies the pairs (so agreement figures are not about one fixed pair), and
    where a pair spans two rounds the next round never starts with the rater who ended the last.
    The same input and seed give the same assignment.
    """
    _unique(scripts, "答卷密号")
    _unique(raters, "考评员")
    if len(raters) < 2:
        raise MarkingError(
            f"双评需要至少两名考评员，现有 {len(raters)} 名：请为本次考核再指派考评员"
        )
    rng = random.Random(seed)
    dealt: list[str] = []
    while len(dealt) < 2 * len(scripts):
        round_ = list(raters)
        rng.shuffle(round_)
        if len(dealt) % 2 and round_[0] == dealt[-1]:
            round_[0], round_[1] = round_[1], round_[0]
        dealt.extend(round_)
    return {s: (dealt[2 * i], dealt[2 * i + 1]) for i, s in enumerate(scripts)}


def loads(assignment: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Scripts per rater in an assignment."""
    counts: dict[str, int] = {}
    for raters in assignment.values():
        for rater in raters:
            counts[rater] = counts.get(rater, 0) + 1
    return counts


def assign_arbiters(
    pairs: Mapping[str, tuple[str, str]],
    seniors: Sequence[str],
    current: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """An arbiter for each script in ``pairs`` (script → its first two raters).

    Each goes to the senior rater with the fewest scripts (``current`` loads plus those given
    here), never one of the script's own two raters; ties go to the earlier in ``seniors``.
    """
    _unique(seniors, "高级考评员")
    load = {s: (current or {}).get(s, 0) for s in seniors}
    chosen: dict[str, str] = {}
    for script, (first, second) in pairs.items():
        check_raters(script, first, second)
        eligible = [s for s in seniors if s not in (first, second)]
        if not eligible:
            raise MarkingError(
                f"密号 {script} 没有可用的仲裁考评员：高级考评员"
                f"{'、'.join(seniors) or '（无）'}都已是这份答卷的一评或二评，"
                "请再指派一名高级考评员"
            )
        arbiter = min(eligible, key=lambda s: load[s])  # min keeps the first of equals
        load[arbiter] += 1
        chosen[script] = arbiter
    return chosen
