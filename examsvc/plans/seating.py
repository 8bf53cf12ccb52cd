"""Automatic seating (自动排座) that keeps classmates apart, and checks for manual moves.

A candidate's group is their institution and class (院校 + 班级): candidates of one group know
each other, so they should not sit side by side or one behind the other. ``assign_seats`` seats
the candidates not seated yet in four steps, each deterministic (candidates are taken in key
order, rooms in the order given, groups largest first then by name):

1. **How many per room.** Every room's free seats (assignable, not taken) are coloured like a
   chessboard by row + column; the larger colour is the room's *spaced capacity*: seats of one
   colour never touch left/right or front/back. Rooms are opened in the order given until their
   spaced capacities hold everyone, and the candidates are shared among the open rooms in
   proportion to those capacities (largest remainder, earlier rooms first on ties). Only when
   even all rooms cannot seat everyone spaced are all rooms used, shared in proportion to their
   free seats.
2. **Which groups per room.** Each room gets its proportional share of every group, rounded down
   or up (a controlled rounding found by a small flow, so room and group totals both add up).
   A class is spread over the rooms instead of filling one of them.
3. **Which seats.** A room holding no more candidates than its spaced capacity uses seats of its
   larger colour only, picked evenly along a serpentine walk (front row left to right, next row
   right to left, …) so the empty seats are spread through the room; a fuller room uses all of
   that colour and spreads the rest over the other colour.
4. **Which group on which seat.** Seats are walked in serpentine order and each gets the group
   with the fewest classmates already next to it (left/right/front/back first, then diagonal),
   ties going to the group with the most candidates still to seat. An improvement pass then
   swaps two candidates of different groups in the room whenever that lowers the number of
   orthogonal same-group pairs, or keeps it and lowers the diagonal ones, until no swap helps.
   A fuller room also tries a second start: the groups in runs, largest first, along the seats
   of the first colour and then the second. Seats of one colour never touch, so only the one
   group whose run passes from the first colour into the second can have classmates side by
   side at all, and its part on the first colour sits at the back of the room (where that walk
   ends) while its part on the second sits at the front. Improved the same way, the better of
   the two starts is kept.

What this guarantees:

* Everyone listed gets exactly one seat; seated candidates keep theirs; new ones get assignable
  seats only (never spare or blocked); the same input gives the same seats.
* When the waiting candidates fit into the spaced capacity of the rooms — in particular when
  they fill at most half of the free assignable seats — no two of them sit side by side or one
  behind the other at all (step 3 uses one colour only), so no two classmates do.
* Always: no swap of two newly seated candidates in one room would lower that room's
  same-group pairs (orthogonal first, then diagonal); each room gets the floor or ceiling of
  its proportional share of the new candidates of every group.

New candidates next to already seated ones avoid their classmates the same way, without a
guarantee (the seated ones cannot move).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType

from ..sites.seatmap import SeatMap

# (room_id, seat) for each candidate key
Assignment = dict[int, tuple[int, int]]

_NONE_TAKEN: Mapping[int, tuple[int, int]] = MappingProxyType({})
_ORTHOGONAL = ((0, 1), (0, -1), (1, 0), (-1, 0))
_DIAGONAL = ((1, 1), (1, -1), (-1, 1), (-1, -1))


class SeatingError(ValueError):
    """Seats cannot be assigned or a move is not allowed; the message says why and what to do."""


@dataclass(frozen=True)
class SeatCandidate:
    key: int
    group: str  # institution + class: candidates of one group are seated apart


@dataclass(frozen=True)
class RoomSeats:
    room_id: int
    name: str
    seatmap: SeatMap


def assign_seats(
    candidates: Iterable[SeatCandidate],
    rooms: Sequence[RoomSeats],
    taken: Mapping[int, tuple[int, int]] = _NONE_TAKEN,
) -> Assignment:
    """Seat every candidate: key → (room_id, seat), for the candidates and the taken ones.

    ``taken`` holds candidates already seated (usually also among ``candidates``, which gives
    their group); they keep their seats. The others get assignable seats as the module
    docstring describes. Raises ``SeatingError`` when they do not fit or the input contradicts
    itself (a key twice, two candidates on one seat, a room not among ``rooms``).
    """
    by_id = _rooms_by_id(rooms)
    groups: dict[int, str] = {}
    for c in candidates:
        if c.key in groups:
            raise SeatingError(f"考生 {c.key} 出现了两次：每名考生只能排一个座位")
        groups[c.key] = c.group
    result: Assignment = {}
    occupied: dict[tuple[int, int], int] = {}
    for key in sorted(taken):
        room_id, seat = taken[key]
        room = by_id.get(room_id)
        if room is None:
            raise SeatingError(
                f"考生 {key} 已排在考场 {room_id}，但该考场不在本次排座的考场中：请先调整该考生"
            )
        if not room.seatmap.contains(seat):
            raise SeatingError(
                f"考生 {key} 的座位 {seat} 不在考场「{room.name}」中"
                f"（座位号 1–{room.seatmap.size}）：请先调整该考生"
            )
        if (room_id, seat) in occupied:
            raise SeatingError(
                f"考场「{room.name}」座位 {room.seatmap.label(seat)} 排了两名考生"
                f"（{occupied[room_id, seat]} 与 {key}）：请先调整其中一名"
            )
        occupied[room_id, seat] = key
        result[key] = (room_id, seat)
    waiting = sorted(k for k in groups if k not in result)
    layouts = [_Layout(room, occupied, groups) for room in rooms]
    _check_capacity(len(result) + len(waiting), len(result), layouts)
    if not waiting:
        return result
    quotas = _room_quotas(len(waiting), layouts)
    shares = _group_shares(waiting, groups, quotas)
    members: dict[str, list[int]] = defaultdict(list)
    for key in waiting:
        members[groups[key]].append(key)
    rank = _group_rank(groups, waiting)
    for index, layout in enumerate(layouts):
        if not quotas[index]:
            continue
        counts = {g: row[index] for g, row in shares.items() if row[index]}
        placed = layout.place(counts, rank)
        for group, seats in placed.items():
            for seat in seats:
                result[members[group].pop(0)] = (layout.room.room_id, seat)
    return result


def adjacent_same_group(
    assignment: Mapping[int, tuple[int, int]],
    groups: Mapping[int, str],
    rooms: Sequence[RoomSeats],
) -> int:
    """How many pairs of one group sit side by side or one behind the other.

    Candidates without a group, or in a room not among ``rooms``, are not counted.
    """
    return _same_group_pairs(assignment, groups, rooms, ((0, 1), (1, 0)))


def diagonal_same_group(
    assignment: Mapping[int, tuple[int, int]],
    groups: Mapping[int, str],
    rooms: Sequence[RoomSeats],
) -> int:
    """How many pairs of one group sit diagonally next to each other (same rules as above)."""
    return _same_group_pairs(assignment, groups, rooms, ((1, 1), (1, -1)))


def check_move(
    key: int,
    room_id: int,
    seat: int,
    assignment: Mapping[int, tuple[int, int]],
    rooms: Sequence[RoomSeats],
    allow_spare: bool = False,
) -> None:
    """Raise ``SeatingError`` unless candidate ``key`` may move to ``seat`` of room ``room_id``.

    ``assignment`` is everyone's current seat (the candidate's own may be among them); spare
    seats need ``allow_spare`` — during the exam, for a candidate whose PC failed.
    """
    room = _rooms_by_id(rooms).get(room_id)
    if room is None:
        raise SeatingError(f"考场 {room_id} 不是本考点的考场：请从列出的考场中选择")
    seatmap = room.seatmap
    if not seatmap.contains(seat):
        raise SeatingError(f"考场「{room.name}」没有座位 {seat}：座位号应为 1–{seatmap.size}")
    label = seatmap.label(seat)
    if seat in seatmap.blocked:
        raise SeatingError(f"考场「{room.name}」座位 {label} 已停用：请选择其他座位")
    if seat in seatmap.spare and not allow_spare:
        raise SeatingError(
            f"考场「{room.name}」座位 {label} 是备用座位，留给考试中设备故障的考生：请选择其他座位"
        )
    if any(where == (room_id, seat) and other != key for other, where in assignment.items()):
        raise SeatingError(
            f"考场「{room.name}」座位 {label} 已有考生：请选择空座位，或先把该考生移走"
        )


def _rooms_by_id(rooms: Sequence[RoomSeats]) -> dict[int, RoomSeats]:
    by_id: dict[int, RoomSeats] = {}
    for room in rooms:
        if room.room_id in by_id:
            raise SeatingError(f"考场「{room.name}」（{room.room_id}）重复出现")
        by_id[room.room_id] = room
    return by_id


def _check_capacity(total: int, seated: int, layouts: list[_Layout]) -> None:
    free = sum(len(layout.free) for layout in layouts)
    if total - seated <= free:
        return
    spare = sum(len(layout.free_spare) for layout in layouts)
    note = f"（另有 {spare} 个备用座位不参与自动分配）" if spare else ""
    if seated:
        raise SeatingError(
            f"共 {total} 名考生，其中 {seated} 名已就座；还有 {total - seated} 名待排，"
            f"空余可用座位 {free} 个{note}：请增加考场或减少考生"
        )
    raise SeatingError(f"共 {total} 名考生，可用座位 {free} 个{note}：请增加考场或减少考生")


def _apportion(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` by largest remainder, earlier first on ties."""
    whole = sum(weights)
    exact = [Fraction(total * w, whole) for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _room_quotas(count: int, layouts: list[_Layout]) -> list[int]:
    """How many of the ``count`` waiting candidates each room gets (step 1)."""
    spaced = [layout.spaced_capacity for layout in layouts]
    if count > sum(spaced):
        return _apportion(count, [len(layout.free) for layout in layouts])
    opened, held = 0, 0
    while held < count:
        held += spaced[opened]
        opened += 1
    return _apportion(count, spaced[:opened] + [0] * (len(layouts) - opened))


def _group_rank(groups: Mapping[int, str], keys: list[int]) -> dict[str, int]:
    sizes = Counter(groups[k] for k in keys)
    return {g: i for i, g in enumerate(sorted(sizes, key=lambda g: (-sizes[g], g)))}


def _group_shares(
    keys: list[int], groups: Mapping[int, str], quotas: list[int]
) -> dict[str, list[int]]:
    """Group → count per room: each the floor or ceiling of the proportional share (step 2).

    The floors leave each group some candidates and each room some seats; a cell whose share
    has a fraction can take one more. The fractions themselves are a flow meeting both needs,
    so an integral one exists (flow integrality); augmenting paths find it.
    """
    sizes = Counter(groups[k] for k in keys)
    rank = _group_rank(groups, keys)
    order = sorted(sizes, key=rank.__getitem__)
    total = len(keys)
    exact = {g: [Fraction(sizes[g] * q, total) for q in quotas] for g in order}
    shares = {g: [int(x) for x in exact[g]] for g in order}
    group_need = {g: sizes[g] - sum(shares[g]) for g in order}
    room_need = [q - sum(shares[g][r] for g in order) for r, q in enumerate(quotas)]
    extra: dict[str, set[int]] = {g: set() for g in order}  # cells given one more

    def augment(group: str, seen: set[int]) -> bool:
        for r in range(len(quotas)):
            if r in seen or r in extra[group] or exact[group][r] == shares[group][r]:
                continue
            seen.add(r)
            if room_need[r] > 0:
                room_need[r] -= 1
                extra[group].add(r)
                return True
            for other in order:  # take room r's extra from another group that can go elsewhere
                if r in extra[other] and augment(other, seen):
                    extra[other].discard(r)
                    extra[group].add(r)
                    return True
        return False

    for g in order:
        for _ in range(group_need[g]):
            found = augment(g, set())
            assert found, "controlled rounding always exists"
    for g in order:
        for r in extra[g]:
            shares[g][r] += 1
    return shares


class _Layout:
    """One room during assignment: its free seats, who sits where, and each seat's neighbours.

    ``orth[s][g]`` and ``diag[s][g]`` count the neighbours of seat s in group g, kept up to date
    as groups are placed and swapped, so a swap is judged without looking at the grid.
    """

    def __init__(
        self,
        room: RoomSeats,
        occupied: Mapping[tuple[int, int], int],
        groups: Mapping[int, str],
    ) -> None:
        self.room = room
        seatmap = room.seatmap
        taken = {s: k for (r, s), k in occupied.items() if r == room.room_id}
        self.free = [s for s in seatmap.assignable() if s not in taken]
        self.free_spare = [s for s in seatmap.spare if s not in taken]
        colours = ([s for s in self.free if _colour(seatmap, s) == c] for c in (0, 1))
        even, odd = (sorted(seats, key=lambda s: _serpentine(seatmap, s)) for seats in colours)
        # The larger colour class; on a tie the one holding the front-left seat.
        self.first, self.second = (odd, even) if len(odd) > len(even) else (even, odd)
        self.spaced_capacity = len(self.first)
        seats = range(1, seatmap.size + 1)
        self.orth_of = {s: frozenset(_neighbours(seatmap, s, _ORTHOGONAL)) for s in seats}
        self.diag_of = {s: frozenset(_neighbours(seatmap, s, _DIAGONAL)) for s in seats}
        self.orth: dict[int, Counter[str]] = {s: Counter() for s in seats}
        self.diag: dict[int, Counter[str]] = {s: Counter() for s in seats}
        self.group_at: dict[int, str] = {}
        for seat, key in taken.items():
            if key in groups:  # a taken candidate without a group clashes with nobody
                self._put(seat, groups[key])

    def _put(self, seat: int, group: str | None) -> None:
        """Seat ``group`` on ``seat`` (None: empty it), keeping the neighbour counts."""
        old = self.group_at.pop(seat, None)
        if group is not None:
            self.group_at[seat] = group
        for table, near in ((self.orth, self.orth_of[seat]), (self.diag, self.diag_of[seat])):
            for n in near:
                if old is not None:
                    table[n][old] -= 1
                if group is not None:
                    table[n][group] += 1

    def place(self, counts: Mapping[str, int], rank: Mapping[str, int]) -> dict[str, list[int]]:
        """Seats for ``counts[g]`` candidates of each group g (steps 3 and 4), in walk order."""
        quota = sum(counts.values())
        if quota <= len(self.first):
            first, second = _spread(self.first, quota), []
        else:
            first, second = self.first, _spread(self.second, quota - len(self.first))
        seatmap = self.room.seatmap
        chosen = sorted(first + second, key=lambda s: _serpentine(seatmap, s))
        self._interleave(chosen, counts, rank)
        best = self._finish(chosen)
        if second:
            order = sorted(counts, key=lambda g: (-counts[g], rank[g]))
            for seat, group in zip(first + second, _runs(order, counts), strict=True):
                self._put(seat, group)
            blocks = self._finish(chosen)
            if blocks[:2] < best[:2]:
                best = blocks
        placed: dict[str, list[int]] = defaultdict(list)
        for seat, group in zip(chosen, best[2], strict=True):
            placed[group].append(seat)
        return placed

    def _interleave(
        self, seats: list[int], counts: Mapping[str, int], rank: Mapping[str, int]
    ) -> None:
        """Each seat in turn gets the group with the fewest clashes there, then the most left."""
        left = dict(counts)
        for seat in seats:
            orth, diag = self.orth[seat], self.diag[seat]
            group = min(
                (g for g in left if left[g]),
                key=lambda g: (orth[g], diag[g], -left[g], rank[g]),
            )
            self._put(seat, group)
            left[group] -= 1

    def _finish(self, seats: list[int]) -> tuple[int, int, list[str]]:
        """Improve the groups on ``seats``, note the result and empty the seats again."""
        self._improve(seats)
        groups = [self.group_at[s] for s in seats]
        # Pairs among the new seats are seen from both ends, pairs with a taken seat from one.
        orth = sum(self.orth[s][g] for s, g in zip(seats, groups, strict=True))
        diag = sum(self.diag[s][g] for s, g in zip(seats, groups, strict=True))
        for seat in seats:
            self._put(seat, None)
        return orth, diag, groups

    def _improve(self, seats: list[int]) -> None:
        """Swap pairs of different groups while a swap helps (first improvement, in walk order).

        Swapping group g on seat a with group h on seat b lowers the orthogonal pairs by
        ``orth[a][g] + orth[b][h] - orth[a][h] - orth[b][g]``, plus 2 when a and b are
        orthogonal neighbours (the raw counts then include each other, of a different group);
        likewise for the diagonal ones. Every accepted swap lowers (orthogonal, diagonal)
        lexicographically, so this ends.
        """
        at, orth, diag = self.group_at, self.orth, self.diag
        improved = True
        while improved:
            improved = False
            for a in seats:
                g, oa, da = at[a], orth[a], diag[a]
                if not (oa[g] or da[g]):
                    continue
                near_o, near_d = self.orth_of[a], self.diag_of[a]
                for b in seats:
                    h = at[b]
                    if h == g:
                        continue
                    ob = orth[b]
                    gain = oa[g] + ob[h] - oa[h] - ob[g] + (2 if b in near_o else 0)
                    if gain == 0:
                        db = diag[b]
                        gain = da[g] + db[h] - da[h] - db[g] + (2 if b in near_d else 0)
                    if gain > 0:
                        self._put(a, h)
                        self._put(b, g)
                        improved = True
                        break


def _colour(seatmap: SeatMap, seat: int) -> int:
    row, column = seatmap.position(seat)
    return (row + column) % 2


def _serpentine(seatmap: SeatMap, seat: int) -> tuple[int, int]:
    """Walk order: the front row left to right, the next right to left, and so on."""
    row, column = seatmap.position(seat)
    return row, column if row % 2 else -column


def _neighbours(seatmap: SeatMap, seat: int, steps: tuple[tuple[int, int], ...]) -> list[int]:
    row, column = seatmap.position(seat)
    return [
        seatmap.seat_at(row + dr, column + dc)
        for dr, dc in steps
        if 1 <= row + dr <= seatmap.rows and 1 <= column + dc <= seatmap.columns
    ]


def _runs(order: list[str], counts: Mapping[str, int]) -> list[str]:
    """Each group of ``order`` repeated ``counts`` times, one run after the other."""
    return [g for g in order for _ in range(counts[g])]


def _spread(seats: list[int], count: int) -> list[int]:
    """``count`` of ``seats`` picked evenly along their order (the middle of equal stretches)."""
    return [seats[(2 * i + 1) * len(seats) // (2 * count)] for i in range(count)]


def _same_group_pairs(
    assignment: Mapping[int, tuple[int, int]],
    groups: Mapping[int, str],
    rooms: Sequence[RoomSeats],
    steps: tuple[tuple[int, int], ...],
) -> int:
    by_id = {room.room_id: room for room in rooms}
    at: dict[tuple[int, int, int], str] = {}
    for key, (room_id, seat) in assignment.items():
        room = by_id.get(room_id)
        group = groups.get(key)
        if room is None or group is None or not room.seatmap.contains(seat):
            continue
        row, column = room.seatmap.position(seat)
        at[room_id, row, column] = group
    return sum(
        1
        for (room_id, row, column), group in at.items()
        for dr, dc in steps
        if at.get((room_id, row + dr, column + dc)) == group
    )
