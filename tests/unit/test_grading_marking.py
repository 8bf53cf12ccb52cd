"""Practical marking: marking numbers, rubric checks, arbitration threshold, final score, workloads."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.bank.model import Criterion
from examsvc.grading.marking import (
    MARKING_NUMBER,
    ArbitrationPolicy,
    CriterionMark,
    Marking,
    MarkingError,
    Rubric,
    RubricCriterion,
    ScriptMarking,
    assign_arbiters,
    assign_raters,
    check_marking,
    final_score,
    loads,
    needs_arbitration,
    new_marking_numbers,
    practical_on_hundred,
    resolve,
)
from examsvc.grading.scoring import round_score

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)
DEFAULT = ArbitrationPolicy()
CLOSER = ArbitrationPolicy(arbitrated_rule="mean_with_closer")
RUBRIC = Rubric(
    (
        RubricCriterion("页面结构", D(8)),
        RubricCriterion("页面布局", D(6)),
        RubricCriterion("交互效果", D(6), step=D(1)),
    )
)  # 20 points: the threshold is 3


def marks(rater: str, *scores: str, comment: str = "") -> Marking:
    return Marking(rater, tuple(CriterionMark(D(s), comment) for s in scores))


# --- marking numbers --------------------------------------------------------------------------


def test_marking_numbers_are_unique_well_formed_and_avoid_those_taken() -> None:
    first = new_marking_numbers(2000, rng=random.Random(1))
    assert len(set(first)) == 2000
    assert all(MARKING_NUMBER.match(n) for n in first)
    more = new_marking_numbers(500, taken=first, rng=random.Random(1))  # same draws: all refused
    assert not set(more) & set(first) and len(set(more)) == 500


def test_marking_numbers_come_from_the_system_generator_by_default() -> None:
    a, b = new_marking_numbers(3), new_marking_numbers(3)
    assert not set(a) & set(b)  # 50 random bits each: a repeat here would mean no randomness
    assert new_marking_numbers(0) == ()
    with pytest.raises(MarkingError, match="要生成的密号数量 -1 无效"):
        new_marking_numbers(-1)


def test_marking_numbers_cannot_be_misread() -> None:
    letters = set("".join(new_marking_numbers(300, rng=random.Random(7)))) - {"-"}
    assert not letters & set("ILOU")


# --- rubric and marks -------------------------------------------------------------------------


def test_a_valid_marking_totals_its_criteria() -> None:
    assert RUBRIC.points == 20
    assert check_marking(RUBRIC, marks("r1", "7.5", "6", "0"), "K7QX9-M2DHP") == D("13.5")


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (
            ("9", "6", "6"),
            "第 1 项评分项“页面结构”的得分 9 无效：应在 0 到 8 分之间，且为 0.5 的整数倍",
        ),
        (("8", "-0.5", "6"), "第 2 项评分项“页面布局”的得分 -0.5 无效：应在 0 到 6 分之间"),
        (
            ("8", "5.25", "6"),
            "第 2 项评分项“页面布局”的得分 5.25 无效：应在 0 到 6 分之间，且为 0.5 的整数倍",
        ),
        (
            ("8", "6", "4.5"),
            "第 3 项评分项“交互效果”的得分 4.5 无效：应在 0 到 6 分之间，且为 1 的整数倍",
        ),
        (("8", "6", "NaN"), "第 3 项评分项“交互效果”的得分 NaN 无效"),
    ],
)
def test_a_score_out_of_range_or_step_names_the_criterion_and_range(
    scores: tuple[str, ...], message: str
) -> None:
    with pytest.raises(MarkingError, match=message) as caught:
        check_marking(RUBRIC, marks("r1", *scores), "K7QX9-M2DHP")
    assert caught.value.message.startswith("密号 K7QX9-M2DHP：")


def test_every_bad_criterion_is_named_at_once() -> None:
    with pytest.raises(MarkingError) as caught:
        check_marking(RUBRIC, marks("r1", "9", "7", "6"), "S1")
    assert len(caught.value.details) == 2
    assert "页面结构" in caught.value.message and "页面布局" in caught.value.message


def test_marks_must_match_the_rubric_and_comments_stay_short() -> None:
    with pytest.raises(MarkingError, match="评分细则有 3 个评分项，却给了 2 个得分"):
        check_marking(RUBRIC, marks("r1", "1", "1"), "S1")
    with pytest.raises(MarkingError, match="评语有 2001 个字符，超过上限 2000"):
        check_marking(RUBRIC, marks("r1", "1", "1", "1", comment="差" * 2001), "S1")


def test_rubric_rules() -> None:
    with pytest.raises(
        MarkingError, match=re.escape("评分项“布局”的分值 2.25 不是步长 0.5 的整数倍")
    ):
        RubricCriterion("布局", D("2.25"))
    with pytest.raises(MarkingError, match="评分步长 0 无效"):
        RubricCriterion("布局", D(2), step=D(0))
    with pytest.raises(MarkingError, match="评分细则至少需要一个评分项"):
        Rubric(())
    bank = (Criterion("结构", D(10), "语义化标签"), Criterion("样式", D("5.5")))
    assert Rubric.from_bank(bank) == Rubric(
        (RubricCriterion("结构", D(10)), RubricCriterion("样式", D("5.5")))
    )


# --- arbitration threshold --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "points", "ratio", "needed"),
    [
        ("10", "13", "20", "0.15", False),  # exactly 15 % of 20: no arbitration
        ("10", "13.5", "20", "0.15", True),
        ("13.5", "10", "20", "0.15", True),  # order does not matter
        ("10", "12.5", "20", "0.15", False),
        ("5", "6.5", "10", "0.15", False),  # 1.5 of 10
        ("5", "7", "10", "0.15", True),
        ("5", "6", "10", "0.1", False),
        ("5", "6.5", "10", "0.1", True),
        ("5", "5", "10", "0", False),
        ("5", "5.5", "10", "0", True),  # ratio 0: any difference
    ],
)
def test_arbitration_only_above_the_threshold(
    first: str, second: str, points: str, ratio: str, needed: bool
) -> None:
    policy = ArbitrationPolicy(D(ratio))
    assert needs_arbitration(D(first), D(second), D(points), policy) is needed
    expected = None if needed else (D(first) + D(second)) / 2
    assert final_score(D(first), D(second), D(points), policy) == expected


def test_bad_arbitration_policies_are_refused() -> None:
    with pytest.raises(MarkingError, match=re.escape("仲裁阈值比例 1.5 无效")):
        ArbitrationPolicy(D("1.5"))
    with pytest.raises(MarkingError, match="仲裁后的计分规则“max”无效"):
        ArbitrationPolicy(arbitrated_rule="max")


# --- final score rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "arbiter", "by_arbiter", "by_closer"),
    [
        ("10", "16", "15", "15", "15.5"),  # closer is the second
        ("10", "16", "11", "11", "10.5"),  # closer is the first
        ("10", "16", "13", "13", "13"),  # equally close: the arbiter alone
        ("10", "16", "18", "18", "17"),  # outside both
        ("12", "13", "20", "20", "16.5"),  # arbitration requested below the threshold
    ],
)
def test_final_score_of_an_arbitrated_script(
    first: str, second: str, arbiter: str, by_arbiter: str, by_closer: str
) -> None:
    args = (D(first), D(second), D(20))
    assert final_score(*args, DEFAULT, D(arbiter)) == D(by_arbiter)
    assert final_score(*args, CLOSER, D(arbiter)) == D(by_closer)


scores_of_20 = st.integers(0, 40).map(lambda n: D(n) / 2)


@SETTINGS
@given(scores_of_20, scores_of_20, scores_of_20, st.sampled_from([DEFAULT, CLOSER]))
def test_a_final_score_lies_between_the_scores_it_is_made_of(
    first: D, second: D, arbiter: D, policy: ArbitrationPolicy
) -> None:
    plain = final_score(first, second, D(20), policy)
    if plain is not None:
        assert min(first, second) <= plain <= max(first, second)
        assert abs(plain - first) <= policy.threshold(D(20)) / 2
    else:
        assert abs(first - second) > 3
    arbitrated = final_score(first, second, D(20), policy, arbiter)
    assert arbitrated is not None and D(0) <= arbitrated <= D(20)
    assert min(first, second, arbiter) <= arbitrated <= max(first, second, arbiter)
    if policy is CLOSER:
        assert abs(arbitrated - arbiter) <= max(abs(arbiter - first), abs(arbiter - second)) / 2


def test_resolve_waits_for_the_arbiter_then_applies_the_rule() -> None:
    script = ScriptMarking("S1", RUBRIC, marks("r1", "4", "2", "2"), marks("r2", "8", "4", "3"))
    waiting = resolve(script, DEFAULT)
    assert (waiting.first, waiting.second, waiting.needs_arbitration) == (D(8), D(15), True)
    assert waiting.final is None and waiting.awaiting_arbiter
    done = resolve(replace(script, arbiter=marks("r3", "7", "4", "3")), CLOSER)
    assert (done.arbiter, done.final, done.awaiting_arbiter) == (D(14), D("14.5"), False)
    close = resolve(
        ScriptMarking("S2", RUBRIC, marks("r1", "6", "4", "2"), marks("r2", "7", "4", "3")), DEFAULT
    )
    assert (close.needs_arbitration, close.final) == (False, D("13"))


def test_a_rater_marks_a_script_once_and_the_arbiter_is_a_third_person() -> None:
    with pytest.raises(
        MarkingError, match="一评和二评都是考评员“r1”，同一考评员不能评同一份答卷两次"
    ):
        resolve(
            ScriptMarking("S1", RUBRIC, marks("r1", "1", "1", "1"), marks("r1", "1", "1", "1")),
            DEFAULT,
        )
    script = ScriptMarking(
        "S1",
        RUBRIC,
        marks("r1", "0", "0", "0"),
        marks("r2", "8", "6", "6"),
        marks("r2", "4", "3", "3"),
    )
    with pytest.raises(
        MarkingError,
        match="密号 S1：仲裁考评员“r2”已是这份答卷的二评，第三评必须由另一名高级考评员担任",
    ):
        resolve(script, DEFAULT)


def test_the_practical_part_on_100_waits_for_every_arbiter() -> None:
    marked = resolve(
        ScriptMarking("S1", RUBRIC, marks("r1", "6", "4", "2"), marks("r2", "7", "4", "3")), DEFAULT
    )
    other = Rubric((RubricCriterion("代码", D(40)),))
    second = resolve(ScriptMarking("S2", other, marks("r1", "30"), marks("r2", "31")), DEFAULT)
    assert practical_on_hundred([marked, second]) == D("43.5") * 100 / 60  # (13 + 30.5) of 60
    assert round_score(practical_on_hundred([second]) or D(0)) == D("76.3")  # 30.5 / 40
    waiting = resolve(ScriptMarking("S3", other, marks("r1", "10"), marks("r2", "30")), DEFAULT)
    assert practical_on_hundred([marked, waiting]) is None
    with pytest.raises(MarkingError, match="没有实操答卷的评分"):
        practical_on_hundred([])


# --- workload ---------------------------------------------------------------------------------


@SETTINGS
@given(st.integers(0, 120), st.integers(2, 13), st.integers(0, 2**32))
def test_every_script_gets_two_distinct_raters_and_loads_differ_by_at_most_one(
    scripts: int, raters: int, seed: int
) -> None:
    names = [f"s{i}" for i in range(scripts)]
    people = [f"r{i}" for i in range(raters)]
    assignment = assign_raters(names, people, seed)
    assert list(assignment) == names
    assert all(a != b and {a, b} <= set(people) for a, b in assignment.values())
    load = loads(assignment)
    counts = [load.get(p, 0) for p in people]
    assert max(counts) - min(counts) <= 1
    assert sum(counts) == 2 * scripts
    assert assign_raters(names, people, seed) == assignment  # reproducible


def test_pairs_vary_between_scripts() -> None:
    assignment = assign_raters([f"s{i}" for i in range(60)], ["a", "b", "c", "d"], seed="plan-7")
    assert len({frozenset(p) for p in assignment.values()}) > 2


def test_assignment_refuses_too_few_or_repeated_raters_and_scripts() -> None:
    with pytest.raises(MarkingError, match="双评需要至少两名考评员，现有 1 名"):
        assign_raters(["s1"], ["r1"])
    with pytest.raises(MarkingError, match="考评员“r1”出现了两次"):
        assign_raters(["s1"], ["r1", "r1"])
    with pytest.raises(MarkingError, match="答卷密号“s1”出现了两次"):
        assign_raters(["s1", "s1"], ["r1", "r2"])


def test_arbiters_are_the_least_loaded_seniors_outside_the_pair() -> None:
    pairs = {"s1": ("a", "b"), "s2": ("a", "c"), "s3": ("b", "c"), "s4": ("d", "e")}
    chosen = assign_arbiters(pairs, ["a", "b", "c"], current={"c": 1})
    assert chosen == {"s1": "c", "s2": "b", "s3": "a", "s4": "a"}
    assert all(chosen[s] not in pair for s, pair in pairs.items())


def test_no_arbiter_outside_the_pair_is_a_clear_error() -> None:
    with pytest.raises(
        MarkingError, match="密号 s1 没有可用的仲裁考评员：高级考评员a、b都已是这份答卷的一评或二评"
    ):
        assign_arbiters({"s1": ("a", "b")}, ["a", "b"])
    with pytest.raises(MarkingError, match="一评和二评都是考评员“a”"):
        assign_arbiters({"s1": ("a", "a")}, ["c"])
