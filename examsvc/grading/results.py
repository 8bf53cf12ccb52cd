"""Results per candidate (考核成绩): part states, pass rules, retakes (补考) and the appeal window.

A candidate has a theory and a practical part result, each on 100 with a score of record rounded
half-up to one decimal (``scoring.round_score``). A part passes at 60 (its pass line, on 100) and
the candidate passes only when both parts pass. A part is ``pending`` (待评) until scored,
``absent`` (缺考) when the candidate did not sit it, ``voided`` (取消成绩) when the score was
cancelled for a violation (违纪), with the reason.

Retakes: a part passed in an earlier plan is kept (``carried``) for ``validity_months`` (12 by
default) from the day it was sat, through the same calendar day: passed 2025-06-15, it counts
for a plan sat up to and including 2026-06-15. Carrying it again does not renew it. The candidate
sits only the other part, and the two combine into one result.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from .scoring import HUNDRED, PASS_LINE, GradingError, passes, round_score, scale_to_hundred

PART_KINDS = ("theory", "practical")
PART_NAMES = {"theory": "理论考试", "practical": "实操考试"}
PART_STATUSES = ("pending", "scored", "absent", "voided")
PART_STATUS_NAMES = {"pending": "待评", "scored": "已评", "absent": "缺考", "voided": "取消成绩"}
OVERALL_STATUSES = ("pending", "passed", "failed", "absent", "voided")
OVERALL_STATUS_NAMES = {
    "pending": "成绩待定",
    "passed": "合格",
    "failed": "不合格",
    "absent": "缺考",
    "voided": "取消成绩",
}
DEFAULT_VALIDITY_MONTHS = 12
DEFAULT_APPEAL_WINDOW = timedelta(days=7)
APPEAL_STATES = ("not_released", "open", "closed")
CHINA_TIME = timezone(timedelta(hours=8), "UTC+8")  # what candidates read deadlines in


class ResultError(GradingError):
    """A result, retake or appeal breaks a rule."""


class AppealClosed(ResultError):
    """An appeal outside its window (before release or after the window closed)."""


def pass_line_on_hundred(pass_line: Decimal, total_points: Decimal) -> Decimal:
    """A scheme part's pass line (``Part.pass_line`` of ``Part.total_points``) on 100."""
    return scale_to_hundred(pass_line, total_points)


@dataclass(frozen=True)
class PartResult:
    """One part of one candidate's result: its state, score of record on 100 and date sat."""

    kind: str  # theory | practical
    status: str  # pending | scored | absent | voided
    taken_on: date  # the day of the session (sat, missed or pending)
    score: Decimal | None = None  # of record, on 100; only when scored
    pass_line: Decimal = PASS_LINE  # on 100
    reason: str = ""  # why the score was voided; only when voided
    carried: bool = False  # passed in an earlier plan and kept for this one

    def __post_init__(self) -> None:
        if self.kind not in PART_KINDS:
            raise ResultError(f"考试部分“{self.kind}”无效：应为 theory 或 practical")
        where = PART_NAMES[self.kind]
        if self.status not in PART_STATUSES:
            raise ResultError(
                f"{where}的状态“{self.status}”无效：应为 {'、'.join(PART_STATUSES)} 之一"
            )
        if (self.score is not None) != (self.status == "scored"):
            raise ResultError(
                f"{where}状态为{PART_STATUS_NAMES[self.status]}："
                + ("需要分数" if self.status == "scored" else "不能带分数")
            )
        if self.score is not None:
            if not self.score.is_finite() or not Decimal(0) <= self.score <= HUNDRED:
                raise ResultError(f"{where}的分数 {self.score} 无效：应在 0 到 100 之间（百分制）")
            if self.score != round_score(self.score):
                raise ResultError(
                    f"{where}的分数 {self.score} 未按规则取一位小数：请用 part_score 计入，"
                    "它按四舍五入保留一位小数"
                )
        if (self.status == "voided") != bool(self.reason.strip()):
            raise ResultError(
                f"{where}：取消成绩必须写明原因（如“违纪：夹带资料”），其他状态不写原因"
            )
        if not Decimal(0) < self.pass_line <= HUNDRED:
            raise ResultError(f"{where}的合格线 {self.pass_line} 无效：应在 0 到 100 之间")
        if self.carried and not self.passed:
            raise ResultError(f"{where}：只有合格的成绩可以保留到补考")

    @property
    def passed(self) -> bool:
        return self.score is not None and passes(self.score, self.pass_line)


def part_score(
    kind: str, score: Decimal, taken_on: date, pass_line: Decimal = PASS_LINE
) -> PartResult:
    """A scored part from its unrounded score on 100; records it rounded (59.95 → 60.0)."""
    return PartResult(kind, "scored", taken_on, round_score(score), pass_line)


@dataclass(frozen=True)
class CandidateResult:
    """A candidate's result in one plan: both parts, one possibly carried from an earlier plan."""

    candidate: str
    theory: PartResult
    practical: PartResult

    def __post_init__(self) -> None:
        if self.theory.kind != "theory" or self.practical.kind != "practical":
            raise ResultError(
                f"考生“{self.candidate}”：理论成绩应为 theory、实操成绩应为 practical 部分，"
                f"现为 {self.theory.kind} 和 {self.practical.kind}：请检查考试部分"
            )
        if self.theory.carried and self.practical.carried:
            raise ResultError(
                f"考生“{self.candidate}”两部分都沿用以前的合格成绩，本次无需参加：请取消其报名"
            )

    @property
    def parts(self) -> tuple[PartResult, PartResult]:
        return (self.theory, self.practical)

    @property
    def status(self) -> str:
        """voided if a part was voided; else pending until both are final; else absent when
        every part to sit this time was missed; else passed when both pass; else failed."""
        statuses = [p.status for p in self.parts]
        if "voided" in statuses:
            return "voided"
        if "pending" in statuses:
            return "pending"
        if all(p.status == "absent" for p in self.parts if not p.carried):
            return "absent"
        return "passed" if all(p.passed for p in self.parts) else "failed"

    @property
    def passed(self) -> bool:
        return self.status == "passed"


# --- retakes (补考) ---------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (2024-01-31 + 1 → 2024-02-29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def valid_until(part: PartResult, months: int = DEFAULT_VALIDITY_MONTHS) -> date:
    """The last day a passed part may be carried: ``months`` after the day it was sat."""
    return add_months(part.taken_on, months)


def carried_parts(
    history: Sequence[PartResult], exam_date: date, months: int = DEFAULT_VALIDITY_MONTHS
) -> dict[str, PartResult]:
    """Per part, the latest earlier pass still valid on ``exam_date``, marked as carried."""
    if months < 0:
        raise ResultError(f"成绩保留期 {months} 个月无效：应为 0 或正整数")
    kept: dict[str, PartResult] = {}
    for part in history:
        if part.taken_on >= exam_date:
            raise ResultError(
                f"以前的{PART_NAMES[part.kind]}成绩日期 {part.taken_on} 不早于本次考核日期 "
                f"{exam_date}：请只提供以前各次考核的成绩"
            )
        if not part.passed or valid_until(part, months) < exam_date:
            continue
        best = kept.get(part.kind)
        if best is None or part.taken_on > best.taken_on:
            kept[part.kind] = replace(part, carried=True)
    return kept


def parts_to_sit(
    history: Sequence[PartResult], exam_date: date, months: int = DEFAULT_VALIDITY_MONTHS
) -> tuple[str, ...]:
    """The parts a candidate must sit on ``exam_date``: those without a valid earlier pass."""
    kept = carried_parts(history, exam_date, months)
    return tuple(kind for kind in PART_KINDS if kind not in kept)


def combine(
    candidate: str,
    history: Sequence[PartResult],
    sat: Sequence[PartResult],
    exam_date: date,
    months: int = DEFAULT_VALIDITY_MONTHS,
) -> CandidateResult:
    """The result in this plan: the parts ``sat`` now (any state) plus carried earlier passes.

    ``sat`` must hold exactly the parts ``parts_to_sit`` names; a missed one is ``absent``.
    """
    kept = carried_parts(history, exam_date, months)
    now: dict[str, PartResult] = {}
    for part in sat:
        name = PART_NAMES[part.kind]
        if part.carried or part.kind in kept:
            earlier = kept.get(part.kind, part)
            raise ResultError(
                f"考生“{candidate}”的{name}已于 {earlier.taken_on} 合格，保留至 "
                f"{valid_until(earlier, months)}，本次不应再考：请删除本次的{name}成绩"
            )
        if part.kind in now:
            raise ResultError(f"考生“{candidate}”本次有两份{name}成绩：每部分只能有一份")
        now[part.kind] = part
    merged = {**kept, **now}
    missing = [PART_NAMES[k] for k in PART_KINDS if k not in merged]
    if missing:
        raise ResultError(
            f"考生“{candidate}”缺少{'、'.join(missing)}的成绩：未参加的部分请记为缺考（absent）"
        )
    return CandidateResult(candidate, merged["theory"], merged["practical"])


# --- appeals (成绩复核申请) ---------------------------------------------------------------------


def _aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ResultError(
            f"{what}（{moment.isoformat(timespec='seconds')}）缺少时区：请使用带时区的时间"
        )


def _span(length: timedelta) -> str:
    if length % timedelta(days=1) == timedelta(0):
        return f"{length.days} 天"
    return f"{length / timedelta(hours=1):g} 小时"


def _china(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") + "（北京时间）"


@dataclass(frozen=True)
class AppealWindow:
    """Appeals are open from the results' release for ``length``: ``[released_at, closes_at)``."""

    released_at: datetime
    length: timedelta = DEFAULT_APPEAL_WINDOW

    def __post_init__(self) -> None:
        _aware(self.released_at, "成绩发布时间")
        if self.length <= timedelta(0):
            raise ResultError(f"复核申请期 {self.length} 无效：应大于 0，如 7 天")

    @property
    def closes_at(self) -> datetime:
        return self.released_at + self.length

    def state(self, now: datetime) -> str:
        """not_released before the release, open until ``closes_at`` (exclusive), then closed."""
        _aware(now, "申请时间")
        if now < self.released_at:
            return "not_released"
        return "open" if now < self.closes_at else "closed"

    def is_open(self, now: datetime) -> bool:
        return self.state(now) == "open"

    def check(self, now: datetime) -> None:
        """Raise AppealClosed, saying when the window opens or closed, unless it is open."""
        state = self.state(now)
        if state == "not_released":
            raise AppealClosed(
                f"成绩将于 {_china(self.released_at)}发布，发布后至 {_china(self.closes_at)}"
                "前可申请复核：请届时再提交"
            )
        if state == "closed":
            raise AppealClosed(
                f"复核申请已于 {_china(self.closes_at)}截止（成绩发布后 {_span(self.length)}内可申请）："
                "如有特殊情况请联系评价组织"
            )
