"""Objective scoring: every multiple-choice policy, theory on 100, rounding and pass, key corrections."""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.bank.model import OPTION_KEYS
from examsvc.catalog.scheme_rules import MC_POLICIES, Scheme
from examsvc.delivery.answers import Value
from examsvc.grading.scoring import (
    GradingError,
    McPolicy,
    ObjectiveKey,
    Sheet,
    passes,
    regrade,
    round_score,
    scale_to_hundred,
    score_item,
    score_objective,
)

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)
AON, PARTIAL, PER_OPTION = (McPolicy(name) for name in MC_POLICIES)


def multiple(answer: str = "ACD", points: str = "2", **kw: object) -> ObjectiveKey:
    return ObjectiveKey("M1", "multiple", answer, D(points), **kw)  # type: ignore[arg-type]


# --- single choice and true/false -------------------------------------------------------------


def test_single_choice_is_exact() -> None:
    key = ObjectiveKey("S1", "single", "C", D(2))
    assert score_item(key, "C", AON) == D(2)
    assert score_item(key, "B", AON) == 0
    assert score_item(key, None, AON) == 0


def test_true_false_compares_the_stored_bool_with_the_banks_word() -> None:
    yes, no = (
        ObjectiveKey("T1", "truefalse", "true", D(2)),
        ObjectiveKey("T2", "truefalse", "false", D(2)),
    )
    assert score_item(yes, True, AON) == 2 and score_item(yes, False, AON) == 0
    assert score_item(no, False, AON) == 2 and score_item(no, True, AON) == 0
    assert score_item(no, None, AON) == 0


@pytest.mark.parametrize(
    ("key", "answer", "message"),
    [
        (
            ObjectiveKey("T1", "truefalse", "true", D(2)),
            "true",
            "判断题：存储的答案 'true' 应为 true 或 false",
        ),
        (
            ObjectiveKey("S1", "single", "A", D(2)),
            ["A"],
            "单选题：存储的答案 \\['A'\\] 应为一个选项字母",
        ),
        (multiple(), "ACD", "多选题：存储的答案 'ACD' 应为选项字母的列表"),
    ],
)
def test_a_stored_answer_of_the_wrong_shape_names_the_item(
    key: ObjectiveKey, answer: Value, message: str
) -> None:
    with pytest.raises(GradingError, match=f"题目“{key.item}”是{message}"):
        score_item(key, answer, AON)


# --- multiple choice: hand-computed cases -----------------------------------------------------


@pytest.mark.parametrize(
    ("ticked", "aon", "partial", "per_option"),
    [
        (["A", "C", "D"], "2", "2", "2"),  # exact key
        (["A", "C"], "0", "1.00", "1.33"),  # 少选: 2 of 3 correct, nothing wrong
        (["D"], "0", "1.00", "0.67"),
        (["A", "B"], "0", "0", "0"),  # a wrong option spoils everything
        (["A", "B", "C", "D"], "0", "0", "0"),  # ticking all is not a way to full marks
        (["B"], "0", "0", "0"),
        ([], "0", "0", "0"),
    ],
)
def test_multiple_choice_policies_by_hand(
    ticked: list[str], aon: str, partial: str, per_option: str
) -> None:
    key = multiple("ACD", "2")
    assert score_item(key, ticked, AON) == D(aon)
    assert score_item(key, ticked, PARTIAL) == D(partial)
    assert score_item(key, ticked, PER_OPTION) == D(per_option)


def test_partial_ratio_comes_from_the_scheme() -> None:
    scheme = Scheme(
        "s", "web-frontend", ("junior",), (), mc_policy="partial", mc_partial_ratio=D("0.4")
    )
    policy = McPolicy.from_scheme(scheme)
    assert policy == McPolicy("partial", D("0.4"))
    assert score_item(multiple("ACD", "3"), ["A"], policy) == D("1.20")
    assert McPolicy.from_scheme(Scheme("s", "c", (), ())) == AON  # the scheme's default


def test_per_option_weights_from_the_key() -> None:
    key = multiple("ACD", "4", weights=(("A", D(2)), ("C", D(1)), ("D", D(1))))
    assert score_item(key, ["A"], PER_OPTION) == 2
    assert score_item(key, ["C", "D"], PER_OPTION) == 2
    assert score_item(key, ["A", "C", "D"], PER_OPTION) == 4
    assert score_item(key, ["A", "B"], PER_OPTION) == 0
    assert score_item(key, ["A"], AON) == 0  # weights matter only under per_option


# --- multiple choice: properties --------------------------------------------------------------


@st.composite
def keys_and_answers(draw: st.DrawFn) -> tuple[ObjectiveKey, list[str]]:
    options = OPTION_KEYS[: draw(st.integers(2, 8))]
    answer = draw(
        st.lists(st.sampled_from(options), min_size=2, max_size=len(options), unique=True)
    )
    points = draw(st.sampled_from([D(1), D(2), D("2.5"), D(3), D(5), D(10)]))
    ticked = draw(st.lists(st.sampled_from(options), max_size=len(options), unique=True))
    return ObjectiveKey("M", "multiple", "".join(sorted(answer)), points), sorted(ticked)


ratios = st.decimals(D("0.01"), D("0.99"), places=2)


@SETTINGS
@given(keys_and_answers(), ratios)
def test_every_policy_scores_within_zero_and_points_full_iff_exact(
    case: tuple[ObjectiveKey, list[str]], ratio: D
) -> None:
    key, ticked = case
    exact = set(ticked) == key.correct
    wrong = bool(set(ticked) - key.correct)
    for name in MC_POLICIES:
        score = score_item(key, ticked, McPolicy(name, ratio))
        assert D(0) <= score <= key.points
        assert (score == key.points) == exact
        if wrong or not ticked:
            assert score == 0


@SETTINGS
@given(keys_and_answers(), ratios)
def test_all_or_nothing_never_beats_partial_or_per_option(
    case: tuple[ObjectiveKey, list[str]], ratio: D
) -> None:
    key, ticked = case
    aon = score_item(key, ticked, McPolicy("all_or_nothing"))
    assert aon <= score_item(key, ticked, McPolicy("partial", ratio))
    assert aon <= score_item(key, ticked, McPolicy("per_option"))


@SETTINGS
@given(keys_and_answers(), ratios)
def test_partial_gives_the_ratio_for_any_correct_part(
    case: tuple[ObjectiveKey, list[str]], ratio: D
) -> None:
    key, ticked = case
    score = score_item(key, ticked, McPolicy("partial", ratio))
    if ticked and set(ticked) < key.correct:
        assert score == (key.points * ratio).quantize(D("0.01"), rounding=ROUND_HALF_UP)
        assert score < key.points


@SETTINGS
@given(keys_and_answers())
def test_per_option_grows_with_each_correct_option(case: tuple[ObjectiveKey, list[str]]) -> None:
    key, ticked = case
    correct = [x for x in ticked if x in key.correct]
    scores = [score_item(key, correct[:n], PER_OPTION) for n in range(len(correct) + 1)]
    assert scores == sorted(scores)
    if correct and len(correct) < len(key.correct):
        expected = key.points * len(correct) / len(key.correct)
        assert abs(scores[-1] - expected) <= D("0.005")


# --- key validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"item_type": "practical"}, "不是客观题"),
        ({"points": D(0)}, "分值 0 无效：应为正数"),
        ({"item_type": "single", "answer": "AB"}, "单选题：答案“AB”应为 A–H 中的一个字母"),
        ({"answer": "A"}, "多选题：答案“A”至少需要两个正确选项"),
        ({"answer": "AAB"}, "应为不重复的 A–H 字母"),
        ({"answer": "AZ"}, "应为不重复的 A–H 字母"),
        ({"item_type": "truefalse", "answer": "对"}, "判断题：答案“对”应为 true 或 false"),
        ({"weights": (("A", D(1)), ("B", D(1)))}, "选项权重应恰好覆盖正确选项 ACD，现为 AB"),
        ({"weights": (("A", D(1)), ("C", D(1)), ("D", D(1)))}, "选项权重合计 3，应等于本题分值 2"),
        ({"weights": (("A", D(2)), ("C", D(1)), ("D", D(-1)))}, "选项权重必须都是正数"),
        (
            {"item_type": "single", "answer": "A", "weights": (("A", D(2)),)},
            "只有多选题可以设置选项权重",
        ),
    ],
)
def test_a_bad_key_is_refused_with_the_item_and_the_fix(
    kw: dict[str, object], message: str
) -> None:
    fields: dict[str, object] = {
        "item": "Q7",
        "item_type": "multiple",
        "answer": "ACD",
        "points": D(2),
    }
    with pytest.raises(GradingError, match=message) as caught:
        ObjectiveKey(**{**fields, **kw})  # type: ignore[arg-type]
    assert caught.value.message.startswith("题目“Q7”")


def test_a_bad_policy_is_refused() -> None:
    with pytest.raises(GradingError, match="多选评分规则“lucky”无效"):
        McPolicy("lucky")
    with pytest.raises(GradingError, match="少选得分比例 1 无效"):
        McPolicy("partial", D(1))


# --- theory on 100, rounding and the pass line ------------------------------------------------


def web_frontend_paper() -> list[ObjectiveKey]:
    """The Web 前端开发 scheme: 30 single, 15 multiple, 5 true/false, 2 points each."""
    return (
        [ObjectiveKey(f"S{i}", "single", "A", D(2)) for i in range(30)]
        + [ObjectiveKey(f"M{i}", "multiple", "AB", D(2)) for i in range(15)]
        + [ObjectiveKey(f"T{i}", "truefalse", "true", D(2)) for i in range(5)]
    )


def test_a_paper_of_100_points_scores_as_is() -> None:
    paper = web_frontend_paper()
    answers: dict[str, Value] = {f"S{i}": "A" for i in range(30)}
    answers |= {f"M{i}": ["A"] for i in range(15)} | {"T0": True, "T1": False}
    assert score_objective(paper, answers, AON).on_hundred == 62
    partial = score_objective(paper, answers, PARTIAL)
    assert (partial.raw, partial.paper_points, partial.on_hundred) == (D("77"), D(100), D("77"))
    assert dict(partial.items)["M3"] == 1 and dict(partial.items)["T4"] == 0


def test_a_paper_not_worth_100_is_scaled_to_100() -> None:
    paper = [ObjectiveKey(f"S{i}", "single", "A", D(1)) for i in range(40)]  # worth 40
    result = score_objective(paper, {f"S{i}": "A" for i in range(24)}, AON)
    assert result.on_hundred == 60  # 24 / 40
    assert round_score(scale_to_hundred(D(71), D(90))) == D("78.9")  # 78.888…
    assert scale_to_hundred(D(0), D(90)) == 0 and scale_to_hundred(D(90), D(90)) == 100


@SETTINGS
@given(st.integers(1, 400), st.data())
def test_scaling_keeps_order_and_range(total: int, data: st.DataObject) -> None:
    a, b = sorted(data.draw(st.lists(st.integers(0, total), min_size=2, max_size=2)))
    low, high = scale_to_hundred(D(a), D(total)), scale_to_hundred(D(b), D(total))
    assert D(0) <= low <= high <= D(100)
    assert (high == 100) == (b == total)


def test_scaling_refuses_impossible_totals() -> None:
    with pytest.raises(GradingError, match="试卷总分 0 无效"):
        scale_to_hundred(D(0), D(0))
    with pytest.raises(GradingError, match="得分 101 超出试卷总分范围 0–100"):
        scale_to_hundred(D(101), D(100))


@pytest.mark.parametrize(
    ("score", "recorded", "passed"),
    [
        ("59.4", "59.4", False),
        ("59.5", "59.5", False),  # no rounding to whole points: 59.5 has not reached 60
        ("59.9", "59.9", False),
        ("59.94", "59.9", False),
        ("59.95", "60.0", True),  # the score of record is 60.0, and it is what counts
        ("60", "60.0", True),
        ("60.04", "60.0", True),
        ("100", "100.0", True),
        ("0", "0.0", False),
    ],
)
def test_pass_at_60_on_the_score_of_record(score: str, recorded: str, passed: bool) -> None:
    assert str(round_score(D(score))) == recorded
    assert passes(D(score)) is passed


@SETTINGS
@given(st.decimals(0, 100, places=3))
def test_a_shown_score_never_contradicts_the_pass_decision(score: D) -> None:
    assert passes(score) == (round_score(score) >= 60)


def test_score_objective_refuses_answers_off_the_paper_and_repeated_items() -> None:
    paper = [ObjectiveKey("S1", "single", "A", D(2))]
    with pytest.raises(GradingError, match="答案中的题目 S9 不在这份试卷上"):
        score_objective(paper, {"S9": "A"}, AON)
    with pytest.raises(GradingError, match="题目“S1”在试卷上出现了两次"):
        score_objective(paper * 2, {}, AON)
    with pytest.raises(GradingError, match="试卷上没有客观题"):
        score_objective([], {}, AON)


# --- key corrections: the dry run -------------------------------------------------------------


KEYS = {
    "S1": ObjectiveKey("S1", "single", "A", D(50)),
    "S2": ObjectiveKey("S2", "single", "B", D(30)),
    "M1": ObjectiveKey("M1", "multiple", "AB", D(20)),
}


def test_a_correction_lists_each_candidate_whose_score_changes() -> None:
    sheets = [
        Sheet("c1", ("S1", "S2", "M1"), {"S1": "A", "S2": "C", "M1": ["A", "B"]}),  # 70 → 100
        Sheet("c2", ("S1", "S2", "M1"), {"S1": "B", "S2": "B", "M1": ["A", "B"]}),  # 50 → 20
        Sheet("c3", ("S1", "S2", "M1"), {"S1": "A", "S2": "D"}),  # unchanged: 50
        Sheet("c4", ("S1", "M1"), {"S1": "A"}),  # S2 not on the paper
    ]
    changes = regrade(sheets, KEYS, [ObjectiveKey("S2", "single", "C", D(30))], AON)
    assert [c.candidate for c in changes] == ["c1", "c2"]
    first, second = changes
    assert [(i.item, i.old, i.new) for i in first.items] == [("S2", D(0), D(30))]
    assert (first.old_score, first.new_score, first.old_passed, first.new_passed) == (
        D("70.0"),
        D("100.0"),
        True,
        True,
    )
    assert (second.old_raw, second.new_raw) == (D(50), D(20))
    assert second.pass_changed is False  # 50 → 20, both fail
    assert not first.pass_changed


def test_a_correction_that_changes_points_rescales_the_paper() -> None:
    sheet = Sheet("c1", ("S1", "S2", "M1"), {"S1": "A", "S2": "C"})
    changes = regrade([sheet], KEYS, [ObjectiveKey("S2", "single", "B", D(50))], AON)
    (change,) = changes
    assert change.items == ()  # S2 still wrong, but the paper is now worth 120
    assert (change.old_score, change.new_score) == (D("50.0"), D("41.7"))


def test_a_correction_can_change_who_passes() -> None:
    sheet = Sheet("c1", ("S1", "S2", "M1"), {"S1": "A", "M1": ["A"]})
    changes = regrade([sheet], KEYS, [ObjectiveKey("M1", "multiple", "AB", D(20))], PARTIAL)
    assert changes == ()  # same key: nothing changes
    assert regrade([sheet], KEYS, [ObjectiveKey("M1", "multiple", "AC", D(20))], PARTIAL) == ()
    (change,) = regrade([sheet], KEYS, [ObjectiveKey("M1", "multiple", "BC", D(20))], PARTIAL)
    assert (change.old_score, change.new_score, change.old_passed, change.new_passed) == (
        D("60.0"),
        D("50.0"),
        True,
        False,
    )


@SETTINGS
@given(
    st.lists(st.lists(st.sampled_from("ABCD"), max_size=4, unique=True), min_size=1, max_size=12),
    st.lists(st.sampled_from("ABCD"), min_size=2, max_size=4, unique=True),
)
def test_the_dry_run_lists_exactly_the_candidates_whose_item_score_changes(
    ticks: list[list[str]], new_answer: list[str]
) -> None:
    keys = {
        "M1": ObjectiveKey("M1", "multiple", "AB", D(4)),
        "S1": ObjectiveKey("S1", "single", "A", D(6)),
    }
    new = ObjectiveKey("M1", "multiple", "".join(sorted(new_answer)), D(4))
    sheets = [Sheet(f"c{n}", ("S1", "M1"), {"M1": sorted(t)}) for n, t in enumerate(ticks)]
    changes = {c.candidate: c for c in regrade(sheets, keys, [new], PARTIAL)}
    for sheet in sheets:
        old_score = score_item(keys["M1"], sheet.answers["M1"], PARTIAL)
        new_score = score_item(new, sheet.answers["M1"], PARTIAL)
        assert (sheet.candidate in changes) == (old_score != new_score)
        if sheet.candidate in changes:
            assert (
                changes[sheet.candidate].new_raw - changes[sheet.candidate].old_raw
                == new_score - old_score
            )


@pytest.mark.parametrize(
    ("sheets", "corrections", "message"),
    [
        ([], [ObjectiveKey("X9", "single", "A", D(1))], "更正的题目“X9”没有原答案"),
        ([], [ObjectiveKey("S1", "single", "B", D(50))] * 2, "题目“S1”更正了两次"),
        (
            [],
            [ObjectiveKey("S1", "multiple", "AB", D(50))],
            "题目“S1”是单选题，更正后不能变为多选题",
        ),
        ([Sheet("c1", ("S1",), {}), Sheet("c1", ("S1",), {})], [], "考生“c1”有两份答卷"),
        (
            [Sheet("c1", ("S1", "Q5"), {})],
            [ObjectiveKey("S1", "single", "B", D(50))],
            "考生“c1”试卷上的题目 Q5 没有答案",
        ),
    ],
)
def test_a_bad_correction_is_refused(
    sheets: list[Sheet], corrections: list[ObjectiveKey], message: str
) -> None:
    with pytest.raises(GradingError, match=message):
        regrade(sheets, KEYS, corrections, AON)
