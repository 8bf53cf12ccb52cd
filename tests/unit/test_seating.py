"""Automatic seating keeps classmates apart and everyone in exactly one free seat; moves are checked."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examsvc.plans.seating import (
    RoomSeats,
    SeatCandidate,
    SeatingError,
    adjacent_same_group,
    assign_seats,
    check_move,
    diagonal_same_group,
)
from examsvc.sites.seatmap import SeatMap

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@dataclass(frozen=True)
class Case:
    rooms: list[RoomSeats]
    candidates: list[SeatCandidate]
    taken: dict[int, tuple[int, int]]

    @property
    def groups(self) -> dict[int, str]:
        return {c.key: c.group for c in self.candidates}


@st.composite
def seatmaps(draw: st.DrawFn, max_side: int = 6) -> SeatMap:
    rows, columns = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    seats = list(range(1, rows * columns + 1))
    special = draw(st.lists(st.sampled_from(seats), unique=True, max_size=len(seats) - 1))
    cut = draw(st.integers(0, len(special)))
    return SeatMap(rows, columns, frozenset(special[:cut]), frozenset(special[cut:]))


@st.composite
def cases(
    draw: st.DrawFn,
    with_taken: bool = True,
    max_rooms: int = 3,
    max_side: int = 6,
    max_groups: int = 5,
) -> Case:
    maps = draw(st.lists(seatmaps(max_side), min_size=1, max_size=max_rooms))
    rooms = [RoomSeats(10 + i, f"R{i}", m) for i, m in enumerate(maps)]
    capacity = sum(len(m.assignable()) for m in maps)
    count = draw(st.integers(0, capacity))
    keys = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count, unique=True))
    names = [f"学院/{i}班" for i in range(draw(st.integers(1, max_groups)))]
    candidates = [SeatCandidate(k, draw(st.sampled_from(names))) for k in keys]
    taken: dict[int, tuple[int, int]] = {}
    if with_taken and keys:
        # Some candidates already sit on assignable or spare seats (spare ones after a move).
        usable = [
            (r.room_id, s) for r in rooms for s in (*r.seatmap.assignable(), *r.seatmap.spare)
        ]
        seats = draw(st.lists(st.sampled_from(usable), unique=True, max_size=min(len(keys), 6)))
        taken = dict(zip(keys, seats, strict=False))
    return Case(rooms, candidates, taken)


def _spaced_capacity(seatmap: SeatMap, occupied: AbstractSet[int] = frozenset()) -> int:
    free = [s for s in seatmap.assignable() if s not in occupied]
    even = sum(1 for s in free if sum(seatmap.position(s)) % 2 == 0)
    return max(even, len(free) - even)


def _orthogonal_pairs(assignment: Mapping[int, tuple[int, int]], rooms: Sequence[RoomSeats]) -> int:
    """Pairs of candidates of any group side by side or one behind the other."""
    return adjacent_same_group(assignment, dict.fromkeys(assignment, "everyone"), rooms)


@given(cases())
@SETTINGS
def test_everyone_gets_exactly_one_free_seat_and_the_seated_stay(case: Case) -> None:
    result = assign_seats(case.candidates, case.rooms, case.taken)
    assert set(result) == {c.key for c in case.candidates}
    assert len(set(result.values())) == len(result), "two candidates on one seat"
    maps = {r.room_id: r.seatmap for r in case.rooms}
    for key, (room_id, seat) in result.items():
        if key in case.taken:
            assert case.taken[key] == (room_id, seat)
        else:
            assert seat in maps[room_id].assignable(), "a new candidate on a spare or blocked seat"


@given(cases(), st.randoms(use_true_random=False))
@SETTINGS
def test_the_same_input_in_any_order_gives_the_same_seats(case: Case, rnd: random.Random) -> None:
    first = assign_seats(case.candidates, case.rooms, case.taken)
    shuffled = list(case.candidates)
    rnd.shuffle(shuffled)
    taken = dict(reversed(list(case.taken.items())))
    assert assign_seats(shuffled, case.rooms, taken) == first


@given(cases(with_taken=False))
@SETTINGS
def test_quarter_per_class_and_half_full_means_no_classmates_side_by_side(case: Case) -> None:
    seats = sum(len(r.seatmap.assignable()) for r in case.rooms)
    sizes = Counter(c.group for c in case.candidates)
    if len(case.candidates) * 2 > seats or max(sizes.values(), default=0) * 4 > seats:
        return
    result = assign_seats(case.candidates, case.rooms)
    assert adjacent_same_group(result, case.groups, case.rooms) == 0


@given(cases())
@SETTINGS
def test_within_the_spaced_capacity_no_two_new_candidates_touch(case: Case) -> None:
    # The guarantee behind the one above: one chessboard colour of the free seats per room.
    occupied: dict[int, set[int]] = {r.room_id: set() for r in case.rooms}
    for room_id, seat in case.taken.values():
        occupied[room_id].add(seat)
    spaced = sum(_spaced_capacity(r.seatmap, occupied[r.room_id]) for r in case.rooms)
    waiting = [c for c in case.candidates if c.key not in case.taken]
    if len(waiting) > spaced:
        return
    result = assign_seats(case.candidates, case.rooms, case.taken)
    new = {c.key: result[c.key] for c in waiting}
    assert _orthogonal_pairs(new, case.rooms) == 0


@given(cases(with_taken=False))
@SETTINGS
def test_rooms_open_in_order_and_each_gets_its_share_of_every_class(case: Case) -> None:
    result = assign_seats(case.candidates, case.rooms)
    per_room = Counter(room_id for room_id, _ in result.values())
    spaced = [_spaced_capacity(r.seatmap) for r in case.rooms]
    if len(result) <= sum(spaced):
        opened = next(i + 1 for i in range(len(spaced)) if sum(spaced[: i + 1]) >= len(result))
        assert all(per_room[r.room_id] == 0 for r in case.rooms[opened:])
        assert all(per_room[r.room_id] <= s for r, s in zip(case.rooms, spaced, strict=True))
    sizes = Counter(case.groups.values())
    shares = Counter((room_id, case.groups[k]) for k, (room_id, _) in result.items())
    for room in case.rooms:
        for group, size in sizes.items():
            exact = Fraction(size * per_room[room.room_id], len(result))
            assert exact - 1 < shares[room.room_id, group] < exact + 1


@given(cases(max_rooms=2, max_side=5, max_groups=3))
@SETTINGS
def test_no_swap_of_two_new_candidates_in_a_room_lowers_the_clashes(case: Case) -> None:
    result = assign_seats(case.candidates, case.rooms, case.taken)
    groups = case.groups

    def clashes(assignment: dict[int, tuple[int, int]]) -> tuple[int, int]:
        return (
            adjacent_same_group(assignment, groups, case.rooms),
            diagonal_same_group(assignment, groups, case.rooms),
        )

    now = clashes(result)
    new = sorted(k for k in result if k not in case.taken)
    for i, a in enumerate(new):
        for b in new[i + 1 :]:
            if result[a][0] != result[b][0] or groups[a] == groups[b]:
                continue
            swapped = {**result, a: result[b], b: result[a]}
            assert clashes(swapped) >= now, f"swapping {a} and {b} would help"


def _layout(
    result: Mapping[int, tuple[int, int]], groups: Mapping[int, str], room: RoomSeats
) -> list[str]:
    at = {seat: groups[k] for k, (room_id, seat) in result.items() if room_id == room.room_id}
    m = room.seatmap
    return [
        " ".join(at.get(m.seat_at(r, c), ".") for c in range(1, m.columns + 1))
        for r in range(1, m.rows + 1)
    ]


def test_thirty_from_three_classes_in_two_rooms_of_five_by_six() -> None:
    rooms = [RoomSeats(1, "101 机房", SeatMap(5, 6)), RoomSeats(2, "102 机房", SeatMap(5, 6))]
    candidates = [SeatCandidate(key, "ABC"[key % 3]) for key in range(1, 31)]
    groups = {c.key: c.group for c in candidates}
    result = assign_seats(candidates, rooms)
    # 30 fit on one chessboard colour of the two rooms (15 + 15): nobody touches anybody, each
    # room has 5 of each class, and here not even diagonal neighbours share a class.
    assert adjacent_same_group(result, groups, rooms) == 0
    assert diagonal_same_group(result, groups, rooms) == 0
    assert Counter((room, groups[k]) for k, (room, _) in result.items()) == {
        (room, group): 5 for room in (1, 2) for group in "ABC"
    }
    assert _layout(result, groups, rooms[0]) == [
        "A . B . C .",
        ". C . A . A",
        "B . B . C .",
        ". C . A . A",
        "B . B . C .",
    ]


def test_a_full_room_of_two_classes_becomes_a_chessboard() -> None:
    rooms = [RoomSeats(1, "101", SeatMap(4, 5))]
    candidates = [SeatCandidate(key, "AB"[key % 2]) for key in range(20)]
    groups = {c.key: c.group for c in candidates}
    result = assign_seats(candidates, rooms)
    assert adjacent_same_group(result, groups, rooms) == 0
    assert _layout(result, groups, rooms[0]) == [
        "A B A B A",
        "B A B A B",
        "A B A B A",
        "B A B A B",
    ]


def test_a_full_room_of_three_classes_has_no_classmates_side_by_side() -> None:
    rooms = [RoomSeats(1, "101", SeatMap(5, 6))]
    candidates = [SeatCandidate(key, "ABC"[key % 3]) for key in range(30)]
    groups = {c.key: c.group for c in candidates}
    assert adjacent_same_group(assign_seats(candidates, rooms), groups, rooms) == 0


def test_one_big_class_takes_one_colour_when_the_room_is_full() -> None:
    # 20 of 40 from one class: it fits on one colour, the others on the other colour.
    rooms = [RoomSeats(1, "101", SeatMap(5, 8))]
    candidates = [SeatCandidate(k, "big" if k < 20 else f"small{k % 7}") for k in range(40)]
    groups = {c.key: c.group for c in candidates}
    assert adjacent_same_group(assign_seats(candidates, rooms), groups, rooms) == 0


def test_a_class_too_big_to_keep_apart_clashes_as_little_as_a_swap_can_tell() -> None:
    # 20 of 24 seats for one class: 4 others cannot separate them all.
    rooms = [RoomSeats(1, "101", SeatMap(4, 6))]
    candidates = [SeatCandidate(k, "A" if k < 20 else "B") for k in range(24)]
    groups = {c.key: c.group for c in candidates}
    result = assign_seats(candidates, rooms)
    assert 0 < adjacent_same_group(result, groups, rooms) < 38  # 38: all pairs of the grid


def test_seated_candidates_stay_and_new_ones_avoid_their_classmates() -> None:
    rooms = [RoomSeats(1, "101", SeatMap(3, 3))]
    candidates = [SeatCandidate(1, "A"), SeatCandidate(2, "A"), SeatCandidate(3, "B")]
    result = assign_seats(candidates, rooms, {1: (1, 5)})  # 1 sits in the middle
    assert result[1] == (1, 5)
    assert {result[2][1], result[3][1]} <= {1, 3, 7, 9}  # the corners: nobody touches 5


def test_seated_candidates_outside_the_list_keep_their_seats_too() -> None:
    rooms = [RoomSeats(1, "101", SeatMap(1, 3))]
    result = assign_seats([SeatCandidate(1, "A")], rooms, {99: (1, 1)})
    assert result == {99: (1, 1), 1: (1, 3)}


def test_nobody_to_seat_gives_back_who_is_seated() -> None:
    rooms = [RoomSeats(1, "101", SeatMap(2, 2))]
    assert assign_seats([], rooms) == {}
    assert assign_seats([SeatCandidate(7, "A")], rooms, {7: (1, 4)}) == {7: (1, 4)}


def test_too_many_candidates_says_how_many_and_what_to_do() -> None:
    spare = frozenset({31, 32})
    rooms = [RoomSeats(i, f"10{i}", SeatMap(4, 8, spare=spare)) for i in (1, 2)]
    candidates = [SeatCandidate(k, "A") for k in range(65)]
    with pytest.raises(SeatingError) as caught:
        assign_seats(candidates, rooms)
    assert str(caught.value) == (
        "共 65 名考生，可用座位 60 个（另有 4 个备用座位不参与自动分配）：请增加考场或减少考生"
    )
    with pytest.raises(SeatingError) as caught:
        assign_seats(candidates[:40], rooms[:1], {0: (1, 31), 1: (1, 1)})
    assert str(caught.value) == (
        "共 40 名考生，其中 2 名已就座；还有 38 名待排，空余可用座位 29 个"
        "（另有 1 个备用座位不参与自动分配）：请增加考场或减少考生"
    )
    with pytest.raises(SeatingError, match=r"^共 3 名考生，可用座位 2 个：请增加考场或减少考生$"):
        assign_seats(candidates[:3], [RoomSeats(1, "101", SeatMap(1, 2))])


def test_contradictory_input_is_refused() -> None:
    rooms = [RoomSeats(1, "101", SeatMap(2, 2))]
    with pytest.raises(SeatingError, match="考生 1 出现了两次"):
        assign_seats([SeatCandidate(1, "A"), SeatCandidate(1, "B")], rooms)
    with pytest.raises(SeatingError, match="考生 1 已排在考场 9，但该考场不在本次排座的考场中"):
        assign_seats([SeatCandidate(1, "A")], rooms, {1: (9, 1)})
    with pytest.raises(SeatingError, match="考生 1 的座位 5 不在考场「101」中（座位号 1–4）"):
        assign_seats([SeatCandidate(1, "A")], rooms, {1: (1, 5)})
    with pytest.raises(SeatingError, match="考场「101」座位 2 排了两名考生（1 与 2）"):
        assign_seats([], rooms, {1: (1, 2), 2: (1, 2)})
    with pytest.raises(SeatingError, match="考场「101」（1）重复出现"):
        assign_seats([], [*rooms, *rooms])


def test_adjacent_pairs_are_counted_once_and_per_room() -> None:
    rooms = [RoomSeats(1, "101", SeatMap(2, 2)), RoomSeats(2, "102", SeatMap(2, 2))]
    assignment = {1: (1, 1), 2: (1, 2), 3: (1, 3), 4: (1, 4), 5: (2, 1), 6: (3, 1)}
    groups = {1: "A", 2: "A", 3: "A", 4: "B", 5: "A"}
    # 1–2 and 1–3 touch; 4 is another class; 5 is in another room; 6 has no group and room 3
    # is not listed.
    assert adjacent_same_group(assignment, groups, rooms) == 2
    assert diagonal_same_group(assignment, groups, rooms) == 1  # 2–3


MOVE_ROOMS = [
    RoomSeats(1, "101 机房", SeatMap(5, 6, spare=frozenset({30}), blocked=frozenset({12}))),
    RoomSeats(2, "102 机房", SeatMap(2, 2)),
]
SEATED = {1: (1, 7), 2: (1, 8)}


@pytest.mark.parametrize(
    ("room_id", "seat", "message"),
    [
        (3, 1, "考场 3 不是本考点的考场：请从列出的考场中选择"),
        (1, 31, "考场「101 机房」没有座位 31：座位号应为 1–30"),
        (1, 0, "考场「101 机房」没有座位 0：座位号应为 1–30"),
        (1, 12, "考场「101 机房」座位 12 已停用：请选择其他座位"),
        (1, 30, "考场「101 机房」座位 30 是备用座位，留给考试中设备故障的考生：请选择其他座位"),
        (1, 7, "考场「101 机房」座位 07 已有考生：请选择空座位，或先把该考生移走"),
    ],
)
def test_a_move_to_a_seat_that_is_not_free_is_refused(
    room_id: int, seat: int, message: str
) -> None:
    with pytest.raises(SeatingError) as caught:
        check_move(2, room_id, seat, SEATED, MOVE_ROOMS)
    assert str(caught.value) == message


def test_a_move_to_a_free_seat_is_allowed() -> None:
    check_move(2, 1, 9, SEATED, MOVE_ROOMS)
    check_move(2, 2, 1, SEATED, MOVE_ROOMS)
    check_move(2, 1, 8, SEATED, MOVE_ROOMS)  # staying put
    check_move(3, 1, 1, SEATED, MOVE_ROOMS)  # someone not seated yet
    check_move(2, 1, 30, SEATED, MOVE_ROOMS, allow_spare=True)
