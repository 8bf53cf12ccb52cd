"""Exam fees (考核费) per candidate against the national cost caps (000: 1513–1531, 908).

The caps are per candidate-sitting (元/人次) and per exam form; a mixed exam's cap is each form's
cap weighted by its share of the points (``scheme_rules.fee_cap``). A fee is set per part so that
a candidate who retakes one part pays for that part only, within that form's own cap. Students
from registered poor families (建档立卡) pay nothing. Amounts are Decimal yuan to the cent.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ..catalog.scheme_rules import FEE_CAPS, Part, fee_cap

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
KIND_NAMES = {"theory": "理论", "practical": "实操"}
FORM_NAMES = {
    "paper": "纸笔",
    "computer": "机考",
    "practical_general": "通用设备",
    "practical_special": "特殊设备",
}
EXEMPT_REASON = "建档立卡，免收考核费"

Fees = Mapping[str, Decimal | int]  # per part kind: {"theory": 150, "practical": 230}


class FeeError(ValueError):
    """Fees cannot be quoted; ``problems`` has one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("；".join(problems))


@dataclass(frozen=True)
class FeeLine:
    kind: str  # theory | practical
    name: str  # the part's name, e.g. 理论考试
    exam_form: str
    amount: Decimal  # the part's fee, also when it is waived


@dataclass(frozen=True)
class FeeQuote:
    """What one candidate pays for the parts they sit."""

    lines: tuple[FeeLine, ...]
    total: Decimal  # due: 0.00 when exempt
    cap: Decimal  # the cap of the parts sat
    exempt: bool = False
    reason: str = ""  # why nothing is due (EXEMPT_REASON), else empty

    @property
    def gross(self) -> Decimal:
        """The fees before any exemption: what is waived when exempt."""
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class InstitutionFees:
    institution: str
    candidates: int  # quotes counted, i.e. registrations (a retake is a registration)
    exempt: int
    total: Decimal  # due
    waived: Decimal  # not charged to exempt candidates


def yuan(amount: Decimal) -> str:
    """An amount as written in messages: whole yuan without decimals, else to the cent."""
    return str(int(amount)) if amount == amount.to_integral_value() else f"{amount:.2f}"


def _percent(share: Decimal) -> str:
    return format((share * 100).quantize(CENT).normalize(), "f") + "%"


def _decimal(value: object) -> Decimal | None:
    """A fee as a finite Decimal (ints, Decimals and numeric text from forms), else None."""
    try:
        amount = Decimal(str(value)) if isinstance(value, int | str | Decimal) else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def _fee_problem(part: Part, value: object) -> str | None:
    """What is wrong with one part's fee, or None."""
    if value is None:
        return f"{part.name}（{part.kind}）未设置考核费"
    amount = _decimal(value)
    if amount is None:
        return f"{part.name}考核费「{value}」不是有效金额"
    if amount < 0:
        return f"{part.name}考核费 {amount} 元不能为负数"
    if amount != amount.quantize(CENT):
        return f"{part.name}考核费 {amount} 元只能精确到分（最多两位小数）"
    if part.exam_form not in FEE_CAPS:
        forms = "、".join(FEE_CAPS)
        return f"{part.name}的考试形式「{part.exam_form}」无效（应为 {forms} 之一），无法确定上限"
    cap = FEE_CAPS[part.exam_form]
    if amount > cap:
        form = FORM_NAMES[part.exam_form]
        return f"{part.name}考核费 {yuan(amount)} 元，超过{form}的上限 {yuan(cap)} 元"
    return None


def _weighting(parts: Sequence[Part]) -> str:
    """How the mixed cap is made up, e.g. 理论 机考 300×50% + 实操 通用设备 500×50%."""
    points = sum((p.total_points for p in parts), Decimal(0))
    return " + ".join(
        f"{KIND_NAMES.get(p.kind, p.name)} {FORM_NAMES[p.exam_form]} "
        f"{yuan(FEE_CAPS[p.exam_form])}×{_percent(p.total_points / points)}"
        for p in parts
    )


def check_fees(parts: Sequence[Part], fees: Fees) -> list[str]:
    """Every problem with a scheme's fees (empty when they are within the caps).

    Each part needs a fee, none above its own form's cap (what a candidate retaking that part
    alone may be charged), and together not above the points-weighted cap of the parts.
    """
    kinds = [p.kind for p in parts]
    problems = [
        f"考核费中的「{kind}」不是本方案的考试部分（本方案：{'、'.join(kinds)}）"
        for kind in fees
        if kind not in kinds
    ]
    part_problems = [_fee_problem(p, fees.get(p.kind)) for p in parts]
    problems += [p for p in part_problems if p]
    # A missing or malformed fee leaves nothing to add up; a lone part's cap is its form's cap.
    amounts = [_decimal(fees.get(p.kind)) for p in parts]
    if all(p.exam_form in FEE_CAPS for p in parts) and None not in amounts and len(parts) > 1:
        total = sum((a for a in amounts if a is not None), Decimal(0))
        cap = fee_cap(tuple(parts))
        if total > cap:
            problems.append(
                f"考核费合计 {yuan(total)} 元，超过上限 {yuan(cap)} 元（{_weighting(parts)}）"
            )
    return problems


def _sitting(parts: Sequence[Part], sitting: Collection[str] | None) -> tuple[Part, ...]:
    if sitting is None:
        return tuple(parts)
    kinds = [p.kind for p in parts]
    unknown = [k for k in sitting if k not in kinds]
    if unknown:
        raise FeeError(
            [f"考试部分「{'、'.join(unknown)}」不在本方案中（本方案：{'、'.join(kinds)}）"]
        )
    chosen = tuple(p for p in parts if p.kind in sitting)
    if not chosen:
        raise FeeError(["至少要参加一个考试部分"])
    return chosen


def quote(
    parts: Sequence[Part], fees: Fees, exempt: bool, sitting: Collection[str] | None = None
) -> FeeQuote:
    """One candidate's fees for the parts they sit (all by default; a retake lists its parts).

    Raises FeeError when a fee of a part sat is missing or breaks a cap (see check_fees).
    """
    chosen = _sitting(parts, sitting)
    problems = check_fees(chosen, {p.kind: fees[p.kind] for p in chosen if p.kind in fees})
    if problems:
        raise FeeError(problems)
    lines = tuple(
        FeeLine(p.kind, p.name, p.exam_form, Decimal(str(fees[p.kind])).quantize(CENT))
        for p in chosen
    )
    gross = sum((line.amount for line in lines), ZERO)
    return FeeQuote(
        lines=lines,
        total=ZERO if exempt else gross,
        cap=fee_cap(chosen),
        exempt=exempt,
        reason=EXEMPT_REASON if exempt else "",
    )


def summarize(rows: Iterable[tuple[str, FeeQuote]]) -> list[InstitutionFees]:
    """Per institution: registrations, how many are exempt, the total due and waived.

    Sorted by institution name (code-point order, the same on every run).
    """
    groups: dict[str, list[FeeQuote]] = {}
    for institution, fee in rows:
        groups.setdefault(institution, []).append(fee)
    return [
        InstitutionFees(
            institution=name,
            candidates=len(quotes),
            exempt=sum(q.exempt for q in quotes),
            total=sum((q.total for q in quotes), ZERO),
            waived=sum((q.gross for q in quotes if q.exempt), ZERO),
        )
        for name, quotes in sorted(groups.items())
    ]
