"""Ticket numbers (准考证号): the documented structure, round trips and caught typing mistakes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.plans.ticket_number import (
    TicketNumberError,
    TicketParts,
    make_ticket_number,
    parse_ticket_number,
)
from examsvc.registration.identity import iso7064_mod11_2

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)
CHARS = "0123456789X"

parts = st.builds(
    TicketParts,
    year=st.integers(0, 99),
    plan=st.integers(0, 9999),
    site=st.integers(1, 999),
    room=st.integers(1, 99),
    seat=st.integers(1, 999),
)


def test_the_worked_example_of_the_docs() -> None:
    parts_ = TicketParts(year=26, plan=1234, site=7, room=3, seat=25)
    assert make_ticket_number(parts_) == "26123400703025X"
    assert parse_ticket_number("26123400703025X") == parts_


@given(parts)
@SETTINGS
def test_ticket_numbers_read_back(p: TicketParts) -> None:
    number = make_ticket_number(p)
    assert len(number) == 15
    assert number[:14].isdigit() and number[14] in CHARS
    assert parse_ticket_number(number) == p


@given(parts, st.integers(1, 10**9))
@SETTINGS
def test_the_plan_id_keeps_its_last_four_digits(p: TicketParts, plan_id: int) -> None:
    number = make_ticket_number(TicketParts(p.year, plan_id, p.site, p.room, p.seat))
    assert number[2:6] == f"{plan_id % 10000:04d}"
    assert parse_ticket_number(number).plan == plan_id % 10000


@given(parts)
@SETTINGS
def test_every_single_wrong_character_is_caught(p: TicketParts) -> None:
    number = make_ticket_number(p)
    for i, right in enumerate(number):
        for wrong in CHARS.replace(right, ""):
            with pytest.raises(TicketNumberError):
                parse_ticket_number(number[:i] + wrong + number[i + 1 :])


@given(parts)
@SETTINGS
def test_every_swap_of_two_neighbouring_different_characters_is_caught(p: TicketParts) -> None:
    number = make_ticket_number(p)
    for i in range(len(number) - 1):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            with pytest.raises(TicketNumberError):
                parse_ticket_number(swapped)


def test_a_wrong_check_character_says_so() -> None:
    with pytest.raises(TicketNumberError) as caught:
        parse_ticket_number("261234007030250")
    assert str(caught.value) == "准考证号校验位不符：请核对是否输错"


def test_typed_numbers_may_have_spaces_full_width_digits_and_a_small_x() -> None:
    expected = TicketParts(26, 1234, 7, 3, 25)
    assert parse_ticket_number("  26123400703025x \n") == expected
    assert parse_ticket_number("２６１２３４００７０３０２５Ｘ") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2612340070302", "准考证号应为 15 位，现为 13 位：请核对"),
        ("", "准考证号应为 15 位，现为 0 位：请核对"),
        ("26123400703025X1", "准考证号应为 15 位，现为 16 位：请核对"),
        ("2612A400703025X", "准考证号第 5 位“A”不是数字：前 14 位应全为数字"),
        ("26123400703025Y", "准考证号最后一位是校验位，应为数字或 X，现为“Y”"),
        ("26 23400703025X", "准考证号第 3 位“ ”不是数字：前 14 位应全为数字"),
    ],
)
def test_malformed_numbers_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TicketNumberError) as caught:
        parse_ticket_number(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("digits", "message"),
    [
        ("26123400003025", "准考证号中的考点编号 000 无效：应为 001–999"),
        ("26123400700025", "准考证号中的考场编号 00 无效：应为 01–99"),
        ("26123400703000", "准考证号中的座位号 000 无效：应为 001–999"),
    ],
)
def test_numbers_with_a_valid_check_but_an_impossible_field_are_refused(
    digits: str, message: str
) -> None:
    with pytest.raises(TicketNumberError) as caught:
        parse_ticket_number(digits + iso7064_mod11_2(digits))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"year": 2026}, "年份 2026 应写两位：26（准考证号中年份占 2 位）"),
        ({"year": 100}, "年份 100 超出范围：应为 0–99（准考证号中占 2 位）"),
        ({"year": -1}, "年份 -1 超出范围：应为 0–99（准考证号中占 2 位）"),
        ({"plan": -5}, "计划编号 -5 无效：应为计划的 id（非负整数）"),
        ({"site": 0}, "考点编号 0 超出范围：应为 1–999（准考证号中占 3 位）"),
        ({"site": 1000}, "考点编号 1000 超出范围：应为 1–999（准考证号中占 3 位）"),
        ({"room": 100}, "考场编号 100 超出范围：应为 1–99（准考证号中占 2 位）"),
        ({"seat": 0}, "座位号 0 超出范围：应为 1–999（准考证号中占 3 位）"),
        ({"seat": 1000}, "座位号 1000 超出范围：应为 1–999（准考证号中占 3 位）"),
    ],
)
def test_fields_out_of_range_are_named(changes: dict[str, int], message: str) -> None:
    fields = {"year": 26, "plan": 1, "site": 1, "room": 1, "seat": 1, **changes}
    with pytest.raises(ValueError) as caught:
        make_ticket_number(TicketParts(**fields))
    assert str(caught.value) == message
