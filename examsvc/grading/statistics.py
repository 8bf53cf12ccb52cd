"""Statistics over results (统计) and between raters (评分一致性), for any group of candidates.

A group is whatever the caller selects: a plan, site, room or institution. Per part, only the
candidates who had to sit it in this group count (a part carried from an earlier plan is not
sat again); the overall figures count every candidate and include retakes (补考):

- registered (报名): candidates in the group; per part, those who had to sit it;
- sat (参考): registered minus absent (缺考); a voided or still pending part was sat;
  sat rate (参考率) = sat / registered;
- passed (通过): per part, sat and passed; overall, both parts passed (a carried part counts);
  pass rate (通过率) = passed / sat — voided candidates stay in the denominator;
- mean and standard deviation (均值, 标准差) of the scores of record of scored parts; the
  standard deviation is the population one (divided by n): the group is all there is, not a
  sample.

Rates are fractions rounded half-up to 4 decimals (0.8125 = 81.25 %), means and deviations to
2 decimals; a figure with nothing to divide by is None, never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .marking import Resolution
from .results import PART_KINDS, CandidateResult
from .scoring import HUNDRED, GradingError

RATE = Decimal("0.0001")
CENT = Decimal("0.01")
DEFAULT_BIN_WIDTH = Decimal(10)


def plain_number(value: Decimal) -> str:
    """A Decimal as people write it: 90, 92.5 (no exponent, no trailing zeros)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` to 4 decimals, None when ``whole`` is 0."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE, rounding=ROUND_HALF_UP)


def mean(values: Sequence[Decimal]) -> Decimal | None:
    """The arithmetic mean, unrounded; None for no values."""
    if not values:
        return None
    return sum(values, Decimal(0)) / len(values)


def std(values: Sequence[Decimal]) -> Decimal | None:
    """The population standard deviation, unrounded; None for no values."""
    centre = mean(values)
    if centre is None:
        return None
    return (sum(((v - centre) ** 2 for v in values), Decimal(0)) / len(values)).sqrt()


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Bin:
    """A histogram bar: scores from ``low`` to below ``high`` (to ``high`` itself when closed)."""

    low: Decimal
    high: Decimal
    count: int
    closed: bool = False  # the last bin holds its upper edge: 100 is in 90–100

    @property
    def label(self) -> str:
        return f"{plain_number(self.low)}–{plain_number(self.high)}"


def histogram(
    scores: Sequence[Decimal],
    width: Decimal = DEFAULT_BIN_WIDTH,
    low: Decimal = Decimal(0),
    high: Decimal = HUNDRED,
) -> tuple[Bin, ...]:
    """Count ``scores`` in bins of ``width`` from ``low`` to ``high``; the last bin is closed."""
    if not width.is_finite() or width <= 0 or not low < high or (high - low) % width:
        raise GradingError(
            f"分数段宽度 {width} 无效：应为正数，且能整除分数范围 {low}–{high}（如 10 或 5）"
        )
    outside = [s for s in scores if not low <= s <= high]
    if outside:
        raise GradingError(
            f"分数 {'、'.join(plain_number(s) for s in outside[:5])} 超出统计范围 {low}–{high}：请核对成绩"
        )
    size = int((high - low) / width)
    counts = [0] * size
    for score in scores:
        counts[min(int((score - low) // width), size - 1)] += 1
    return tuple(
        Bin(low + i * width, low + (i + 1) * width, counts[i], closed=i == size - 1)
        for i in range(size)
    )


@dataclass(frozen=True)
class PartStats:
    kind: str
    registered: int  # had to sit this part in the group (not carried)
    sat: int
    absent: int
    voided: int
    pending: int
    passed: int
    sat_rate: Decimal | None  # 参考率 = sat / registered
    pass_rate: Decimal | None  # 通过率 = passed / sat
    mean: Decimal | None  # of scored parts' scores of record
    std: Decimal | None
    histogram: tuple[Bin, ...]


@dataclass(frozen=True)
class GroupStats:
    registered: int
    sat: int  # sat at least one part this time
    passed: int  # passed overall, a carried part included
    pending: int  # results not final yet: rates are provisional while this is not 0
    retakes: int  # candidates with a part carried from an earlier plan
    sat_rate: Decimal | None
    pass_rate: Decimal | None
    theory: PartStats
    practical: PartStats


def _part_stats(results: Sequence[CandidateResult], kind: str, width: Decimal) -> PartStats:
    parts = [p for r in results for p in r.parts if p.kind == kind and not p.carried]
    count = {status: sum(p.status == status for p in parts) for status in ("absent", "voided")}
    scores = [p.score for p in parts if p.score is not None]
    sat = len(parts) - count["absent"]
    passed = sum(p.passed for p in parts)
    return PartStats(
        kind=kind,
        registered=len(parts),
        sat=sat,
        absent=count["absent"],
        voided=count["voided"],
        pending=sum(p.status == "pending" for p in parts),
        passed=passed,
        sat_rate=rate(sat, len(parts)),
        pass_rate=rate(passed, sat),
        mean=_cents(mean(scores)),
        std=_cents(std(scores)),
        histogram=histogram(scores, width),
    )


def group_stats(
    results: Sequence[CandidateResult], bin_width: Decimal = DEFAULT_BIN_WIDTH
) -> GroupStats:
    """Registered, sat, passed, rates, mean, deviation and histograms for one group of results."""
    seen: set[str] = set()
    for result in results:
        if result.candidate in seen:
            raise GradingError(f"考生“{result.candidate}”在这组成绩中出现了两次：每人只能统计一次")
        seen.add(result.candidate)
    statuses = [r.status for r in results]
    sat = sum(s != "absent" for s in statuses)
    passed = statuses.count("passed")
    return GroupStats(
        registered=len(results),
        sat=sat,
        passed=passed,
        pending=statuses.count("pending"),
        retakes=sum(any(p.carried for p in r.parts) for r in results),
        sat_rate=rate(sat, len(results)),
        pass_rate=rate(passed, sat),
        theory=_part_stats(results, PART_KINDS[0], bin_width),
        practical=_part_stats(results, PART_KINDS[1], bin_width),
    )


# --- rater agreement (评分一致性) --------------------------------------------------------------


@dataclass(frozen=True)
class Agreement:
    """How closely first and second raters agree over a set of double-marked scripts."""

    scripts: int
    exact_rate: Decimal | None  # share of scripts where both totals are equal
    mean_abs_difference: Decimal | None  # mean |first − second|, in points
    arbitration_rate: Decimal | None  # share whose difference exceeded the threshold
    pearson: Decimal | None  # r between first and second; None when undefined


def pearson(xs: Sequence[Decimal], ys: Sequence[Decimal]) -> Decimal | None:
    """Pearson's r to 4 decimals; None with fewer than two pairs or when either side is constant."""
    if len(xs) != len(ys):
        raise GradingError(f"两组分数数量不同（{len(xs)} 与 {len(ys)}）：应一一对应")
    mx, my = mean(xs), mean(ys)
    if mx is None or my is None or len(xs) < 2:
        return None
    sxx = sum(((x - mx) ** 2 for x in xs), Decimal(0))
    syy = sum(((y - my) ** 2 for y in ys), Decimal(0))
    if sxx == 0 or syy == 0:
        return None
    sxy = sum(((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)), Decimal(0))
    r = sxy / (sxx * syy).sqrt()
    return max(Decimal(-1), min(Decimal(1), r.quantize(RATE, rounding=ROUND_HALF_UP)))


def rater_agreement(resolutions: Sequence[Resolution]) -> Agreement:
    """Agreement over resolved scripts (``marking.resolve``); group them as needed first.

    Pearson's r is taken over each script's scores as a share of its points, so scripts of
    items worth different points can be pooled; over one item it is the plain r of the scores.
    """
    n = len(resolutions)
    differences = [abs(r.first - r.second) for r in resolutions]
    return Agreement(
        scripts=n,
        exact_rate=rate(sum(d == 0 for d in differences), n),
        mean_abs_difference=_cents(mean(differences)),
        arbitration_rate=rate(sum(r.needs_arbitration for r in resolutions), n),
        pearson=pearson(
            [r.first / r.points for r in resolutions], [r.second / r.points for r in resolutions]
        ),
    )
