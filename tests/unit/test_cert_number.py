"""Certificate numbers (人社鉴发〔2019〕2号): the seven parts, round trips, errors that point at
the part to fix; the check code: derived from the signature, forgiving when typed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examsvc.certificates.number import (
    CHECK_ALPHABET,
    CertificateNumber,
    CertificateNumberError,
    Issuer,
    check_code,
    format_number,
    level_digit,
    level_label,
    parse_check_code,
    parse_number,
)
from examsvc.registration.identity import PROVINCES

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)
SHANDONG = Issuer("S", 1, "37", 123)

numbers = st.builds(
    CertificateNumber,
    issuer=st.builds(
        Issuer,
        body_type=st.sampled_from("SY"),
        body_code=st.integers(0, 9999),
        province=st.sampled_from(sorted(PROVINCES)),
        site_serial=st.integers(0, 999_999),
    ),
    year=st.integers(2000, 2099),
    level=st.integers(1, 5),
    serial=st.integers(1, 999_999),
)


def test_the_worked_example_of_the_module() -> None:
    number = CertificateNumber(SHANDONG, 2025, level_digit("初级"), 1)
    assert format_number(number) == "S000137000123255000001"
    assert parse_number("S000137000123255000001") == number


def test_the_example_of_the_rule_with_its_placeholder_filled() -> None:
    # 2号文's example is Y000123XXXXXX195000001: employer 0001, 黑龙江, 2019, 五级, serial 1.
    parsed = parse_number("Y000123000001195000001")
    assert parsed.issuer == Issuer("Y", 1, "23", 1)
    assert (parsed.year, parsed.level, parsed.serial) == (2019, 5, 1)


@given(numbers)
@SETTINGS
def test_numbers_read_back(number: CertificateNumber) -> None:
    text = format_number(number)
    assert len(text) == 22 and text[0] in "SY" and text[1:].isdigit()
    assert parse_number(text) == number


def test_typed_numbers_may_have_spaces_and_full_width_characters() -> None:
    assert parse_number(" ｓ0001 37 000123 25 5 000001 ") == parse_number("S000137000123255000001")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("S00013700012325500000", "应为 22 位"),
        ("X000137000123255000001", "第 1 位“X”无效"),
        ("S0001370001232550000O1", "第 21 位“O”不是数字"),
        ("S000199000123255000001", "第 6–7 位（省份代码）为 99"),
        ("S000110000123255000001", "第 6–7 位（省份代码）为 10"),
        ("S000137000123256000001", "第 16 位（职业技能等级）为 6"),
        ("S000137000123250000001", "第 16 位（职业技能等级）为 0"),
        ("S000137000123255000000", "第 17–22 位（证书序号）为 000000"),
    ],
)
def test_bad_numbers_are_reported_at_their_position(text: str, message: str) -> None:
    with pytest.raises(CertificateNumberError, match=message):
        parse_number(text)


@pytest.mark.parametrize(
    ("issuer", "message"),
    [
        (("X", 1, "37", 1), "评价机构类别“X”无效"),
        (("S", 10_000, "37", 1), "评价机构代码 10000 超出范围"),
        (("S", 1, "99", 1), "省份代码“99”无效"),
        (("S", 1, "37", 1_000_000), "机构（站点）序号 1000000 超出范围"),
    ],
)
def test_a_misconfigured_issuer_is_refused_when_configured(
    issuer: tuple[str, int, str, int], message: str
) -> None:
    with pytest.raises(CertificateNumberError, match=message):
        Issuer(*issuer)


@pytest.mark.parametrize(
    ("year", "level", "serial", "message"),
    [
        (25, 5, 1, "应为四位年份"),
        (2025, 6, 1, "职业技能等级 6 无效"),
        (2025, 5, 0, "证书序号 0 超出范围"),
        (2025, 5, 1_000_000, "证书序号 1000000 超出范围"),
    ],
)
def test_format_names_the_part_out_of_range(
    year: int, level: int, serial: int, message: str
) -> None:
    with pytest.raises(CertificateNumberError, match=message):
        format_number(CertificateNumber(SHANDONG, year, level, serial))


def test_1x_levels_map_to_national_levels_five_four_three() -> None:
    assert [level_digit(x) for x in ("初级", "中级", "高级")] == [5, 4, 3]
    assert [level_digit(x) for x in ("junior", "Intermediate", "senior")] == [5, 4, 3]
    assert level_label(5) == "初级（五级）" and level_label(1) == "一级"
    with pytest.raises(CertificateNumberError, match="初级、中级 或 高级"):
        level_digit("专家")


def test_check_code_is_eight_crockford_characters_from_the_signature() -> None:
    first, second = check_code(b"\x01" * 64), check_code(b"\x02" * 64)
    assert first == check_code(b"\x01" * 64) != second
    assert len(first) == 9 and first[4] == "-"
    assert all(c in CHECK_ALPHABET for c in first.replace("-", ""))


@given(st.binary(min_size=64, max_size=64))
@SETTINGS
def test_a_printed_check_code_reads_back(signature: bytes) -> None:
    code = check_code(signature)
    assert parse_check_code(code) == code
    assert parse_check_code(code.lower().replace("-", " ")) == code


def test_typed_check_codes_forgive_case_and_look_alike_letters() -> None:
    assert parse_check_code("o1il-ABCD") == "0111-ABCD"
    assert parse_check_code("７ＫＱ２ Ｍ９ＸＤ") == "7KQ2-M9XD"
    with pytest.raises(CertificateNumberError, match="第 4 位“U”无效"):
        parse_check_code("ABCU-0000")
    with pytest.raises(CertificateNumberError, match="应为 8 位"):
        parse_check_code("ABC-0000")
