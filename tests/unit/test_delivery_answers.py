"""Answer changes: displayed labels ↔ original keys, every refusal by code, the idempotent merge."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.bank.model import OPTION_KEYS
from examsvc.delivery.answers import (
    ERROR_CODES,
    MAX_SEQ,
    MAX_TEXT_CHARS,
    AnswerChange,
    AnswerError,
    ItemView,
    Merge,
    PaperView,
    StoredAnswer,
    Value,
    display_value,
    displayed,
    merge,
    original,
    parse_change,
)

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)

PAPER = PaperView(
    (
        ItemView(1, "theory", "single", "CADB", 4),
        ItemView(2, "theory", "multiple", "BDAEC", 5),
        ItemView(3, "theory", "truefalse", "", 0),
        ItemView(4, "theory", "single", "", 3),  # options kept in bank order
        ItemView(5, "practical", "practical", "", 0),
    )
)


def change(position: int, value: object, seq: int = 1, **more: object) -> AnswerChange:
    return parse_change(
        {"seq": seq, "position": position, "value": value, **more}, PAPER, part_of(position)
    )


def part_of(position: int) -> str:
    item = PAPER.item(position)
    return item.part if item is not None else "theory"


def refusal(payload: object, part: str = "theory") -> AnswerError:
    with pytest.raises(AnswerError) as caught:
        parse_change(payload, PAPER, part)
    assert caught.value.code in ERROR_CODES
    assert str(caught.value) == caught.value.message
    return caught.value


# --- label mapping ------------------------------------------------------------------------


def test_displayed_and_original_are_inverse() -> None:
    assert displayed("CADB", "C") == "A"
    assert displayed("CADB", "B") == "D"
    assert original("CADB", "A") == "C"
    assert original("CADB", "D") == "B"
    with pytest.raises(ValueError, match="选项“E”不在选项顺序“CADB”中"):
        displayed("CADB", "E")
    with pytest.raises(ValueError, match="超出选项顺序"):
        original("CADB", "E")
    with pytest.raises(ValueError, match="超出选项顺序"):
        original("CADB", "AB")


@SETTINGS
@given(st.integers(2, 8).flatmap(lambda n: st.permutations(OPTION_KEYS[:n])))
def test_mapping_round_trips_for_every_order(order: list[str]) -> None:
    text = "".join(order)
    for label in OPTION_KEYS[: len(order)]:
        assert displayed(text, original(text, label)) == label
    for key in order:
        assert original(text, displayed(text, key)) == key


# --- valid changes ------------------------------------------------------------------------


def test_single_maps_the_displayed_label_to_the_original_key() -> None:
    assert change(1, "A") == AnswerChange(seq=1, position=1, value="C", flagged=False)
    assert change(1, None, seq=2, flagged=True) == AnswerChange(2, 1, None, True)
    assert change(4, "B").value == "B"  # bank order


def test_multiple_is_stored_as_sorted_original_keys() -> None:
    assert change(2, ["E", "A"]).value == ["B", "C"]  # E shows C, A shows B
    assert change(2, ["B", "A", "C"]).value == ["A", "B", "D"]
    assert change(2, []).value is None  # nothing ticked is unanswered
    assert change(2, None).value is None


def test_truefalse_and_practical() -> None:
    assert change(3, True).value is True
    assert change(3, False).value is False
    assert change(3, None).value is None
    assert change(5, {"text": "<p>你好</p>"}).value == {"text": "<p>你好</p>"}
    assert change(5, {"text": ""}).value is None
    assert change(5, {"text": "字" * MAX_TEXT_CHARS}).value == {"text": "字" * MAX_TEXT_CHARS}


def test_values_are_json_able() -> None:
    for position, value in [(1, "A"), (2, ["A", "B"]), (3, True), (5, {"text": "x"})]:
        normalized = change(position, value).value
        assert json.loads(json.dumps(normalized)) == normalized


def test_saved_answers_are_shown_back_as_displayed_labels() -> None:
    item1, item2 = PAPER.item(1), PAPER.item(2)
    assert item1 is not None and item2 is not None
    assert display_value(item1, "C") == "A"
    assert display_value(item2, ["B", "C"]) == ["A", "E"]
    assert display_value(item2, None) is None


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code", "message"),
    [
        ([1, 1, "A"], "malformed", "答案消息应为 JSON 对象"),
        ("seq=1", "malformed", "答案消息应为 JSON 对象"),
        ({"seq": 1, "position": 1}, "malformed", "缺少字段 value"),
        ({"seq": 1, "position": 1, "value": "A", "score": 5}, "malformed", "未知字段 score"),
        ({"seq": 0, "position": 1, "value": "A"}, "malformed", "seq 应为 1 到"),
        ({"seq": "1", "position": 1, "value": "A"}, "malformed", "现为 '1'"),
        ({"seq": True, "position": 1, "value": "A"}, "malformed", "seq 应为"),
        ({"seq": MAX_SEQ + 1, "position": 1, "value": "A"}, "malformed", "seq 应为"),
        ({"seq": 1.0, "position": 1, "value": "A"}, "malformed", "seq 应为"),
        ({"seq": 1, "position": "1", "value": "A"}, "malformed", "position 应为正整数"),
        ({"seq": 1, "position": 0, "value": "A"}, "malformed", "position 应为正整数"),
        ({"seq": 1, "position": 1, "value": "A", "flagged": 1}, "malformed", "flagged 应为"),
        ({"seq": 1, "position": 99, "value": "A"}, "unknown_item", "第 99 题不在你的试卷中"),
        ({"seq": 1, "position": 5, "value": None}, "wrong_part", "第 5 题属于实操考试"),
        (
            {"seq": 1, "position": 1, "value": "E"},
            "unknown_option",
            "第 1 题没有选项“E”（本题选项为 A–D）",
        ),
        ({"seq": 1, "position": 1, "value": "a"}, "unknown_option", "没有选项“a”"),
        ({"seq": 1, "position": 1, "value": "AB"}, "unknown_option", "没有选项“AB”"),
        ({"seq": 1, "position": 1, "value": ["A"]}, "bad_value", "单选题"),
        ({"seq": 1, "position": 4, "value": "D"}, "unknown_option", "本题选项为 A–C"),
        ({"seq": 1, "position": 2, "value": "A"}, "bad_value", "多选题"),
        ({"seq": 1, "position": 2, "value": ["A", 2]}, "bad_value", "多选题"),
        ({"seq": 1, "position": 2, "value": ["A", "A"]}, "bad_value", "重复的选项"),
        ({"seq": 1, "position": 2, "value": ["A", "F"]}, "unknown_option", "没有选项“F”"),
        ({"seq": 1, "position": 3, "value": "true"}, "bad_value", "判断题"),
        ({"seq": 1, "position": 3, "value": 1}, "bad_value", "判断题"),
    ],
)
def test_theory_refusals(payload: object, code: str, message: str) -> None:
    error = refusal(payload)
    assert error.code == code
    assert message in error.message


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        ("text", "bad_value", "实操题"),
        ({"text": 5}, "bad_value", "实操题"),
        ({"text": "x", "files": []}, "bad_value", "实操题"),
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, "too_large", "200,001 个字符，超过上限 200,000"),
        ({"text": "a\x00b"}, "bad_value", "无法保存的字符"),
        ({"text": "a\ud800b"}, "bad_value", "无法保存的字符"),
    ],
)
def test_practical_refusals(value: object, code: str, message: str) -> None:
    error = refusal({"seq": 1, "position": 5, "value": value}, part="practical")
    assert error.code == code
    assert message in error.message


def test_a_theory_item_is_refused_while_the_practical_part_runs() -> None:
    error = refusal({"seq": 1, "position": 1, "value": "A"}, part="practical")
    assert error.code == "wrong_part"
    assert error.message == "第 1 题属于理论考试，当前进行的是实操考试：请在理论考试开始后再作答"


def test_a_huge_bad_field_is_not_echoed_whole() -> None:
    error = refusal({"seq": "9" * 100_000, "position": 1, "value": "A"})
    assert len(error.message) < 100


def test_a_number_too_long_to_print_is_still_refused_cleanly() -> None:
    error = refusal({"seq": 10**5000, "position": 1, "value": "A"})
    assert error.message.endswith("现为 超长数字")
    error = refusal({"seq": 1, "position": 10**5000, "value": "A"})
    assert error.code == "malformed"
    assert error.message.endswith("现为 超长数字")


def test_an_unknown_part_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="考试部分“exam”"):
        parse_change({"seq": 1, "position": 1, "value": "A"}, PAPER, "exam")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, "theory", "single", "AB", 2), "题号应从 1 开始"),
        ((1, "oral", "single", "AB", 2), "考试部分“oral”"),
        ((1, "theory", "essay", "", 0), "题型“essay”"),
        ((1, "theory", "single", "A", 1), "选项数 1 应在 2 到 8 之间"),
        ((1, "theory", "single", "ABD", 3), "选项顺序“ABD”应为 ABC 的一种排列"),
        ((1, "theory", "multiple", "AAB", 3), "应为 ABC 的一种排列"),
        ((1, "theory", "truefalse", "AB", 2), "判断题不能有选项"),
    ],
)
def test_bad_item_views_are_refused(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ItemView(*args)


def test_a_paper_with_one_position_twice_is_refused() -> None:
    item = ItemView(1, "theory", "truefalse", "", 0)
    with pytest.raises(ValueError, match="第 1 题出现了两次"):
        PaperView((item, item))


# --- merge --------------------------------------------------------------------------------


def test_merge_outcomes() -> None:
    new = AnswerChange(seq=5, position=1, value="C")
    assert merge(None, new) == Merge(write=True, outcome="saved")
    assert merge(StoredAnswer(4, "A"), new) == Merge(True, "saved")
    assert merge(StoredAnswer(5, "C"), new) == Merge(False, "duplicate")
    assert merge(StoredAnswer(6, "A"), new) == Merge(False, "stale")
    assert merge(StoredAnswer(5, ["A", "B"]), AnswerChange(5, 2, ["A", "B"])).outcome == "duplicate"


@pytest.mark.parametrize(
    "stored", [StoredAnswer(5, "A"), StoredAnswer(5, "C", flagged=True), StoredAnswer(5, None)]
)
def test_the_same_seq_with_another_state_is_a_conflict(stored: StoredAnswer) -> None:
    with pytest.raises(AnswerError) as caught:
        merge(stored, AnswerChange(seq=5, position=1, value="C"))
    assert caught.value.code == "seq_conflict"
    assert "第 1 题的序号 5 已保存过另一份答案" in caught.value.message


values = st.one_of(
    st.none(),
    st.sampled_from("ABCD"),
    st.lists(st.sampled_from("ABCD"), unique=True, min_size=1).map(sorted),
)


@SETTINGS
@given(
    st.dictionaries(
        st.integers(1, 1000), st.tuples(values, st.booleans()), min_size=1, max_size=12
    ),
    st.data(),
)
def test_any_order_with_duplicates_ends_with_the_highest_seq(
    by_seq: dict[int, tuple[Value, bool]], data: st.DataObject
) -> None:
    changes = [AnswerChange(seq, 1, value, flagged) for seq, (value, flagged) in by_seq.items()]
    repeats = data.draw(st.lists(st.sampled_from(changes), max_size=12))
    arrivals = data.draw(st.permutations(changes + repeats))
    stored: StoredAnswer | None = None
    outcomes: dict[str, int] = {"saved": 0, "duplicate": 0, "stale": 0}
    for arrival in arrivals:
        result = merge(stored, arrival)  # never a conflict: one seq, one state
        outcomes[result.outcome] += 1
        assert result.write == (result.outcome == "saved")
        if result.write:
            assert stored is None or arrival.seq > stored.seq
            stored = StoredAnswer(arrival.seq, arrival.value, arrival.flagged)
    top = max(by_seq)
    assert stored == StoredAnswer(top, *by_seq[top])
    assert sum(outcomes.values()) == len(arrivals)
    assert outcomes["saved"] <= len(by_seq)


@st.composite
def item_and_answer(draw: st.DrawFn) -> tuple[ItemView, object]:
    """A choice item with a random order, and an answer in displayed labels."""
    count = draw(st.integers(2, 8))
    order = "".join(draw(st.permutations(OPTION_KEYS[:count])))
    if draw(st.booleans()):
        item = ItemView(1, "theory", "single", order, count)
        return item, draw(st.sampled_from(OPTION_KEYS[:count]))
    item = ItemView(1, "theory", "multiple", order, count)
    return item, draw(st.lists(st.sampled_from(OPTION_KEYS[:count]), unique=True, min_size=1))


@SETTINGS
@given(item_and_answer())
def test_a_saved_answer_is_shown_back_as_it_was_chosen(case: tuple[ItemView, object]) -> None:
    item, answer = case
    saved = parse_change({"seq": 1, "position": 1, "value": answer}, PaperView((item,)), "theory")
    shown = display_value(item, saved.value)
    assert shown == (sorted(answer) if isinstance(answer, list) else answer)
    if isinstance(saved.value, list):
        assert saved.value == sorted(saved.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
payloads = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "seq": st.integers(-1, 3) | json_values,
            "position": st.integers(0, 7) | json_values,
            "value": st.sampled_from(["A", "E", ["A", "B"], True, {"text": "x"}]) | json_values,
        },
        optional={"flagged": st.booleans() | json_values, "extra": json_values},
    ),
)


@SETTINGS
@given(payloads)
def test_any_json_payload_is_accepted_or_refused_with_a_code(payload: object) -> None:
    for part in ("theory", "practical"):
        try:
            saved = parse_change(payload, PAPER, part)
        except AnswerError as error:
            assert error.code in ERROR_CODES
        else:
            assert json.loads(json.dumps(saved.value)) == saved.value
