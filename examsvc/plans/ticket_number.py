"""Admission ticket numbers (准考证号): 15 characters that say where a candidate sits.

======== ======= =====================================================================
Position Width   Content
======== ======= =====================================================================
1–2      2       year of the exam, last two digits (2026 → ``26``)
3–6      4       plan number: the plan's id mod 10000
7–9      3       site number (考点编号, 001–999, unique over all sites)
10–11    2       room number within the site (考场编号, 01–99)
12–14    3       seat number in the room (座位号, 001–999; a seat map has at most 900)
15       1       check character, ISO 7064 MOD 11-2 over positions 1–14 (0–9 or X)
======== ======= =====================================================================

Example: year 2026, plan 1234, site 7, room 3, seat 25 give the digits ``26123400703025``
and the check character ``X``: ``26123400703025X``.

Uniqueness: plan ids are unique, so the plan part differs between any two of 10,000
consecutive plans; within a plan, a site, room and seat hold one candidate. The check character
(``examsvc.registration.identity.iso7064_mod11_2``, the one of the resident ID number) catches
every single mistyped character and every swap of two neighbouring different digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..registration.identity import iso7064_mod11_2

LENGTH = 15
PLAN_MODULUS = 10_000
_DIGITS = re.compile(r"[0-9]+")

# field name, label, width, smallest, largest (the plan is reduced mod 10000 first)
_FIELDS = (
    ("year", "年份", 2, 0, 99),
    ("plan", "计划编号", 4, 0, PLAN_MODULUS - 1),
    ("site", "考点编号", 3, 1, 999),
    ("room", "考场编号", 2, 1, 99),
    ("seat", "座位号", 3, 1, 999),
)


class TicketNumberError(ValueError):
    """Text that is not a valid ticket number; the message says what is wrong."""


@dataclass(frozen=True)
class TicketParts:
    """What a ticket number holds.

    ``year`` is the two-digit year (0–99); ``plan`` the plan's id, of which only the last four
    digits are kept (``parse_ticket_number`` gives back those four, 0–9999); ``site`` the site
    number (1–999), ``room`` the room number within the site (1–99), ``seat`` the seat (1–999).
    """

    year: int
    plan: int
    site: int
    room: int
    seat: int


def make_ticket_number(parts: TicketParts) -> str:
    """The 15-character ticket number; ValueError naming the field that is out of range."""
    if parts.year > 99 and 2000 <= parts.year <= 2099:
        raise ValueError(
            f"年份 {parts.year} 应写两位：{parts.year % 100:02d}（准考证号中年份占 2 位）"
        )
    if parts.plan < 0:
        raise ValueError(f"计划编号 {parts.plan} 无效：应为计划的 id（非负整数）")
    values = {
        "year": parts.year,
        "plan": parts.plan % PLAN_MODULUS,
        "site": parts.site,
        "room": parts.room,
        "seat": parts.seat,
    }
    digits = ""
    for name, label, width, low, high in _FIELDS:
        value = values[name]
        if not low <= value <= high:
            raise ValueError(
                f"{label} {value} 超出范围：应为 {low}–{high}（准考证号中占 {width} 位）"
            )
        digits += str(value).zfill(width)
    return digits + iso7064_mod11_2(digits)


def parse_ticket_number(text: str) -> TicketParts:
    """The parts of a typed ticket number (spaces around it, full-width digits and x allowed)."""
    number = unicodedata.normalize("NFKC", text).strip().upper()
    if len(number) != LENGTH:
        raise TicketNumberError(f"准考证号应为 {LENGTH} 位，现为 {len(number)} 位：请核对")
    digits, check = number[:-1], number[-1]
    if not _DIGITS.fullmatch(digits):
        position, char = next((i, c) for i, c in enumerate(digits, 1) if c not in "0123456789")
        raise TicketNumberError(
            f"准考证号第 {position} 位“{char}”不是数字：前 {LENGTH - 1} 位应全为数字"
        )
    if check not in "0123456789X":
        raise TicketNumberError(f"准考证号最后一位是校验位，应为数字或 X，现为“{check}”")
    if iso7064_mod11_2(digits) != check:
        raise TicketNumberError("准考证号校验位不符：请核对是否输错")
    values: dict[str, int] = {}
    start = 0
    for name, label, width, low, high in _FIELDS:
        field = digits[start : start + width]
        start += width
        if not low <= int(field) <= high:
            raise TicketNumberError(
                f"准考证号中的{label} {field} 无效：应为 {str(low).zfill(width)}–{high}"
            )
        values[name] = int(field)
    return TicketParts(**values)
