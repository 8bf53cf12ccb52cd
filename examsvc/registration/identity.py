"""Chinese resident ID numbers (公民身份号码, GB 11643-1999) and the ISO 7064 MOD 11-2 check.

An ID number is 18 characters: a 6-digit region code (地址码, its first two digits a province
code of GB/T 2260), the 8-digit date of birth (出生日期码, YYYYMMDD), a 3-digit sequence (顺序码,
odd for men, even for women) and a check character computed over the first 17 digits.

The check is ISO 7064 MOD 11-2: with the check at position 1 counted from the right, digit i
carries weight 2^(i-1) mod 11, and the whole number must sum to 1 mod 11. Because 11 is prime and
no weight is 0 mod 11, every single wrong character is caught; because neighbouring weights differ
by a factor of 2 (w_i − w_{i+1} = w_{i+1} ≠ 0 mod 11) and two digits differ by less than 11, every
swap of two adjacent different digits is caught too. The 15-digit first-generation numbers had no
check character and are no longer valid.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# Check values 0..10 written as one character: 10 is the Roman numeral X.
CHECK_CHARS = "10X98765432"
LENGTH = 18
# Province-level codes of GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macao: the residence permits).
PROVINCES = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
    "21": "辽宁", "22": "吉林", "23": "黑龙江",
    "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
    "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
    "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
    "71": "台湾", "81": "香港", "82": "澳门",
}  # fmt: skip
PROVINCE_RANGES = "11–15、21–23、31–37、41–46、50–54、61–65、71、81、82"
EARLIEST_BIRTH = date(1900, 1, 1)
_DIGITS = re.compile(r"[0-9]+")


class IdNumberError(ValueError):
    """An ID number is not valid; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class IdNumber:
    """A valid ID number and what it encodes."""

    number: str  # 18 characters, a final x upper-cased
    birth_date: date
    gender: str  # 男 | 女
    province: str  # two-digit code, a key of PROVINCES

    @property
    def region(self) -> str:
        """The 6-digit region code (地址码) where the number was first issued."""
        return self.number[:6]

    @property
    def province_name(self) -> str:
        return PROVINCES[self.province]

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day`` (a birthday on 29 February counts from 1 March)."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


def iso7064_mod11_2(digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character ("0"–"9" or "X") for a string of decimal digits.

    Works for any length, so other numbers (e.g. admission tickets) can reuse it.
    """
    if not _DIGITS.fullmatch(digits):
        raise ValueError(f"只能对 0–9 组成的数字串计算校验码，现为「{digits}」")
    n = len(digits)
    total = sum(int(d) * pow(2, n - i, 11) for i, d in enumerate(digits))
    return CHECK_CHARS[total % 11]


def _normalize(text: str) -> str:
    # NFKC turns full-width digits and letters (１１０１…ｘ), common from Chinese input methods,
    # into ASCII; only surrounding white space is dropped, inner spaces stay an error.
    return unicodedata.normalize("NFKC", text).strip().upper()


def _birth_date(number: str, today: date) -> date:
    code = number[6:14]
    try:
        born = date(int(code[:4]), int(code[4:6]), int(code[6:]))
    except ValueError as exc:
        raise IdNumberError(
            f"出生日期 {code} 不存在：第 7–14 位应为出生年月日（YYYYMMDD），请核对"
        ) from exc
    if born > today:
        raise IdNumberError(f"出生日期 {code} 晚于今天（{today:%Y%m%d}）：第 7–14 位请核对")
    if born < EARLIEST_BIRTH:
        raise IdNumberError(f"出生日期 {code} 早于 1900 年：第 7–14 位请核对")
    return born


def parse_id_number(text: str, today: date | None = None) -> IdNumber:
    """Check an ID number and decode it; raise IdNumberError naming the first problem found.

    Lower-case x, full-width characters and surrounding spaces are accepted; the number is
    returned upper-cased. ``today`` (default: the real date) bounds the date of birth.
    """
    number = _normalize(text)
    if not number:
        raise IdNumberError("身份证号为空：请填写 18 位身份证号")
    if len(number) != LENGTH:
        hint = "（15 位的一代身份证号已停用，请填写 18 位号码）" if len(number) == 15 else ""
        raise IdNumberError(f"身份证号应为 {LENGTH} 位，现为 {len(number)} 位{hint}")
    for position, char in enumerate(number, start=1):
        if not ("0" <= char <= "9" or (position == LENGTH and char == "X")):
            raise IdNumberError(
                f"第 {position} 位「{char}」无效：前 17 位只能是数字，末位是数字或 X"
            )
    province = number[:2]
    if province not in PROVINCES:
        raise IdNumberError(
            f"前两位 {province} 不是有效的省级行政区代码（应为 {PROVINCE_RANGES}）：请核对"
        )
    born = _birth_date(number, today or date.today())
    expected = iso7064_mod11_2(number[:17])
    if number[17] != expected:
        raise IdNumberError(f"校验码应为 {expected}，现为 {number[17]}：请核对号码是否抄错")
    gender = "男" if int(number[16]) % 2 else "女"
    return IdNumber(number=number, birth_date=born, gender=gender, province=province)
