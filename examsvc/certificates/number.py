"""Certificate numbers (证书编号) of 人社鉴发〔2019〕2号 and the check code printed beside them.

A number is 22 characters, one upper-case letter and 21 digits, in seven parts:

======== ===== ===================================================================
Position Width Content
======== ===== ===================================================================
1        1     evaluation body type: ``S`` social training-evaluation organization
               (社会培训评价组织, every 1+X organization), ``Y`` employer (用人单位)
2–5      4     evaluation body code, ``0001``–``9999``; ``0000`` when the body is
               registered only with a province
6–7      2     province of the body or site, the province-level code of GB/T 2260
8–13     6     body (site) serial assigned by the province, ``000000``–``999999``
14–15    2     year of issue, last two digits (2025 → ``25``)
16       1     skill level ``1``–``5`` (一级 … 五级); 1+X 初级/中级/高级 are ``5``/``4``/``3``
17–22    6     certificate serial per body and year, ``000001``–``999999``
======== ===== ===================================================================

Example: body ``S``/``0001``, Shandong (``37``), site serial 123, 2025, 初级, serial 1 give
``S000137000123255000001``.

The first four parts are configuration, fixed per organization and site (``Issuer``); the
year, level and serial vary per certificate. Allocating serials without gaps or races is the
database's job, not this module's.

Check code (校验码). The number has no check character, and serials are consecutive, so anyone
can guess valid numbers: looking a certificate up by its number alone would hand out every
holder's name. The lookup therefore also asks for the check code printed under the QR, eight
characters of Crockford's base32 (no I, L, O, U) taken from SHA-256 of the certificate's
Ed25519 signature. Only the holder of the signing key can produce a signature, so the code
cannot be computed from the number; it needs no secret of its own to keep or rotate (unlike
an HMAC key, which would be one more secret, and would have to outlive every key rotation);
and an offline verifier holding the QR can recompute it and see that the printed code belongs to
that QR. 40 bits make guessing a code for a known number hopeless under a rate limit.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from ..registration.identity import PROVINCE_RANGES, PROVINCES

LENGTH = 22
BODY_TYPES = {"S": "社会培训评价组织", "Y": "用人单位"}
# National skill levels 1–5 (一级 highest); the 1+X levels map onto 五级, 四级 and 三级.
LEVEL_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级", 5: "五级"}
LEVELS_1X = {"初级": 5, "中级": 4, "高级": 3}
LEVEL_KEYS_1X = {"junior": 5, "intermediate": 4, "senior": 3}  # as in the catalog
FIRST_YEAR, LAST_YEAR = 2000, 2099  # the number keeps two digits of the year

CHECK_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
CHECK_LENGTH = 8
# Letters people misread as digits, mapped as Crockford decodes them.
_CHECK_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Separates the check code from the signature's other uses: the digest is of this code only.
_CHECK_LABEL = b"examsvc certificate check code v1\x00"

_DIGITS = re.compile(r"[0-9]+")
# Part name, label, first position (1-based), width, smallest, largest (digits only).
_DIGIT_PARTS = (
    ("body_code", "评价机构代码", 2, 4, 0, 9999),
    ("province", "省份代码", 6, 2, 11, 82),
    ("site_serial", "机构（站点）序号", 8, 6, 0, 999_999),
    ("year", "发证年份", 14, 2, 0, 99),
    ("level", "职业技能等级", 16, 1, 1, 5),
    ("serial", "证书序号", 17, 6, 1, 999_999),
)


class CertificateNumberError(ValueError):
    """A certificate number, or one of its parts, is invalid; the message says which and why."""


@dataclass(frozen=True)
class Issuer:
    """The parts of the number configured per organization and site; checked when built."""

    body_type: str  # S | Y
    body_code: int  # 0–9999; 0 when registered only with a province
    province: str  # two-digit GB/T 2260 code, a key of PROVINCES
    site_serial: int  # 0–999999, assigned by the province

    def __post_init__(self) -> None:
        if self.body_type not in BODY_TYPES:
            kinds = "，".join(f"{k}（{v}）" for k, v in BODY_TYPES.items())
            raise CertificateNumberError(
                f"评价机构类别“{self.body_type}”无效：应为 {kinds}；1+X 培训评价组织为 S"
            )
        if not 0 <= self.body_code <= 9999:
            raise CertificateNumberError(
                f"评价机构代码 {self.body_code} 超出范围：应为 0–9999"
                "（国家统一分配；仅在省级备案的机构为 0）"
            )
        if self.province not in PROVINCES:
            raise CertificateNumberError(
                f"省份代码“{self.province}”无效：应为 GB/T 2260 的两位省级代码"
                f"（{PROVINCE_RANGES}），如 37 山东"
            )
        if not 0 <= self.site_serial <= 999_999:
            raise CertificateNumberError(
                f"机构（站点）序号 {self.site_serial} 超出范围：应为 0–999999（由省级部门分配）"
            )

    @property
    def prefix(self) -> str:
        """Positions 1–13, the same on every certificate of this organization and site."""
        return f"{self.body_type}{self.body_code:04d}{self.province}{self.site_serial:06d}"


@dataclass(frozen=True)
class CertificateNumber:
    """What a certificate number holds; ``year`` has four digits, ``level`` is 1–5."""

    issuer: Issuer
    year: int
    level: int
    serial: int


def level_digit(level: str) -> int:
    """The national level (5, 4, 3) of a 1+X level, named 初级/中级/高级 or junior/…/senior."""
    digit = LEVELS_1X.get(level.strip()) or LEVEL_KEYS_1X.get(level.strip().lower())
    if digit is None:
        raise CertificateNumberError(
            f"等级“{level}”无法对应到国家职业技能等级：1+X 等级应为 初级、中级 或 高级"
        )
    return digit


def level_label(digit: int) -> str:
    """How a national level is shown, with its 1+X name where there is one: 初级（五级）."""
    if digit not in LEVEL_NAMES:
        raise CertificateNumberError(f"职业技能等级 {digit} 无效：应为 1–5")
    names = {v: k for k, v in LEVELS_1X.items()}
    return f"{names[digit]}（{LEVEL_NAMES[digit]}）" if digit in names else LEVEL_NAMES[digit]


def format_number(number: CertificateNumber) -> str:
    """The 22-character number; CertificateNumberError naming the part that is out of range."""
    if not FIRST_YEAR <= number.year <= LAST_YEAR:
        raise CertificateNumberError(
            f"发证年份 {number.year} 无效：应为四位年份 {FIRST_YEAR}–{LAST_YEAR}"
            "（证书编号中只保留后两位）"
        )
    if number.level not in LEVEL_NAMES:
        raise CertificateNumberError(
            f"职业技能等级 {number.level} 无效：应为 1–5；1+X 初级、中级、高级分别为 5、4、3"
        )
    if not 1 <= number.serial <= 999_999:
        raise CertificateNumberError(
            f"证书序号 {number.serial} 超出范围：应为 1–999999（每个评价机构每年重新编号）"
        )
    return f"{number.issuer.prefix}{number.year % 100:02d}{number.level}{number.serial:06d}"


def _normalize(text: str) -> str:
    # Full-width letters and digits come from Chinese input methods; spaces are how people
    # group a long number when they copy it. Neither makes the number a different one.
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def parse_number(text: str) -> CertificateNumber:
    """The parts of a typed number (full-width characters and spaces allowed); every problem
    is reported with its position."""
    number = _normalize(text)
    if len(number) != LENGTH:
        raise CertificateNumberError(
            f"证书编号应为 {LENGTH} 位（1 个大写字母加 21 位数字），现为 {len(number)} 位：请核对"
        )
    if number[0] not in BODY_TYPES:
        raise CertificateNumberError(
            f"证书编号第 1 位“{number[0]}”无效：应为 S（社会培训评价组织）或 Y（用人单位）"
        )
    if not _DIGITS.fullmatch(number[1:]):
        position, char = next((i, c) for i, c in enumerate(number[1:], 2) if not c.isdigit())
        raise CertificateNumberError(
            f"证书编号第 {position} 位“{char}”不是数字：第 2–{LENGTH} 位应全为数字"
        )
    values: dict[str, int] = {}
    for name, label, start, width, low, high in _DIGIT_PARTS:
        field = number[start - 1 : start - 1 + width]
        where = f"第 {start}–{start + width - 1} 位" if width > 1 else f"第 {start} 位"
        if not low <= int(field) <= high or (name == "province" and field not in PROVINCES):
            allowed = PROVINCE_RANGES if name == "province" else f"{low:0{width}d}–{high}"
            raise CertificateNumberError(
                f"证书编号{where}（{label}）为 {field}，无效：应为 {allowed}"
            )
        values[name] = int(field)
    issuer = Issuer(number[0], values["body_code"], number[5:7], values["site_serial"])
    return CertificateNumber(issuer, 2000 + values["year"], values["level"], values["serial"])


def check_code(signature: bytes) -> str:
    """The check code of a certificate signed with ``signature``, as printed: ``XXXX-XXXX``."""
    digest = hashlib.sha256(_CHECK_LABEL + signature).digest()
    bits = int.from_bytes(digest[:5], "big")  # 40 bits, 5 per character
    chars = "".join(
        CHECK_ALPHABET[(bits >> (5 * (CHECK_LENGTH - 1 - i))) & 31] for i in range(CHECK_LENGTH)
    )
    return f"{chars[:4]}-{chars[4:]}"


def parse_check_code(text: str) -> str:
    """A typed check code in its printed form; case, spaces, dashes and O/I/L for 0/1 are
    forgiven, as Crockford's base32 intends."""
    code = _normalize(text).replace("-", "").translate(_CHECK_ALIASES)
    if len(code) != CHECK_LENGTH:
        raise CertificateNumberError(
            f"校验码应为 {CHECK_LENGTH} 位（印在证书二维码下方，如 7KQ2-M9XD），"
            f"现为 {len(code)} 位：请核对"
        )
    for position, char in enumerate(code, 1):
        if char not in CHECK_ALPHABET:
            raise CertificateNumberError(
                f"校验码第 {position} 位“{char}”无效：校验码由数字和除 I、L、O、U 外的大写字母组成"
            )
    return f"{code[:4]}-{code[4:]}"
