"""Results: part states, pass at 60 on the score of record, overall status, retakes, appeals."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.grading.results import (
    AppealClosed,
    AppealWindow,
    CandidateResult,
    PartResult,
    ResultError,
    add_months,
    carried_parts,
    combine,
    part_score,
    parts_to_sit,
    pass_line_on_hundred,
    valid_until,
)

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)
DAY = date(2026, 6, 13)


def scored(kind: str, score: str, on: date = DAY) -> PartResult:
    return part_score(kind, D(score), on)


def absent(kind: str, on: date = DAY) -> PartResult:
    return PartResult(kind, "absent", on)


def voided(kind: str, on: date = DAY) -> PartResult:
    return PartResult(kind, "voided", on, reason="违纪：夹带资料")


def pending(kind: str, on: date = DAY) -> PartResult:
    return PartResult(kind, "pending", on)


# --- parts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "recorded", "passed"),
    [
        ("59.4", "59.4", False),
        ("59.5", "59.5", False),
        ("59.9", "59.9", False),
        ("59.94", "59.9", False),
        ("59.95", "60.0", True),
        ("60", "60.0", True),
    ],
)
def test_a_part_passes_at_60_on_its_score_of_record(
    score: str, recorded: str, passed: bool
) -> None:
    part = scored("theory", score)
    assert str(part.score) == recorded
    assert part.passed is passed


def test_a_schemes_pass_line_is_put_on_100() -> None:
    assert pass_line_on_hundred(D(60), D(100)) == 60
    assert pass_line_on_hundred(D(90), D(150)) == 60
    part = part_score("practical", D("70"), DAY, pass_line=D(72))
    assert not part.passed


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "oral", "status": "scored", "score": D(1)}, "考试部分“oral”无效"),
        ({"status": "done"}, "理论考试的状态“done”无效"),
        ({"status": "scored"}, "理论考试状态为已评：需要分数"),
        ({"status": "absent", "score": D(50)}, "理论考试状态为缺考：不能带分数"),
        ({"status": "scored", "score": D(101)}, "分数 101 无效：应在 0 到 100 之间"),
        ({"status": "scored", "score": D("59.95")}, "分数 59.95 未按规则取一位小数"),
        ({"status": "voided"}, "取消成绩必须写明原因"),
        ({"status": "absent", "reason": "迟到"}, "取消成绩必须写明原因"),
        ({"status": "scored", "score": D(50), "carried": True}, "只有合格的成绩可以保留到补考"),
        ({"status": "scored", "score": D(50), "pass_line": D(0)}, "合格线 0 无效"),
    ],
)
def test_a_bad_part_result_is_refused(kw: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"kind": "theory", "status": "scored", "taken_on": DAY}
    with pytest.raises(ResultError, match=re.escape(message)):
        PartResult(**{**fields, **kw})  # type: ignore[arg-type]


# --- overall ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("theory", "practical", "status"),
    [
        (scored("theory", "60"), scored("practical", "60"), "passed"),
        (scored("theory", "59.9"), scored("practical", "95"), "failed"),
        (scored("theory", "95"), scored("practical", "59.5"), "failed"),
        (scored("theory", "95"), absent("practical"), "failed"),
        (absent("theory"), absent("practical"), "absent"),
        (voided("theory"), scored("practical", "90"), "voided"),
        (voided("theory"), pending("practical"), "voided"),
        (scored("theory", "90"), pending("practical"), "pending"),
        (absent("theory"), pending("practical"), "pending"),
    ],
)
def test_overall_status(theory: PartResult, practical: PartResult, status: str) -> None:
    result = CandidateResult("c1", theory, practical)
    assert result.status == status
    assert result.passed is (status == "passed")


def test_parts_must_be_in_their_places() -> None:
    with pytest.raises(
        ResultError,
        match="理论成绩应为 theory、实操成绩应为 practical 部分，现为 practical 和 theory",
    ):
        CandidateResult("c1", scored("practical", "60"), scored("theory", "60"))


# --- retakes ----------------------------------------------------------------------------------


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert add_months(date(2025, 6, 15), 12) == date(2026, 6, 15)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 5, 1), 0) == date(2025, 5, 1)


def test_a_passed_part_is_kept_through_the_same_day_a_year_later() -> None:
    theory = scored("theory", "75", date(2025, 6, 15))
    failed = scored("practical", "40", date(2025, 6, 15))
    assert valid_until(theory) == date(2026, 6, 15)
    assert parts_to_sit([theory, failed], date(2026, 6, 15)) == ("practical",)
    assert parts_to_sit([theory, failed], date(2026, 6, 16)) == ("theory", "practical")
    assert parts_to_sit([theory], date(2025, 12, 16), months=6) == ("theory", "practical")
    assert parts_to_sit([], DAY) == ("theory", "practical")


def test_the_latest_valid_pass_is_carried() -> None:
    early = scored("practical", "90", date(2025, 9, 1))
    late = scored("practical", "70", date(2025, 12, 1))
    kept = carried_parts([late, early], DAY)
    assert kept == {
        "practical": PartResult("practical", "scored", late.taken_on, D("70.0"), carried=True)
    }


def test_a_retake_combines_the_kept_part_with_the_new_one() -> None:
    history = [
        scored("theory", "82", date(2025, 12, 6)),
        scored("practical", "51", date(2025, 12, 7)),
    ]
    result = combine("c1", history, [scored("practical", "66")], DAY)
    assert result.theory.carried and result.theory.score == D("82.0")
    assert not result.practical.carried and result.practical.score == D("66.0")
    assert result.status == "passed"
    again = combine("c1", history, [scored("practical", "58")], DAY)
    assert again.status == "failed"
    missed = combine("c1", history, [absent("practical")], DAY)
    assert missed.status == "absent"  # the only part to sit was missed


def test_carrying_does_not_renew_the_validity() -> None:
    first = scored("theory", "82", date(2025, 3, 1))
    carried = combine(
        "c1", [first], [scored("practical", "30", date(2025, 9, 1))], date(2025, 9, 1)
    )
    history = [carried.theory, carried.practical]
    assert parts_to_sit(history, date(2026, 3, 1)) == ("practical",)
    assert parts_to_sit(history, date(2026, 3, 2)) == ("theory", "practical")


def test_retake_mistakes_are_refused_with_the_fix() -> None:
    history = [scored("theory", "82", date(2025, 12, 6))]
    with pytest.raises(
        ResultError, match="考生“c1”的理论考试已于 2025-12-06 合格，保留至 2026-12-06，本次不应再考"
    ):
        combine("c1", history, [scored("theory", "90"), scored("practical", "70")], DAY)
    with pytest.raises(ResultError, match="考生“c1”缺少实操考试的成绩：未参加的部分请记为缺考"):
        combine("c1", history, [], DAY)
    with pytest.raises(ResultError, match="考生“c1”本次有两份实操考试成绩"):
        combine("c1", history, [scored("practical", "70"), absent("practical")], DAY)
    with pytest.raises(ResultError, match="以前的理论考试成绩日期 2026-06-13 不早于本次考核日期"):
        parts_to_sit([scored("theory", "70")], DAY)
    earlier = date(2026, 1, 1)
    both = carried_parts([scored("theory", "70", earlier), scored("practical", "70", earlier)], DAY)
    with pytest.raises(ResultError, match="两部分都沿用以前的合格成绩，本次无需参加"):
        CandidateResult("c1", both["theory"], both["practical"])


part_histories = st.lists(
    st.builds(
        lambda kind, score, days: scored(kind, str(score), DAY - timedelta(days=days)),
        st.sampled_from(["theory", "practical"]),
        st.integers(0, 100),
        st.integers(1, 800),
    ),
    max_size=6,
)


@SETTINGS
@given(part_histories, st.integers(0, 24))
def test_each_part_is_either_kept_or_sat_and_the_combination_follows(
    history: list[PartResult], months: int
) -> None:
    kept = carried_parts(history, DAY, months)
    to_sit = parts_to_sit(history, DAY, months)
    assert sorted([*kept, *to_sit]) == ["practical", "theory"]
    for kind, part in kept.items():
        assert part.passed and part.carried and valid_until(part, months) >= DAY
        assert not any(p.kind == kind and p.passed and p.taken_on > part.taken_on for p in history)
    if len(to_sit) == 0:
        return
    result = combine("c1", history, [scored(kind, "60") for kind in to_sit], DAY, months)
    assert result.passed


# --- appeals ----------------------------------------------------------------------------------


RELEASED = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)  # 10:00 in China


def test_the_appeal_window_opens_at_release_and_closes_after_its_length() -> None:
    window = AppealWindow(RELEASED)
    assert window.closes_at == RELEASED + timedelta(days=7)
    assert window.state(RELEASED - timedelta(seconds=1)) == "not_released"
    assert window.state(RELEASED) == "open"
    assert window.is_open(window.closes_at - timedelta(microseconds=1))
    assert window.state(window.closes_at) == "closed"
    window.check(RELEASED + timedelta(days=3))


def test_a_closed_window_says_when_in_china_time() -> None:
    window = AppealWindow(RELEASED, timedelta(days=5))
    with pytest.raises(
        AppealClosed,
        match=re.escape("复核申请已于 2026-07-06 10:00（北京时间）截止（成绩发布后 5 天内可申请）"),
    ):
        window.check(RELEASED + timedelta(days=6))
    with pytest.raises(AppealClosed, match=re.escape("成绩将于 2026-07-01 10:00（北京时间）发布")):
        window.check(RELEASED - timedelta(hours=1))
    with pytest.raises(AppealClosed, match="成绩发布后 36 小时内可申请"):
        AppealWindow(RELEASED, timedelta(hours=36)).check(RELEASED + timedelta(days=2))


def test_appeal_windows_need_aware_times_and_a_length() -> None:
    with pytest.raises(ResultError, match=r"成绩发布时间.*缺少时区"):
        AppealWindow(datetime(2026, 7, 1, 10))
    with pytest.raises(ResultError, match=r"申请时间.*缺少时区"):
        AppealWindow(RELEASED).state(datetime(2026, 7, 1, 10))
    with pytest.raises(ResultError, match="复核申请期 0:00:00 无效"):
        AppealWindow(RELEASED, timedelta(0))
