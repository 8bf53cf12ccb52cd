"""ID numbers: valid ones decode and round-trip, every single typo and adjacent swap is caught."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.registration.identity import (
    CHECK_CHARS,
    PROVINCES,
    IdNumberError,
    iso7064_mod11_2,
    parse_id_number,
)

TODAY = date(2026, 1, 1)
SAMPLE = "11010519491231002X"  # the published sample of GB 11643-1999
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)


def _with_check(first17: str) -> str:
    return first17 + iso7064_mod11_2(first17)


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(PROVINCES)))
    rest = draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(0, 999))
    return _with_check(f"{province}{rest}{born:%Y%m%d}{sequence:03d}")


def _rejected(number: str) -> bool:
    try:
        parse_id_number(number, TODAY)
    except IdNumberError:
        return True
    return False


def test_the_published_sample_is_valid_and_decodes() -> None:
    parsed = parse_id_number(SAMPLE, TODAY)
    assert parsed.number == SAMPLE
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender == "女"  # sequence 002 is even
    assert (parsed.province, parsed.province_name, parsed.region) == ("11", "北京", "110105")
    assert parsed.age_on(date(2019, 12, 30)) == 69
    assert parsed.age_on(date(2019, 12, 31)) == 70


def test_lower_case_x_full_width_and_surrounding_spaces_are_normalized() -> None:
    assert parse_id_number("  11010519491231002x\t", TODAY).number == SAMPLE
    assert parse_id_number("１１０１０５１９４９１２３１００２ｘ", TODAY).number == SAMPLE


def test_odd_sequence_is_male() -> None:
    number = _with_check("11010519491231001")
    assert parse_id_number(number, TODAY).gender == "男"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "身份证号为空：请填写 18 位身份证号"),
        ("1101051949123100", "身份证号应为 18 位，现为 16 位"),
        ("110105491231002", "身份证号应为 18 位，现为 15 位（15 位的一代身份证号已停用，请填写 18 位号码）"),
        ("11010519491231002X5", "身份证号应为 18 位，现为 19 位"),
        ("1101051949123100XX", "第 17 位「X」无效：前 17 位只能是数字，末位是数字或 X"),
        ("110105 9491231002X", "第 7 位「 」无效：前 17 位只能是数字，末位是数字或 X"),
        ("99010519491231002X", "前两位 99 不是有效的省级行政区代码（应为 11–15、21–23、31–37、41–46、50–54、61–65、71、81、82）：请核对"),
        (_with_check("11010519990231002"), "出生日期 19990231 不存在：第 7–14 位应为出生年月日（YYYYMMDD），请核对"),
        (_with_check("11010520260102002"), "出生日期 20260102 晚于今天（20260101）：第 7–14 位请核对"),
        (_with_check("11010518991231002"), "出生日期 18991231 早于 1900 年：第 7–14 位请核对"),
        ("110105194912310023", "校验码应为 X，现为 3：请核对号码是否抄错"),
    ],
)  # fmt: skip
def test_each_problem_is_named(text: str, message: str) -> None:
    with pytest.raises(IdNumberError) as raised:
        parse_id_number(text, TODAY)
    assert str(raised.value) == message


def test_check_character_of_any_length() -> None:
    assert iso7064_mod11_2("11010519491231002") == "X"
    # ORCID iDs use the same check: the documented examples 0000-0002-1825-0097, …-1694-233X
    assert iso7064_mod11_2("000000021825009") == "7"
    assert iso7064_mod11_2("000000021694233") == "X"
    # 079: 0·8 + 7·4 + 9·2 = 46 ≡ 2, and 2 + 10 (X) ≡ 1 mod 11
    assert iso7064_mod11_2("079") == "X"
    assert iso7064_mod11_2("0") == "1"
    with pytest.raises(ValueError, match="只能对 0–9 组成的数字串计算校验码"):
        iso7064_mod11_2("12a")
    with pytest.raises(ValueError):
        iso7064_mod11_2("")


def test_adjacent_transpositions_are_detectable_by_the_weights() -> None:
    # The claim the properties below rely on, checked exhaustively: swapping different digits a, b
    # at positions i, i+1 changes the weighted sum by (a − b)(w_i − w_{i+1}), never 0 mod 11.
    weights = [pow(2, 17 - i, 11) for i in range(17)] + [1]
    assert weights[:4] == [7, 9, 10, 5]
    for i in range(17):
        for a in range(10):
            for b in range(10):
                if a != b:
                    assert (a - b) * (weights[i] - weights[i + 1]) % 11 != 0


@SETTINGS
@given(valid_numbers())
def test_every_valid_number_parses_and_round_trips(number: str) -> None:
    parsed = parse_id_number(number, TODAY)
    assert parsed.number == number
    assert parse_id_number(parsed.number.lower(), TODAY) == parsed
    assert f"{parsed.birth_date:%Y%m%d}" == number[6:14]
    assert parsed.gender == ("男" if int(number[16]) % 2 else "女")


@SETTINGS
@given(valid_numbers(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_changed_character_is_rejected(number: str, position: int, char: str) -> None:
    if number[position] == char:
        char = CHECK_CHARS[(CHECK_CHARS.index(char) + 1) % 11]
    changed = number[:position] + char + number[position + 1 :]
    assert _rejected(changed)


@SETTINGS
@given(valid_numbers())
def test_every_adjacent_transposition_of_different_characters_is_rejected(number: str) -> None:
    for i in range(17):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            assert _rejected(swapped), (number, i)
