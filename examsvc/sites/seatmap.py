"""A room's seat map (座位图) as pure data: a grid of numbered seats, some spare, some blocked.

Seats are numbered 1 … rows × columns row by row from the front-left, left and right as a
seated candidate facing the front sees them: row 1 is the front row and column 1 its leftmost
seat. In a 5 × 6 room seat 1 is front-left, seat 6 front-right, seat 7 the leftmost seat of the
second row and seat 30 back-right.

A spare seat (备用座位) stays free for a candidate whose PC fails during the exam; automatic
seating never uses it, a manual move may. A blocked seat (停用座位) has no working station and is
never used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_ROWS = 30
MAX_COLUMNS = 30


class SeatListError(ValueError):
    """A seat list typed into a form is not a list of seat numbers and ranges."""


@dataclass(frozen=True)
class SeatMap:
    rows: int
    columns: int
    spare: frozenset[int] = frozenset()
    blocked: frozenset[int] = frozenset()

    @property
    def size(self) -> int:
        """How many seats the grid has, assignable or not."""
        return self.rows * self.columns

    def contains(self, seat: int) -> bool:
        return 1 <= seat <= self.size

    def position(self, seat: int) -> tuple[int, int]:
        """(row, column), both from 1, of a seat; row 1 is the front row."""
        if not self.contains(seat):
            raise ValueError(f"座位 {seat} 不存在：本考场座位号为 1–{self.size}")
        row, column = divmod(seat - 1, self.columns)
        return row + 1, column + 1

    def seat_at(self, row: int, column: int) -> int:
        """The seat number at (row, column), both from 1."""
        if not (1 <= row <= self.rows and 1 <= column <= self.columns):
            raise ValueError(
                f"第 {row} 排第 {column} 列不存在：本考场为 {self.rows} 排 × {self.columns} 列"
            )
        return (row - 1) * self.columns + column

    def label(self, seat: int) -> str:
        """The seat number as shown, zero-padded to the width of the largest: "03" of 30."""
        if not self.contains(seat):
            raise ValueError(f"座位 {seat} 不存在：本考场座位号为 1–{self.size}")
        return str(seat).zfill(len(str(self.size)))

    def assignable(self) -> tuple[int, ...]:
        """Seats automatic seating may use: neither spare nor blocked, in number order."""
        return tuple(
            s for s in range(1, self.size + 1) if s not in self.spare and s not in self.blocked
        )


def validate_seatmap(seatmap: SeatMap) -> list[str]:
    """Every rule the seat map breaks, each saying what to change (empty when valid)."""
    problems: list[str] = []
    if not 1 <= seatmap.rows <= MAX_ROWS:
        problems.append(f"排数 {seatmap.rows} 无效：应为 1–{MAX_ROWS}")
    if not 1 <= seatmap.columns <= MAX_COLUMNS:
        problems.append(f"列数 {seatmap.columns} 无效：应为 1–{MAX_COLUMNS}")
    if problems:
        return problems
    size = seatmap.size
    for name, seats in (("备用座位", seatmap.spare), ("停用座位", seatmap.blocked)):
        outside = sorted(s for s in seats if not 1 <= s <= size)
        if outside:
            problems.append(f"{name} {_listing(outside)} 超出座位范围：本考场座位号为 1–{size}")
    both = sorted(seatmap.spare & seatmap.blocked)
    if both:
        problems.append(f"座位 {_listing(both)} 不能既是备用座位又是停用座位：请只保留一种")
    if not problems and not seatmap.assignable():
        problems.append("没有可分配的座位：请减少备用或停用座位")
    return problems


def _listing(seats: list[int]) -> str:
    shown = "、".join(str(s) for s in seats[:10])
    return shown if len(seats) <= 10 else f"{shown} 等 {len(seats)} 个"


_NUMBER = re.compile(r"[0-9]+")
_RANGE = re.compile(r"([0-9]+)[-–—~～]([0-9]+)")
_SEPARATORS = re.compile(r"[,，、;；\s]+")


def parse_seat_list(text: str) -> frozenset[int]:
    """Seat numbers from a form field such as "5, 10-12" (commas, 、 or spaces between parts).

    Whether the seats exist in a room is for ``validate_seatmap`` to say.
    """
    seats: set[int] = set()
    for part in _SEPARATORS.split(_normalize(text)):
        if not part:
            continue
        if _NUMBER.fullmatch(part):
            low = high = int(part)
        else:
            match = _RANGE.fullmatch(part)
            if match is None:
                raise SeatListError(
                    f"“{part}”不是座位号或范围：请写成如 5, 10-12 的形式（逗号分隔，范围用 -）"
                )
            low, high = int(match[1]), int(match[2])
            if low > high:
                raise SeatListError(f"范围“{part}”的起点大于终点：应写成 {high}-{low}")
        if low < 1:
            raise SeatListError(f"“{part}”无效：座位号从 1 开始")
        if high > MAX_ROWS * MAX_COLUMNS:
            raise SeatListError(f"“{part}”无效：座位号最大为 {MAX_ROWS * MAX_COLUMNS}")
        seats.update(range(low, high + 1))
    return frozenset(seats)


def _normalize(text: str) -> str:
    # Full-width digits from Chinese input methods; ranges keep their spaces joined.
    text = text.translate({ord("０") + i: str(i) for i in range(10)})
    return re.sub(r"\s*([-–—~～])\s*", r"\1", text.strip())
