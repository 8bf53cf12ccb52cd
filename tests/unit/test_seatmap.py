"""Seat maps: numbering from the front-left, labels, assignable seats, rules and seat lists."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.sites.seatmap import SeatListError, SeatMap, parse_seat_list, validate_seatmap

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)


def test_seats_are_numbered_row_by_row_from_the_front_left() -> None:
    room = SeatMap(5, 6)
    assert room.position(1) == (1, 1)
    assert room.position(6) == (1, 6)
    assert room.position(7) == (2, 1)
    assert room.position(30) == (5, 6)
    assert room.seat_at(2, 3) == 9
    with pytest.raises(ValueError, match="座位 31 不存在：本考场座位号为 1–30"):
        room.position(31)
    with pytest.raises(ValueError, match="第 6 排第 1 列不存在"):
        room.seat_at(6, 1)


@given(st.integers(1, 30), st.integers(1, 30), st.data())
@SETTINGS
def test_position_and_seat_at_are_inverse(rows: int, columns: int, data: st.DataObject) -> None:
    room = SeatMap(rows, columns)
    seat = data.draw(st.integers(1, rows * columns))
    row, column = room.position(seat)
    assert 1 <= row <= rows and 1 <= column <= columns
    assert room.seat_at(row, column) == seat


def test_labels_are_padded_to_the_widest_seat_number() -> None:
    assert SeatMap(5, 6).label(3) == "03"
    assert SeatMap(5, 6).label(30) == "30"
    assert SeatMap(3, 3).label(3) == "3"
    assert SeatMap(10, 10).label(7) == "007"
    with pytest.raises(ValueError, match="座位 0 不存在"):
        SeatMap(3, 3).label(0)


def test_assignable_seats_leave_out_spare_and_blocked() -> None:
    room = SeatMap(2, 3, spare=frozenset({6}), blocked=frozenset({2}))
    assert room.assignable() == (1, 3, 4, 5)
    assert room.size == 6


def test_a_valid_map_has_no_problems() -> None:
    assert validate_seatmap(SeatMap(5, 6, frozenset({29, 30}), frozenset({1}))) == []
    assert validate_seatmap(SeatMap(30, 30)) == []
    assert validate_seatmap(SeatMap(1, 1)) == []


def test_rows_and_columns_must_be_1_to_30() -> None:
    assert validate_seatmap(SeatMap(0, 31)) == ["排数 0 无效：应为 1–30", "列数 31 无效：应为 1–30"]


def test_spare_and_blocked_seats_must_exist_and_differ() -> None:
    problems = validate_seatmap(SeatMap(2, 3, frozenset({0, 7, 2}), frozenset({2, 9})))
    assert problems == [
        "备用座位 0、7 超出座位范围：本考场座位号为 1–6",
        "停用座位 9 超出座位范围：本考场座位号为 1–6",
        "座位 2 不能既是备用座位又是停用座位：请只保留一种",
    ]


def test_a_map_needs_one_assignable_seat() -> None:
    problems = validate_seatmap(SeatMap(1, 2, frozenset({1}), frozenset({2})))
    assert problems == ["没有可分配的座位：请减少备用或停用座位"]


def test_long_lists_of_wrong_seats_are_cut_short() -> None:
    (problem,) = validate_seatmap(SeatMap(1, 1, blocked=frozenset(range(2, 20))))
    assert (
        problem
        == "停用座位 2、3、4、5、6、7、8、9、10、11 等 18 个 超出座位范围：本考场座位号为 1–1"
    )


@pytest.mark.parametrize(
    ("text", "seats"),
    [
        ("5, 10-12", {5, 10, 11, 12}),
        ("", set()),
        ("   ", set()),
        ("3、4，5 7;8", {3, 4, 5, 7, 8}),
        ("10 - 12, 11", {10, 11, 12}),
        ("1–3 5~6 8～8", {1, 2, 3, 5, 6, 8}),
        ("０７，１０-１１", {7, 10, 11}),
    ],
)
def test_seat_lists_take_numbers_and_ranges(text: str, seats: set[int]) -> None:
    assert parse_seat_list(text) == frozenset(seats)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5, a", "“a”不是座位号或范围：请写成如 5, 10-12 的形式（逗号分隔，范围用 -）"),
        ("5-", "“5-”不是座位号或范围"),
        ("1-2-3", "“1-2-3”不是座位号或范围"),
        ("12-10", "范围“12-10”的起点大于终点：应写成 10-12"),
        ("0", "“0”无效：座位号从 1 开始"),
        ("0-3", "“0-3”无效：座位号从 1 开始"),
        ("5-100000000", "“5-100000000”无效：座位号最大为 900"),
        ("²", "“²”不是座位号或范围"),
    ],
)
def test_bad_seat_lists_say_which_part_is_wrong(text: str, message: str) -> None:
    with pytest.raises(SeatListError) as caught:
        parse_seat_list(text)
    assert str(caught.value).startswith(message)


@given(st.frozensets(st.integers(1, 900), max_size=40))
@SETTINGS
def test_written_seat_lists_read_back(seats: frozenset[int]) -> None:
    assert parse_seat_list(", ".join(str(s) for s in sorted(seats))) == seats
