"""Fees: within the weighted national cap, each part within its form's cap, poor families free."""

from __future__ import annotations

from decimal import Decimal

import pytest

from examsvc.catalog.scheme_rules import Part
from examsvc.registration.fees import (
    EXEMPT_REASON,
    FeeError,
    FeeQuote,
    InstitutionFees,
    check_fees,
    quote,
    summarize,
)


def part(kind: str, form: str, points: int = 100) -> Part:
    name = {"theory": "理论考试", "practical": "实操考试"}[kind]
    return Part(kind, name, 90, Decimal(points), Decimal(60), form, ())


WEB = (part("theory", "computer"), part("practical", "practical_general"))  # cap 400
FEES = {"theory": Decimal(150), "practical": Decimal(230)}


def test_fees_within_every_cap_have_no_problem() -> None:
    assert check_fees(WEB, FEES) == []
    assert check_fees(WEB, {"theory": 150, "practical": 250}) == []  # exactly the cap of 400


def test_total_above_the_weighted_cap_names_the_weighting() -> None:
    assert check_fees(WEB, {"theory": Decimal(190), "practical": Decimal(230)}) == [
        "考核费合计 420 元，超过上限 400 元（理论 机考 300×50% + 实操 通用设备 500×50%）"
    ]


def test_uneven_points_weigh_the_cap() -> None:
    parts = (part("theory", "paper", 40), part("practical", "practical_special", 60))
    # 200×40% + 700×60% = 500
    assert check_fees(parts, {"theory": 200, "practical": 300}) == []
    assert check_fees(parts, {"theory": Decimal("200"), "practical": Decimal("300.01")}) == [
        "考核费合计 500.01 元，超过上限 500 元（理论 纸笔 200×40% + 实操 特殊设备 700×60%）"
    ]
    thirds = (part("theory", "computer", 100), part("practical", "practical_general", 200))
    problems = check_fees(thirds, {"theory": 300, "practical": 500})
    assert problems == [
        "考核费合计 800 元，超过上限 433.33 元（理论 机考 300×33.33% + 实操 通用设备 500×66.67%）"
    ]


def test_a_single_part_above_its_own_form_cap() -> None:
    # 350 + 50 is within the mixed cap of 400, but theory alone (a retake) would exceed 300.
    assert check_fees(WEB, {"theory": 350, "practical": 50}) == [
        "理论考试考核费 350 元，超过机考的上限 300 元"
    ]
    assert check_fees(WEB[:1], {"theory": Decimal("300.50")}) == [
        "理论考试考核费 300.50 元，超过机考的上限 300 元"
    ]


@pytest.mark.parametrize(
    ("fees", "problem"),
    [
        ({"theory": 150}, "实操考试（practical）未设置考核费"),
        ({"theory": -1, "practical": 230}, "理论考试考核费 -1 元不能为负数"),
        ({"theory": Decimal("150.005"), "practical": 230}, "理论考试考核费 150.005 元只能精确到分（最多两位小数）"),
        ({"theory": Decimal("NaN"), "practical": 230}, "理论考试考核费「NaN」不是有效金额"),
        ({"theory": "一百", "practical": 230}, "理论考试考核费「一百」不是有效金额"),
        ({"theory": 150, "practical": 230, "oral": 50}, "考核费中的「oral」不是本方案的考试部分（本方案：theory、practical）"),
    ],
)  # fmt: skip
def test_missing_and_malformed_fees(fees: dict[str, object], problem: str) -> None:
    assert check_fees(WEB, fees) == [problem]  # type: ignore[arg-type]


def test_an_unknown_exam_form_is_reported_not_raised() -> None:
    parts = (part("theory", "oral"), WEB[1])
    assert check_fees(parts, FEES) == [
        "理论考试的考试形式「oral」无效（应为 paper、computer、practical_general、"
        "practical_special 之一），无法确定上限"
    ]


def test_quote_for_a_full_sitting() -> None:
    fee = quote(WEB, {"theory": 150, "practical": Decimal("230.5")}, exempt=False)
    assert [(line.kind, line.name, line.amount) for line in fee.lines] == [
        ("theory", "理论考试", Decimal("150.00")),
        ("practical", "实操考试", Decimal("230.50")),
    ]
    assert (fee.total, fee.gross, fee.cap, fee.exempt, fee.reason) == (
        Decimal("380.50"),
        Decimal("380.50"),
        Decimal("400.00"),
        False,
        "",
    )
    assert str(fee.total) == "380.50"


def test_poor_families_pay_nothing_and_the_waiver_is_kept() -> None:
    fee = quote(WEB, FEES, exempt=True)
    assert (fee.total, fee.gross, fee.exempt, fee.reason) == (
        Decimal("0.00"),
        Decimal("380.00"),
        True,
        EXEMPT_REASON,
    )
    assert EXEMPT_REASON == "建档立卡，免收考核费"


def test_a_retake_pays_for_the_parts_sat_within_that_forms_cap() -> None:
    fee = quote(WEB, FEES, exempt=False, sitting={"practical"})
    assert [line.kind for line in fee.lines] == ["practical"]
    assert (fee.total, fee.cap) == (Decimal("230.00"), Decimal("500.00"))
    # a fee only for the part not sat is not needed
    assert quote(WEB, {"theory": 150}, exempt=False, sitting=["theory"]).total == Decimal("150.00")


def test_quote_refuses_what_cannot_be_charged() -> None:
    with pytest.raises(FeeError) as raised:
        quote(WEB, {"theory": 150}, exempt=False)
    assert raised.value.problems == ["实操考试（practical）未设置考核费"]
    with pytest.raises(FeeError, match="超过上限 400 元"):
        quote(WEB, {"theory": 200, "practical": 250}, exempt=True)
    with pytest.raises(FeeError, match="考试部分「oral」不在本方案中（本方案：theory、practical）"):
        quote(WEB, FEES, exempt=False, sitting=["theory", "oral"])
    with pytest.raises(FeeError, match="至少要参加一个考试部分"):
        quote(WEB, FEES, exempt=False, sitting=[])


def test_summary_per_institution_sorted() -> None:
    full = quote(WEB, FEES, exempt=False)
    free = quote(WEB, FEES, exempt=True)
    retake = quote(WEB, FEES, exempt=False, sitting=["theory"])
    rows: list[tuple[str, FeeQuote]] = [
        ("B 职业技术学院", full),
        ("A 职业学院", free),
        ("B 职业技术学院", retake),
        ("A 职业学院", full),
        ("B 职业技术学院", free),
    ]
    assert summarize(rows) == [
        InstitutionFees("A 职业学院", 2, 1, Decimal("380.00"), Decimal("380.00")),
        InstitutionFees("B 职业技术学院", 3, 1, Decimal("530.00"), Decimal("380.00")),
    ]
    assert summarize([]) == []
